//! Command-line arguments. The doc comments are `--help` text, written for a terminal: their
//! `[ADDR]` brackets are literal, not rustdoc links.
#![allow(rustdoc::broken_intra_doc_links)]

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// osilab: watch a message go down the seven OSI layers, onto the wire as bits, and back up.
#[derive(Debug, Parser)]
#[command(name = "osilab", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Send one message through all seven layers and receive it at the other end.
    Send(Box<SendArgs>),
    /// The built-in example: a chat message ("Olá, sala!") from a client to the chat server on port 3000.
    Demo(DemoArgs),
    /// Read a capture (pcap or pcapng) and take every frame up the layers, as Wireshark dissects it.
    Dissect(DissectArgs),
    /// Run a scenario (a TOML file of hosts, switches, routers, links and processes) in the
    /// deterministic network simulator, event by event.
    Simulate(SimulateArgs),
}

/// Options of `osilab simulate`.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// The scenario file (see fixtures/scenarios/).
    #[arg(value_name = "SCENARIO")]
    pub scenario: PathBuf,
    /// Seed of every random choice (losses, sequence numbers, ports); default: the scenario's.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Stop at this simulated time (e.g. 10s, 250ms); default: the scenario's.
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Show only the events from this simulated time on (e.g. 1s); the run still starts at 0.
    /// With --until, a window: --from 1s --until 1.1s.
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// Write one pcap per link into this directory, as Wireshark would capture there.
    #[arg(long, value_name = "DIR")]
    pub pcap_dir: Option<PathBuf>,
    /// Output format: timeline (an event list and a summary), json, or svg (a ladder diagram:
    /// one lifeline per device, one arrow per frame; at most 250 events, choose a window with
    /// --from and --until).
    #[arg(long, default_value = "timeline", value_name = "FORMAT")]
    pub format: String,
    /// Show event N's layer view (each layer's header: 1→7 in, 7→1 out) instead of the timeline.
    #[arg(long, value_name = "EVENT")]
    pub inspect: Option<usize>,
}

/// Options of `osilab dissect`.
#[derive(Debug, Args)]
pub struct DissectArgs {
    /// The capture: pcap or pcapng, with Ethernet, raw IP or Linux cooked (SLL, SLL2) frames.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Output format: tree (like tshark -V), hex (like tshark -x), json, or fields (like tshark -T fields).
    #[arg(long, default_value = "tree", value_name = "FORMAT")]
    pub format: String,
    /// A field to print with --format fields (a Wireshark display-filter name, e.g. ip.src); repeat
    /// for more. Giving -e implies --format fields.
    #[arg(short = 'e', long = "field", value_name = "FIELD")]
    pub fields: Vec<String>,
    /// Stop after printing N frames.
    #[arg(short = 'c', long, value_name = "N")]
    pub count: Option<String>,
    /// Print only frames that match a display filter: a protocol (dns), a field (tcp.flags.syn) or a
    /// comparison (tcp.port == 3000), joined with && || ! and parentheses.
    #[arg(short = 'Y', long, value_name = "FILTER")]
    pub filter: Option<String>,
}

/// Options of `osilab demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Output format: tree, hex, bits, json or svg. Part 1 is one frame, so hex and bits show
    /// part 1 only; json and svg show part 1 unless --part 2 is given (svg: part 1 drawn as its
    /// encapsulation, part 2 as a ladder diagram).
    #[arg(long, default_value = "tree", value_name = "FORMAT")]
    pub format: String,
    /// Show only this part: 1 (one chat message through the seven layers) or 2 (the chat room:
    /// a server and three clients on a switch, with the timeline of their first messages).
    /// Default: both parts in tree format, part 1 in the others.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(1..=2))]
    pub part: Option<u8>,
    /// Also write every frame sent to this pcap file (Ethernet link type, no FCS).
    #[arg(long, value_name = "FILE")]
    pub pcap: Option<PathBuf>,
}

/// Options of `osilab send`.
#[derive(Debug, Args)]
pub struct SendArgs {
    /// The message: raw data, the chat line's text (or nick), or the HTTP body. Use --file for bytes
    /// from a file.
    #[arg(value_name = "MESSAGE", conflicts_with = "file")]
    pub message: Option<String>,
    /// Send the bytes of this file instead of MESSAGE.
    #[arg(long, value_name = "PATH")]
    pub file: Option<PathBuf>,
    /// Application (L7): raw, chat, http or dns.
    #[arg(long, default_value = "raw", value_name = "APP")]
    pub app: String,
    /// Chat: the line to send: msg (the default), join, leave (client) or from, joined, left (server).
    #[arg(long, value_name = "CMD")]
    pub chat: Option<String>,
    /// Chat: the nick a server's FROM line relays.
    #[arg(long, value_name = "NICK")]
    pub nick: Option<String>,
    /// HTTP: the request method (a request is the default).
    #[arg(long, value_name = "METHOD")]
    pub method: Option<String>,
    /// HTTP: the request target (default /).
    #[arg(long, value_name = "PATH")]
    pub path: Option<String>,
    /// HTTP: the Host header (default: the destination address).
    #[arg(long, value_name = "HOST")]
    pub host: Option<String>,
    /// HTTP: send a response with this status code instead of a request.
    #[arg(long, value_name = "CODE", conflicts_with = "method")]
    pub status: Option<String>,
    /// HTTP: the body (instead of MESSAGE).
    #[arg(long, value_name = "TEXT", conflicts_with_all = ["message", "file"])]
    pub body: Option<String>,
    /// HTTP: the body's Content-Type (default text/plain; charset=utf-8).
    #[arg(long, value_name = "TYPE")]
    pub content_type: Option<String>,
    /// HTTP: send a response's body chunked (Transfer-Encoding: chunked), at most N bytes a chunk.
    #[arg(long, value_name = "N", requires = "status")]
    pub chunked: Option<String>,
    /// DNS: the name to query.
    #[arg(long, value_name = "NAME")]
    pub query: Option<String>,
    /// DNS: the record type: A (the default), AAAA, CNAME (or TYPEnnn, RFC 3597).
    #[arg(long = "type", value_name = "TYPE")]
    pub rrtype: Option<String>,
    /// DNS: send a response with this answer (an address, or a name for CNAME); repeat for more.
    #[arg(long, value_name = "VALUE")]
    pub answer: Vec<String>,
    /// DNS: the answers' TTL in seconds (default 300).
    #[arg(long, value_name = "SECONDS")]
    pub answer_ttl: Option<String>,
    /// Presentation (L6): text encoding on the wire: utf-8, utf-16be or iso-8859-1.
    #[arg(long, default_value = "utf-8", value_name = "ENC")]
    pub encoding: String,
    /// Presentation (L6): compress with deflate or gzip.
    #[arg(long, value_name = "ALG")]
    pub compress: Option<String>,
    /// Presentation (L6): encrypt with ChaCha20-Poly1305 in TLS 1.3 records, with this pre-shared
    /// 256-bit key (64 hex digits).
    #[arg(long, value_name = "HEX", conflicts_with = "key_file")]
    pub key: Option<String>,
    /// Presentation (L6): as --key, the key read from a file (64 hex digits, or 32 raw bytes).
    #[arg(long, value_name = "PATH")]
    pub key_file: Option<PathBuf>,
    /// Session model (L5): tcpip (layers 5-7 merged into the application).
    #[arg(long, default_value = "tcpip", value_name = "MODEL")]
    pub model: String,
    /// Transport: tcp, udp, or icmp (an echo request carrying the message, as ping does).
    /// Default: udp for dns, tcp otherwise.
    #[arg(long, value_name = "PROTO")]
    pub transport: Option<String>,
    /// Source IP:PORT (IPv6 as [ADDR]:PORT). Default 192.0.2.1:51000 for a client, 192.0.2.2 and the
    /// application's port for a server's response.
    #[arg(long, value_name = "IP:PORT")]
    pub from: Option<String>,
    /// Destination IP:PORT (IPv6 as [ADDR]:PORT). Default 192.0.2.2 and the application's port (3000 for
    /// raw and chat, 80 for http, 53 for dns), or 192.0.2.1:51000 for a server's response.
    #[arg(long, value_name = "IP:PORT")]
    pub to: Option<String>,
    /// Source MAC address. Default 02:00:00:00:00:01 (locally administered).
    #[arg(long, value_name = "MAC")]
    pub src_mac: Option<String>,
    /// Destination MAC address. Default 02:00:00:00:00:02 (locally administered).
    #[arg(long, value_name = "MAC")]
    pub dst_mac: Option<String>,
    /// Tag frames with this 802.1Q VLAN ID (1-4094).
    #[arg(long, value_name = "ID")]
    pub vlan: Option<String>,
    /// 802.1Q priority code point (0-7), with --vlan.
    #[arg(long, value_name = "PCP", requires = "vlan")]
    pub vlan_pcp: Option<String>,
    /// Link MTU in bytes: IP packets above it are fragmented (UDP, ICMP) or segmented (TCP).
    #[arg(long, default_value = "1500", value_name = "N")]
    pub mtu: String,
    /// IPv4 TTL / IPv6 hop limit.
    #[arg(long, default_value = "64", value_name = "N")]
    pub ttl: String,
    /// Set IPv4 "don't fragment" (default: set for TCP, clear for UDP and ICMP, as Linux does).
    #[arg(long, conflicts_with = "no_df")]
    pub df: bool,
    /// Clear IPv4 "don't fragment".
    #[arg(long)]
    pub no_df: bool,
    /// Line code: nrz, nrzi, manchester, 4b5b or mlt3.
    #[arg(long, default_value = "manchester", value_name = "CODE")]
    pub line_code: String,
    /// Bit rate on the wire: 10M, 100M, 1G (or bits per second).
    #[arg(long, default_value = "10M", value_name = "RATE")]
    pub rate: String,
    /// Bit-error rate on the wire: the probability that each symbol is flipped (e.g. 1e-3).
    #[arg(long, default_value = "0", value_name = "P")]
    pub ber: String,
    /// Seed for every random choice (sequence numbers, IP identification, bit errors).
    #[arg(long, default_value = "1", value_name = "N")]
    pub seed: String,
    /// Output format: tree, hex, bits, json, or svg (the encapsulation drawn: one band per layer,
    /// its header, payload and trailer with their byte counts).
    #[arg(long, default_value = "tree", value_name = "FORMAT")]
    pub format: String,
    /// First resolve the destination's MAC with ARP (IPv4): a broadcast who-has, the reply, then the message.
    #[arg(long)]
    pub arp: bool,
    /// Also write every frame sent to this pcap file (Ethernet link type, no FCS).
    #[arg(long, value_name = "FILE")]
    pub pcap: Option<PathBuf>,
}
