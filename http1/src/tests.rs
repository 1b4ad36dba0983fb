use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use crate::{parse_response, send, HttpError, Limits, Request};

fn parse(raw: &str) -> Result<crate::Response, HttpError> {
    parse_response(raw.as_bytes(), false)
}

#[test]
fn headers_stay_in_wire_order_and_apart() {
    let r = parse("HTTP/1.1 200 OK\r\nVary: a\r\nContent-Type: text/html\r\nvary: b\r\nContent-Length: 2\r\n\r\nhi").unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.header_all("VARY"), ["a", "b"]);
    assert_eq!(r.header("vary"), None, "repeated");
    assert_eq!(r.header("content-type"), Some("text/html"));
    assert_eq!(r.body, b"hi");
}

#[test]
fn bodies_are_framed_exactly() {
    let chunked =
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;ext\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
    assert_eq!(parse(chunked).unwrap().body, b"abcde");
    let close = "HTTP/1.0 404 Not Found\r\n\r\nuntil close";
    assert_eq!(parse(close).unwrap().body, b"until close");
    let head = "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n";
    assert!(parse_response(head.as_bytes(), true)
        .unwrap()
        .body
        .is_empty());
    let no_content = "HTTP/1.1 204 No Content\r\n\r\n";
    assert!(parse(no_content).unwrap().body.is_empty());
}

#[test]
fn short_and_malformed_responses_are_refused() {
    for raw in [
        "",
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc",
        "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabcd\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n",
        "HTTP/2 200\r\n\r\n",
        "HTTP/1.1 2x0 OK\r\n\r\n",
        "SSH-2.0-OpenSSH\r\n\r\n",
        "HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
        "HTTP/1.1 200 OK\r\nbad name: x\r\n\r\n",
    ] {
        match parse(raw) {
            Err(HttpError::Malformed(_)) => {}
            other => panic!("{raw:?}: {other:?}"),
        }
    }
    assert!(matches!(
        parse_response(b"HTTP/1.1 200 OK\r\nX: \xff\r\n\r\n", false),
        Err(HttpError::Malformed(_))
    ));
}

/// A one-shot loopback server that answers `reply` and hands back what it received.
fn serve(reply: &'static [u8]) -> (std::net::SocketAddr, std::thread::JoinHandle<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut got = vec![0; 4096];
        let n = stream.read(&mut got).unwrap();
        got.truncate(n);
        let _ = stream.write_all(reply);
        got
    });
    (addr, server)
}

#[test]
fn posts_with_length_and_reads_the_reply() {
    let (addr, server) = serve(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n{}\r\n");
    let request = Request::new("POST", "/wallet/w")
        .host("node:8332")
        .header("Authorization", "Basic X19jb29raWVfXzpw")
        .body(b"{\"id\":1}");
    let response = send(addr, &request, &Limits::default()).unwrap();
    assert_eq!(response.body, b"{}\r\n");
    let sent = String::from_utf8(server.join().unwrap()).unwrap();
    assert_eq!(
        sent,
        "POST /wallet/w HTTP/1.1\r\nHost: node:8332\r\nConnection: close\r\n\
         Authorization: Basic X19jb29raWVfXzpw\r\nContent-Length: 8\r\n\r\n{\"id\":1}"
    );
}

#[test]
fn limits_hold_against_a_flood_and_a_silent_server() {
    let flood: &'static [u8] = Box::leak(
        [b"HTTP/1.1 200 OK\r\n\r\n".as_slice(), &[b'x'; 100_000]]
            .concat()
            .into_boxed_slice(),
    );
    let (addr, _server) = serve(flood);
    let small = Limits {
        max_response: 10_000,
        ..Limits::default()
    };
    assert!(matches!(
        send(addr, &Request::new("GET", "/"), &small),
        Err(HttpError::TooLarge(10_000))
    ));

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let quick = Limits {
        timeout: Duration::from_millis(200),
        ..Limits::default()
    };
    assert!(matches!(
        send(addr, &Request::new("GET", "/"), &quick),
        Err(HttpError::Timeout(_))
    ));
    drop(listener);
    assert!(matches!(
        send(addr, &Request::new("GET", "/"), &quick),
        Err(HttpError::Io(_))
    ));
}
