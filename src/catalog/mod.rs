//! The service catalog (R1): every service item, document, endorsement, material, fee and time
//! limit as versioned data in `data/catalog/`, loaded and validated at start.

pub mod lines;
pub mod model;
pub mod web;

pub use model::*;
