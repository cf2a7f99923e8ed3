//! The programs in whole simulated networks: servers on both address families, a URL's host
//! name resolved through DNS (with a CNAME chain) before the GET, and the ways a lookup fails.

use super::dns::DnsQuery;
use super::http::HttpGet;
use crate::sim::build::build;
use crate::sim::scenario;
use crate::sim::world::World;
use crate::time::Instant;

fn run(text: &str) -> World {
    let sc = scenario::parse(text, "test.toml").unwrap();
    let (mut w, _) = build(&sc, sc.seed).unwrap();
    w.run(Instant::ZERO + sc.until);
    w
}

/// The program of the first process called `name` on host `host`.
fn program<'w, T: 'static>(w: &'w World, host: &str, name: &str) -> &'w T {
    let h = w.host(w.node(host).unwrap()).unwrap();
    let pid = h.processes().into_iter().find(|p| p.1 == name).unwrap().0;
    h.program(pid).unwrap().as_any().downcast_ref::<T>().unwrap()
}

const WEB_BY_NAME: &str = include_str!("../../fixtures/scenarios/web-by-name.toml");

#[test]
fn http_get_by_name_over_ipv4_and_ipv6() {
    let w = run(WEB_BY_NAME);
    let body = "<!DOCTYPE html>\n<html><body><p>Found by name.</p></body></html>\n";
    for client in ["client4", "client6"] {
        let g: &HttpGet = program(&w, client, "http-get");
        assert_eq!(g.error, None, "{client}\n{}", w.timeline.text());
        assert_eq!(g.response, Some((200, body.as_bytes().to_vec())), "{client}");
    }
    let text = w.timeline.text();
    assert!(text.contains("client4 app  L7  [pid 1000] resolved www.example.com to 192.0.2.80"), "{text}");
    assert!(text.contains("client6 app  L7  [pid 1000] resolved www.example.com to 2001:db8::80"), "{text}");
    assert!(text.contains("connect(4, [2001:db8::80]:80)"), "{text}");
    // The IPv6-only client finds its neighbors with ND, never ARP.
    assert!(!text.lines().any(|l| l.contains(" client6 out") && l.contains("Who has")), "{text}");
    assert!(text.lines().any(|l| l.contains(" client6 out") && l.contains("Neighbor Solicitation")), "{text}");
    // The web server listens on both families, as `listen 80; listen [::]:80;` does.
    let web = w.host(w.node("web").unwrap()).unwrap();
    let listening: Vec<String> =
        web.port_table().into_iter().filter(|e| e.state == "LISTEN").map(|e| e.local).collect();
    assert_eq!(listening, ["0.0.0.0:80", "[::]:80"]);
}

/// The DNS server answers an alias with its CNAME and then the canonical name's records
/// (RFC 1034 §4.3.2 step 3a); a query for the CNAME itself gets only the CNAME.
#[test]
fn dns_server_follows_cname_chain() {
    let text = WEB_BY_NAME.split("[[process]]\nhost = \"client4\"").next().unwrap().to_string()
        + r#"
[[process]]
host = "client4"
program = "dns-query"
server = "192.0.2.53"
query = "www.example.com"
type = "A"
start = "200ms"

[[process]]
host = "client6"
program = "dns-query"
server = "2001:db8::53"
query = "www.example.com"
type = "CNAME"
start = "200ms"
"#;
    let w = run(&text);
    let a: &DnsQuery = program(&w, "client4", "dns-query");
    assert_eq!(
        a.answer,
        Some((
            0,
            vec![
                "www.example.com.\t300\tIN\tCNAME\tweb.example.com.".to_string(),
                "web.example.com.\t300\tIN\tA\t192.0.2.80".to_string()
            ]
        ))
    );
    let c: &DnsQuery = program(&w, "client6", "dns-query");
    assert_eq!(c.answer, Some((0, vec!["www.example.com.\t300\tIN\tCNAME\tweb.example.com.".to_string()])));
}

fn web_get(url: &str, resolver: &str, until: &str) -> String {
    let head = WEB_BY_NAME.split("[[process]]\nhost = \"client4\"").next().unwrap();
    let head = head.replace("until = \"3s\"", &format!("until = \"{until}\""));
    format!(
        "{head}[[process]]\nhost = \"client4\"\nprogram = \"http-get\"\nurl = \"{url}\"\nresolver = \"{resolver}\"\nstart = \"200ms\"\n"
    )
}

/// An unknown name: the resolver's NXDOMAIN ends the GET before any connection, as curl's
/// "Could not resolve host".
#[test]
fn http_get_of_unknown_name_fails_without_connecting() {
    let w = run(&web_get("http://nosuch.example.com/", "192.0.2.53", "3s"));
    let g: &HttpGet = program(&w, "client4", "http-get");
    assert_eq!(g.error.as_deref(), Some("could not resolve host nosuch.example.com: NXDOMAIN, no address"));
    assert_eq!(g.response, None);
    let text = w.timeline.text();
    assert!(
        !text.lines().any(|l| l.contains("client4 call") && l.contains("SOCK_STREAM")),
        "no TCP socket is opened\n{text}"
    );
}

/// A resolver that does not answer (a host with no DNS server: its ICMP port unreachable is not
/// reported to an unconnected UDP socket, as on Linux): three tries 5 s apart, then failure.
#[test]
fn http_get_gives_up_when_the_resolver_is_silent() {
    let w = run(&web_get("http://www.example.com/", "192.0.2.80", "20s"));
    let g: &HttpGet = program(&w, "client4", "http-get");
    assert_eq!(g.error.as_deref(), Some("could not resolve host www.example.com: the DNS server did not answer"));
    let text = w.timeline.text();
    assert_eq!(text.lines().filter(|l| l.contains("client4 call") && l.contains("sendto(3")).count(), 3, "{text}");
}
