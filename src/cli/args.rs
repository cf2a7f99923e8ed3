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
    /// Put frames, and osilab's own hosts, on a real network interface (Linux; needs root or
    /// CAP_NET_RAW).
    Live(LiveArgs),
}

/// Options of `osilab live`.
#[derive(Debug, Args)]
#[command(after_help = LIVE_HELP)]
pub struct LiveArgs {
    /// What to do on the interface.
    #[command(subcommand)]
    pub command: LiveCommand,
}

/// What `osilab live --help` adds after the list of commands.
const LIVE_HELP: &str = "\
Frames go out only on the interface given with --iface; the interface is put in promiscuous mode
only with --promiscuous. Every wait is bounded (a count, a timeout or a duration); Ctrl-C ends a
run early, as if its time were up.

The hosts of ping, http-get, dns and chat-server are osilab's own (ARP and neighbor discovery,
IPv4/IPv6, ICMP, TCP and the applications: the code `osilab simulate` runs), with the address of
--ip: choose one the machine itself does not own, so that its kernel stays out of the dialogue.

802.1Q: Linux takes a received frame's VLAN tag out of the frame into metadata; osilab reads it
(PACKET_AUXDATA) and puts the tag back, so captures and traces show tagged frames as they were on
the wire. Offloads: a frame the sending kernel left to a card (checksum or TCP segmentation
offload, as a veth peer's frames are) is finished as the card would before osilab's host reads it;
`capture` shows such frames as Linux handed them, like tcpdump, or finished with --as-wire.";

/// The interface options every `osilab live` command takes.
#[derive(Debug, Args)]
pub struct LiveIface {
    /// The network interface (the only one osilab sends on), e.g. eth0 or a veth end.
    #[arg(long, value_name = "IF")]
    pub iface: String,
    /// Put the interface in promiscuous mode: receive frames sent to any MAC address.
    #[arg(long)]
    pub promiscuous: bool,
}

/// The options of osilab's own host on the interface.
#[derive(Debug, Args)]
pub struct LiveHost {
    /// The interface.
    #[command(flatten)]
    pub link: LiveIface,
    /// osilab's address and subnet: 192.0.2.1/24, 2001:db8::1/64 (one of each family at most). Use an
    /// address the machine itself does not own.
    #[arg(long = "ip", value_name = "CIDR", required = true)]
    pub ip: Vec<String>,
    /// osilab's MAC address (default: the interface's own).
    #[arg(long, value_name = "MAC")]
    pub mac: Option<String>,
    /// A default gateway (one per family).
    #[arg(long, value_name = "IP")]
    pub gateway: Vec<String>,
    /// Print every frame in and out, layer by layer, and every socket call, to stderr (as `simulate`
    /// shows them).
    #[arg(long)]
    pub trace: bool,
    /// Seed of the host's random choices (sequence numbers, ports); default: from the clock.
    #[arg(long, value_name = "N")]
    pub seed: Option<String>,
}

/// The `osilab live` commands.
#[derive(Debug, Subcommand)]
pub enum LiveCommand {
    /// Build frames as `osilab send` does (same message and layer options) and inject them.
    Send(Box<LiveSendArgs>),
    /// Capture frames on the interface and take each up the layers, as `osilab dissect` does.
    Capture(LiveCaptureArgs),
    /// Send ICMP (or ICMPv6) echo requests from osilab's host and print the replies, as ping does.
    Ping(LivePingArgs),
    /// Fetch a URL over osilab's own TCP and print the body, as curl does.
    HttpGet(LiveHttpGetArgs),
    /// Ask a DNS server one question over UDP and print the answer, as dig does.
    Dns(LiveDnsArgs),
    /// Serve the chat room on a TCP port to real clients (socat, nc).
    ChatServer(LiveChatServerArgs),
}

/// Options of `osilab live send`.
#[derive(Debug, Args)]
pub struct LiveSendArgs {
    /// The interface.
    #[command(flatten)]
    pub link: LiveIface,
    /// Show the frames (as `osilab send` does) without sending them.
    #[arg(long)]
    pub dry_run: bool,
    /// The message and its layers, as `osilab send` takes them (--src-mac defaults to the interface's
    /// MAC address; --arp asks the real network; the L1 options only shape what is shown: the card
    /// does L1).
    #[command(flatten)]
    pub send: SendArgs,
}

/// Options of `osilab live capture`.
#[derive(Debug, Args)]
pub struct LiveCaptureArgs {
    /// The interface.
    #[command(flatten)]
    pub link: LiveIface,
    /// Stop after N frames (those that pass the filter).
    #[arg(short = 'c', long, value_name = "N")]
    pub count: Option<String>,
    /// Stop after S seconds.
    #[arg(long, default_value = "30", value_name = "S")]
    pub timeout: String,
    /// Also write every frame captured to this pcap file.
    #[arg(long, value_name = "FILE")]
    pub pcap: Option<PathBuf>,
    /// Output format: tree (like tshark -V), hex (like tshark -x), json, or fields (like tshark -T fields).
    #[arg(long, default_value = "tree", value_name = "FORMAT")]
    pub format: String,
    /// A field to print with --format fields (e.g. ip.src); repeat for more.
    #[arg(short = 'e', long = "field", value_name = "FIELD")]
    pub fields: Vec<String>,
    /// Print only frames that match a display filter (as dissect -Y).
    #[arg(short = 'Y', long, value_name = "FILTER")]
    pub filter: Option<String>,
    /// Show frames as a wire would carry them: finish the checksums and cut the TCP super-segments
    /// the sending kernel left to a card (by default frames are shown as Linux hands them over, like
    /// tcpdump).
    #[arg(long)]
    pub as_wire: bool,
}

/// Options of `osilab live ping`.
#[derive(Debug, Args)]
pub struct LivePingArgs {
    /// osilab's host.
    #[command(flatten)]
    pub host: LiveHost,
    /// The address to ping (IPv4 or IPv6).
    #[arg(value_name = "TARGET")]
    pub target: String,
    /// Echo requests to send.
    #[arg(short = 'c', long, default_value = "4", value_name = "N")]
    pub count: String,
    /// Seconds between requests.
    #[arg(short = 'i', long, default_value = "1", value_name = "S")]
    pub interval: String,
    /// Data bytes in each request.
    #[arg(short = 's', long, default_value = "56", value_name = "N")]
    pub size: String,
    /// TTL / hop limit of the requests.
    #[arg(short = 't', long, value_name = "N")]
    pub ttl: Option<String>,
    /// Give up after S seconds in all (default: the requests' time plus ping's 10 s wait for late replies).
    #[arg(short = 'w', long, value_name = "S")]
    pub timeout: Option<String>,
}

/// Options of `osilab live http-get`.
#[derive(Debug, Args)]
pub struct LiveHttpGetArgs {
    /// osilab's host.
    #[command(flatten)]
    pub host: LiveHost,
    /// The URL: http://HOST[:PORT]/PATH, HOST an address (IPv6 in brackets) or a name (with --dns-server).
    #[arg(value_name = "URL")]
    pub url: String,
    /// The DNS server that resolves a host name in the URL (osilab's own resolver asks it first, as curl
    /// asks the system's).
    #[arg(long, value_name = "IP")]
    pub dns_server: Option<String>,
    /// Write the body to FILE instead of standard output.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Give up after S seconds.
    #[arg(long, default_value = "30", value_name = "S")]
    pub timeout: String,
}

/// Options of `osilab live dns`.
#[derive(Debug, Args)]
pub struct LiveDnsArgs {
    /// osilab's host.
    #[command(flatten)]
    pub host: LiveHost,
    /// The name to look up.
    #[arg(value_name = "QUERY")]
    pub query: String,
    /// The server's address.
    #[arg(long, value_name = "IP")]
    pub server: String,
    /// The server's port.
    #[arg(long, default_value = "53", value_name = "PORT")]
    pub port: String,
    /// The record type: A, AAAA, CNAME (or TYPEnnn).
    #[arg(long = "type", default_value = "A", value_name = "TYPE")]
    pub rrtype: String,
    /// Give up after S seconds (dig's three tries of 5 s each by default).
    #[arg(long, default_value = "16", value_name = "S")]
    pub timeout: String,
}

/// Options of `osilab live chat-server`.
#[derive(Debug, Args)]
pub struct LiveChatServerArgs {
    /// osilab's host.
    #[command(flatten)]
    pub host: LiveHost,
    /// The TCP port to listen on.
    #[arg(long, default_value = "3000", value_name = "PORT")]
    pub port: String,
    /// Serve for S seconds (or until Ctrl-C), then stop. The server listens on every family osilab
    /// has an address of (one room for all).
    #[arg(long, default_value = "300", value_name = "S")]
    pub duration: String,
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
