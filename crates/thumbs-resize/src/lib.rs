//! thumbs-resize (being written)
