//! thumbs-serve (being written)
