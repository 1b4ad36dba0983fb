//! A small blocking HTTP/1.1 client, the one the workspace uses: for Bitcoin Core's JSON-RPC
//! (which speaks nothing else), the relay's health port and the harness's byte-exact checks
//! of how ord serves content.
//!
//! One request per connection (`Connection: close`). The response keeps its header lines in
//! wire order (names lowercased, repeated headers kept apart) so tests can compare them with
//! ord's. Bodies framed by `Content-Length` or chunked are checked whole; a connection that
//! closes early is an error, never a short body. Responses are bounded in size and time.
//!
//! ```no_run
//! use http1::{Limits, Request};
//!
//! let addr = "127.0.0.1:8332".parse().unwrap();
//! let body = br#"{"method":"getblockcount"}"#;
//! let request = Request::new("POST", "/").header("Content-Type", "application/json").body(body);
//! let response = http1::send(addr, &request, &Limits::default()).unwrap();
//! println!("{} {}", response.status, response.text());
//! ```
//!
//! [`parse_response`] is the sans-IO half: it reads a complete response from bytes.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// A request to send.
#[derive(Clone, Debug)]
pub struct Request<'a> {
    method: &'a str,
    target: &'a str,
    host: Option<&'a str>,
    headers: Vec<(&'a str, &'a str)>,
    body: &'a [u8],
}

impl<'a> Request<'a> {
    /// `METHOD target` with no extra headers and no body.
    pub fn new(method: &'a str, target: &'a str) -> Self {
        Request {
            method,
            target,
            host: None,
            headers: Vec::new(),
            body: &[],
        }
    }

    /// The `Host` header (default: the address connected to).
    pub fn host(mut self, host: &'a str) -> Self {
        self.host = Some(host);
        self
    }

    /// Adds a header line, sent as given.
    pub fn header(mut self, name: &'a str, value: &'a str) -> Self {
        self.headers.push((name, value));
        self
    }

    /// Adds several header lines.
    pub fn headers(mut self, headers: &[(&'a str, &'a str)]) -> Self {
        self.headers.extend_from_slice(headers);
        self
    }

    /// The body, sent with its `Content-Length`.
    pub fn body(mut self, body: &'a [u8]) -> Self {
        self.body = body;
        self
    }

    /// The request's bytes as sent to `addr`.
    pub fn to_bytes(&self, addr: SocketAddr) -> Vec<u8> {
        let host = self.host.map_or_else(|| addr.to_string(), str::to_owned);
        let mut head = format!(
            "{} {} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n",
            self.method, self.target
        );
        for (name, value) in &self.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        if !self.body.is_empty() || self.method.eq_ignore_ascii_case("POST") {
            head.push_str(&format!("Content-Length: {}\r\n", self.body.len()));
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(self.body);
        bytes
    }
}

/// How long and how large a response may be.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// For connecting, and for each read and write.
    pub timeout: Duration,
    /// Whole responses larger than this are refused.
    pub max_response: u64,
}

impl Default for Limits {
    /// 30 s, 64 MiB.
    fn default() -> Self {
        Limits {
            timeout: Duration::from_secs(30),
            max_response: 64 << 20,
        }
    }
}

/// A response as received: status, header lines in order, body bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Header lines in wire order, names lowercased, values trimmed.
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked if the server chunked it.
    pub body: Vec<u8>,
}

impl Response {
    /// Every value of header `name` (case-insensitive), in order.
    pub fn header_all(&self, name: &str) -> Vec<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The single value of header `name`; `None` if absent or repeated.
    pub fn header(&self, name: &str) -> Option<&str> {
        match self.header_all(name).as_slice() {
            [one] => Some(one),
            _ => None,
        }
    }

    /// The body as UTF-8 (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Why a request got no usable response.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// Connecting, sending or receiving failed.
    #[error("{0}")]
    Io(#[source] io::Error),
    /// Nothing (more) arrived within the timeout.
    #[error("no response within {0:?}")]
    Timeout(Duration),
    /// The response is larger than [`Limits::max_response`].
    #[error("response larger than {0} bytes")]
    TooLarge(u64),
    /// Not an HTTP/1.x response we understand.
    #[error("malformed response: {0}")]
    Malformed(String),
}

/// Sends `request` to `addr` and reads the whole response.
pub fn send(addr: SocketAddr, request: &Request, limits: &Limits) -> Result<Response, HttpError> {
    let timed_out = |e: io::Error| match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => HttpError::Timeout(limits.timeout),
        _ => HttpError::Io(e),
    };
    let mut stream = TcpStream::connect_timeout(&addr, limits.timeout).map_err(timed_out)?;
    stream
        .set_read_timeout(Some(limits.timeout))
        .map_err(HttpError::Io)?;
    stream
        .set_write_timeout(Some(limits.timeout))
        .map_err(HttpError::Io)?;
    stream
        .write_all(&request.to_bytes(addr))
        .map_err(timed_out)?;
    let mut raw = Vec::new();
    (&mut stream)
        .take(limits.max_response.saturating_add(1))
        .read_to_end(&mut raw)
        .map_err(timed_out)?;
    if raw.len() as u64 > limits.max_response {
        return Err(HttpError::TooLarge(limits.max_response));
    }
    parse_response(&raw, request.method.eq_ignore_ascii_case("HEAD"))
}

/// Reads one complete response (the connection closed after it) from `raw`. With
/// `head_only` (a reply to HEAD) the body is empty whatever the headers say.
pub fn parse_response(raw: &[u8], head_only: bool) -> Result<Response, HttpError> {
    let malformed = |what: String| HttpError::Malformed(what);
    let end = find(raw, b"\r\n\r\n").ok_or_else(|| malformed("no end of the head".into()))?;
    let head =
        std::str::from_utf8(&raw[..end]).map_err(|_| malformed("the head is not UTF-8".into()))?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .strip_prefix("HTTP/1.")
        .and_then(|rest| rest.get(1..))
        .and_then(|rest| rest.strip_prefix(' '))
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| malformed(format!("status line {status_line:?}")))?;
    let mut headers = Vec::new();
    for line in lines {
        let (name, value) = line
            .split_once(':')
            .filter(|(name, _)| !name.is_empty() && !name.contains(' '))
            .ok_or_else(|| malformed(format!("header line {line:?}")))?;
        headers.push((name.to_ascii_lowercase(), value.trim().to_owned()));
    }
    let rest = &raw[end + 4..];
    let response = Response {
        status,
        headers,
        body: Vec::new(),
    };
    if head_only || status / 100 == 1 || status == 204 || status == 304 {
        return Ok(response);
    }
    let body = if response
        .header_all("transfer-encoding")
        .iter()
        .any(|v| v.eq_ignore_ascii_case("chunked"))
    {
        dechunk(rest)?
    } else if let Some(len) = response.header_all("content-length").first() {
        let len: usize = len
            .parse()
            .map_err(|_| malformed(format!("Content-Length {len:?}")))?;
        if rest.len() < len {
            return Err(malformed(format!(
                "the connection closed after {} of {len} body bytes",
                rest.len()
            )));
        }
        rest[..len].to_vec()
    } else {
        rest.to_vec()
    };
    Ok(Response { body, ..response })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn dechunk(mut rest: &[u8]) -> Result<Vec<u8>, HttpError> {
    let mut body = Vec::new();
    loop {
        let line_end = find(rest, b"\r\n")
            .ok_or_else(|| HttpError::Malformed("the connection closed in a chunk size".into()))?;
        let size_text = std::str::from_utf8(&rest[..line_end]).unwrap_or("?");
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| HttpError::Malformed(format!("chunk size {size_text:?}")))?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            return Ok(body);
        }
        let chunk = rest
            .get(..size)
            .filter(|_| rest.get(size..size + 2) == Some(b"\r\n"))
            .ok_or_else(|| HttpError::Malformed("the connection closed inside a chunk".into()))?;
        body.extend_from_slice(chunk);
        rest = &rest[size + 2..];
    }
}

#[cfg(test)]
mod tests;
