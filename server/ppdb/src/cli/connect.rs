//! Where the server is: `-H`/`-p`, a `ppdb://host:port` URL (also from `PPDB_URL`), or the
//! default `127.0.0.1:11211`; and opening the connection.

use std::fmt;
use std::io;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

use super::ConnectArgs;

/// The port memcached and PPDB listen on by default.
pub const DEFAULT_PORT: u16 = 11211;
/// The host used when none is given.
pub(crate) const DEFAULT_HOST: &str = "127.0.0.1";

/// A server to connect to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Host name or address (IPv6 without brackets).
    pub host: String,
    /// TCP port.
    pub port: u16,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

impl Target {
    /// The target the options name: `-H`/`-p` override the URL's parts.
    pub fn from_args(args: &ConnectArgs) -> Result<Target, String> {
        let mut target = match &args.url {
            Some(url) if !url.trim().is_empty() => Target::parse_url(url)?,
            _ => Target {
                host: DEFAULT_HOST.to_string(),
                port: DEFAULT_PORT,
            },
        };
        if let Some(host) = &args.host {
            target.host = host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_string();
        }
        if let Some(port) = args.port {
            target.port = port;
        }
        Ok(target)
    }

    /// Parses `ppdb://host[:port][/]` (also `memcache://`, or a bare `host:port`).
    pub fn parse_url(url: &str) -> Result<Target, String> {
        let bad = || format!("invalid server URL `{url}`: expected ppdb://host:port");
        let rest = match url.split_once("://") {
            Some(("ppdb" | "memcache" | "memcached", rest)) => rest,
            Some(_) => return Err(bad()),
            None => url,
        };
        let rest = rest.trim_end_matches('/');
        let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
            let (host, after) = v6.split_once(']').ok_or_else(bad)?;
            (host, after.strip_prefix(':'))
        } else {
            match rest.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (rest, None),
            }
        };
        if host.is_empty() || host.contains('/') {
            return Err(bad());
        }
        let port = match port {
            Some(p) => p.parse().map_err(|_| bad())?,
            None => DEFAULT_PORT,
        };
        Ok(Target {
            host: host.to_string(),
            port,
        })
    }

    /// Opens a TCP connection, trying each resolved address in turn.
    pub fn connect(&self, timeout: Duration) -> io::Result<TcpStream> {
        let addrs: Vec<SocketAddr> = (self.host.as_str(), self.port).to_socket_addrs()?.collect();
        let mut last = io::Error::new(io::ErrorKind::NotFound, "the host has no address");
        for addr in addrs {
            match TcpStream::connect_timeout(&addr, timeout) {
                Ok(stream) => {
                    stream.set_nodelay(true)?;
                    return Ok(stream);
                }
                Err(e) => last = e,
            }
        }
        Err(last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(url: Option<&str>, host: Option<&str>, port: Option<u16>) -> ConnectArgs {
        ConnectArgs {
            host: host.map(str::to_string),
            port,
            url: url.map(str::to_string),
            net_timeout: 1,
        }
    }

    fn target(host: &str, port: u16) -> Target {
        Target {
            host: host.to_string(),
            port,
        }
    }

    #[test]
    fn urls_parse() {
        assert_eq!(
            Target::parse_url("ppdb://db.example:1234"),
            Ok(target("db.example", 1234))
        );
        assert_eq!(
            Target::parse_url("ppdb://db.example/"),
            Ok(target("db.example", 11211))
        );
        assert_eq!(Target::parse_url("ppdb://[::1]:99"), Ok(target("::1", 99)));
        assert_eq!(Target::parse_url("localhost:5"), Ok(target("localhost", 5)));
        assert!(Target::parse_url("http://x:1").is_err());
        assert!(Target::parse_url("ppdb://x:port").is_err());
        assert!(Target::parse_url("ppdb://:1").is_err());
    }

    #[test]
    fn options_override_the_url() {
        let t = Target::from_args(&args(None, None, None)).unwrap();
        assert_eq!(t, target("127.0.0.1", 11211));
        let t = Target::from_args(&args(Some("ppdb://a:1"), None, Some(2))).unwrap();
        assert_eq!(t, target("a", 2));
        let t = Target::from_args(&args(Some("ppdb://a:1"), Some("b"), None)).unwrap();
        assert_eq!(t, target("b", 1));
        assert_eq!(target("::1", 5).to_string(), "[::1]:5");
    }
}
