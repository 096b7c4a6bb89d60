//! IP allowlists for API keys: single addresses or CIDR blocks, IPv4 and IPv6.

use std::net::IpAddr;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpRule {
    network: IpAddr,
    prefix: u8,
}

impl IpRule {
    pub fn contains(&self, ip: IpAddr) -> bool {
        // An IPv4 client seen through an IPv6 socket arrives as ::ffff:a.b.c.d.
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        match (self.network, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                masked(u32::from(net).into(), 32, self.prefix) == masked(u32::from(ip).into(), 32, self.prefix)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                masked(u128::from(net), 128, self.prefix) == masked(u128::from(ip), 128, self.prefix)
            }
            _ => false,
        }
    }
}

fn masked(bits: u128, width: u8, prefix: u8) -> u128 {
    if prefix == 0 { 0 } else { bits >> (width - prefix) }
}

impl FromStr for IpRule {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let network: IpAddr = addr.parse().map_err(|_| format!("'{s}' is not an IP address or CIDR block"))?;
        let width = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => width,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= width)
                .ok_or_else(|| format!("'{s}' has an invalid prefix length"))?,
        };
        Ok(Self { network, prefix })
    }
}

impl std::fmt::Display for IpRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let width = if self.network.is_ipv4() { 32 } else { 128 };
        if self.prefix == width { write!(f, "{}", self.network) } else { write!(f, "{}/{}", self.network, self.prefix) }
    }
}

/// An empty allowlist allows every address.
pub fn allowed(rules: &[IpRule], ip: IpAddr) -> bool {
    rules.is_empty() || rules.iter().any(|r| r.contains(ip))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn single_addresses_and_blocks_match() {
        let one: IpRule = "127.0.0.1".parse().unwrap();
        assert!(one.contains(ip("127.0.0.1")));
        assert!(!one.contains(ip("127.0.0.2")));
        let block: IpRule = "10.1.0.0/16".parse().unwrap();
        assert!(block.contains(ip("10.1.255.3")));
        assert!(!block.contains(ip("10.2.0.1")));
        let v6: IpRule = "2001:db8::/32".parse().unwrap();
        assert!(v6.contains(ip("2001:db8:1::5")));
        assert!(!v6.contains(ip("2001:db9::1")));
        let any: IpRule = "0.0.0.0/0".parse().unwrap();
        assert!(any.contains(ip("8.8.8.8")));
    }

    #[test]
    fn mapped_ipv4_clients_match_ipv4_rules() {
        let rule: IpRule = "192.168.0.0/24".parse().unwrap();
        assert!(rule.contains(ip("::ffff:192.168.0.9")));
    }

    #[test]
    fn bad_rules_are_refused() {
        for bad in ["", "10.0.0.0/33", "::/129", "10.0.0", "host.example", "10.0.0.0/x"] {
            assert!(bad.parse::<IpRule>().is_err(), "{bad}");
        }
        assert_eq!("10.0.0.0/8".parse::<IpRule>().unwrap().to_string(), "10.0.0.0/8");
    }

    #[test]
    fn empty_allowlist_allows_all() {
        assert!(allowed(&[], ip("1.2.3.4")));
        assert!(!allowed(&["10.0.0.0/8".parse().unwrap()], ip("1.2.3.4")));
    }
}
