//! The tree format: a heading, the sender's records 7→1, the frames on the wire, the receiver's
//! records 1→7, and what was delivered.

use crate::layers::l1_physical::timing;
use crate::layers::l7_application::preview;
use crate::stack::Exchange;
use std::fmt::Write as _;

/// Render as a tree.
pub fn tree(x: &Exchange) -> String {
    let mut out = String::new();
    let n = x.frames().len();
    let _ = writeln!(
        out,
        "{} over {} · {}-byte message · {} frame{}",
        x.config.app.name(),
        x.config.dialogue(),
        x.message.len(),
        n,
        if n == 1 { "" } else { "s" }
    );
    if let Some(a) = &x.arp {
        let _ = writeln!(out, "\n== ARP: the sender asks who has {} (RFC 826) ==\n", x.config.remote.ip);
        let _ = writeln!(out, "-- sender, down: the request enters at L2, broadcast --\n");
        let _ = write!(out, "{}", a.request.trace);
        let _ = writeln!(out, "\n-- receiver, up: L2 hands the request to ARP, not to IP --\n");
        let _ = write!(out, "{}", a.request_rx.trace);
        let _ = writeln!(out, "\n-- receiver, down: the reply, straight to the asker --\n");
        let _ = write!(out, "{}", a.reply.trace);
        let _ = writeln!(out, "\n-- sender, up: the reply --\n");
        let _ = write!(out, "{}", a.reply_rx.trace);
        let _ = writeln!(out, "\nResolved {} to {}: the message's frames go there.", x.config.remote.ip, a.resolved);
    }
    let _ = writeln!(out, "\n== Sender: down the stack, 7 → 1 (encapsulate) ==\n");
    let _ = write!(out, "{}", x.sent.trace);
    let _ = writeln!(out, "\n== On the wire ==\n");
    out.push_str(&wire_summary(x));
    let _ = writeln!(out, "\n== Receiver: up the stack, 1 → 7 (decapsulate) ==\n");
    let _ = write!(out, "{}", x.received.trace);
    let _ = writeln!(out, "\n== Result ==\n");
    out.push_str(&outcome(x));
    out
}

/// One line per frame: its size, when it starts and how long it takes on the wire.
pub fn wire_summary(x: &Exchange) -> String {
    let mut out = String::new();
    for (i, (what, f, _, _)) in x.frames().into_iter().enumerate() {
        let t = timing(x.config.line_code, x.config.rate, f.bytes.len());
        let _ = writeln!(
            out,
            "Frame {} ({what}): {} bytes ({} + 4 FCS); with preamble and SFD {} bits, {} symbols ({}, {}); starts at {} s, lasts {}, then a {} gap",
            i + 1,
            f.bytes.len(),
            f.bytes.len() - 4,
            t.bits,
            f.signal.symbols.len(),
            x.config.line_code.name(),
            x.config.rate,
            f.signal.start,
            human_nanos(t.duration.as_nanos()),
            human_nanos(t.ifg.as_nanos()),
        );
    }
    out
}

/// "57.6 µs", "1.2304 ms", "672 ns".
pub fn human_nanos(n: u128) -> String {
    let trim = |s: String| s.trim_end_matches('0').trim_end_matches('.').to_string();
    if n < 1_000 {
        format!("{n} ns")
    } else if n < 1_000_000 {
        format!("{} µs", trim(format!("{:.3}", n as f64 / 1e3)))
    } else {
        format!("{} ms", trim(format!("{:.6}", n as f64 / 1e6)))
    }
}

/// What the receiver's application got, or the error that stopped it.
pub fn outcome(x: &Exchange) -> String {
    match &x.received.error {
        Some(e) => format!("Not delivered: {e}\n"),
        None if x.delivered_intact() => format!(
            "Delivered to the application {}: {} ({} bytes), identical to the message sent\n",
            match x.config.transport {
                crate::layers::l4_transport::TransportKind::Icmp => "in the echo request".to_string(),
                _ => format!("on port {}", x.config.remote.port),
            },
            preview(&x.received.delivered),
            x.received.delivered.len()
        ),
        None => format!(
            "Delivered {} bytes, which DIFFER from the {} bytes sent: {}\n",
            x.received.delivered.len(),
            x.message.len(),
            preview(&x.received.delivered)
        ),
    }
}
