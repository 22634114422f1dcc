//! thumbs-store (being written)
