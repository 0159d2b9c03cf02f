//! The client's address: the connection's peer, or the last address in
//! `X-Forwarded-For` that is not one of the configured trusted proxies,
//! walking back only while each hop is a trusted proxy.

use std::net::IpAddr;

/// A trusted proxy: an address or a CIDR block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proxy {
    network: IpAddr,
    prefix: u8,
}

impl Proxy {
    /// `10.0.0.0/8`, `2001:db8::/32` or a single address.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let (address, prefix) = match raw.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (raw.trim(), None),
        };
        let network: IpAddr = address.parse().map_err(|_| format!("`{raw}` is not an address or CIDR block"))?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(|| format!("`{raw}`: bad prefix"))?,
            None => max,
        };
        Ok(Self { network, prefix })
    }

    /// A list separated by commas or spaces (the `trusted_proxies` variable).
    pub fn parse_list(raw: &str) -> Result<Vec<Self>, String> {
        raw.split([',', ' ']).filter(|s| !s.is_empty()).map(Self::parse).collect()
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        fn bits(ip: IpAddr) -> u128 {
            match ip {
                IpAddr::V4(v4) => u128::from(u32::from(v4)) << 96,
                IpAddr::V6(v6) => u128::from(v6),
            }
        }
        if self.network.is_ipv4() != ip.is_ipv4() {
            return false;
        }
        // Both are left-aligned in 128 bits, so the mask is the prefix's top bits.
        let mask = if self.prefix == 0 { 0 } else { u128::MAX << (128 - u32::from(self.prefix)) };
        bits(self.network) & mask == bits(ip) & mask
    }
}

/// The client's address for a request from `peer` carrying
/// `forwarded_for`, given the trusted proxies.
pub fn client_ip(peer: IpAddr, forwarded_for: Option<&str>, trusted: &[Proxy]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|p| p.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let hops: Vec<IpAddr> =
        forwarded_for.unwrap_or_default().split(',').filter_map(|h| h.trim().parse::<IpAddr>().ok()).collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        client = *hop;
        if !is_trusted(*hop) {
            break;
        }
    }
    client
}

/// [`client_ip`] over what a request carries: the peer as the host wrote
/// it (an unparsable peer is kept as it is), the `X-Forwarded-For` header
/// and the `trusted_proxies` setting.
pub fn visitor_ip(peer: &str, forwarded_for: Option<&str>, proxies: &str) -> Result<String, String> {
    let trusted = Proxy::parse_list(proxies)?;
    Ok(match peer.parse::<IpAddr>() {
        Ok(ip) => client_ip(ip, forwarded_for, &trusted).to_string(),
        Err(_) => peer.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visitor_ip_reads_the_request_as_it_came() {
        assert_eq!(visitor_ip("10.0.0.1", Some("81.2.69.160"), "10.0.0.0/8"), Ok("81.2.69.160".into()));
        assert_eq!(visitor_ip("10.0.0.1", Some("81.2.69.160"), ""), Ok("10.0.0.1".into()));
        assert_eq!(visitor_ip("unix-socket", None, ""), Ok("unix-socket".into()));
        assert!(visitor_ip("10.0.0.1", None, "not a proxy").is_err());
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_for_counts_only_behind_trusted_proxies() {
        let trusted = Proxy::parse_list("10.0.0.0/8, 192.168.1.5").unwrap();
        assert_eq!(client_ip(ip("81.2.69.160"), Some("1.2.3.4"), &trusted), ip("81.2.69.160"), "untrusted peer");
        assert_eq!(client_ip(ip("10.1.2.3"), Some("81.2.69.160"), &trusted), ip("81.2.69.160"));
        // A client cannot push a fake address in front of the real one.
        assert_eq!(client_ip(ip("10.1.2.3"), Some("6.6.6.6, 81.2.69.160, 192.168.1.5"), &trusted), ip("81.2.69.160"));
        assert_eq!(client_ip(ip("10.1.2.3"), None, &trusted), ip("10.1.2.3"));
        assert_eq!(client_ip(ip("10.1.2.3"), Some("garbage"), &trusted), ip("10.1.2.3"));
    }

    #[test]
    fn blocks_contain_their_addresses() {
        let block = Proxy::parse("10.0.0.0/8").unwrap();
        assert!(block.contains(ip("10.255.0.1")) && !block.contains(ip("11.0.0.1")) && !block.contains(ip("::1")));
        let v6 = Proxy::parse("2001:db8::/32").unwrap();
        assert!(v6.contains(ip("2001:db8:1::1")) && !v6.contains(ip("2001:db9::1")));
        assert!(Proxy::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        for bad in ["10.0.0.0/33", "nope", "10.0.0/8"] {
            assert!(Proxy::parse(bad).is_err(), "{bad}");
        }
    }
}
