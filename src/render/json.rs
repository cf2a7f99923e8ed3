//! The JSON format: the configuration, both traces with fields keyed by Wireshark display-filter
//! names, the frames in hex, and the result.

use crate::stack::Exchange;
use crate::trace::hex;
use serde_json::json as j;

/// Render as pretty-printed JSON.
pub fn json(x: &Exchange) -> String {
    let frames: Vec<_> = x
        .frames()
        .into_iter()
        .enumerate()
        .map(|(i, (what, f, _, _))| {
            j!({
                "number": i + 1,
                "carries": what,
                "len": f.bytes.len(),
                "start": f.signal.start.to_string(),
                "symbols": f.signal.symbols.len(),
                "bytes": hex(&f.bytes),
            })
        })
        .collect();
    let v = j!({
        "config": x.config,
        "message": String::from_utf8_lossy(&x.message),
        "message_hex": hex(&x.message),
        "message_len": x.message.len(),
        "arp": x.arp.as_ref().map(|a| j!({
            "request_down": a.request.trace.records,
            "request_up": a.request_rx.trace.records,
            "reply_down": a.reply.trace.records,
            "reply_up": a.reply_rx.trace.records,
            "resolved": a.resolved,
        })),
        "down": x.sent.trace.records,
        "frames": frames,
        "up": x.received.trace.records,
        "delivered": String::from_utf8_lossy(&x.received.delivered),
        "delivered_hex": hex(&x.received.delivered),
        "delivered_len": x.received.delivered.len(),
        "intact": x.delivered_intact(),
        "error": x.received.error.as_ref().map(|e| e.to_string()),
    });
    let mut s = serde_json::to_string_pretty(&v).unwrap_or_else(|e| format!("{{\"error\": \"json: {e}\"}}"));
    s.push('\n');
    s
}
