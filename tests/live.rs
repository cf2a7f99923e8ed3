//! `osilab live` against the strictest peer there is, the Linux kernel. Each test makes two
//! network namespaces joined by a veth pair: osilab runs in namespace A on its veth end, which
//! has no IP address (so the kernel there stays out of the dialogue: IPv6 is off on it, and the
//! IPv4 address osilab uses is one that kernel does not own); the kernel and real programs
//! (python's http.server, dnsmasq, socat, ping, tcpdump) run in namespace B with 192.0.2.2/24 and
//! 2001:db8::2/64. Only documentation addresses. Every wait is bounded, and each test deletes
//! exactly the namespaces (and with them the veth pair) and processes it made.
//!
//! Needs root and `ip`: without them the tests skip, saying why; under CI=true they fail.

#![cfg(feature = "live")]

mod common;

use common::{in_ci, osilab_ok, scratch};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStderr, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const OSILAB: &str = env!("CARGO_BIN_EXE_osilab");
const IP_A: &str = "192.0.2.1/24";
const IP6_A: &str = "2001:db8::1/64";
const IP_B: &str = "192.0.2.2";
const IP6_B: &str = "2001:db8::2";

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// Whether the test can run: root, `ip`, and each tool (a command and the argument that makes it
/// print its version). Locally it prints why it skips; under CI it fails.
fn ready(test: &str, tools: &[(&str, &str)]) -> bool {
    let skip = |why: String| {
        if in_ci() {
            panic!("{test}: {why} (required under CI=true)");
        }
        eprintln!("SKIPPED {test}: {why}");
        false
    };
    let root = Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if !root {
        return skip("needs root to create network namespaces and open packet sockets".into());
    }
    for (tool, arg) in [("ip", "-V")].iter().chain(tools) {
        let ok =
            Command::new(tool).arg(arg).stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success());
        if !ok {
            return skip(format!("`{tool}` not found"));
        }
    }
    true
}

/// Run a command to completion, failing the test with its output when it fails.
fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Wait for `child` at most `limit`; kill it if it is still running then.
fn wait_bounded(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let end = Instant::now() + limit;
    loop {
        if let Ok(Some(s)) = child.try_wait() {
            return Some(s);
        }
        if Instant::now() >= end {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Two namespaces joined by a veth pair, and the processes started in them; deleted on drop.
struct Pair {
    ns_a: String,
    ns_b: String,
    veth_a: String,
    veth_b: String,
    mac_a: String,
    mac_b: String,
    children: Vec<Child>,
}

impl Pair {
    fn new() -> Pair {
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let pid = std::process::id();
        let mut p = Pair {
            ns_a: format!("osilab-{pid}-{n}-a"),
            ns_b: format!("osilab-{pid}-{n}-b"),
            // IFNAMSIZ: at most 15 characters ("o", 7 digits of PID, "-", the counter, a/b).
            veth_a: format!("o{}-{n}a", pid % 10_000_000),
            veth_b: format!("o{}-{n}b", pid % 10_000_000),
            mac_a: String::new(),
            mac_b: String::new(),
            children: Vec::new(),
        };
        // From here on, Drop deletes what was made (a namespace that was not made is not found).
        run(Command::new("ip").args(["netns", "add", &p.ns_a]));
        run(Command::new("ip").args(["netns", "add", &p.ns_b]));
        run(Command::new("ip").args([
            "link", "add", &p.veth_a, "netns", &p.ns_a, "type", "veth", "peer", "name", &p.veth_b, "netns", &p.ns_b,
        ]));
        let (a, b, va, vb) = (p.ns_a.clone(), p.ns_b.clone(), p.veth_a.clone(), p.veth_b.clone());
        // A: the veth end up, no address; IPv6 off so that its kernel sends nothing of its own
        // (best effort: where /proc/sys is read-only its link-local chatter is only dropped by
        // osilab's host, and it owns no address osilab uses).
        let _ = Command::new("ip")
            .args(["netns", "exec", &a, "sh", "-c"])
            .arg(format!("echo 1 > /proc/sys/net/ipv6/conf/{va}/disable_ipv6"))
            .stderr(Stdio::null())
            .status();
        run(Command::new("ip").args(["-n", &a, "link", "set", &va, "up"]));
        // B: the kernel with its addresses (nodad: usable at once, no duplicate detection wait).
        run(Command::new("ip").args(["-n", &b, "link", "set", "lo", "up"]));
        run(Command::new("ip").args(["-n", &b, "addr", "add", &format!("{IP_B}/24"), "dev", &vb]));
        run(Command::new("ip").args(["-n", &b, "addr", "add", &format!("{IP6_B}/64"), "dev", &vb, "nodad"]));
        run(Command::new("ip").args(["-n", &b, "link", "set", &vb, "up"]));
        p.mac_a = mac_of(&a, &va);
        p.mac_b = mac_of(&b, &vb);
        p
    }

    /// `ip netns exec <ns> args…`.
    fn cmd(ns: &str, args: &[&str]) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", ns]).args(args);
        c
    }

    fn in_b(&self, args: &[&str]) -> Command {
        Pair::cmd(&self.ns_b, args)
    }

    /// osilab in namespace A, to completion (at most `limit`).
    fn osilab_a(&self, args: &[&str], limit: Duration) -> Output {
        self.osilab_in(&self.ns_a, args, limit)
    }

    fn osilab_in(&self, ns: &str, args: &[&str], limit: Duration) -> Output {
        let mut c = Pair::cmd(ns, &[OSILAB]);
        c.args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = c.spawn().expect("run osilab");
        // Read both pipes while waiting, so that a long trace cannot fill a pipe and stall it.
        let mut out = child.stdout.take().expect("stdout");
        let mut err = child.stderr.take().expect("stderr");
        let t_out = std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = out.read_to_end(&mut v);
            v
        });
        let t_err = std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = err.read_to_end(&mut v);
            v
        });
        let status = wait_bounded(&mut child, limit);
        let stdout = t_out.join().unwrap_or_default();
        let stderr = t_err.join().unwrap_or_default();
        let status = status.unwrap_or_else(|| {
            panic!("osilab {args:?} did not finish within {limit:?}: {}", String::from_utf8_lossy(&stderr))
        });
        Output { status, stdout, stderr }
    }

    /// Start a long-running process (killed on drop); its stdout and stderr as given.
    fn spawn(&mut self, mut c: Command) -> &mut Child {
        let child = c.spawn().unwrap_or_else(|e| panic!("cannot start {c:?}: {e}"));
        self.children.push(child);
        self.children.last_mut().expect("just pushed")
    }
}

impl Drop for Pair {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        // Deleting a namespace destroys the veth end in it, and with it the pair.
        for ns in [&self.ns_a, &self.ns_b] {
            let _ = Command::new("ip").args(["netns", "del", ns]).stderr(Stdio::null()).status();
        }
    }
}

fn mac_of(ns: &str, dev: &str) -> String {
    let out = run(Command::new("ip").args(["-n", ns, "-o", "link", "show", dev]));
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let mut words = text.split_whitespace();
    words
        .find(|w| *w == "link/ether")
        .and_then(|_| words.next())
        .map(str::to_string)
        .unwrap_or_else(|| panic!("no MAC in {text}"))
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The lines a process writes, read by a thread as they come.
struct Lines {
    rx: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Lines {
    fn new(from: impl Read + Send + 'static) -> Lines {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(from).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Lines { rx, seen: Vec::new() }
    }

    /// Wait (at most `limit`) until a line read contains `what` (or one already did).
    fn wait_for(&mut self, what: &str, limit: Duration) -> bool {
        if self.seen.iter().any(|l| l.contains(what)) {
            return true;
        }
        let end = Instant::now() + limit;
        loop {
            match self.rx.recv_timeout(end.saturating_duration_since(Instant::now())) {
                Ok(l) => {
                    let hit = l.contains(what);
                    self.seen.push(l);
                    if hit {
                        return true;
                    }
                }
                Err(_) => return false,
            }
        }
    }

    /// Everything read so far, and what comes until the end or `limit`.
    fn rest(&mut self, limit: Duration) -> String {
        let end = Instant::now() + limit;
        while let Ok(l) = self.rx.recv_timeout(end.saturating_duration_since(Instant::now())) {
            self.seen.push(l);
        }
        self.seen.join("\n")
    }

    fn text(&self) -> String {
        self.seen.join("\n")
    }
}

fn stderr_of(c: &mut Child) -> ChildStderr {
    c.stderr.take().expect("stderr piped")
}

/// A `--trace`'s rows: each row's line and the records printed below it.
fn trace_rows(trace: &str) -> Vec<(String, String)> {
    let mut rows: Vec<(String, String)> = Vec::new();
    for line in trace.lines() {
        let numbered = line.split_whitespace().next().is_some_and(|w| w.parse::<usize>().is_ok());
        if numbered && !line.starts_with("         ") {
            rows.push((line.to_string(), String::new()));
        } else if let Some((_, body)) = rows.last_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    rows
}

// ---- ARP and ping ------------------------------------------------------------------------------

#[test]
fn the_kernel_answers_osilabs_arp_and_ping() {
    if !ready("the_kernel_answers_osilabs_arp_and_ping", &[]) {
        return;
    }
    let p = Pair::new();
    let out = p.osilab_a(
        &["live", "ping", "--iface", &p.veth_a, "--ip", IP_A, "-c", "2", "-i", "0.2", "--trace", IP_B],
        Duration::from_secs(20),
    );
    let (so, se) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{so}{se}");
    assert!(so.contains("PING 192.0.2.2 (192.0.2.2) 56 data bytes"), "{so}");
    assert!(so.contains("64 bytes from 192.0.2.2: icmp_seq=1 time="), "{so}");
    assert!(so.contains("64 bytes from 192.0.2.2: icmp_seq=2 time="), "{so}");
    assert!(so.contains("2 packets transmitted, 2 received, 0% packet loss"), "{so}");
    // ARP: osilab's who-has went out, and the kernel's reply came back with B's MAC.
    assert!(se.contains("out  L2  Who has 192.0.2.2? Tell 192.0.2.1"), "{se}");
    assert!(se.contains(&format!("in   L2  192.0.2.2 is at {}", p.mac_b)), "{se}");
    // The trace shows the frames layer by layer, FCS left to the card.
    assert!(se.contains("[icmp.type]") && se.contains("[eth.src]"), "{se}");
    assert!(se.contains("FCS: checked and stripped by the network card"), "{se}");
    // An address nobody has: ARP goes unanswered, and ping says so as iputils does (exit 1).
    let out = p.osilab_a(
        &["live", "ping", "--iface", &p.veth_a, "--ip", IP_A, "-c", "1", "192.0.2.99"],
        Duration::from_secs(20),
    );
    assert_eq!(out.status.code(), Some(1));
    let so = text(&out.stdout);
    assert!(so.contains("From 192.0.2.1 icmp_seq=1 Destination Host Unreachable"), "{so}");
    assert!(so.contains("1 packets transmitted, 0 received, 100% packet loss"), "{so}");
    // The kernel learned osilab's MAC from the request (RFC 826: the target merges the sender).
    let neigh = text(&run(&mut p.in_b(&["ip", "neigh", "show", "192.0.2.1"])).stdout);
    assert!(neigh.contains(&p.mac_a), "{neigh}");
}

#[test]
fn osilab_answers_the_kernels_arp_and_echo_requests() {
    if !ready("osilab_answers_the_kernels_arp_and_echo_requests", &[("ping", "-V")]) {
        return;
    }
    let mut p = Pair::new();
    // osilab's host, serving for a while (any program keeps it up; the chat server is one).
    let mut c = Pair::cmd(
        &p.ns_a,
        &[OSILAB, "live", "chat-server", "--iface", &p.veth_a, "--ip", IP_A, "--duration", "8", "--trace"],
    );
    c.stdout(Stdio::null()).stderr(Stdio::piped());
    let mut trace = Lines::new(stderr_of(p.spawn(c)));
    assert!(trace.wait_for("chat server listening", Duration::from_secs(10)), "osilab did not start: {}", trace.text());
    let out = run(&mut p.in_b(&["ping", "-c", "2", "-i", "0.2", "-W", "2", "192.0.2.1"]));
    let so = text(&out.stdout);
    assert!(so.contains("2 packets transmitted, 2 received"), "{so}");
    assert!(so.contains("64 bytes from 192.0.2.1: icmp_seq=1 ttl=64"), "{so}");
    let neigh = text(&run(&mut p.in_b(&["ip", "neigh", "show", "192.0.2.1"])).stdout);
    assert!(neigh.contains(&format!("lladdr {}", p.mac_a)), "the kernel learned osilab's MAC: {neigh}");
    // osilab's side: the kernel's who-has came in, osilab's reply went out, and its host
    // answered the echo requests (RFC 1122 §3.2.2.6).
    for what in [
        "in   L2  Who has 192.0.2.1? Tell 192.0.2.2".to_string(),
        format!("out  L2  192.0.2.1 is at {}", p.mac_a),
        "Echo (ping) reply".to_string(),
    ] {
        assert!(trace.wait_for(&what, Duration::from_secs(5)), "no {what:?} in the trace: {}", trace.text());
    }
}

#[test]
fn osilab_pings_the_kernel_over_ipv6() {
    if !ready("osilab_pings_the_kernel_over_ipv6", &[]) {
        return;
    }
    let p = Pair::new();
    let out = p.osilab_a(
        &["live", "ping", "--iface", &p.veth_a, "--ip", IP6_A, "-c", "2", "-i", "0.2", "--trace", IP6_B],
        Duration::from_secs(20),
    );
    let (so, se) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{so}{se}");
    assert!(so.contains("64 bytes from 2001:db8::2: icmp_seq=1 time="), "{so}");
    assert!(so.contains("2 packets transmitted, 2 received, 0% packet loss"), "{so}");
    // Neighbor discovery (RFC 4861): a solicitation to the solicited-node group, the kernel's advertisement.
    assert!(se.contains("→ ff02::1:ff00:2"), "{se}");
    assert!(se.contains("in   L3  Neighbor Advertisement"), "{se}");
}

// ---- HTTP, DNS, chat --------------------------------------------------------------------------

#[test]
fn http_get_fetches_pages_from_python_and_closes_with_fin() {
    if !ready("http_get_fetches_pages_from_python_and_closes_with_fin", &[("python3", "--version")]) {
        return;
    }
    let mut p = Pair::new();
    let dir = scratch(&format!("live-http-{}", p.ns_a));
    let page = "<h1>Hello from the Linux kernel's TCP</h1>\n";
    std::fs::write(dir.join("index.html"), page).unwrap();
    // 1 MiB of a pattern that shows a shifted, lost or repeated block.
    let big: Vec<u8> = (0..1 << 20).map(|i: u32| (i % 251) as u8 ^ (i >> 16) as u8).collect();
    std::fs::write(dir.join("big.bin"), &big).unwrap();
    http_server_b(&mut p, IP_B, &dir);

    let iface = p.veth_a.clone();
    let out = p.osilab_a(
        &["live", "http-get", "--iface", &iface, "--ip", IP_A, "--trace", "http://192.0.2.2:8000/index.html"],
        Duration::from_secs(30),
    );
    let se = text(&out.stderr);
    assert!(out.status.success(), "{se}");
    assert_eq!(text(&out.stdout), page, "the body, as curl prints it");
    // The handshake with the kernel, and the close: FIN both ways.
    assert!(se.contains("→ 8000 [SYN] Seq=0"), "{se}");
    assert!(se.contains("8000 → ") && se.contains("[SYN, ACK]"), "{se}");
    let fin = |dir: &str| {
        trace_rows(&se).iter().any(|(head, body)| head.contains(dir) && body.contains("Fin: Set  [tcp.flags.fin]"))
    };
    assert!(fin("  in   L") && fin("  out  L"), "FIN from both ends: {se}");
    assert!(se.contains("HTTP/1.1 200: 43 bytes"), "{se}");
    // Above TCP, the trace reads the messages as simulate's timeline does (L5–L7).
    assert!(se.contains("out  L7  GET /index.html HTTP/1.1"), "{se}");
    assert!(se.contains("in   L7  HTTP/1.0 200 OK  (text/html)"), "{se}");
    assert!(se.contains("[http.response.code]") && se.contains("[session.tuple]"), "{se}");

    // 1 MiB: many segments, which the kernel hands its veth as TSO super-segments.
    let file = dir.join("got.bin");
    let f = file.to_str().unwrap();
    let out = p.osilab_a(
        &["live", "http-get", "--iface", &iface, "--ip", IP_A, "-o", f, "http://192.0.2.2:8000/big.bin"],
        Duration::from_secs(60),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty(), "-o: nothing on stdout");
    let got = std::fs::read(&file).unwrap();
    assert_eq!(got.len(), big.len());
    assert!(got == big, "the 1 MiB body differs from the file");

    // Over IPv6 too (a second server on B's IPv6 address): TCPv6 segmentation offload.
    http_server_b(&mut p, IP6_B, &dir);
    let file6 = dir.join("got6.bin");
    let out = p.osilab_a(
        &[
            "live",
            "http-get",
            "--iface",
            &iface,
            "--ip",
            IP6_A,
            "-o",
            file6.to_str().unwrap(),
            "http://[2001:db8::2]:8000/big.bin",
        ],
        Duration::from_secs(60),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(std::fs::read(&file6).unwrap() == big, "the 1 MiB body over IPv6 differs from the file");

    // A port nobody listens on: the kernel's RST, said as curl would.
    let out = p.osilab_a(
        &["live", "http-get", "--iface", &iface, "--ip", IP_A, "http://192.0.2.2:8001/"],
        Duration::from_secs(30),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("ECONNREFUSED (Connection refused)"), "{}", text(&out.stderr));

    // A page that is not there: the server's 404 body, as curl prints it.
    let out = p.osilab_a(
        &["live", "http-get", "--iface", &iface, "--ip", IP_A, "http://192.0.2.2:8000/missing"],
        Duration::from_secs(30),
    );
    assert!(out.status.success());
    assert!(text(&out.stdout).contains("404"), "{}", text(&out.stdout));
}

/// dnsmasq in namespace B on 192.0.2.2 and 2001:db8::2 with these extra options; returns once
/// it has started.
fn dnsmasq_b(p: &mut Pair, extra: &[&str]) {
    let dir = scratch(&format!("live-dnsmasq-{}", p.ns_a));
    let mut c = p.in_b(&[
        "dnsmasq",
        "--keep-in-foreground",
        "--log-facility=-",
        "--conf-file=/dev/null",
        "--no-resolv",
        "--no-hosts",
        "--user=root",
        "--bind-interfaces",
        "--listen-address=192.0.2.2",
        "--listen-address=2001:db8::2",
    ]);
    c.args(extra).arg(format!("--pid-file={}", dir.join("dnsmasq.pid").display()));
    c.stdout(Stdio::null()).stderr(Stdio::piped());
    let mut log = Lines::new(stderr_of(p.spawn(c)));
    assert!(log.wait_for("started", Duration::from_secs(10)), "dnsmasq did not start: {}", log.text());
}

/// python's http.server in namespace B on `bind`, port 8000, serving `dir`; returns once it
/// serves.
fn http_server_b(p: &mut Pair, bind: &str, dir: &std::path::Path) {
    let mut c = p.in_b(&["python3", "-u", "-m", "http.server", "--bind", bind, "8000", "--directory"]);
    c.arg(dir).stdout(Stdio::piped()).stderr(Stdio::null());
    let server = p.spawn(c);
    let mut lines = Lines::new(server.stdout.take().expect("stdout"));
    assert!(lines.wait_for("Serving HTTP", Duration::from_secs(15)), "http.server did not start: {}", lines.text());
}

#[test]
fn dns_asks_dnsmasq_over_ipv4_and_ipv6() {
    if !ready("dns_asks_dnsmasq_over_ipv4_and_ipv6", &[("dnsmasq", "--version")]) {
        return;
    }
    let mut p = Pair::new();
    dnsmasq_b(&mut p, &["--address=/www.example.test/192.0.2.80", "--address=/www.example.test/2001:db8::80"]);

    let iface = p.veth_a.clone();
    let out = p.osilab_a(
        &["live", "dns", "--iface", &iface, "--ip", IP_A, "www.example.test", "--server", IP_B],
        Duration::from_secs(30),
    );
    let so = text(&out.stdout);
    assert!(out.status.success(), "{so}{}", text(&out.stderr));
    assert!(so.contains(";; ->>HEADER<<- opcode: QUERY"), "{so}");
    assert!(so.contains("www.example.test.\t") && so.contains("\tIN\tA\t192.0.2.80"), "{so}");

    let out = p.osilab_a(
        &["live", "dns", "--iface", &iface, "--ip", IP6_A, "www.example.test", "--type", "AAAA", "--server", IP6_B],
        Duration::from_secs(30),
    );
    let so = text(&out.stdout);
    assert!(out.status.success(), "{so}{}", text(&out.stderr));
    assert!(so.contains("\tIN\tAAAA\t2001:db8::80"), "{so}");
}

/// A socat client in namespace B: its input and the lines it receives.
struct Client {
    input: std::process::ChildStdin,
    lines: Lines,
}

fn chat_client(p: &mut Pair) -> Client {
    let mut c = p.in_b(&["socat", "-t", "1", "-", "TCP:192.0.2.1:3000"]);
    c.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::null());
    let child = p.spawn(c);
    let input = child.stdin.take().expect("stdin");
    let lines = Lines::new(child.stdout.take().expect("stdout"));
    Client { input, lines }
}

#[test]
fn chat_server_relays_between_real_clients() {
    if !ready("chat_server_relays_between_real_clients", &[("socat", "-V")]) {
        return;
    }
    let mut p = Pair::new();
    let mut c = Pair::cmd(
        &p.ns_a,
        &[OSILAB, "live", "chat-server", "--iface", &p.veth_a, "--ip", IP_A, "--port", "3000", "--duration", "20"],
    );
    c.stdout(Stdio::piped()).stderr(Stdio::null());
    let server = p.spawn(c);
    let mut said = Lines::new(server.stdout.take().expect("stdout"));
    assert!(said.wait_for("chat server listening on port 3000", Duration::from_secs(10)), "{}", said.text());
    let t = Duration::from_secs(10);

    let mut alice = chat_client(&mut p);
    alice.input.write_all(b"JOIN alice\n").unwrap();
    assert!(said.wait_for("alice joined", t), "{}", said.text());
    let mut bob = chat_client(&mut p);
    bob.input.write_all(b"JOIN bob\n").unwrap();
    assert!(said.wait_for("bob joined", t), "{}", said.text());
    assert!(alice.lines.wait_for("JOINED bob", t), "alice: {}", alice.lines.text());

    alice.input.write_all(b"MSG hello bob\n").unwrap();
    assert!(bob.lines.wait_for("FROM alice hello bob", t), "bob: {}", bob.lines.text());
    bob.input.write_all("MSG olá, alice\n".as_bytes()).unwrap();
    assert!(alice.lines.wait_for("FROM bob olá, alice", t), "alice: {}", alice.lines.text());

    // Alice's end of file (socat half-closes: FIN): the server tells bob she left.
    drop(alice.input);
    assert!(bob.lines.wait_for("LEFT alice", t), "bob: {}", bob.lines.text());
    assert!(!alice.lines.text().contains("FROM alice"), "a client does not hear itself: {}", alice.lines.text());
}

// ---- send and capture -------------------------------------------------------------------------

#[test]
fn send_frames_captured_by_tcpdump_dissect_cleanly_in_tshark() {
    if !ready(
        "send_frames_captured_by_tcpdump_dissect_cleanly_in_tshark",
        &[("tcpdump", "--version"), ("tshark", "--version")],
    ) {
        return;
    }
    let mut p = Pair::new();
    let dir = scratch(&format!("live-send-{}", p.ns_a));
    let pcap = dir.join("b.pcap");
    let big = dir.join("3000.txt");
    std::fs::write(&big, "0123456789".repeat(300)).unwrap();
    let (iface, mac_b, big) = (p.veth_a.clone(), p.mac_b.clone(), big.to_str().unwrap().to_string());
    let sends: Vec<Vec<&str>> = vec![
        // A real ARP exchange first: the kernel's reply gives the destination MAC.
        vec!["--arp", "--transport", "udp", "--to", "192.0.2.2:9000", "hello over UDP"],
        vec!["--dst-mac", &mac_b, "--app", "dns", "--query", "www.example.test"],
        vec!["--dst-mac", &mac_b, "--app", "http", "--path", "/index.html"],
        vec!["--dst-mac", &mac_b, "--app", "chat", "Olá, sala!"],
        vec!["--dst-mac", &mac_b, "--transport", "icmp", "ping data"],
        vec![
            "--dst-mac",
            &mac_b,
            "--transport",
            "udp",
            "--from",
            "[2001:db8::1]:51000",
            "--to",
            "[2001:db8::2]:9000",
            "v6",
        ],
        vec![
            "--dst-mac",
            &mac_b,
            "--transport",
            "udp",
            "--to",
            "192.0.2.2:9000",
            "--vlan",
            "100",
            "--vlan-pcp",
            "3",
            "tagged",
        ],
        // 3000 bytes over UDP: IPv4 fragments.
        vec!["--dst-mac", &mac_b, "--transport", "udp", "--to", "192.0.2.2:9000", "--file", &big],
    ];
    let args = |extra: &[&str], dry: bool| -> Vec<String> {
        let mut v: Vec<String> = ["live", "send", "--iface", &iface, "--format", "json"].map(String::from).to_vec();
        if dry {
            v.push("--dry-run".into());
        }
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    // A dry run of each says how many frames tcpdump is to wait for (plus the ARP request).
    let mut counts = Vec::new();
    for extra in &sends {
        let a = args(extra, true);
        let out = p.osilab_a(&a.iter().map(String::as_str).collect::<Vec<_>>(), Duration::from_secs(20));
        let se = text(&out.stderr);
        assert!(out.status.success(), "{a:?}: {se}");
        let n: usize = se
            .lines()
            .find_map(|l| {
                l.strip_prefix("osilab: dry run: ").and_then(|r| r.split(' ').next()).and_then(|n| n.parse().ok())
            })
            .unwrap_or_else(|| panic!("{se}"));
        counts.push(n);
    }
    let total = 1 + counts.iter().sum::<usize>();
    assert_eq!(counts[7], 3, "3000 bytes of UDP in three IPv4 fragments");
    let filter = format!("ether src {}", p.mac_a);
    let mut c = p.in_b(&["tcpdump", "-i", &p.veth_b.clone(), "-U", "-n", "-c", &total.to_string(), "-w"]);
    c.arg(&pcap).arg(&filter).stdout(Stdio::null()).stderr(Stdio::piped());
    let mut log = Lines::new(stderr_of(p.spawn(c)));
    assert!(log.wait_for("listening on", Duration::from_secs(10)), "tcpdump did not start: {}", log.text());
    for (extra, n) in sends.iter().zip(&counts) {
        let a = args(extra, false);
        let out = p.osilab_a(&a.iter().map(String::as_str).collect::<Vec<_>>(), Duration::from_secs(20));
        let se = text(&out.stderr);
        assert!(out.status.success(), "{a:?}: {se}");
        assert!(se.contains(&format!("osilab: sent {n} frame(s)")), "{se}");
        if extra.contains(&"--arp") {
            assert!(se.contains(&format!("osilab: ARP: 192.0.2.2 is at {}", p.mac_b)), "{se}");
        }
        // The JSON on stdout is `osilab send`'s.
        assert!(text(&out.stdout).trim_start().starts_with('{'), "{}", text(&out.stdout));
    }
    assert!(log.wait_for(&format!("{total} packets captured"), Duration::from_secs(10)), "tcpdump: {}", log.text());

    // tshark, checksums validated: nothing malformed, no warning or error, every checksum good.
    let fields = [
        "frame.protocols",
        "_ws.malformed",
        "_ws.expert.severity",
        "vlan.id",
        "ip.checksum.status",
        "udp.checksum.status",
        "tcp.checksum.status",
        "icmp.checksum.status",
        "ip.reassembled.length",
    ];
    let mut t = Command::new("tshark");
    t.args(["-n", "-r"]).arg(&pcap);
    for pref in ["ip.check_checksum:TRUE", "udp.check_checksum:TRUE", "tcp.check_checksum:TRUE"] {
        t.args(["-o", pref]);
    }
    t.args(["-T", "fields", "-E", "separator=|", "-E", "occurrence=a", "-E", "aggregator=,"]);
    for f in fields {
        t.args(["-e", f]);
    }
    let rows = text(&run(&mut t).stdout);
    let rows: Vec<Vec<&str>> = rows.lines().map(|l| l.split('|').collect()).collect();
    assert_eq!(rows.len(), total, "{rows:?}");
    for r in &rows {
        assert_eq!(r.len(), fields.len(), "{r:?}");
        assert!(r[1].is_empty(), "malformed: {r:?}");
        for sev in r[2].split(',').filter(|s| !s.is_empty()) {
            // tshark prints the severity in decimal (PI_WARN is 0x00600000).
            let v = match sev.strip_prefix("0x") {
                Some(h) => u32::from_str_radix(h, 16),
                None => sev.parse(),
            }
            .unwrap_or(u32::MAX);
            assert!(v < 0x0060_0000, "an expert warning or error: {r:?}");
        }
        for status in &r[4..8] {
            assert!(status.split(',').all(|s| s.is_empty() || s == "1"), "a checksum not good: {r:?}");
        }
    }
    let protos: Vec<&str> = rows.iter().map(|r| r[0]).collect();
    for want in ["eth:ethertype:arp", "udp:dns", "tcp:http", "icmp:data", "ipv6:udp", "vlan:ethertype:ip:udp"] {
        assert!(protos.iter().any(|p| p.contains(want)), "no {want} frame: {protos:?}");
    }
    assert!(rows.iter().any(|r| r[3] == "100"), "the tagged frame: {rows:?}");
    assert!(rows.iter().any(|r| r[8] == "3008"), "the fragments reassembled: {rows:?}");
    // And osilab's own dissector reads the capture back without a malformed frame (raw data goes
    // to port 9000: on 3000 it would be read as the chat room's lines).
    let d = osilab_ok(&["dissect", pcap.to_str().unwrap()]);
    assert!(!d.contains("Malformed"), "{d}");
}

#[test]
fn capture_restores_the_vlan_tag_and_dissects_like_tshark() {
    if !ready("capture_restores_the_vlan_tag_and_dissects_like_tshark", &[("tshark", "--version")]) {
        return;
    }
    let mut p = Pair::new();
    let dir = scratch(&format!("live-capture-{}", p.ns_a));
    let pcap = dir.join("a.pcap");
    // (Not frame.number: the capture numbers every frame it read, the pcap holds those shown.)
    let fields = ["eth.src", "vlan.id", "vlan.priority", "ip.src", "udp.dstport", "data.data"];
    let mut c = Pair::cmd(
        &p.ns_a,
        &[OSILAB, "live", "capture", "--iface", &p.veth_a, "-c", "2", "--timeout", "20", "-Y", "udp", "--pcap"],
    );
    c.arg(&pcap);
    for f in fields {
        c.args(["-e", f]);
    }
    c.stdout(Stdio::piped()).stderr(Stdio::piped());
    let cap = p.spawn(c);
    let mut got = Lines::new(cap.stdout.take().expect("stdout"));
    let mut log = Lines::new(stderr_of(cap));
    assert!(log.wait_for("capturing on", Duration::from_secs(10)), "{}", log.text());
    // From B, osilab sends a tagged frame and an untagged one. On the way in, Linux moves the tag
    // into the packet socket's metadata; the capture puts it back.
    let vb = p.veth_b.clone();
    let mac_a = p.mac_a.clone();
    for extra in [
        vec!["--vlan", "100", "--vlan-pcp", "5", "--from", "198.51.100.2:5000", "--to", "198.51.100.1:9999", "tagged"],
        vec!["--from", "192.0.2.2:5000", "--to", "192.0.2.1:9999", "plain"],
    ] {
        let mut a = vec!["live", "send", "--iface", &vb, "--transport", "udp", "--dst-mac", &mac_a];
        a.extend(extra);
        let out = p.osilab_in(&p.ns_b.clone(), &a, Duration::from_secs(20));
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    assert!(got.wait_for("706c61696e", Duration::from_secs(10)), "capture: {}\n{}", got.text(), log.text());
    let cap = p.children.last_mut().expect("capture");
    assert!(wait_bounded(cap, Duration::from_secs(10)).is_some_and(|s| s.success()), "{}", log.text());
    let ours = got.rest(Duration::from_secs(2));
    let b = p.mac_b.clone();
    assert_eq!(ours, format!("{b}\t100\t5\t198.51.100.2\t9999\t746167676564\n{b}\t\t\t192.0.2.2\t9999\t706c61696e"),);
    // tshark reads the same from the pcap osilab wrote.
    let mut t = Command::new("tshark");
    t.args(["-n", "-r"]).arg(&pcap).args(["-T", "fields"]);
    for f in fields {
        t.args(["-e", f]);
    }
    assert_eq!(text(&run(&mut t).stdout).trim_end(), ours);
}

// ---- errors -----------------------------------------------------------------------------------

#[test]
fn an_unknown_interface_is_named_with_the_ones_there_are() {
    // No root needed: the interfaces are listed before any socket is opened.
    let out = Command::new(OSILAB)
        .args(["live", "ping", "--iface", "nosuchif0", "--ip", IP_A, IP_B])
        .output()
        .expect("run osilab");
    assert_eq!(out.status.code(), Some(2));
    let se = text(&out.stderr);
    assert!(se.starts_with("osilab: error: live: no interface \"nosuchif0\" here; the interfaces are: "), "{se}");
    assert!(se.contains("lo"), "{se}");
    assert_eq!(se.lines().count(), 1, "one line: {se}");
}

#[test]
fn a_dry_run_shows_what_send_shows_and_sends_nothing() {
    // `lo` has no MAC address, so the source MAC stays send's default and the output is send's.
    let args = ["--transport", "udp", "--format", "hex", "dry run"];
    let live = Command::new(OSILAB)
        .args(["live", "send", "--iface", "lo", "--dry-run"])
        .args(args)
        .output()
        .expect("run osilab");
    assert!(live.status.success(), "{}", text(&live.stderr));
    let mut plain = vec!["send"];
    plain.extend(args);
    assert_eq!(text(&live.stdout), osilab_ok(&plain));
    assert_eq!(text(&live.stderr), "osilab: dry run: 1 frame(s) not sent on lo\n");
}

#[test]
fn a_down_interface_and_a_missing_cap_net_raw_are_said_plainly() {
    if !ready("a_down_interface_and_a_missing_cap_net_raw_are_said_plainly", &[("setpriv", "--version")]) {
        return;
    }
    let p = Pair::new();
    let va = p.veth_a.clone();
    // Without CAP_NET_RAW (root, but the capability dropped from the bounding set).
    let mut c = Pair::cmd(&p.ns_a, &["setpriv", "--bounding-set", "-net_raw", "--inh-caps", "-net_raw", OSILAB]);
    let out = c.args(["live", "ping", "--iface", &va, "--ip", IP_A, "-c", "1", IP_B]).output().expect("run");
    let se = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{se}");
    assert!(se.contains("missing CAP_NET_RAW") && se.contains("run as root or give the binary cap_net_raw"), "{se}");
    // Down.
    run(Command::new("ip").args(["-n", &p.ns_a, "link", "set", &va, "down"]));
    let out = p.osilab_a(&["live", "capture", "--iface", &va, "--timeout", "1"], Duration::from_secs(10));
    let se = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{se}");
    assert!(se.contains(&format!("interface {va} is down (bring it up: ip link set {va} up)")), "{se}");
}

#[test]
fn the_interface_is_promiscuous_only_when_asked() {
    if !ready("the_interface_is_promiscuous_only_when_asked", &[]) {
        return;
    }
    let mut p = Pair::new();
    for (flag, want) in [(None, "promiscuity 0"), (Some("--promiscuous"), "promiscuity 1")] {
        let mut c = Pair::cmd(&p.ns_a, &[OSILAB, "live", "capture", "--iface", &p.veth_a, "--timeout", "10"]);
        c.args(flag).stdout(Stdio::null()).stderr(Stdio::piped());
        let cap = p.spawn(c);
        let mut log = Lines::new(stderr_of(cap));
        assert!(log.wait_for("capturing on", Duration::from_secs(10)), "{}", log.text());
        let link = text(&run(Command::new("ip").args(["-n", &p.ns_a, "-d", "link", "show", &p.veth_a])).stdout);
        assert!(link.contains(want), "{flag:?}: {link}");
        let cap = p.children.last_mut().expect("capture");
        let _ = cap.kill();
        let _ = cap.wait();
    }
}

#[test]
fn http_get_resolves_a_name_with_dnsmasq_first() {
    if !ready("http_get_resolves_a_name_with_dnsmasq_first", &[("python3", "--version"), ("dnsmasq", "--version")]) {
        return;
    }
    let mut p = Pair::new();
    let dir = scratch(&format!("live-byname-{}", p.ns_a));
    std::fs::write(dir.join("index.html"), "found by name\n").unwrap();
    // www.example.test is an alias of web.example.test, which is B.
    dnsmasq_b(&mut p, &["--cname=www.example.test,web.example.test", "--host-record=web.example.test,192.0.2.2"]);
    http_server_b(&mut p, IP_B, &dir);
    let iface = p.veth_a.clone();
    let out = p.osilab_a(
        &[
            "live",
            "http-get",
            "--iface",
            &iface,
            "--ip",
            IP_A,
            "--dns-server",
            IP_B,
            "--trace",
            "http://www.example.test:8000/index.html",
        ],
        Duration::from_secs(30),
    );
    let se = text(&out.stderr);
    assert!(out.status.success(), "{se}");
    assert_eq!(text(&out.stdout), "found by name\n");
    // The lookup went first, over UDP to port 53; then the GET named the host as the URL did.
    let dns_at = se.find("out  L7  Standard query").unwrap_or_else(|| panic!("no DNS query: {se}"));
    assert!(se.contains("in   L7  Standard query response"), "{se}");
    let syn_at = se.find("→ 8000 [SYN]").unwrap_or_else(|| panic!("no SYN: {se}"));
    assert!(dns_at < syn_at, "{se}");
    assert!(se.contains("resolved www.example.test to 192.0.2.2"), "{se}");
    // Without a DNS server a name is refused, saying what to add.
    let out = p.osilab_a(
        &["live", "http-get", "--iface", &iface, "--ip", IP_A, "http://www.example.test:8000/"],
        Duration::from_secs(10),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("give a DNS server with --dns-server IP"), "{}", text(&out.stderr));
}

#[test]
fn capture_as_wire_finishes_the_checksum_the_kernel_left_to_the_card() {
    if !ready(
        "capture_as_wire_finishes_the_checksum_the_kernel_left_to_the_card",
        &[("tshark", "--version"), ("socat", "-V")],
    ) {
        return;
    }
    let mut p = Pair::new();
    let dir = scratch(&format!("live-aswire-{}", p.ns_a));
    // Two captures at once: as Linux hands the frame over, and as a wire would carry it.
    let mut logs = Vec::new();
    for (name, flag) in [("raw.pcap", None), ("wire.pcap", Some("--as-wire"))] {
        let mut c = Pair::cmd(
            &p.ns_a,
            &[OSILAB, "live", "capture", "--iface", &p.veth_a, "-c", "1", "--timeout", "20", "-Y", "udp", "--pcap"],
        );
        c.arg(dir.join(name)).args(flag).stdout(Stdio::null()).stderr(Stdio::piped());
        let mut log = Lines::new(stderr_of(p.spawn(c)));
        assert!(log.wait_for("capturing on", Duration::from_secs(10)), "{}", log.text());
        logs.push(log);
    }
    // B's kernel sends a datagram to 192.0.2.1 (a static neighbor entry: nobody in A answers ARP).
    run(&mut p.in_b(&["ip", "neigh", "replace", "192.0.2.1", "lladdr", &p.mac_a.clone(), "dev", &p.veth_b.clone()]));
    let mut c = p.in_b(&["socat", "-u", "-", "UDP:192.0.2.1:9999"]);
    c.stdin(Stdio::piped()).stdout(Stdio::null()).stderr(Stdio::null());
    let sender = p.spawn(c);
    let mut input = sender.stdin.take().expect("stdin");
    input.write_all(b"left to the card").unwrap();
    drop(input);
    for log in &mut logs {
        assert!(log.wait_for("1 shown", Duration::from_secs(10)), "{}", log.text());
    }
    let status = |name: &str| {
        let mut t = Command::new("tshark");
        t.args(["-n", "-r"]).arg(dir.join(name)).args(["-o", "udp.check_checksum:TRUE", "-T", "fields"]);
        t.args(["-e", "udp.checksum.status", "-e", "data.data"]);
        text(&run(&mut t).stdout).trim_end().to_string()
    };
    // tshark's status: 0 bad, 1 good. veth hands the frame over with the checksum unfinished.
    assert_eq!(status("raw.pcap"), "0\t6c65667420746f207468652063617264", "as Linux hands it over");
    assert_eq!(status("wire.pcap"), "1\t6c65667420746f207468652063617264", "as a wire would carry it");
}
