//! The federation's live relays. Filled in by the mesh implementation.
