//! The TCP connection state machine (RFC 9293), one connection per [`TcpConn`]: sans-I/O and
//! clockless. Segments go in ([`TcpConn::on_segment`]) and come out
//! ([`TcpConn::poll_transmit`]); timers are deadlines the owner asks for
//! ([`TcpConn::poll_timeout`]) and fires ([`TcpConn::on_timeout`]); every call is handed `now`.
//! The application side is [`TcpConn::send`], [`TcpConn::recv`], [`TcpConn::close`] and
//! [`TcpConn::abort`]; what happened is told by [`TcpConn::poll_event`].
//!
//! Read first: RFC 9293 §3.3 (the state diagram and the sequence variables), §3.10.7 ("SEGMENT
//! ARRIVES", followed here step by step, in the RFC's order), §3.8 (retransmission, windows,
//! Nagle, silly window syndrome, delayed ACKs); RFC 6298 (the retransmission timer); RFC 5681
//! and RFC 6582 (congestion control, NewReno); RFC 7323 (timestamps, window scale); RFC 5961
//! (challenge ACKs for RST and SYN).
//!
//! ## How an owner drives it
//! ```text
//!   segment from the wire ──► on_segment(seg, now)
//!   timer due (poll_timeout) ──► on_timeout(now)
//!   after either, and after send/recv/close: while let Some(seg) = poll_transmit(now) { emit }
//!   while let Some(ev) = poll_event() { tell the application }
//! ```
//! Poll after *each* arriving segment, before handing in the next: RFC 5681 §4.2 wants an ACK
//! for every out-of-order segment, and ACKs owed by segments handed in together go out as one
//! (as with GRO), which hides the duplicate ACKs fast retransmit counts.
//!
//! The owner (the host in `src/host/`) demultiplexes by 4-tuple, answers segments for no
//! connection with [`reset_for`], and on a SYN to a listening port makes a connection with
//! [`TcpConn::accept`]. Checksums are the owner's: a segment that reaches `on_segment` is taken
//! as intact.
//!
//! ## Map
//! - [`state`]: [`TcpState`], RFC 9293 §3.3.2.
//! - [`event`]: [`ConnEvent`], [`SockError`] (errno names, `strerror` texts), [`ConnStats`].
//! - [`tcb`]: [`TcpConn`], the transmission control block: the user calls (§3.10.1–§3.10.5),
//!   timers (§3.10.8), options negotiated in the handshake.
//! - `input`: "SEGMENT ARRIVES" (§3.10.7.3 SYN-SENT, §3.10.7.4 the other states).
//! - `output`: what to send next: SYN, retransmissions, data within min(cwnd, SND.WND) after
//!   Nagle and sender-side SWS avoidance, FIN, window probes, ACKs and window updates.
//! - [`send`]: [`SendBuffer`], the bytes from SND.UNA on.
//! - [`rto`]: [`RtoEstimator`], RFC 6298.
//! - [`cc`]: [`NewReno`], RFC 5681 + RFC 6582.
//! - [`sack`]: the SACK scoreboard (RFC 2018 §5, part of RFC 6675).
//! - [`reset`]: [`reset_for`], RFC 9293 §3.10.7.1.
//!
//! ## Choices (each a real stack's, said here so that a reader can find them)
//! - Initial window 10 segments (RFC 6928, Linux); RFC 5681 §3.1's formula with
//!   `initial_window: None`.
//! - RTO minimum 200 ms and maximum 120 s as Linux (RFC 6298 §2.4 says 1 s; §2.5 allows a
//!   maximum of at least 60 s). RTT samples: one timed segment at a time (Karn's algorithm,
//!   RFC 6298 §3); after a retransmission, with timestamps on, the TSecr of the next ACK that
//!   advances SND.UNA (RFC 7323 §4.1).
//! - After an RTO the sender goes back to SND.UNA and resends from there as the window allows
//!   (BSD's and Linux's loss recovery after a timeout).
//! - SACK (RFC 2018), offered by default as Linux: blocks are sent for the data held out of
//!   order (§4), and received blocks steer retransmission: in fast recovery each further
//!   duplicate ACK resends the next hole below the highest SACKed byte (RFC 6675 §4 NextSeg rule
//!   1, without RFC 6675's pipe estimate: NewReno's inflated cwnd limits new data), and the
//!   go-back after a timeout skips SACKed data. The scoreboard is kept across a timeout, as
//!   Linux's `tcp_enter_loss` keeps it (RFC 2018 §8 suggests clearing it in case the receiver
//!   reneges; this receiver never does).
//! - Delayed ACK 40 ms (Linux's `TCP_DELACK_MIN`; RFC 9293 §3.8.6.3 allows up to 500 ms, RFC
//!   5681 §4.2 asks for an ACK at least every second full-sized segment); out-of-order data, a
//!   segment that fills a gap and a FIN are acknowledged at once (RFC 5681 §4.2).
//! - A FIN is sent whatever the windows (one sequence number, no data); a peer that cannot take
//!   it drops it and the retransmission timer sends it again.
//! - `close` is RFC 9293's CLOSE: this side sends no more, and still receives until the peer's
//!   FIN (a half-close). PAWS (RFC 7323 §5) and urgent data (§3.8.5) are not implemented: the
//!   timestamps serve RTT measurement only, and URG is ignored on input.

pub mod cc;
pub mod event;
mod input;
mod output;
pub mod reset;
pub mod rto;
pub mod sack;
pub mod send;
pub mod state;
pub mod tcb;
#[cfg(test)]
mod tests;

pub use cc::NewReno;
pub use event::{ConnEvent, ConnStats, RetransmitReason, SockError};
pub use reset::reset_for;
pub use rto::RtoEstimator;
pub use send::SendBuffer;
pub use state::TcpState;
pub use tcb::TcpConn;

use super::reassembly::{seq_le, seq_lt};
use std::net::SocketAddr;
use std::time::Duration;

/// Everything a connection is opened with. [`ConnConfig::new`] gives Linux's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnConfig {
    /// Our address and port.
    pub local: SocketAddr,
    /// The peer's address and port.
    pub remote: SocketAddr,
    /// ISS, the initial send sequence number (RFC 9293 §3.4.1); the host draws it from its
    /// seeded `Rng`.
    pub iss: u32,
    /// The MSS we advertise: our interface MTU minus the IP and TCP fixed headers (RFC 9293
    /// §3.7.1); 1460 for Ethernet and IPv4.
    pub mss: u16,
    /// The receive buffer: the most data held for the application, and so the largest window we
    /// advertise (RFC 9293 §3.8.6). 65535 by default.
    pub recv_buffer: u32,
    /// The send buffer: how many unsent and unacknowledged bytes `send` accepts before it takes
    /// fewer (back-pressure to the application). 65536 by default.
    pub send_buffer: usize,
    /// Offer timestamps (RFC 7323 §3); used when the peer offers them too. On by default.
    pub timestamps: bool,
    /// Offer window scaling with this shift (RFC 7323 §2; at most 14); used when the peer offers
    /// it too. 7 by default, as Linux.
    pub window_scale: Option<u8>,
    /// Offer SACK-permitted (RFC 2018 §2); used when the peer offers it too. On by default.
    pub sack: bool,
    /// Disable Nagle's algorithm (RFC 9293 §3.7.4), as `TCP_NODELAY`.
    pub nodelay: bool,
    /// Delay ACKs of in-order data by at most this long (RFC 9293 §3.8.6.3); `None` acknowledges
    /// every segment at once. 40 ms by default.
    pub delayed_ack: Option<Duration>,
    /// The initial congestion window in segments (RFC 6928: 10, the default); `None` for RFC
    /// 5681 §3.1's IW.
    pub initial_window: Option<u32>,
    /// Added to the millisecond clock in our TSval (RFC 7323 §5.4 lets each connection start
    /// its timestamp clock anywhere; Linux randomizes it). 0 by default.
    pub ts_offset: u32,
    /// How long TIME-WAIT lasts: 2·MSL (RFC 9293 §3.6.1); 60 s as Linux's `TCP_TIMEWAIT_LEN`.
    pub time_wait: Duration,
    /// The smallest RTO (RFC 6298 §2.4); 200 ms as Linux.
    pub rto_min: Duration,
    /// The RTO before any RTT sample (RFC 6298 §2.1): 1 s.
    pub rto_initial: Duration,
    /// The largest RTO (RFC 6298 §2.5); 120 s as Linux.
    pub rto_max: Duration,
    /// Give up (ETIMEDOUT) when the retransmission timer expires this many times in a row for
    /// the same data: 15, Linux's `tcp_retries2`.
    pub max_retries: u32,
    /// The same for the SYN (and the SYN-ACK): 6, Linux's `tcp_syn_retries`.
    pub syn_retries: u32,
}

impl ConnConfig {
    /// A connection from `local` to `remote` starting at `iss`, with the defaults above.
    pub fn new(local: SocketAddr, remote: SocketAddr, iss: u32) -> Self {
        ConnConfig {
            local,
            remote,
            iss,
            mss: 1460,
            recv_buffer: 65535,
            send_buffer: 65536,
            timestamps: true,
            window_scale: Some(7),
            sack: true,
            nodelay: false,
            delayed_ack: Some(Duration::from_millis(40)),
            initial_window: Some(10),
            ts_offset: 0,
            time_wait: Duration::from_secs(60),
            rto_min: Duration::from_millis(200),
            rto_initial: Duration::from_secs(1),
            rto_max: Duration::from_secs(120),
            max_retries: 15,
            syn_retries: 6,
        }
    }
}

/// The later of two sequence numbers (modulo 2^32).
fn seq_max(a: u32, b: u32) -> u32 {
    if seq_lt(a, b) {
        b
    } else {
        a
    }
}
