//! The routing table: longest-prefix match (RFC 1812 §5.2.4.3) over connected subnets, static
//! routes and a default gateway, as `ip route` shows them.

use std::fmt;
use std::net::IpAddr;

/// An address prefix: `192.0.2.0/24`, `2001:db8::/32`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Prefix {
    /// The address (host bits may be set: `192.0.2.10/24` is an interface's address and subnet).
    pub addr: IpAddr,
    /// Prefix length: 0..=32 for IPv4, 0..=128 for IPv6.
    pub len: u8,
}

impl Prefix {
    /// A prefix; the length is clamped to the family's width.
    pub fn new(addr: IpAddr, len: u8) -> Prefix {
        let max = if addr.is_ipv4() { 32 } else { 128 };
        Prefix { addr, len: len.min(max) }
    }

    /// The default route of `addr`'s family (`0.0.0.0/0`, `::/0`).
    pub fn default_for(addr: IpAddr) -> Prefix {
        match addr {
            IpAddr::V4(_) => Prefix::new(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), 0),
            IpAddr::V6(_) => Prefix::new(IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED), 0),
        }
    }

    fn bits(a: IpAddr) -> u128 {
        match a {
            IpAddr::V4(a) => u128::from(u32::from(a)) << 96,
            IpAddr::V6(a) => u128::from(a),
        }
    }

    fn mask(&self) -> u128 {
        if self.len == 0 {
            0
        } else {
            let width = u32::from(self.len);
            u128::MAX << (128 - width)
        }
    }

    /// Whether `a` lies in the prefix (same family, same network bits).
    pub fn contains(&self, a: IpAddr) -> bool {
        a.is_ipv4() == self.addr.is_ipv4() && (Prefix::bits(a) ^ Prefix::bits(self.addr)) & self.mask() == 0
    }

    /// The network address (host bits cleared).
    pub fn network(&self) -> IpAddr {
        let b = Prefix::bits(self.addr) & self.mask();
        match self.addr {
            IpAddr::V4(_) => IpAddr::V4(std::net::Ipv4Addr::from((b >> 96) as u32)),
            IpAddr::V6(_) => IpAddr::V6(std::net::Ipv6Addr::from(b)),
        }
    }

    /// The subnet's directed broadcast address (IPv4; RFC 919), `None` for IPv6 and /31, /32.
    pub fn broadcast(&self) -> Option<IpAddr> {
        match self.addr {
            IpAddr::V4(a) if self.len < 31 => {
                let host = u32::MAX >> self.len;
                Some(IpAddr::V4(std::net::Ipv4Addr::from(u32::from(a) | host)))
            }
            _ => None,
        }
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network(), self.len)
    }
}

/// One route: packets for `dest` leave by interface `iface`, to `via` (a gateway) or directly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// The destinations.
    pub dest: Prefix,
    /// The next hop, or `None` for a connected subnet (the destination itself is the next hop).
    pub via: Option<IpAddr>,
    /// The interface index.
    pub iface: usize,
}

/// The table.
#[derive(Debug, Clone, Default)]
pub struct RoutingTable {
    routes: Vec<Route>,
}

impl RoutingTable {
    /// Add a route (a later route with the same prefix replaces the earlier one).
    pub fn add(&mut self, route: Route) {
        self.routes.retain(|r| r.dest != route.dest);
        self.routes.push(route);
    }

    /// The routes, in the order added.
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// The most specific route to `dst` (RFC 1812 §5.2.4.3 longest match), and the next hop it
    /// gives (the gateway, or `dst` itself on a connected subnet).
    pub fn lookup(&self, dst: IpAddr) -> Option<(Route, IpAddr)> {
        self.routes
            .iter()
            .filter(|r| r.dest.contains(dst))
            .max_by_key(|r| r.dest.len)
            .map(|r| (*r, r.via.unwrap_or(dst)))
    }

    /// `ip route` lines, with interface names from `names`.
    pub fn show(&self, names: &[String]) -> Vec<String> {
        self.routes
            .iter()
            .map(|r| {
                let dev = names.get(r.iface).map_or("?", String::as_str);
                let dest = if r.dest.len == 0 { "default".to_string() } else { r.dest.to_string() };
                match r.via {
                    Some(g) => format!("{dest} via {g} dev {dev}"),
                    None => format!("{dest} dev {dev} scope link"),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str, len: u8) -> Prefix {
        Prefix::new(s.parse().unwrap(), len)
    }

    #[test]
    fn longest_prefix_wins_and_gives_the_next_hop() {
        let mut t = RoutingTable::default();
        t.add(Route { dest: p("192.0.2.10", 24), via: None, iface: 0 });
        t.add(Route { dest: p("0.0.0.0", 0), via: Some("192.0.2.1".parse().unwrap()), iface: 0 });
        t.add(Route { dest: p("198.51.100.0", 25), via: Some("192.0.2.2".parse().unwrap()), iface: 1 });
        let (r, hop) = t.lookup("192.0.2.77".parse().unwrap()).unwrap();
        assert_eq!((r.iface, hop), (0, "192.0.2.77".parse().unwrap()));
        let (r, hop) = t.lookup("198.51.100.5".parse().unwrap()).unwrap();
        assert_eq!((r.iface, hop), (1, "192.0.2.2".parse().unwrap()));
        let (_, hop) = t.lookup("198.51.100.200".parse().unwrap()).unwrap();
        assert_eq!(hop, "192.0.2.1".parse::<IpAddr>().unwrap());
        assert!(t.lookup("2001:db8::1".parse().unwrap()).is_none());
        assert_eq!(
            t.show(&["eth0".into(), "eth1".into()]),
            [
                "192.0.2.0/24 dev eth0 scope link",
                "default via 192.0.2.1 dev eth0",
                "198.51.100.0/25 via 192.0.2.2 dev eth1"
            ]
        );
    }

    #[test]
    fn prefixes_of_both_families() {
        assert!(p("2001:db8::1", 64).contains("2001:db8::ffff".parse().unwrap()));
        assert!(!p("2001:db8::1", 64).contains("2001:db8:1::1".parse().unwrap()));
        assert_eq!(p("192.0.2.10", 24).broadcast(), Some("192.0.2.255".parse().unwrap()));
        assert!(p("0.0.0.0", 0).contains("203.0.113.9".parse().unwrap()));
    }
}
