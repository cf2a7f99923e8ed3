//! The layers, one module each, and the Internet checksum they share. Every layer implements
//! [`Layer`](crate::layer::Layer); none of them does I/O, reads a clock, or imports `cli`,
//! `pcap`, `render` or `pnet` (nor the simulator or live mode, when those exist).

pub mod checksum;
pub mod l1_physical;
pub mod l2_data_link;
pub mod l3_network;
pub mod l4_transport;
pub mod l5_session;
pub mod l6_presentation;
pub mod l7_application;
