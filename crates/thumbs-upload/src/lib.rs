//! thumbs-upload (being written)
