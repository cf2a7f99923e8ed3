//! What a connection tells its owner: events, socket errors and counters.

use super::TcpState;
use serde::Serialize;
use std::time::Duration;

/// Why a segment was sent again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum RetransmitReason {
    /// The retransmission timer expired (RFC 6298 §5.4): the first unacknowledged segment, and
    /// then the rest from there as the congestion window reopens.
    Timeout,
    /// The third duplicate ACK (RFC 5681 §3.2), or a partial ACK in fast recovery (RFC 6582).
    FastRetransmit,
    /// A byte sent as a zero-window probe (RFC 9293 §3.8.6.1) that the peer did not take, sent
    /// again once its window opened.
    WindowProbe,
    /// The peer sent its SYN again while we were in SYN-RECEIVED: our SYN-ACK was lost, so it is
    /// sent again at once.
    DuplicateSyn,
}

impl RetransmitReason {
    /// "timeout", "fast retransmit", "window probe", "duplicate SYN".
    pub fn name(self) -> &'static str {
        match self {
            RetransmitReason::Timeout => "timeout",
            RetransmitReason::FastRetransmit => "fast retransmit",
            RetransmitReason::WindowProbe => "window probe",
            RetransmitReason::DuplicateSyn => "duplicate SYN",
        }
    }
}

/// Something the owner (the host, the application) should know; taken with
/// [`super::TcpConn::poll_event`], oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum ConnEvent {
    /// The handshake completed: ESTABLISHED. On a passively opened connection this is when the
    /// listener's `accept` may return it.
    Connected,
    /// A RST answered our SYN (RFC 9293 §3.10.7.3): ECONNREFUSED.
    Refused,
    /// The peer reset the connection (RFC 9293 §3.10.7.4, second step): ECONNRESET.
    Reset,
    /// The peer's FIN arrived in order: after the data already delivered, `recv` reaches the end
    /// of the stream.
    PeerClosed,
    /// The connection is gone (CLOSED): the owner may drop it.
    Closed,
    /// Retransmissions went unanswered too many times (`max_retries`, or `syn_retries` in the
    /// handshake): ETIMEDOUT.
    TimedOut,
    /// A segment was sent again.
    Retransmitted {
        /// Its first sequence number.
        seq: u32,
        /// Its SEG.LEN (data, plus one each for SYN and FIN).
        len: u32,
        /// Why.
        reason: RetransmitReason,
    },
    /// In-order data arrived in an empty receive buffer (edge-triggered: read until `recv`
    /// returns nothing).
    DataAvailable,
    /// Room opened in the send buffer after a `send` that took less than it was given.
    Writable,
    /// The state changed (from, to).
    StateChanged {
        /// The state before.
        from: TcpState,
        /// The state after.
        to: TcpState,
    },
}

/// The socket errors a connection itself can produce, with Linux's errno names and `strerror`
/// texts. (Address and port errors, EADDRINUSE and the like, belong to the host.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, thiserror::Error)]
pub enum SockError {
    /// ENOTCONN: the socket is not connected (never was, or is closed).
    #[error("Transport endpoint is not connected")]
    NotConnected,
    /// EPIPE: sending after this side closed.
    #[error("Broken pipe")]
    BrokenPipe,
    /// ECONNRESET: the peer reset the connection.
    #[error("Connection reset by peer")]
    ConnectionReset,
    /// ECONNREFUSED: the peer answered the SYN with a RST.
    #[error("Connection refused")]
    ConnectionRefused,
    /// ETIMEDOUT: retransmissions were never acknowledged.
    #[error("Connection timed out")]
    TimedOut,
    /// EAGAIN (= EWOULDBLOCK): the send buffer is full; wait for [`ConnEvent::Writable`].
    #[error("Resource temporarily unavailable")]
    WouldBlock,
}

impl SockError {
    /// The errno name ("ECONNREFUSED").
    pub fn errno_name(self) -> &'static str {
        match self {
            SockError::NotConnected => "ENOTCONN",
            SockError::BrokenPipe => "EPIPE",
            SockError::ConnectionReset => "ECONNRESET",
            SockError::ConnectionRefused => "ECONNREFUSED",
            SockError::TimedOut => "ETIMEDOUT",
            SockError::WouldBlock => "EAGAIN",
        }
    }

    /// The errno value on Linux (asm-generic/errno.h).
    pub fn errno(self) -> i32 {
        match self {
            SockError::NotConnected => 107,
            SockError::BrokenPipe => 32,
            SockError::ConnectionReset => 104,
            SockError::ConnectionRefused => 111,
            SockError::TimedOut => 110,
            SockError::WouldBlock => 11,
        }
    }
}

/// Counters and the current estimates of one connection.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ConnStats {
    /// Segments sent (every kind, retransmissions included).
    pub segments_sent: u64,
    /// Segments given to `on_segment` for this connection.
    pub segments_received: u64,
    /// Data bytes sent, retransmissions included.
    pub bytes_sent: u64,
    /// Data bytes received in segments, duplicates included.
    pub bytes_received: u64,
    /// Data bytes the peer acknowledged.
    pub bytes_acked: u64,
    /// Data bytes delivered in order to the receive buffer.
    pub bytes_delivered: u64,
    /// Segments sent again because the retransmission timer expired.
    pub retransmissions_timeout: u64,
    /// Segments sent again by fast retransmit / fast recovery.
    pub retransmissions_fast: u64,
    /// Other resends (window-probe bytes, a SYN-ACK for a duplicate SYN).
    pub retransmissions_other: u64,
    /// Sequence numbers (data, SYN, FIN) sent again.
    pub retransmitted_bytes: u64,
    /// Expiries of the retransmission timer.
    pub timeouts: u64,
    /// Duplicate ACKs received (RFC 5681 §2's definition).
    pub dup_acks_received: u64,
    /// Segments that arrived out of order and were held (each answered by an immediate ACK).
    pub out_of_order_segments: u64,
    /// Data segments that carried nothing new (all received already).
    pub duplicate_segments: u64,
    /// Segments that were not acceptable (RFC 9293 §3.10.7.4, first step), answered by an ACK.
    pub unacceptable_segments: u64,
    /// Zero-window probes sent (RFC 9293 §3.8.6.1).
    pub window_probes: u64,
    /// SRTT (RFC 6298), once measured.
    pub srtt: Option<Duration>,
    /// RTTVAR (RFC 6298).
    pub rttvar: Duration,
    /// The current RTO, back-off included.
    pub rto: Duration,
    /// The congestion window, bytes.
    pub cwnd: u32,
    /// The slow-start threshold, bytes.
    pub ssthresh: u32,
    /// The peer's window (SND.WND), bytes.
    pub snd_wnd: u32,
    /// The effective send MSS: data bytes per full segment.
    pub snd_mss: u32,
}
