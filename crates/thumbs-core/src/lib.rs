//! thumbs-core (being written)
