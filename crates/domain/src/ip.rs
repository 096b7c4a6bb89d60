//! IP allowlists for API keys (single addresses or CIDR blocks, IPv4 and IPv6), and which
//! addresses outbound requests (webhook deliveries) must never reach.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
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

/// Addresses outbound requests must never reach unless private targets are allowed: loopback,
/// private, link-local (cloud metadata lives there), CGNAT, unspecified, multicast, broadcast,
/// documentation and unique-local ranges, and every IPv6 form that carries one of those IPv4
/// addresses (a router or translator would deliver it to the IPv4 host).
pub fn forbidden_target(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => forbidden_ipv4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = embedded_ipv4(v6) {
                return forbidden_ipv4(v4);
            }
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local (fd00:ec2::254 is AWS metadata)
                || (s[0] & 0xffc0) == 0xfe80 // link-local
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                // The rest of 64:ff9b::/32 is NAT64 too, including the local-use 64:ff9b:1::/48,
                // where the operator chooses where the IPv4 address sits: it cannot be checked.
                || (s[0] == 0x64 && s[1] == 0xff9b)
        }
    }
}

/// The IPv4 part of IPv6 addresses that stand for an IPv4 host: IPv4-compatible `::a.b.c.d`
/// (`::` and `::1` excluded: they are IPv6's own), IPv4-mapped `::ffff:a.b.c.d`,
/// IPv4-translated `::ffff:0:a.b.c.d`, 6to4 `2002:AABB:CCDD::/48`, NAT64 `64:ff9b::a.b.c.d`
/// and Teredo `2001:0::/32` (the client address is the last 32 bits, inverted).
pub fn embedded_ipv4(v6: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = v6.segments();
    let low32 = Ipv4Addr::from((u32::from(s[6]) << 16) | u32::from(s[7]));
    match s {
        [0, 0, 0, 0, 0, 0, 0, 0 | 1] => None,
        [0, 0, 0, 0, 0, 0, _, _] | [0, 0, 0, 0, 0, 0xffff, _, _] | [0, 0, 0, 0, 0xffff, 0, _, _] => Some(low32),
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some(low32),
        [0x2002, hi, lo, ..] => Some(Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo))),
        [0x2001, 0, ..] => Some(Ipv4Addr::from(!u32::from(low32))),
        _ => None,
    }
}

/// IPv4 ranges no outbound request may reach (see [`forbidden_target`]).
pub fn forbidden_ipv4(v4: Ipv4Addr) -> bool {
    let o = v4.octets();
    v4.is_loopback()
        || v4.is_private()
        || v4.is_link_local()
        || v4.is_unspecified()
        || v4.is_broadcast()
        || v4.is_multicast()
        || v4.is_documentation()
        || o[0] == 0
        || (o[0] == 100 && (o[1] & 0xc0) == 64) // 100.64.0.0/10 carrier-grade NAT
        || (o[0] == 192 && o[1] == 0 && o[2] == 0) // IETF protocol assignments
        || o[0] >= 240 // reserved
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

    #[test]
    fn ipv6_forms_that_carry_a_private_ipv4_address_are_forbidden() {
        for (a, embedded) in [
            ("::127.0.0.1", "127.0.0.1"),
            ("::10.0.0.1", "10.0.0.1"),
            ("::ffff:127.0.0.1", "127.0.0.1"),
            ("::ffff:169.254.169.254", "169.254.169.254"),
            ("::ffff:0:192.168.1.1", "192.168.1.1"),
            ("2002:7f00:1::1", "127.0.0.1"),
            ("2002:a9fe:a9fe::", "169.254.169.254"),
            ("2002:c0a8:0101:5::9", "192.168.1.1"),
            ("64:ff9b::127.0.0.1", "127.0.0.1"),
            ("64:ff9b::10.1.2.3", "10.1.2.3"),
            ("64:ff9b::100.64.0.1", "100.64.0.1"),
            // Teredo: server 65.54.227.120, client 127.0.0.1 stored inverted (80ff:fffe).
            ("2001:0:4136:e378:8000:63bf:80ff:fffe", "127.0.0.1"),
            ("2001:0:4136:e378::f5ff:fffe", "10.0.0.1"),
        ] {
            let ip: IpAddr = a.parse().unwrap();
            let IpAddr::V6(v6) = ip else { unreachable!() };
            assert_eq!(embedded_ipv4(v6), Some(embedded.parse().unwrap()), "{a}");
            assert!(forbidden_target(ip), "{a}");
        }
        // NAT64's local-use prefix and the unassigned rest of 64:ff9b::/32: where the IPv4
        // address sits is the operator's choice, so none is allowed.
        for a in ["64:ff9b:1::808:808", "64:ff9b:1:808:8:800::", "64:ff9b:5::1"] {
            assert!(forbidden_target(a.parse().unwrap()), "{a}");
        }
    }

    #[test]
    fn ipv6_forms_that_carry_a_public_ipv4_address_are_allowed() {
        for a in [
            "::8.8.8.8",
            "::ffff:8.8.8.8",
            "::ffff:0:1.1.1.1",
            "2002:808:808::1",
            "64:ff9b::8.8.8.8",
            "2001:0:4136:e378:8000:63bf:f7f7:f7f7", // Teredo client 8.8.8.8
            "2606:4700:4700::1111",
            "2a00:1450:4001:81c::200e",
        ] {
            assert!(!forbidden_target(a.parse().unwrap()), "{a}");
        }
        // IPv6's own loopback and unspecified addresses are not IPv4-compatible forms.
        assert_eq!(embedded_ipv4(Ipv6Addr::LOCALHOST), None);
        assert_eq!(embedded_ipv4(Ipv6Addr::UNSPECIFIED), None);
        assert!(forbidden_target("::1".parse().unwrap()));
        assert!(forbidden_target("::".parse().unwrap()));
    }

    #[test]
    fn webhook_urls_with_embedding_literals_are_refused() {
        for url in ["https://[::127.0.0.1]/", "https://[2002:7f00:1::1]/", "https://[64:ff9b::a9fe:a9fe]/latest"] {
            assert!(crate::webhooks::validate_url(url, false).is_err(), "{url}");
            assert!(crate::webhooks::validate_url(url, true).is_ok(), "{url} is allowed with private webhooks");
        }
        assert!(crate::webhooks::validate_url("https://[2002:808:808::1]/", false).is_ok());
    }
}
