//! `osilab demo`: the seeds' chat room in two parts.
//!
//! 1. One chat message, "Olá, sala!", from a client to the server through all seven layers and
//!    back up (the same [`Exchange`] as `osilab send --app chat`).
//! 2. The chat room itself: `fixtures/scenarios/chat-room.toml` (built into the binary) run in the
//!    simulator for its first three messages, with the timeline of those messages, what each
//!    process saw, and the server's port table.

use super::args::DemoArgs;
use super::config_err;
use super::send::write_pcap;
use super::simulate;
use crate::error::Result;
use crate::layers::l7_application::chat::{ChatCommand, ChatConfig};
use crate::render::{render, Format};
use crate::sim::scenario;
use crate::sim::summary::Summary;
use crate::sim::timeline::{seconds, Timeline};
use crate::stack::{App, Exchange, StackConfig};
use crate::time::Instant;
use std::fmt::Write as _;
use std::time::Duration;

/// The demo's message: the seeds' chat room greeting.
pub const DEMO_MESSAGE: &str = "Olá, sala!";

/// The chat room of part 2: the scenario file that ships in `fixtures/scenarios/`.
pub const CHAT_ROOM: &str = include_str!("../../fixtures/scenarios/chat-room.toml");

/// Part 2 shows the timeline from here (alice's first message; before it, the clients connect
/// and join)…
const SHOWN_FROM: Duration = Duration::from_secs(1);
/// …to here: alice's, bob's and carol's first messages and their relays.
const RUN_UNTIL: Duration = Duration::from_millis(2_200);

/// `osilab demo`.
pub fn demo(a: &DemoArgs) -> Result<String> {
    let format: Format = a.format.parse().map_err(config_err)?;
    let (one, two) = match (a.part, format) {
        (Some(1), _) => (true, false),
        (Some(_), Format::Hex | Format::Bits) => {
            return Err(config_err(format!(
                "--part 2 is a timeline of many frames: use --format tree, json or svg, not {}",
                a.format
            )))
        }
        (Some(_), _) => (false, true),
        (None, Format::Tree) => (true, true),
        (None, _) => (true, false),
    };
    if a.pcap.is_some() && !one {
        return Err(config_err(
            "--pcap writes part 1's frames; for the chat room's links use \
             osilab simulate fixtures/scenarios/chat-room.toml --pcap-dir DIR"
                .to_string(),
        ));
    }
    let mut out = String::new();
    if one {
        out.push_str(&part_one(a, format)?);
    }
    if two {
        if one {
            out.push('\n');
        }
        out.push_str(&part_two(format)?);
    }
    Ok(out)
}

/// Part 1: one message through the seven layers.
fn part_one(a: &DemoArgs, format: Format) -> Result<String> {
    let cfg = StackConfig { app: App::Chat(ChatConfig { command: ChatCommand::Msg }), ..StackConfig::default() };
    let x = Exchange::run(&cfg, DEMO_MESSAGE.as_bytes())?;
    if let Some(p) = &a.pcap {
        write_pcap(p, &x)?;
    }
    let mut out = String::new();
    if format == Format::Tree {
        if a.part.is_none() {
            out.push_str("Part 1: one message through the seven layers\n\n");
        }
        out.push_str(
            "The chat room: a client process on 192.0.2.1 (port 51000) sends \"Olá, sala!\" to the chat\n\
             server on 192.0.2.2, port 3000, over an established TCP connection. The chat protocol makes\n\
             it the line \"MSG Olá, sala!\", the presentation layer encodes its characters as UTF-8 bytes,\n\
             the socket carries the dialogue, and each layer below wraps what the layer above gave it; the\n\
             frame crosses the wire as Manchester-coded bits at 10 Mbit/s, and the server's stack unwraps\n\
             it layer by layer, checking each header.\n\n",
        );
    }
    out.push_str(&render(&x, format));
    Ok(out)
}

/// Part 2: the chat room in the simulator, its first three messages event by event.
fn part_two(format: Format) -> Result<String> {
    let sc = scenario::parse(CHAT_ROOM, "chat-room.toml")?;
    let world = simulate::run(&sc, sc.seed, Instant::ZERO + RUN_UNTIL)?;
    let summary = Summary::of(&world);
    let from = Instant::ZERO + SHOWN_FROM;
    let (before, shown): (Vec<_>, Vec<_>) = world.timeline.rows.iter().cloned().partition(|r| r.at < from);
    if format == Format::Json {
        return simulate::json(&sc, sc.seed, RUN_UNTIL, &world.timeline.rows, &summary);
    }
    if format == Format::Svg {
        let command = "osilab simulate fixtures/scenarios/chat-room.toml".to_string();
        return Ok(simulate::svg(&sc, sc.seed, &world, from, command));
    }
    let mut out = String::new();
    out.push_str(
        "Part 2: the chat room, message by message\n\n\
         The same message in a whole network, simulated: a chat server (192.0.2.10, TCP port 3000)\n\
         and three clients (alice .11, bob .12, carol .13), each on its own port of the switch sw1.\n\
         Every frame goes through the same layer code as part 1, is line coded onto its link and\n\
         decoded at the far end; the switch learns which MAC address is on which port.\n\n",
    );
    let _ = writeln!(
        out,
        "From 0 to {} s ({} events, not shown) the server starts listening and each client resolves the\n\
         server's MAC address with ARP, connects (SYN, SYN-ACK, ACK) and joins. Then alice says\n\
         \"Olá, sala!\": watch her send() become one TCP segment, the switch forward it to the server,\n\
         the server recv() it and send() it on to bob and carol, and their recv() show it.\n",
        seconds(from).trim_end_matches('0').trim_end_matches('.'),
        before.len(),
    );
    out.push_str(&Timeline { rows: shown }.text());
    out.push_str("\nWhat each process saw:\n");
    for (who, lines) in &summary.processes {
        let _ = writeln!(out, "  {who}");
        for l in lines {
            let _ = writeln!(out, "    {l}");
        }
    }
    if let Some((host, table)) = summary.port_tables.iter().find(|(h, _)| h == "server") {
        let _ = writeln!(out, "\nThe port table of {host} (as ss -tuanp prints it): one listening socket and one connected socket per client:");
        for line in table.lines() {
            let _ = writeln!(out, "  {line}");
        }
    }
    let _ = writeln!(
        out,
        "\nThe whole run, every event and each one's layers: osilab simulate fixtures/scenarios/chat-room.toml\n\
         (add --inspect N for event N's headers, layer by layer, or --pcap-dir DIR for Wireshark)."
    );
    Ok(out)
}
