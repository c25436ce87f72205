//! Proxies: `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY` (each also in lower case, which wins,
//! as in curl), read once per [`crate::Transport`]. One matcher decides both where reqwest
//! sends a request and which proxy an error names, so the two can never disagree.
//!
//! `NO_PROXY`: comma-separated host names (`example.com` and `.example.com` both match the
//! name and every name under it), IP addresses, or `*` (no proxy at all). A port after a
//! name is ignored.

use reqwest::Url;

/// A proxy that requests may go through.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Proxy {
    url: Url,
    /// The proxy's URL as errors show it (user-info removed).
    pub shown: String,
    /// The variable that set it (`HTTPS_PROXY`, `https_proxy`, ...).
    pub var: &'static str,
}

impl Proxy {
    /// `the proxy http://proxy:3128 (HTTPS_PROXY)`.
    pub fn describe(&self) -> String {
        format!("the proxy {} ({})", self.shown, self.var)
    }
}

/// The proxies of a run.
#[derive(Clone, Debug, Default)]
pub(crate) struct Proxies {
    https: Option<Proxy>,
    http: Option<Proxy>,
    /// Lower-cased entries; `*` means none is used.
    no_proxy: Vec<String>,
}

impl Proxies {
    /// From the environment. A proxy variable that is set but not a URL is an error naming
    /// it (silently going direct would bypass a proxy the user relies on).
    pub fn from_env() -> Result<Proxies, String> {
        let var = |names: [&'static str; 2]| {
            names.into_iter().find_map(|name| {
                std::env::var(name)
                    .ok()
                    .filter(|v| !v.trim().is_empty())
                    .map(|v| (name, v))
            })
        };
        let proxy = |found: Option<(&'static str, String)>| {
            found
                .map(|(name, value)| parse(name, value.trim()))
                .transpose()
        };
        Ok(Proxies {
            https: proxy(var(["https_proxy", "HTTPS_PROXY"]))?,
            http: proxy(var(["http_proxy", "HTTP_PROXY"]))?,
            no_proxy: var(["no_proxy", "NO_PROXY"])
                .map(|(_, v)| {
                    v.split(',')
                        .map(|e| e.trim().to_ascii_lowercase())
                        .filter(|e| !e.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
        })
    }

    /// The proxy a request to `url` goes through, if any.
    pub fn for_url(&self, url: &Url) -> Option<&Proxy> {
        let proxy = match url.scheme() {
            "https" => self.https.as_ref(),
            "http" => self.http.as_ref(),
            _ => None,
        }?;
        let host = url
            .host_str()?
            .trim_start_matches('[')
            .trim_end_matches(']');
        (!self.bypassed(&host.to_ascii_lowercase())).then_some(proxy)
    }

    /// The proxy URL reqwest should use for `url`.
    pub fn target(&self, url: &Url) -> Option<Url> {
        self.for_url(url).map(|p| p.url.clone())
    }

    fn bypassed(&self, host: &str) -> bool {
        self.no_proxy.iter().any(|entry| {
            if entry == "*" {
                return true;
            }
            let entry = entry.trim_start_matches('[');
            // `name:port` and `[::1]:port`: the port is ignored.
            let name = match entry.split_once(']') {
                Some((ip, _)) => ip,
                None if entry.matches(':').count() == 1 => entry.split(':').next().unwrap_or(""),
                None => entry,
            };
            let name = name.trim_start_matches("*.").trim_start_matches('.');
            !name.is_empty()
                && (host == name
                    || host
                        .strip_suffix(name)
                        .is_some_and(|rest| rest.ends_with('.')))
        })
    }
}

fn parse(var: &'static str, value: &str) -> Result<Proxy, String> {
    // `proxy:3128` without a scheme means http, as in curl.
    let with_scheme = if value.contains("://") {
        value.to_owned()
    } else {
        format!("http://{value}")
    };
    let url = Url::parse(&with_scheme).map_err(|e| {
        format!("{var}={value:?} is not a proxy URL like http://proxy.example:3128 ({e})")
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!(
            "{var}={value:?} is not a proxy URL like http://proxy.example:3128 (http or https, with a host)"
        ));
    }
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    Ok(Proxy {
        url,
        shown: shown.as_str().trim_end_matches('/').to_owned(),
        var,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxies(no_proxy: &[&str]) -> Proxies {
        Proxies {
            https: Some(parse("HTTPS_PROXY", "http://u:secret@proxy:3128").unwrap()),
            http: Some(parse("http_proxy", "proxy2:8080").unwrap()),
            no_proxy: no_proxy.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn via(p: &Proxies, url: &str) -> Option<String> {
        p.for_url(&Url::parse(url).unwrap()).map(Proxy::describe)
    }

    #[test]
    fn the_scheme_picks_the_proxy_and_no_credentials_are_shown() {
        let p = proxies(&[]);
        assert_eq!(
            via(&p, "https://api.heylua.ai/x").as_deref(),
            Some("the proxy http://proxy:3128 (HTTPS_PROXY)")
        );
        assert_eq!(
            via(&p, "http://127.0.0.1:1/x").as_deref(),
            Some("the proxy http://proxy2:8080 (http_proxy)")
        );
        assert_eq!(
            p.target(&Url::parse("https://a/").unwrap())
                .unwrap()
                .password(),
            Some("secret")
        );
    }

    #[test]
    fn no_proxy_matches_names_suffixes_ips_and_star() {
        let p = proxies(&[
            "heylua.ai",
            ".internal",
            "127.0.0.1",
            "[::1]:8080",
            "host:99",
        ]);
        assert_eq!(via(&p, "https://heylua.ai/"), None);
        assert_eq!(via(&p, "https://api.heylua.ai/"), None);
        assert!(via(&p, "https://notheylua.ai/").is_some());
        assert_eq!(via(&p, "https://a.b.internal/"), None);
        assert_eq!(via(&p, "http://127.0.0.1:5/"), None);
        assert_eq!(via(&p, "http://[::1]:5/"), None);
        assert_eq!(via(&p, "http://host/"), None);
        assert!(via(&p, "http://127.0.0.2/").is_some());
        assert_eq!(via(&proxies(&["*"]), "https://anything/"), None);
    }

    #[test]
    fn a_bad_proxy_url_names_its_variable() {
        let err = parse("HTTPS_PROXY", "ftp://x").unwrap_err();
        assert!(err.starts_with("HTTPS_PROXY=\"ftp://x\""), "{err}");
    }
}
