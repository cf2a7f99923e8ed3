//! `osilab simulate`: a deterministic discrete-event network simulator.
//!
//! - [`engine`]: the event queue, ordered by (simulated time, scheduling order).
//! - [`link`]: a point-to-point link between two device ports: bandwidth, propagation delay, MTU,
//!   a transmit queue at each end, and seeded impairments (loss, bit errors on the L1 symbols,
//!   duplication, reordering).
//! - [`switch`]: an IEEE 802.1D learning bridge (MAC learning, ageing, flooding, filtering).
//! - [`scenario`]: the TOML files `osilab simulate` runs, loaded into checked plain data.
//! - [`generate`]: scenarios made by program (a chat room of any size) and the check of a chat
//!   room's result, shared by the tests and the benchmark.
//! - [`tap`]: layers 5–7 of a host's own frames for the timeline, read as tshark would.
//!
//! Nothing here reads the OS clock or OS randomness: time is [`crate::time::Instant`], randomness
//! is a seeded [`crate::rng::Rng`] handed in by the caller.

pub mod build;
pub mod engine;
pub mod generate;
pub mod link;
pub mod scenario;
pub mod summary;
pub mod switch;
pub mod tap;
#[cfg(test)]
mod tests;
pub mod timeline;
pub mod world;
