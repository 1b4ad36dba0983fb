//! The workspace's HTTP/1.1 client ([`http1`]) for async tests: header lines exactly as
//! they came off the wire (repeated headers stay separate).

use std::net::SocketAddr;

pub use http1::{HttpError, Response as RawResponse};
use http1::{Limits, Request};

/// Sends `METHOD path` with `Connection: close` and the extra `headers`, and reads the
/// whole response (30 s timeout, 64 MiB at most).
pub async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> Result<RawResponse, HttpError> {
    let (method, path) = (method.to_owned(), path.to_owned());
    let headers: Vec<(String, String)> = headers
        .iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect();
    tokio::task::spawn_blocking(move || {
        let headers: Vec<(&str, &str)> = headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let request = Request::new(&method, &path).headers(&headers);
        http1::send(addr, &request, &Limits::default())
    })
    .await
    .map_err(|e| HttpError::Io(std::io::Error::other(e)))?
}

/// `GET path` with extra headers.
pub async fn get(
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
) -> Result<RawResponse, HttpError> {
    request(addr, "GET", path, headers).await
}
