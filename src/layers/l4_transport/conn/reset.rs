//! The reply to a segment that finds no connection (RFC 9293 §3.10.7.1).

use super::super::tcp::{TcpFlags, TcpSegment};

/// RFC 9293 §3.10.7.1, "If the state is CLOSED (i.e., TCB does not exist)": every arriving
/// segment except a RST is answered by a RST. If the ACK bit is off, sequence number zero is used
/// and the RST acknowledges the segment, `<SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>`; if it is on,
/// `<SEQ=SEG.ACK><CTL=RST>`. A RST is never answered (`None`). The ports are swapped; the window
/// is zero and no option is carried (as Linux's `tcp_v4_send_reset`).
///
/// A listener answers a segment with ACK set the same way (§3.10.7.2, "second, check for an
/// ACK"), so the host calls this for those too.
pub fn reset_for(seg: &TcpSegment) -> Option<TcpSegment> {
    if seg.flags.contains(TcpFlags::RST) {
        return None;
    }
    let (seq, ack, flags) = if seg.flags.contains(TcpFlags::ACK) {
        (seg.ack, 0, TcpFlags::RST)
    } else {
        (0, seg.seq.wrapping_add(seg.seg_len()), TcpFlags::RST | TcpFlags::ACK)
    };
    Some(TcpSegment {
        src_port: seg.dst_port,
        dst_port: seg.src_port,
        seq,
        ack,
        flags,
        window: 0,
        urgent: 0,
        options: Vec::new(),
        payload: Vec::new(),
    })
}
