//! The Host allow-list: which names a request may address the server by. A page on
//! `http://evil.example` that rebinds its name to 127.0.0.1 still sends `Host: evil.example`,
//! so refusing unknown names defeats DNS rebinding.

use std::net::IpAddr;

/// Allowed host names (lower-case, without port): `localhost`, `127.0.0.1`, `::1`, the bound
/// address, and the names given with `--allow-host`.
#[derive(Debug, Clone)]
pub(crate) struct AllowedHosts {
    names: Vec<String>,
}

impl AllowedHosts {
    pub(crate) fn new(bound: IpAddr, extra: &[String]) -> AllowedHosts {
        let mut names: Vec<String> = vec!["localhost".into(), "127.0.0.1".into(), "::1".into()];
        if !bound.is_unspecified() {
            names.push(bound.to_string());
        }
        names.extend(extra.iter().map(|n| normalise(n)));
        names.sort();
        names.dedup();
        AllowedHosts { names }
    }

    /// Whether a `Host` header value (`name`, `name:port`, `[v6]:port`) is allowed. The port
    /// is not checked: rebinding changes the name, not the port.
    pub(crate) fn allows(&self, host: &str) -> bool {
        let name = host_name(host);
        !name.is_empty() && self.names.contains(&name)
    }
}

/// The name part of a `Host` value, lower-case, without brackets and port.
pub(crate) fn host_name(host: &str) -> String {
    let host = host.trim();
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split_once(']').map_or("", |(inside, _)| inside)
    } else {
        host.rsplit_once(':').map_or(host, |(name, _)| name)
    };
    normalise(name)
}

fn normalise(name: &str) -> String {
    name.trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .trim_end_matches('.')
        .to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn loopback_names_bound_address_and_extras_are_allowed() {
        let hosts = AllowedHosts::new(
            IpAddr::V4(Ipv4Addr::new(10, 0, 0, 5)),
            &["Dev.Example".to_owned()],
        );
        for ok in [
            "localhost",
            "localhost:8787",
            "LOCALHOST:1",
            "127.0.0.1:8787",
            "[::1]:8787",
            "10.0.0.5:80",
            "dev.example:8787",
            "dev.example.",
        ] {
            assert!(hosts.allows(ok), "{ok}");
        }
        for refused in [
            "evil.example",
            "evil.example:8787",
            "localhost.evil.example",
            "127.0.0.2",
            "",
            ":8787",
            "[::1",
        ] {
            assert!(!hosts.allows(refused), "{refused}");
        }
    }

    #[test]
    fn an_unspecified_bind_adds_no_name() {
        let hosts = AllowedHosts::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), &[]);
        assert!(!hosts.allows("0.0.0.0"));
        assert!(hosts.allows("127.0.0.1"));
    }
}
