//! osilab: an OSI-layer protocol simulator.
pub mod addr;
pub mod error;
pub mod layer;
pub mod layers;
pub mod rng;
pub mod time;
pub mod trace;

pub use error::{Error, Result};
