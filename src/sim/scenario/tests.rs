//! Scenario loader tests: every shipped scenario loads; every rule gives its exact message.

use super::units::*;
use super::*;
use crate::error::ErrorKind;
use std::path::Path;

/// Two hosts on one switch (15 lines: text appended to it starts on line 16).
const BASE: &str = r#"name = "t"
[[switch]]
name = "sw1"
[[host]]
name = "server"
ipv4 = "192.0.2.10/24"
[[host]]
name = "alice"
ipv4 = "192.0.2.11/24"
[[link]]
a = "server"
b = "sw1"
[[link]]
a = "alice"
b = "sw1"
"#;

fn ok(text: &str) -> Scenario {
    parse(text, "x.toml").unwrap_or_else(|e| panic!("expected to load, got: {e}"))
}

fn err(text: &str) -> String {
    match parse(text, "x.toml") {
        Ok(s) => panic!("expected an error, loaded {s:?}"),
        Err(e) => e.to_string(),
    }
}

/// BASE with `extra` appended.
fn with(extra: &str) -> String {
    format!("{BASE}{extra}")
}

fn warnings(s: &Scenario) -> Vec<String> {
    s.warnings.iter().map(|w| w.to_string()).collect()
}

fn fixtures() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/scenarios")
}

#[test]
fn every_shipped_scenario_loads_without_warnings() {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(fixtures()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let s = load(&path).unwrap_or_else(|e| panic!("{e}"));
            assert!(s.warnings.is_empty(), "{}: {:?}", path.display(), warnings(&s));
            let stem = path.file_stem().unwrap().to_string_lossy().to_string();
            assert_eq!(s.name, stem, "a scenario's name is its file's");
            assert!(!s.description.is_empty());
            names.push(stem);
        }
    }
    names.sort();
    assert_eq!(
        names,
        [
            "bind-twice",
            "chat-room",
            "dns-lookup",
            "http-get",
            "ping-through-router",
            "tcp-harsh-link",
            "tcp-vs-udp-lossy"
        ]
    );
}

#[test]
fn chat_room_is_what_the_issue_asks_for() {
    let s = load(&fixtures().join("chat-room.toml")).unwrap();
    let sw = s.device_id("sw1").unwrap();
    assert_eq!(s.switches().count(), 1);
    assert_eq!(s.nodes().count(), 4);
    assert!(s.links.iter().all(|l| l.b.device == sw));
    let server = s.processes.iter().find(|p| p.program.name() == "chat-server").unwrap();
    assert_eq!(server.program, Program::ChatServer { port: 3000 });
    let mut nicks = Vec::new();
    for p in &s.processes {
        if let Program::ChatClient { server, nick, says, leave_at } = &p.program {
            assert_eq!(server.to_string(), "192.0.2.10:3000");
            assert_eq!(says.len(), 2);
            assert!(says[0].at < says[1].at && leave_at.is_some_and(|l| l > says[1].at));
            assert!(says[0].at > p.start);
            nicks.push(nick.as_str());
        }
    }
    assert_eq!(nicks, ["alice", "bob", "carol"]);
}

#[test]
fn ping_through_router_has_two_subnets_and_the_small_mtu() {
    let s = load(&fixtures().join("ping-through-router.toml")).unwrap();
    let r1 = s.device(s.device_id("r1").unwrap()).unwrap();
    assert!(r1.is_router());
    let n = r1.node().unwrap();
    assert_eq!(n.interfaces.len(), 2);
    assert_eq!(n.interfaces[1].mtu, 576);
    // The link's MTU defaults to the smaller of its ends'.
    assert_eq!((s.links[0].mtu, s.links[1].mtu), (1500, 576));
    assert_eq!(s.links[0].b.label, "r1:eth0");
    assert_eq!(s.links[1].a.label, "r1:eth1");
    let h1 = s.device(s.device_id("h1").unwrap()).unwrap().node().unwrap();
    assert_eq!(h1.gateway, Some("192.0.2.1".parse().unwrap()));
    let pings: Vec<(IpAddr, u8, u32)> = s
        .processes
        .iter()
        .filter_map(|p| match p.program {
            Program::Ping { target, ttl, count, .. } => Some((target, ttl, count)),
            _ => None,
        })
        .collect();
    assert!(pings.contains(&("198.51.100.20".parse().unwrap(), 64, 4)));
    assert!(pings.contains(&("198.51.100.20".parse().unwrap(), 1, 1)));
    assert!(pings.contains(&("198.51.100.99".parse().unwrap(), 64, 1)));
}

#[test]
fn bind_twice_script_is_sorted_and_resolved() {
    let s = load(&fixtures().join("bind-twice.toml")).unwrap();
    let names: Vec<&str> = s.script.iter().map(|st| s.processes[st.process.0].name.as_str()).collect();
    assert_eq!(names, ["a", "a", "a", "b", "b", "a", "b", "b"]);
    let binds = s.script.iter().filter(|st| matches!(st.call, Call::Bind { addr, .. } if addr.port() == 3000));
    assert_eq!(binds.count(), 3);
    assert_eq!(s.script[0].call, Call::Socket { kind: SocketType::Tcp, family: Family::Ipv4 });
}

#[test]
fn tcp_vs_udp_sends_the_same_twenty_messages() {
    let s = load(&fixtures().join("tcp-vs-udp-lossy.toml")).unwrap();
    assert_eq!(s.links.len(), 1);
    assert_eq!(s.links[0].loss, 0.1);
    let payloads: Vec<&Payload> = s
        .processes
        .iter()
        .filter_map(|p| match &p.program {
            Program::TcpSender { payload, .. } | Program::UdpSender { payload, .. } => Some(payload),
            _ => None,
        })
        .collect();
    assert_eq!(payloads.len(), 2);
    assert_eq!(payloads[0], payloads[1]);
    assert!(matches!(payloads[0], Payload::Messages(m) if m.len() == 20));
}

#[test]
fn defaults_are_filled_in() {
    let s = ok(BASE);
    assert_eq!((s.seed, s.until), (DEFAULT_SEED, DEFAULT_UNTIL));
    let l = &s.links[0];
    assert_eq!((l.bandwidth, l.delay, l.mtu, l.queue), (DEFAULT_BANDWIDTH, DEFAULT_DELAY, 1500, DEFAULT_QUEUE));
    assert_eq!((l.loss, l.ber, l.duplicate, l.reorder), (0.0, 0.0, 0.0, 0.0));
    assert_eq!(l.line_code, LineCode::Mlt3);
    // Switch ports are taken in order, and the switch has as many as its links use.
    assert_eq!((s.links[0].b.port, s.links[1].b.port, s.links[1].b.label.as_str()), (0, 1, "sw1:2"));
    let (_, _, sw) = s.switches().next().unwrap();
    assert_eq!((sw.ports, sw.ageing, sw.table_limit), (2, DEFAULT_AGEING, DEFAULT_TABLE_LIMIT));
    // Derived MACs: locally administered, from the device's and interface's positions.
    let macs: Vec<String> = s.nodes().map(|(_, _, n)| n.interfaces[0].mac.to_string()).collect();
    assert_eq!(macs, ["02:00:00:00:02:01", "02:00:00:00:03:01"]);
    assert!(s.nodes().all(|(_, _, n)| n.interfaces[0].mac.is_local() && !n.interfaces[0].mac.is_multicast()));
    assert!(s.warnings.is_empty());
}

#[test]
fn line_code_defaults_follow_the_rate_and_names_parse() {
    assert_eq!(default_line_code(BitRate(10_000_000)), LineCode::Manchester);
    assert_eq!(default_line_code(BitRate(100_000_000)), LineCode::Mlt3);
    assert_eq!(default_line_code(BitRate(1_000_000_000)), LineCode::NrzL);
    let names = ["nrz-l", "nrzi", "manchester", "4b5b-nrzi", "4b5b-mlt3"];
    let codes: Vec<LineCode> = names.iter().map(|n| parse_line_code(n).unwrap()).collect();
    assert_eq!(codes, LineCode::ALL);
    assert_eq!(parse_line_code("mlt3"), Ok(LineCode::Mlt3));
    let e = err(&BASE.replace("b = \"sw1\"\n[[link]]", "b = \"sw1\"\nline_code = \"morse\"\n[[link]]"));
    assert_eq!(
        e,
        "x.toml:13: link[0].line_code: \"morse\" is not a line code: expected nrz-l, nrzi, manchester, 4b5b-nrzi or \
         4b5b-mlt3"
    );
}

#[test]
fn toml_syntax_errors_name_the_line() {
    assert_eq!(err("name = \"t\"\n\n[[host]\n"), "x.toml:3: not valid TOML: unclosed array table, expected `]`");
    assert_eq!(err("name = \"t\"\nname = \"u\"\n"), "x.toml:2: not valid TOML: duplicate key");
}

#[test]
fn unknown_keys_are_refused_with_the_known_ones() {
    assert_eq!(
        err("name = \"t\"\nsed = 3\n"),
        "x.toml:2: unknown key \"sed\" (top-level keys: name, description, seed, until, switch, host, router, link, \
         process, script)\n  hint: did you mean \"seed\"?"
    );
    assert_eq!(
        err("name = \"t\"\n[[host]]\nname = \"a\"\nipv4 = \"192.0.2.1/24\"\ngatway = \"192.0.2.2\"\n"),
        "x.toml:5: host \"a\": unknown key \"gatway\" (a host's keys: name, ipv4, ipv6, mac, mtu, gateway, gateway6, \
         interface, route)\n  hint: did you mean \"gateway\"?"
    );
    assert_eq!(
        err(&with("[[link]]\na = \"sw1\"\nb = \"sw1\"\nlatency = \"1ms\"\n")),
        "x.toml:19: link[2]: unknown key \"latency\" (a link's keys: a, b, bandwidth, delay, mtu, queue, loss, ber, \
         duplicate, reorder, line_code)"
    );
    assert_eq!(
        err(&with("[[process]]\nhost = \"server\"\nprogram = \"chat-client\"\nserver = \"192.0.2.10\"\nnik = \"x\"\n")),
        "x.toml:20: process \"server/chat-client\": unknown key \"nik\" (chat-client's options: server, nick, say, \
         leave_at; every process's keys: host, name, program, start)\n  hint: did you \
         mean \"nick\"?"
    );
    assert_eq!(
        err(&with("[[process]]\nhost = \"server\"\nprogram = \"script\"\nport = 1\n")),
        "x.toml:19: process \"server/script\": unknown key \"port\" (script takes no options; every process's keys: \
         host, name, program, start)"
    );
}

#[test]
fn names_are_checked_and_unique() {
    assert_eq!(
        err(&with("[[host]]\nname = \"sw1\"\nipv4 = \"192.0.2.12/24\"\n")),
        "x.toml:17: host[2].name: \"sw1\" is already the name of the switch on line 2"
    );
    assert_eq!(
        err("name = \"t\"\n[[host]]\nname = \"Web Server\"\nipv4 = \"192.0.2.1/24\"\n"),
        "x.toml:3: host[0].name: \"Web Server\" is not a name: use 1 to 63 of a-z, 0-9 and - (not first or last), \
         like \"sw1\" or \"web-server\""
    );
    assert_eq!(err("seed = 1\n"), "x.toml:1: missing \"name\" (the scenario's name)");
    assert_eq!(
        err("name = \"t\"\n[[host]]\nipv4 = \"192.0.2.1/24\"\n"),
        "x.toml:2: host[0]: missing \"name\" (every host needs a name)"
    );
}

#[test]
fn link_ends_must_name_devices_and_free_ports() {
    // The issue's example.
    let text = "name = \"t\"\n[[host]]\nname = \"server\"\nipv4 = \"192.0.2.10/24\"\n[[host]]\nname = \"alice\"\n\
                ipv4 = \"192.0.2.11/24\"\n[[host]]\nname = \"bob\"\nipv4 = \"192.0.2.12/24\"\n[[switch]]\n\
                name = \"sw1\"\n[[link]]\na = \"server\"\nb = \"sw1\"\n[[link]]\na = \"alice\"\nb = \"sw1\"\n\
                [[link]]\na = \"bob\"\nb = \"sw9\"\n";
    assert_eq!(
        err(text),
        "x.toml:21: link[2].b: unknown device \"sw9\" (devices: server, alice, bob, sw1)\n  hint: did you mean \"sw1\"?"
    );
    assert_eq!(
        err(&with("[[link]]\na = \"serve\"\nb = \"sw1\"\n")),
        "x.toml:17: link[2].a: unknown device \"serve\" (devices: sw1, server, alice)\n  hint: did you mean \"server\"?"
    );
    assert_eq!(
        err(&with("[[link]]\na = \"server:eth1\"\nb = \"sw1\"\n")),
        "x.toml:17: link[2].a: host server has no interface \"eth1\" (its interfaces: eth0)\n  hint: did you mean \
         \"eth0\"?"
    );
    assert_eq!(
        err(&with("[[link]]\na = \"server:eth0\"\nb = \"sw1\"\n")),
        "x.toml:17: link[2].a: server:eth0 is already linked by link[0] (line 10): a port takes one cable"
    );
    assert_eq!(
        err(&with("[[link]]\na = \"server\"\nb = \"sw1\"\n")),
        "x.toml:17: link[2].a: every interface of server is already linked\n  hint: add a [[host.interface]] to server"
    );
    assert_eq!(
        err(&with("[[switch]]\nname = \"sw2\"\n[[link]]\na = \"sw1:2\"\nb = \"sw2\"\n")),
        "x.toml:19: link[2].a: sw1:2 is already linked by link[1] (line 13): a port takes one cable"
    );
    assert_eq!(
        err(&with("[[switch]]\nname = \"sw2\"\n[[link]]\na = \"sw2:1\"\nb = \"sw2:1\"\n")),
        "x.toml:20: link[2].b: sw2:1 is already linked by this link's other end: a port takes one cable"
    );
    assert_eq!(
        err(&with("[[switch]]\nname = \"sw2\"\n[[link]]\na = \"sw2:0\"\nb = \"sw1\"\n")),
        "x.toml:19: link[2].a: \"0\" is not a port of switch sw2 (ports are numbered from 1, like \"sw2:1\")"
    );
    let full = "name = \"t\"\n[[switch]]\nname = \"sw1\"\nports = 1\n[[switch]]\nname = \"sw2\"\n[[link]]\n\
                a = \"sw1\"\nb = \"sw2\"\n[[link]]\na = \"sw1\"\nb = \"sw2\"\n";
    assert_eq!(err(full), "x.toml:11: link[1].a: every port of switch sw1 (1 to 1) is already linked");
    let too_high = "name = \"t\"\n[[switch]]\nname = \"sw1\"\nports = 1\n[[switch]]\nname = \"sw2\"\n[[link]]\n\
                    a = \"sw1:2\"\nb = \"sw2\"\n";
    assert_eq!(err(too_high), "x.toml:8: link[0].a: switch sw1 has ports 1 to 1, not 2");
}

#[test]
fn unlinked_interfaces_and_switches_are_warnings() {
    let s = ok(&with("[[host]]\nname = \"bob\"\nipv4 = \"192.0.2.12/24\"\n[[switch]]\nname = \"sw2\"\n"));
    assert_eq!(
        warnings(&s),
        [
            "x.toml:16: host \"bob\": interface eth0 is not linked to anything",
            "x.toml:19: switch \"sw2\": no link reaches this switch"
        ]
    );
}

#[test]
fn addresses_are_checked() {
    // The issue's example.
    assert_eq!(
        err("name = \"t\"\n[[host]]\nname = \"alice\"\nipv4 = \"192.0.2.300/24\"\n"),
        "x.toml:4: host \"alice\".ipv4: \"192.0.2.300/24\" is not an IPv4 address with a prefix (like 192.0.2.10/24)"
    );
    assert_eq!(
        err("name = \"t\"\n[[host]]\nname = \"a\"\nipv4 = \"192.0.2.1\"\n"),
        "x.toml:4: host \"a\".ipv4: \"192.0.2.1\" is not an IPv4 address with a prefix (like 192.0.2.10/24)"
    );
    assert_eq!(
        err("name = \"t\"\n[[host]]\nname = \"a\"\nipv4 = \"2001:db8::1/64\"\n"),
        "x.toml:4: host \"a\".ipv4: \"2001:db8::1/64\" is not an IPv4 address: put it in ipv6"
    );
    assert_eq!(
        err("name = \"t\"\n[[host]]\nname = \"a\"\nipv4 = \"192.0.2.255/24\"\n"),
        "x.toml:4: host \"a\".ipv4: 192.0.2.255/24 is the broadcast address of 192.0.2.0/24 (RFC 919): pick a host \
         address"
    );
    assert_eq!(
        err("name = \"t\"\n[[host]]\nname = \"a\"\nipv4 = \"192.0.2.0/24\"\n"),
        "x.toml:4: host \"a\".ipv4: 192.0.2.0/24 is the network address of 192.0.2.0/24 (RFC 950): pick a host address"
    );
    assert_eq!(
        err("name = \"t\"\n[[host]]\nname = \"a\"\nipv4 = \"192.0.2.1/33\"\n"),
        "x.toml:4: host \"a\".ipv4: \"192.0.2.1/33\" is not an IPv4 address with a prefix (like 192.0.2.10/24)"
    );
    assert_eq!(
        err(&with("[[host]]\nname = \"bob\"\nipv4 = \"192.0.2.10/24\"\n")),
        "x.toml:18: host \"bob\".ipv4: 192.0.2.10 is already the address of server:eth0 (line 6)"
    );
    assert_eq!(
        err("name = \"t\"\n[[host]]\nname = \"a\"\n"),
        "x.toml:2: host \"a\": has no address: a host needs ipv4 (and/or ipv6) or [[host.interface]] tables\n  hint: \
         like ipv4 = \"192.0.2.10/24\""
    );
    // Any address loads, but one outside the documentation ranges is a warning.
    let s = ok("name = \"t\"\n[[host]]\nname = \"a\"\nipv4 = \"10.0.0.1/8\"\nipv6 = \"2001:db8::1/64\"\n");
    assert_eq!(
        warnings(&s),
        [
            "x.toml:4: host \"a\".ipv4: 10.0.0.1 is outside the documentation ranges 192.0.2.0/24, 198.51.100.0/24, \
             203.0.113.0/24 (RFC 5737): pcaps of this run may be shared",
            "x.toml:2: host \"a\": interface eth0 is not linked to anything"
        ]
    );
}

#[test]
fn gateways_and_routes_must_be_reachable() {
    let host = "name = \"t\"\n[[host]]\nname = \"a\"\nipv4 = \"192.0.2.10/24\"\n";
    assert_eq!(
        err(&format!("{host}gateway = \"198.51.100.1\"\n")),
        "x.toml:5: host \"a\".gateway: 198.51.100.1 is not in any subnet of this host's interfaces (192.0.2.0/24): it \
         could not be reached"
    );
    assert_eq!(
        err(&format!("{host}gateway = \"192.0.2.10\"\n")),
        "x.toml:5: host \"a\".gateway: 192.0.2.10 is this host's own address, not a next hop"
    );
    assert_eq!(
        err(&format!("{host}gateway = \"2001:db8::1\"\n")),
        "x.toml:5: host \"a\".gateway: 2001:db8::1 is IPv6: gateway is IPv4's, use gateway6"
    );
    assert_eq!(
        err(&format!("{host}gateway = \"192.0.2\"\n")),
        "x.toml:5: host \"a\".gateway: \"192.0.2\" is not an IP address (like 192.0.2.10 or 2001:db8::10)"
    );
    let s = ok(&format!(
        "{host}[[host.route]]\nto = \"198.51.100.7/24\"\nvia = \"192.0.2.1\"\n[[link]]\na = \"a\"\nb = \"a\"\n"
    )
    .replace("[[link]]\na = \"a\"\nb = \"a\"\n", ""));
    let (_, _, n) = s.nodes().next().unwrap();
    assert_eq!(n.routes, [Route { to: "198.51.100.0/24".parse().unwrap(), via: "192.0.2.1".parse().unwrap() }]);
    assert_eq!(
        warnings(&s)[0],
        "x.toml:6: host \"a\".route[0].to: 198.51.100.7/24 has host bits set: the route is for 198.51.100.0/24"
    );
    assert_eq!(
        err(&format!("{host}[[host.route]]\nto = \"2001:db8:1::/48\"\nvia = \"192.0.2.1\"\n")),
        "x.toml:7: host \"a\".route[0].via: 192.0.2.1 is IPv4 but the route is for IPv6 (2001:db8:1::/48)"
    );
}

#[test]
fn short_form_and_interfaces_do_not_mix() {
    let text =
        "name = \"t\"\n[[router]]\nname = \"r1\"\nipv4 = \"192.0.2.1/24\"\n[[router.interface]]\nname = \"eth0\"\n\
                ipv4 = \"192.0.2.2/24\"\n";
    assert_eq!(
        err(text),
        "x.toml:4: router \"r1\".ipv4: ipv4 on the router itself (the one-interface short form) cannot be mixed with \
         [[router.interface]]\n  hint: move it into one of the [[router.interface]] tables"
    );
    let dup =
        "name = \"t\"\n[[router]]\nname = \"r1\"\n[[router.interface]]\nname = \"eth0\"\nipv4 = \"192.0.2.1/24\"\n\
               [[router.interface]]\nname = \"eth0\"\nipv4 = \"198.51.100.1/24\"\n";
    assert_eq!(err(dup), "x.toml:8: router \"r1\".interface[1].name: r1 already has an interface \"eth0\"");
}

#[test]
fn macs_are_individual_and_unique() {
    assert_eq!(
        err("name = \"t\"\n[[host]]\nname = \"a\"\nipv4 = \"192.0.2.1/24\"\nmac = \"01:00:5e:00:00:01\"\n"),
        "x.toml:5: host \"a\".mac: 01:00:5e:00:00:01 is a group (multicast) address: an interface needs an individual \
         one (first octet even, IEEE 802 §8.2)"
    );
    assert_eq!(
        err("name = \"t\"\n[[host]]\nname = \"a\"\nipv4 = \"192.0.2.1/24\"\nmac = \"02:00:00:00:00\"\n"),
        "x.toml:5: host \"a\".mac: bad MAC address \"02:00:00:00:00\": expected six hex octets like 02:00:00:00:00:01"
    );
    let clash = "name = \"t\"\n[[host]]\nname = \"a\"\nipv4 = \"192.0.2.1/24\"\n[[host]]\nname = \"b\"\n\
                 ipv4 = \"192.0.2.2/24\"\nmac = \"02:00:00:00:01:01\"\n";
    assert_eq!(err(clash), "x.toml:8: host \"b\".mac: 02:00:00:00:01:01 is already the MAC address of a:eth0");
    let derived = "name = \"t\"\n[[host]]\nname = \"a\"\nipv4 = \"192.0.2.1/24\"\nmac = \"02:00:00:00:02:01\"\n\
                   [[host]]\nname = \"b\"\nipv4 = \"192.0.2.2/24\"\n";
    assert_eq!(
        err(derived),
        "x.toml:6: host \"b\": the derived MAC 02:00:00:00:02:01 of b:eth0 is already a:eth0's\n  hint: give one of \
         them another mac"
    );
    let long = "name = \"t\"\n[[router]]\nname = \"r\"\n[[router.interface]]\nname = \"e0\"\nipv4 = \"192.0.2.1/24\"\n\
                [[router.interface]]\nname = \"e1\"\nipv4 = \"198.51.100.1/24\"\nmac = \"02:00:00:00:01:01\"\n";
    assert_eq!(
        err(long),
        "x.toml:10: router \"r\".interface \"e1\".mac: 02:00:00:00:01:01 is already the MAC address of r:e0"
    );
}

#[test]
fn link_numbers_are_checked() {
    let link = |k: &str, v: &str| err(&BASE.replace("a = \"alice\"\n", &format!("a = \"alice\"\n{k} = {v}\n")));
    assert_eq!(
        link("loss", "1.5"),
        "x.toml:15: link[1].loss: 1.5 is not a probability: expected a number from 0 to 1 (0.1 = 10 %), or a string \
         like \"10%\""
    );
    assert_eq!(
        link("ber", "-1e-6"),
        "x.toml:15: link[1].ber: -0.000001 is not a probability: expected a number from 0 to 1 (0.1 = 10 %), or a \
         string like \"10%\""
    );
    assert_eq!(
        link("duplicate", "\"150%\""),
        "x.toml:15: link[1].duplicate: \"150%\" is not a percentage from 0% to 100%"
    );
    assert_eq!(link("reorder", "true"), "x.toml:15: link[1].reorder: expected a number, found a boolean");
    assert_eq!(link("bandwidth", "0"), "x.toml:15: link[1].bandwidth: zero: a link needs a bandwidth above 0 bit/s");
    assert_eq!(
        link("bandwidth", "\"0Mbit/s\""),
        "x.toml:15: link[1].bandwidth: \"0Mbit/s\" is zero: a link needs a bandwidth above 0 bit/s"
    );
    assert_eq!(
        link("bandwidth", "\"100MB/s\""),
        "x.toml:15: link[1].bandwidth: \"100MB/s\" looks like bytes per second: rates are in bits per second (like \
         \"100Mbit/s\", \"10Mbps\", \"1Gbit/s\", \"56kbit/s\"; 1 MB/s = 8 Mbit/s)"
    );
    assert_eq!(
        link("delay", "5"),
        "x.toml:15: link[1].delay: a duration needs a unit: write it as a string like \"250ms\", \"1.5s\", \"2us\", \
         \"10ns\", \"1m\""
    );
    assert_eq!(
        link("delay", "\"-1ms\""),
        "x.toml:15: link[1].delay: \"-1ms\" is negative: a duration counts forward from the start of the run"
    );
    assert_eq!(link("mtu", "60"), "x.toml:15: link[1].mtu: mtu 60 is below IPv4's minimum of 68 (RFC 791)");
    assert_eq!(
        link("mtu", "9000"),
        "x.toml:15: link[1].mtu: mtu 9000 is above 1500, the most an Ethernet II frame carries"
    );
    assert_eq!(link("queue", "0"), "x.toml:15: link[1].queue: queue 0 is out of range (1 to 1048576)");
    let s =
        ok(&BASE.replace("a = \"alice\"\n", "a = \"alice\"\nloss = \"10%\"\nber = 1e-6\nbandwidth = \"1.5Mbit/s\"\n"));
    assert_eq!((s.links[1].loss, s.links[1].ber, s.links[1].bandwidth), (0.1, 1e-6, BitRate(1_500_000)));
    assert_eq!(s.links[1].line_code, LineCode::Manchester);
}

#[test]
fn mtus_fit_the_family_and_the_ends() {
    assert_eq!(
        err("name = \"t\"\n[[host]]\nname = \"a\"\nipv6 = \"2001:db8::1/64\"\nmtu = 1000\n"),
        "x.toml:5: host \"a\".mtu: mtu 1000 is below IPv6's minimum of 1280 (RFC 8200 §5), and IPv6 is in use here"
    );
    let small = BASE.replace("ipv4 = \"192.0.2.11/24\"\n", "ipv4 = \"192.0.2.11/24\"\nmtu = 576\n");
    assert_eq!(ok(&small).links[1].mtu, 576);
    assert_eq!(
        err(&small.replace("a = \"alice\"\n", "a = \"alice\"\nmtu = 1500\n")),
        "x.toml:16: link[1].mtu: mtu 1500 is larger than alice:eth0's own mtu 576: frames that size could not leave it"
    );
}

#[test]
fn processes_are_checked() {
    let p = |body: &str| err(&with(&format!("[[process]]\n{body}")));
    assert_eq!(
        p("host = \"bob\"\nprogram = \"ping\"\n"),
        "x.toml:17: process[0].host: unknown host \"bob\" (hosts and routers: server, alice)"
    );
    assert_eq!(
        p("host = \"sw1\"\nprogram = \"ping\"\n"),
        "x.toml:17: process[0].host: sw1 is a switch: processes run on hosts and routers"
    );
    assert_eq!(
        p("host = \"server\"\nprogram = \"chatserver\"\n"),
        "x.toml:18: process[0].program: unknown program \"chatserver\" (programs: chat-server, chat-client, \
         http-server, http-get, dns-server, dns-query, ping, udp-echo, tcp-sink, udp-sink, tcp-sender, udp-sender, \
         script)\n  hint: did you mean \"chat-server\"?"
    );
    assert_eq!(
        p("host = \"alice\"\nprogram = \"chat-client\"\n"),
        "x.toml:16: process \"alice/chat-client\": missing \"server\" (the chat server's address, like \
         \"192.0.2.10:3000\")"
    );
    assert_eq!(
        p("host = \"server\"\nprogram = \"chat-server\"\nport = 70000\n"),
        "x.toml:19: process \"server/chat-server\".port: port 70000 is out of range (1 to 65535)"
    );
    assert_eq!(
        p("host = \"server\"\nprogram = \"udp-echo\"\nport = 0\n"),
        "x.toml:19: process \"server/udp-echo\".port: port 0 is out of range (1 to 65535)"
    );
    assert_eq!(
        p("host = \"alice\"\nprogram = \"chat-client\"\nserver = \"chat.example.com:3000\"\n"),
        "x.toml:19: process \"alice/chat-client\".server: \"chat.example.com:3000\" is not an IP address and port \
         (like 192.0.2.10 or 192.0.2.10:3000; [2001:db8::10]:3000 for IPv6)"
    );
    assert_eq!(
        p("host = \"alice\"\nprogram = \"tcp-sender\"\nto = \"192.0.2.10\"\nbytes = 10\n"),
        "x.toml:19: process \"alice/tcp-sender\".to: \"192.0.2.10\" has no port (like 192.0.2.10:9000)"
    );
    assert_eq!(
        p("host = \"alice\"\nprogram = \"udp-sender\"\nto = \"192.0.2.10:99999\"\nbytes = 10\n"),
        "x.toml:19: process \"alice/udp-sender\".to: \"192.0.2.10:99999\": port 99999 is out of range (ports are 1 to \
         65535)"
    );
    assert_eq!(
        p("host = \"alice\"\nprogram = \"tcp-sender\"\nto = \"192.0.2.10:9\"\n"),
        "x.toml:16: process \"alice/tcp-sender\": tcp-sender needs what to send\n  hint: add messages = [\"one\", \
         \"two\"] or bytes = 1048576"
    );
    assert_eq!(
        p("host = \"alice\"\nprogram = \"tcp-sender\"\nto = \"192.0.2.10:9\"\nmessages = [\"a\"]\nbytes = 5\n"),
        "x.toml:21: process \"alice/tcp-sender\".bytes: give messages or bytes, not both"
    );
    assert_eq!(
        p("host = \"alice\"\nprogram = \"ping\"\ntarget = \"192.0.2.10:7\"\n"),
        "x.toml:19: process \"alice/ping\".target: \"192.0.2.10:7\" has a port: ping's target is an address alone \
         (ICMP has no ports)"
    );
    assert_eq!(
        p("host = \"alice\"\nprogram = \"ping\"\ntarget = \"192.0.2.10\"\nttl = 0\n"),
        "x.toml:20: process \"alice/ping\".ttl: ttl 0 is out of range (1 to 255)"
    );
    assert_eq!(
        p("host = \"alice\"\nprogram = \"ping\"\ntarget = \"192.0.2.10\"\nstart = \"soon\"\n"),
        "x.toml:20: process \"alice/ping\".start: \"soon\" is not a duration (like \"250ms\", \"1.5s\", \"2us\", \
         \"10ns\", \"1m\")"
    );
    assert_eq!(
        p("host = \"alice\"\nname = \"my ping\"\nprogram = \"ping\"\ntarget = \"192.0.2.10\"\n"),
        "x.toml:18: process[0].name: \"my ping\" is not a process name: use 1 to 32 printable characters without \
         spaces or \"/\""
    );
}

#[test]
fn process_defaults_and_targets() {
    let s = ok(&with(
        "[[process]]\nhost = \"alice\"\nprogram = \"chat-client\"\nserver = \"192.0.2.10\"\n\
         [[process]]\nhost = \"alice\"\nprogram = \"ping\"\ntarget = \"198.51.100.99\"\n\
         [[process]]\nhost = \"alice\"\nprogram = \"udp-sender\"\nto = \"192.0.2.99:9\"\nbytes = 1000\n",
    ));
    assert_eq!(
        s.processes[0].program,
        Program::ChatClient {
            server: "192.0.2.10:3000".parse().unwrap(),
            nick: "alice".into(),
            says: vec![],
            leave_at: None
        }
    );
    assert_eq!(
        s.processes[1].program,
        Program::Ping {
            target: "198.51.100.99".parse().unwrap(),
            count: 4,
            interval: Duration::from_secs(1),
            size: 56,
            ttl: 64
        }
    );
    assert_eq!(s.processes[1].name, "ping");
    // A ping may aim at nobody on purpose; other programs get a warning.
    assert_eq!(
        warnings(&s),
        ["x.toml:27: process \"alice/udp-sender\".to: no interface in this scenario has the address 192.0.2.99: \
          nothing \
          will answer"]
    );
    assert_eq!(s.processes_on(s.device_id("alice").unwrap()).count(), 3);
}

#[test]
fn chat_clients_say_things_in_order() {
    let client = |extra: &str| {
        with(&format!(
            "[[process]]\nhost = \"alice\"\nprogram = \"chat-client\"\nserver = \"192.0.2.10\"\nstart = \"1s\"\n{extra}"
        ))
    };
    let s = ok(&client(
        "[[process.say]]\nat = \"3s\"\ntext = \"second\"\n[[process.say]]\nat = \"2s\"\ntext = \"first\"\n",
    ));
    let Program::ChatClient { says, .. } = &s.processes[0].program else { panic!() };
    assert_eq!(says.iter().map(|s| s.text.as_str()).collect::<Vec<_>>(), ["first", "second"]);
    assert_eq!(
        err(&client("say = [{ at = \"500ms\", text = \"hi\" }]\n")),
        "x.toml:21: process \"alice/chat-client\".say[0].at: 500ms is before the process starts (1s)"
    );
    assert_eq!(
        err(&client("say = [{ at = \"3s\", text = \"hi\" }]\nleave_at = \"2s\"\n")),
        "x.toml:22: process \"alice/chat-client\".leave_at: 2s is before the say at 3s (line 21)"
    );
    assert_eq!(
        err(&client("nick = \"a b\"\n")),
        "x.toml:21: process \"alice/chat-client\".nick: bad nick: expected one word: no space or other whitespace, \
         found U+0020 inside \"a b\""
    );
    let long = "x".repeat(1001);
    let e = err(&client(&format!("say = [{{ at = \"3s\", text = \"{long}\" }}]\n")));
    assert!(e.starts_with("x.toml:21: process \"alice/chat-client\".say[0].text: bad "), "{e}");
    assert!(e.contains("1000"), "{e}");
}

#[test]
fn http_and_dns_programs() {
    let base = fixtures();
    let text = with(
        "[[process]]\nhost = \"server\"\nprogram = \"http-server\"\n[process.files]\n\"/\" = \"home\"\n\
         \"/readme\" = { file = \"README.md\" }\n",
    );
    let s = parse_with_base(&text, "x.toml", &base).unwrap();
    let Program::HttpServer { port, files } = &s.processes[0].program else { panic!() };
    assert_eq!(*port, 80);
    assert_eq!(files["/"], b"home");
    assert_eq!(files["/readme"], std::fs::read(base.join("README.md")).unwrap());
    let missing = text.replace("README.md", "nope.html");
    let e = parse_with_base(&missing, "x.toml", &base).unwrap_err().to_string();
    assert!(e.starts_with("x.toml:21: process \"server/http-server\".files[\"/readme\"].file: cannot read "), "{e}");
    assert_eq!(
        err(&text.replace("\"/\" = ", "\"index.html\" = ")),
        "x.toml:20: process \"server/http-server\".files[\"index.html\"]: \"index.html\" is not a URL path: it starts \
         with \"/\" and has no spaces\n  hint: like \"/index.html\""
    );

    // alice gets an IPv6 address too (line 10), so the process starts on line 17.
    let get = |url: &str, extra: &str| {
        with(&format!("[[process]]\nhost = \"alice\"\nprogram = \"http-get\"\nurl = \"{url}\"\n{extra}"))
            .replace("ipv4 = \"192.0.2.11/24\"\n", "ipv4 = \"192.0.2.11/24\"\nipv6 = \"2001:db8::11/64\"\n")
    };
    let s = ok(&get("http://[2001:db8::80]:8080/a?b=c", ""));
    assert_eq!(
        s.processes[0].program,
        Program::HttpGet {
            url: HttpUrl { host: UrlHost::Ip("2001:db8::80".parse().unwrap()), port: 8080, path: "/a?b=c".into() },
            resolver: None
        }
    );
    let s = ok(&get("http://www.example.com", "resolver = \"192.0.2.10\"\n"));
    let Program::HttpGet { url, resolver } = &s.processes[0].program else { panic!() };
    assert_eq!((&url.host, url.port, url.path.as_str()), (&UrlHost::Name("www.example.com".into()), 80, "/"));
    assert_eq!(*resolver, Some("192.0.2.10".parse().unwrap()));
    assert_eq!(
        err(&get("http://www.example.com/", "")),
        "x.toml:20: process \"alice/http-get\".url: the URL names the host \"www.example.com\", so it needs a \
         resolver\n  hint: add resolver = the DNS server's address, like \"192.0.2.53\""
    );
    assert_eq!(
        err(&get("https://192.0.2.10/", "")),
        "x.toml:20: process \"alice/http-get\".url: \"https://192.0.2.10/\": https needs TLS, which http-get does not \
         speak; use http://"
    );

    let dns = |rec: &str| {
        with(&format!("[[process]]\nhost = \"server\"\nprogram = \"dns-server\"\n[[process.record]]\n{rec}"))
    };
    let s = ok(&dns("name = \"www.example.com.\"\ntype = \"aaaa\"\nvalue = \"2001:db8::80\"\n"));
    let Program::DnsServer { port, records } = &s.processes[0].program else { panic!() };
    assert_eq!(*port, 53);
    assert_eq!(
        records[..],
        [DnsRecord {
            name: "www.example.com".into(),
            data: RecordData::Aaaa("2001:db8::80".parse().unwrap()),
            ttl: 300
        }]
    );
    assert_eq!(records[0].data.rr_type(), RrType::Aaaa);
    assert_eq!(
        err(&dns("name = \"www.example.com\"\ntype = \"A\"\nvalue = \"2001:db8::80\"\n")),
        "x.toml:22: process \"server/dns-server\".record[0].value: \"2001:db8::80\" is not an IPv4 address, which an A \
         record holds (RFC 1035 §3.4.1)"
    );
    assert_eq!(
        err(&dns("name = \"www.example.com\"\ntype = \"MX\"\nvalue = \"mail.example.com\"\n")),
        "x.toml:21: process \"server/dns-server\".record[0].type: \"MX\": a dns-server serves A, AAAA and CNAME records"
    );
    assert_eq!(
        err(&dns("name = \"www..example.com\"\ntype = \"A\"\nvalue = \"192.0.2.80\"\n")),
        "x.toml:20: process \"server/dns-server\".record[0].name: \"www..example.com\" is not a DNS name: an empty \
         label at character 5 (\"..\" or a leading '.')"
    );
    let q = ok(&with(
        "[[process]]\nhost = \"alice\"\nprogram = \"dns-query\"\nserver = \"192.0.2.10\"\n\
         query = \"www.example.com\"\n",
    ));
    assert_eq!(
        q.processes[0].program,
        Program::DnsQuery {
            server: "192.0.2.10:53".parse().unwrap(),
            query: "www.example.com".into(),
            qtype: RrType::A
        }
    );
}

/// BASE with two script processes on server ("a" from 0 s, "b" from 1 s) and a chat server.
fn scripted(lines: &str) -> String {
    with(&format!(
        "[[process]]\nhost = \"server\"\nname = \"a\"\nprogram = \"script\"\n\
         [[process]]\nhost = \"server\"\nname = \"b\"\nprogram = \"script\"\nstart = \"1s\"\n\
         [[process]]\nhost = \"server\"\nprogram = \"chat-server\"\n{lines}"
    ))
}

#[test]
fn script_lines_are_checked_and_sorted() {
    let s = ok(&scripted(
        "[[script]]\nat = \"2s\"\nprocess = \"server/b\"\ncall = \"close\"\n\
         [[script]]\nat = \"1s\"\nprocess = \"server/a\"\ncall = \"socket\"\ntype = \"udp\"\nfamily = \"ipv6\"\n\
         [[script]]\nat = \"1s\"\nprocess = \"server/a\"\ncall = \"sendto\"\ntext = \"hi\"\n\
         to = \"[2001:db8::1]:7\"\nfd = 3\n",
    ));
    let calls: Vec<(&str, Duration, usize)> = s.script.iter().map(|st| (st.call.name(), st.at, st.process.0)).collect();
    assert_eq!(
        calls,
        [
            ("socket", Duration::from_secs(1), 0),
            ("sendto", Duration::from_secs(1), 0),
            ("close", Duration::from_secs(2), 1)
        ]
    );
    assert_eq!(s.script[0].call, Call::Socket { kind: SocketType::Udp, family: Family::Ipv6 });
    assert_eq!(
        s.script[1].call,
        Call::SendTo { fd: Some(3), to: "[2001:db8::1]:7".parse().unwrap(), data: b"hi".to_vec() }
    );

    let line = |body: &str| err(&scripted(&format!("[[script]]\n{body}")));
    assert_eq!(
        line("at = \"0s\"\nprocess = \"server/c\"\ncall = \"close\"\n"),
        "x.toml:30: script[0].process: no process \"server/c\" (script processes: server/a, server/b)\n  hint: did you \
         mean \"server/a\"?"
    );
    assert_eq!(
        line("at = \"0s\"\nprocess = \"server/chat-server\"\ncall = \"close\"\n"),
        "x.toml:30: script[0].process: server/chat-server runs chat-server, not script: only script processes follow \
         [[script]] lines"
    );
    assert_eq!(
        line("at = \"0.5s\"\nprocess = \"server/b\"\ncall = \"close\"\n"),
        "x.toml:29: script[0] (server/b close).at: 500ms is before server/b starts (1s)"
    );
    assert_eq!(
        line("at = \"1s\"\nprocess = \"server/b\"\ncall = \"shutdown\"\n"),
        "x.toml:31: script[0].call: unknown call \"shutdown\" (calls: socket, bind, listen, accept, connect, send, \
         recv, sendto, recvfrom, close)"
    );
    assert_eq!(
        line("at = \"1s\"\nprocess = \"server/b\"\ncall = \"listen\"\naddr = \"0.0.0.0:1\"\n"),
        "x.toml:32: script[0] (server/b listen): unknown key \"addr\" (listen's options: fd, backlog; every line's keys: \
         at, process, call)"
    );
    assert_eq!(
        line("at = \"1s\"\nprocess = \"server/b\"\ncall = \"connect\"\n"),
        "x.toml:28: script[0] (server/b connect): missing \"to\" (the peer, like \"192.0.2.10:3000\")"
    );
    assert_eq!(
        line("at = \"1s\"\nprocess = \"server/b\"\ncall = \"send\"\ntext = \"x\"\nfd = 1\n"),
        "x.toml:33: script[0] (server/b send).fd: fd 1 is stdout: sockets get descriptors from 3 up"
    );
    assert_eq!(
        line("at = \"1s\"\nprocess = \"server/b\"\ncall = \"socket\"\ntype = \"sctp\"\n"),
        "x.toml:32: script[0] (server/b socket).type: \"sctp\" is not a socket type (tcp or udp)"
    );
    assert_eq!(
        line("at = \"1s\"\nprocess = \"server/b\"\ncall = \"bind\"\naddr = \"3000\"\n"),
        "x.toml:32: script[0] (server/b bind).addr: \"3000\" is not a local address and port (like 0.0.0.0:3000, \
         [::]:3000, 192.0.2.10:0 or :3000)"
    );
    let s = ok(&scripted("[[script]]\nat = \"1s\"\nprocess = \"server/b\"\ncall = \"bind\"\naddr = \":0\"\n"));
    assert_eq!(s.script[0].call, Call::Bind { fd: None, addr: "0.0.0.0:0".parse().unwrap() });
    let twins = with(
        "[[process]]\nhost = \"server\"\nname = \"a\"\nprogram = \"script\"\n[[process]]\nhost = \"server\"\n\
         name = \"a\"\nprogram = \"script\"\n[[script]]\nat = \"0s\"\nprocess = \"server/a\"\ncall = \"close\"\n",
    );
    assert_eq!(
        err(&twins),
        "x.toml:26: script[0].process: 2 processes are called \"server/a\": give them different names"
    );
}

#[test]
fn things_after_the_end_are_warnings() {
    let s = ok(&scripted("[[script]]\nat = \"20s\"\nprocess = \"server/a\"\ncall = \"close\"\n"));
    assert_eq!(warnings(&s), ["x.toml:28: script: a close at 20s comes after the run ends (10s); give a longer until"]);
}

#[test]
fn errors_become_config_errors_and_missing_files_say_so() {
    let e = parse("name = 5\n", "x.toml").unwrap_err();
    assert_eq!(e.diagnostic().line, Some(1));
    assert_eq!(e.diagnostic().field, "name");
    let crate_err: crate::Error = e.into();
    assert_eq!(crate_err.kind, ErrorKind::Config("x.toml:1: name: expected a string, found an integer".into()));
    assert_eq!(crate_err.layer, None);
    let missing = load(Path::new("no/such/scenario.toml")).unwrap_err().to_string();
    assert!(missing.starts_with("no/such/scenario.toml: cannot read the scenario: "), "{missing}");
}

#[test]
fn durations_parse_exactly() {
    let d = |s: &str| parse_duration(s);
    assert_eq!(d("250ms"), Ok(Duration::from_millis(250)));
    assert_eq!(d("1.5s"), Ok(Duration::from_millis(1500)));
    assert_eq!(d("1.1s"), Ok(Duration::from_nanos(1_100_000_000)));
    assert_eq!(d("2us"), Ok(Duration::from_micros(2)));
    assert_eq!(d("2µs"), Ok(Duration::from_micros(2)));
    assert_eq!(d("10ns"), Ok(Duration::from_nanos(10)));
    assert_eq!(d("1m"), Ok(Duration::from_secs(60)));
    assert_eq!(d("1 h"), Ok(Duration::from_secs(3600)));
    assert_eq!(d("0"), Ok(Duration::ZERO));
    assert_eq!(d(".5ms"), Ok(Duration::from_micros(500)));
    assert_eq!(d("0.5ns"), Err("\"0.5ns\" is finer than the simulation's 1 ns resolution".into()));
    assert_eq!(d("5"), Err("\"5\" has no unit (like \"250ms\", \"1.5s\", \"2us\", \"10ns\", \"1m\")".into()));
    assert!(d("1.2.3s").is_err() && d("s").is_err() && d("1sec").is_err() && d("").is_err() && d(".s").is_err());
    assert!(d("99999999999999999999h").unwrap_err().contains("too long"));
    for s in ["250ms", "1.5s", "2us", "10ns", "1m", "1h", "90s", "1.000000001s", "0ns"] {
        assert_eq!(parse_duration(&format_duration(d(s).unwrap())), d(s), "{s}");
    }
    assert_eq!(format_duration(Duration::from_millis(1500)), "1.5s");
}

#[test]
fn rates_parse_in_bits_per_second() {
    let r = |s: &str| parse_rate(s).map(|b| b.bps());
    assert_eq!(r("100Mbit/s"), Ok(100_000_000));
    assert_eq!(r("10Mbps"), Ok(10_000_000));
    assert_eq!(r("1Gbit/s"), Ok(1_000_000_000));
    assert_eq!(r("56kbit/s"), Ok(56_000));
    assert_eq!(r("10M"), Ok(10_000_000));
    assert_eq!(r("2.5G"), Ok(2_500_000_000));
    assert_eq!(r("9600"), Ok(9600));
    assert_eq!(r("9600 bit/s"), Ok(9600));
    assert!(r("1.5bit/s").unwrap_err().contains("not a whole number"));
    assert!(r("fast").is_err() && r("10 Mfoo").is_err() && r("10x").is_err());
}

#[test]
fn cidr_arithmetic() {
    let c: Cidr = "192.0.2.10/24".parse().unwrap();
    assert_eq!(c.network(), "192.0.2.0".parse::<IpAddr>().unwrap());
    assert_eq!(c.broadcast(), Some("192.0.2.255".parse().unwrap()));
    assert!(c.contains("192.0.2.200".parse().unwrap()) && !c.contains("192.0.3.1".parse().unwrap()));
    assert!(!c.contains("2001:db8::1".parse().unwrap()));
    assert_eq!(c.to_string(), "192.0.2.10/24");
    assert_eq!(c.subnet().to_string(), "192.0.2.0/24");
    let any: Cidr = "0.0.0.0/0".parse().unwrap();
    assert!(any.contains("203.0.113.9".parse().unwrap()));
    let host: Cidr = "198.51.100.1/32".parse().unwrap();
    assert!(host.contains("198.51.100.1".parse().unwrap()) && !host.contains("198.51.100.2".parse().unwrap()));
    assert_eq!(host.broadcast(), None);
    let v6: Cidr = "2001:db8:0:1::10/64".parse().unwrap();
    assert_eq!(v6.network(), "2001:db8:0:1::".parse::<IpAddr>().unwrap());
    assert!(v6.contains("2001:db8:0:1::ffff".parse().unwrap()) && !v6.contains("2001:db8:0:2::1".parse().unwrap()));
    assert_eq!(
        "2001:db8::1/129".parse::<Cidr>(),
        Err("\"2001:db8::1/129\": a prefix length is at most 128 for IPv6".into())
    );
}

#[test]
fn documentation_ranges() {
    for a in ["192.0.2.1", "198.51.100.255", "203.0.113.7", "2001:db8::1", "2001:db8:ffff::1", "3fff:fff::1"] {
        assert!(is_documentation(a.parse().unwrap()), "{a}");
    }
    for a in ["10.0.0.1", "192.0.3.1", "8.8.8.8", "2001:db9::1", "3fff:1000::1", "fe80::1"] {
        assert!(!is_documentation(a.parse().unwrap()), "{a}");
    }
}

#[test]
fn endpoints() {
    assert_eq!(parse_endpoint("192.0.2.1:80", None), Ok("192.0.2.1:80".parse().unwrap()));
    assert_eq!(parse_endpoint("[2001:db8::1]", Some(53)), Ok("[2001:db8::1]:53".parse().unwrap()));
    assert_eq!(parse_endpoint("2001:db8::1", Some(53)), Ok("[2001:db8::1]:53".parse().unwrap()));
    assert_eq!(
        parse_endpoint("192.0.2.1:0", None),
        Err("\"192.0.2.1:0\": port 0 is not a destination (ports are 1 to 65535)".into())
    );
}

#[test]
fn no_input_panics() {
    // Every prefix of every shipped scenario, and each with one byte changed, loads or errs.
    for entry in std::fs::read_dir(fixtures()).unwrap() {
        let path = entry.unwrap().path();
        if !path.extension().is_some_and(|e| e == "toml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for cut in (0..text.len()).filter(|&i| text.is_char_boundary(i)).step_by(7) {
            let _ = parse(&text[..cut], "x.toml");
        }
        for (i, _) in text.char_indices().step_by(13) {
            for c in ['"', '0', ']', '=', '\n', '-', 'z', ':'] {
                let mut t = text.clone();
                t.replace_range(i..i + t[i..].chars().next().map_or(0, char::len_utf8), &c.to_string());
                let _ = parse(&t, "x.toml");
            }
        }
    }
}

#[test]
fn the_readme_example_loads() {
    let readme = std::fs::read_to_string(fixtures().join("README.md")).unwrap();
    let start = readme.find("```toml\n").unwrap() + "```toml\n".len();
    let end = start + readme[start..].find("```").unwrap();
    let example = readme[start..end].replace("notes.txt", "README.md");
    let s = parse_with_base(&example, "README.md", &fixtures()).unwrap_or_else(|e| panic!("{e}"));
    assert!(s.warnings.is_empty(), "{:?}", warnings(&s));
    assert_eq!((s.devices.len(), s.links.len(), s.processes.len(), s.script.len()), (5, 4, 6, 3));
    assert_eq!(s.links[1].b.label, "sw1:2");
    let r1 = s.device(s.device_id("r1").unwrap()).unwrap().node().unwrap();
    assert_eq!(r1.routes.len(), 1);
}

#[test]
fn a_thousand_clients_on_one_switch_load() {
    // The issue's 1,000-client chat room, written as a teacher's script would generate it.
    let mut text = String::from(
        "name = \"big\"\n[[switch]]\nname = \"sw1\"\n[[host]]\nname = \"server\"\nipv4 = \"198.51.100.1/22\"\n\
         [[link]]\na = \"server\"\nb = \"sw1\"\n[[process]]\nhost = \"server\"\nprogram = \"chat-server\"\n",
    );
    for i in 0..1000u32 {
        let ip = std::net::Ipv4Addr::from(u32::from(std::net::Ipv4Addr::new(198, 51, 100, 2)) + i);
        text += &format!(
            "[[host]]\nname = \"c{i}\"\nipv4 = \"{ip}/22\"\n[[link]]\na = \"c{i}\"\nb = \"sw1\"\n\
             [[process]]\nhost = \"c{i}\"\nprogram = \"chat-client\"\nserver = \"198.51.100.1\"\n\
             say = [{{ at = \"1s\", text = \"hello from c{i}\" }}]\n"
        );
    }
    let s = ok(&text);
    assert_eq!((s.devices.len(), s.links.len(), s.processes.len()), (1002, 1001, 1001));
    let (_, _, sw) = s.switches().next().unwrap();
    assert_eq!(sw.ports, 1001);
    assert_eq!(s.links[1000].b.label, "sw1:1001");
    let macs: std::collections::HashSet<MacAddr> = s.nodes().map(|(_, _, n)| n.interfaces[0].mac).collect();
    assert_eq!(macs.len(), 1001);
    // 198.51.100.0/22 runs past the documentation range: 198.51.101.x and up are warned about.
    assert_eq!(s.warnings.len(), 1000 - 254);
}

#[test]
fn targets_need_an_address_of_their_family() {
    assert_eq!(
        err(&with("[[process]]\nhost = \"alice\"\nprogram = \"ping\"\ntarget = \"2001:db8::10\"\n")),
        "x.toml:19: process \"alice/ping\".target: alice has no IPv6 address, so it cannot reach 2001:db8::10"
    );
    assert_eq!(
        err(&with("[[process]]\nhost = \"alice\"\nprogram = \"chat-client\"\nserver = \"[2001:db8::10]:3000\"\n")),
        "x.toml:19: process \"alice/chat-client\".server: alice has no IPv6 address, so it cannot reach 2001:db8::10"
    );
}
