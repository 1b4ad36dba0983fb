use harness::http::{get, request};
use harness::server::{
    csp_for_origin, ContentServer, CspOrigin, FakeChain, Inscription, ServerConfig, Store,
    CACHE_IMMUTABLE, CSP_RECURSIVE, CSP_SELF,
};

use crate::id;

const HTML: &str = "text/html;charset=utf-8";

/// Extra request headers of a table-driven case.
type Headers = &'static [(&'static str, &'static str)];

async fn server_with(config: ServerConfig) -> ContentServer {
    let mut store = Store::new();
    store.insert(id(1, 0), Inscription::new(HTML, "<p>hello</p>"));
    store.insert(
        id(2, 0),
        Inscription::brotli("text/javascript", b"export const x = 1;\n"),
    );
    store.insert(
        id(3, 0),
        Inscription {
            body: Some(vec![0u8, 1, 2]),
            ..Inscription::default()
        },
    );
    store.insert(
        id(4, 0),
        Inscription::new("text/plain;charset=utf-8", "child")
            .with_parent(id(1, 0))
            .with_metadata(vec![0xa1, 0x61, 0x61, 0x01]),
    );
    store.insert(id(5, 0), Inscription::new("image/png", vec![0x89, b'P']));
    ContentServer::start(store, config).await.unwrap()
}

async fn server() -> ContentServer {
    server_with(ServerConfig::default()).await
}

#[tokio::test]
async fn content_sends_both_csp_headers_and_ord_headers() {
    let s = server().await;
    let r = get(s.addr(), &format!("/content/{}", id(1, 0)), &[])
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header_all("content-security-policy"),
        vec![CSP_SELF, CSP_RECURSIVE]
    );
    assert_eq!(
        CSP_SELF,
        "default-src 'self' 'unsafe-eval' 'unsafe-inline' data: blob:"
    );
    assert_eq!(
        CSP_RECURSIVE,
        "default-src *:*/content/ *:*/blockheight *:*/blockhash *:*/blockhash/ *:*/blocktime *:*/r/ 'unsafe-eval' 'unsafe-inline' data: blob:"
    );
    assert_eq!(r.header("cache-control"), Some(CACHE_IMMUTABLE));
    assert_eq!(CACHE_IMMUTABLE, "public, max-age=1209600, immutable");
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    assert_eq!(r.header("content-type"), Some(HTML));
    assert_eq!(r.header("content-encoding"), None);
    assert_eq!(r.body, b"<p>hello</p>");
}

#[tokio::test]
async fn csp_origin_sends_one_header() {
    let s = server_with(ServerConfig {
        csp_origin: CspOrigin::Fixed("https://ordinals.com".into()),
        ..ServerConfig::default()
    })
    .await;
    let r = get(s.addr(), &format!("/content/{}", id(1, 0)), &[])
        .await
        .unwrap();
    assert_eq!(
        r.header_all("content-security-policy"),
        vec!["default-src https://ordinals.com/content/ https://ordinals.com/blockheight https://ordinals.com/blockhash https://ordinals.com/blockhash/ https://ordinals.com/blocktime https://ordinals.com/r/ 'unsafe-eval' 'unsafe-inline' data: blob:"]
    );

    let s = server_with(ServerConfig {
        csp_origin: CspOrigin::ServerOrigin,
        ..ServerConfig::default()
    })
    .await;
    let r = get(s.addr(), &format!("/content/{}", id(1, 0)), &[])
        .await
        .unwrap();
    let expected = csp_for_origin(s.origin());
    assert_eq!(
        r.header_all("content-security-policy"),
        vec![expected.as_str()]
    );
}

// ord src/subcommand/server.rs: the `SetResponseHeaderLayer::if_not_present` fallback is
// `default-src 'self'` whatever `--csp-origin` says; only r.rs `content_response` and the
// previews (server_config.rs `preview_content_security_policy`, 'self' replaced by the
// origin) name the origin. Errors (error.rs) and every other route set no policy.
#[tokio::test]
async fn csp_origin_only_on_content_and_previews() {
    const ORIGIN: &str = "https://ordinals.com";
    let s = server_with(ServerConfig {
        csp_origin: CspOrigin::Fixed(ORIGIN.into()),
        decompress: false,
        ..ServerConfig::default()
    })
    .await;
    let content_policy = csp_for_origin(ORIGIN);
    let with_origin: Vec<(String, Headers, u16, String)> = vec![
        (
            format!("/content/{}", id(1, 0)),
            &[],
            200,
            content_policy.clone(),
        ),
        (
            format!("/content/{}", id(2, 0)),
            &[("Accept-Encoding", "br")],
            200,
            content_policy.clone(),
        ),
        (
            format!("/r/undelegated-content/{}", id(1, 0)),
            &[],
            200,
            content_policy.clone(),
        ),
        (
            format!("/preview/{}", id(1, 0)),
            &[],
            200,
            content_policy.clone(),
        ),
        (
            format!("/preview/{}", id(5, 0)),
            &[],
            200,
            format!("default-src {ORIGIN} 'unsafe-inline'"),
        ),
        (
            format!("/preview/{}", id(4, 0)),
            &[],
            200,
            format!("default-src {ORIGIN}"),
        ),
    ];
    for (path, headers, status, policy) in &with_origin {
        let r = get(s.addr(), path, headers).await.unwrap();
        assert_eq!(r.status, *status, "{path}");
        assert_eq!(
            r.header_all("content-security-policy"),
            vec![policy.as_str()],
            "{path}"
        );
    }

    let missing = id(9, 0);
    let self_only: Vec<(String, Headers, u16)> = vec![
        (format!("/content/{missing}"), &[], 404),
        (format!("/preview/{missing}"), &[], 404),
        ("/content/not-an-id".into(), &[], 400),
        ("/r/blockhash/x".into(), &[], 400),
        (
            format!("/content/{}", id(2, 0)),
            &[("Accept-Encoding", "gzip")],
            406,
        ),
        ("/nowhere".into(), &[], 404),
        ("/blockhash".into(), &[], 200),
        ("/blockhash/1".into(), &[], 200),
        ("/blockheight".into(), &[], 200),
        ("/blocktime".into(), &[], 200),
        ("/r/blockhash".into(), &[], 200),
        ("/r/blockheight".into(), &[], 200),
        ("/r/blocktime".into(), &[], 200),
        (format!("/r/inscription/{}", id(1, 0)), &[], 200),
        (format!("/r/metadata/{}", id(4, 0)), &[], 200),
        (format!("/r/metadata/{}", id(1, 0)), &[], 404),
        (format!("/r/children/{}", id(1, 0)), &[], 200),
        (format!("/r/children/{}/inscriptions", id(1, 0)), &[], 200),
        (format!("/r/children/{}/inscriptions/1", id(1, 0)), &[], 200),
        (format!("/r/parents/{}", id(4, 0)), &[], 200),
        (format!("/explorer/{}", id(1, 0)), &[], 200),
    ];
    for (path, headers, status) in &self_only {
        let r = get(s.addr(), path, headers).await.unwrap();
        assert_eq!(r.status, *status, "{path}");
        assert_eq!(
            r.header_all("content-security-policy"),
            vec!["default-src 'self'"],
            "{path}"
        );
    }
}

#[tokio::test]
async fn bad_csp_origin_is_refused_at_start() {
    let config = ServerConfig {
        csp_origin: CspOrigin::Fixed("https://a\nb".into()),
        ..ServerConfig::default()
    };
    assert!(ContentServer::start(Store::new(), config).await.is_err());
}

#[tokio::test]
async fn untyped_is_octet_stream() {
    let s = server().await;
    let r = get(s.addr(), &format!("/content/{}", id(3, 0)), &[])
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/octet-stream"));
    assert_eq!(r.body, vec![0, 1, 2]);
}

// ord src/subcommand/server/r.rs: content_response (`Content-Encoding` only when
// acceptable, else decoded with `--decompress`, else 406) and
// src/subcommand/server/accept_encoding.rs: is_acceptable (the exact token before `;`,
// q-values and `*` ignored).
#[tokio::test]
async fn brotli_sent_encoded_only_when_accepted() {
    let s = server().await;
    let path = format!("/content/{}", id(2, 0));
    let encoded = Inscription::brotli("text/javascript", b"export const x = 1;\n")
        .body()
        .to_vec();

    for accept in [
        "gzip, deflate, br, zstd",
        "br",
        " br ",
        "gzip;q=1.0, br;q=0.5",
        // ord ignores q-values: `br;q=0` still matches.
        "br;q=0",
    ] {
        let r = get(s.addr(), &path, &[("Accept-Encoding", accept)])
            .await
            .unwrap();
        assert_eq!(r.status, 200, "{accept}");
        assert_eq!(r.header("content-encoding"), Some("br"), "{accept}");
        assert_eq!(r.header("content-type"), Some("text/javascript"));
        assert_eq!(
            r.header("content-length"),
            Some(&*encoded.len().to_string())
        );
        assert_eq!(r.body, encoded, "{accept}");
    }

    // `decompress: true` (ord's `--decompress`, the harness default): decoded here and
    // sent without `Content-Encoding`, with the same content headers.
    for accept in [
        None,
        Some("gzip"),
        Some("*"),
        Some("BR"),
        Some("gzip;br"),
        Some(""),
    ] {
        let headers: Vec<(&str, &str)> =
            accept.map(|a| ("Accept-Encoding", a)).into_iter().collect();
        let r = get(s.addr(), &path, &headers).await.unwrap();
        assert_eq!(r.status, 200, "{accept:?}");
        assert_eq!(r.header("content-encoding"), None, "{accept:?}");
        assert_eq!(r.header("content-type"), Some("text/javascript"));
        assert_eq!(r.header("cache-control"), Some(CACHE_IMMUTABLE));
        assert_eq!(r.body, b"export const x = 1;\n", "{accept:?}");
        assert_eq!(
            r.header_all("content-security-policy"),
            vec![CSP_SELF, CSP_RECURSIVE]
        );
    }
}

// ord src/subcommand/server/error.rs: ServerError::NotAcceptable's message, and r.rs
// content_response: without `--decompress` a `br` body the client does not accept is 406.
#[tokio::test]
async fn brotli_without_decompress_is_406_like_ord() {
    let s = server_with(ServerConfig {
        decompress: false,
        ..ServerConfig::default()
    })
    .await;
    let path = format!("/content/{}", id(2, 0));
    for (accept, message) in [
        (Some("gzip"), " `Accept-Encoding` header: `gzip`"),
        (
            Some("gzip, deflate"),
            " `Accept-Encoding` header: `gzip, deflate`",
        ),
        (Some("*"), " `Accept-Encoding` header: `*`"),
        (Some("BR"), " `Accept-Encoding` header: `BR`"),
        (Some(""), " `Accept-Encoding` header: ``"),
        (None, " `Accept-Encoding` header not present"),
    ] {
        let headers: Vec<(&str, &str)> =
            accept.map(|a| ("Accept-Encoding", a)).into_iter().collect();
        let r = get(s.addr(), &path, &headers).await.unwrap();
        assert_eq!(r.status, 406, "{accept:?}");
        assert_eq!(
            r.text(),
            format!("inscription content encoding `br` is not acceptable.{message}")
        );
        assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
        assert_eq!(r.header("content-encoding"), None);
        assert_eq!(r.header("cache-control"), None);
        assert_eq!(
            r.header_all("content-security-policy"),
            vec!["default-src 'self'"]
        );
    }
    // Accepted: sent as inscribed, whatever `decompress` says.
    let r = get(s.addr(), &path, &[("Accept-Encoding", "br")])
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-encoding"), Some("br"));

    // The encoding is judged before the body: no body is 404 only when acceptable.
    let empty = id(0x0e, 0);
    s.insert(
        empty,
        Inscription::default()
            .with_delegate(id(0x0f, 0))
            .with_content_encoding("br"),
    );
    let r = get(s.addr(), &format!("/r/undelegated-content/{empty}"), &[])
        .await
        .unwrap();
    assert_eq!(r.status, 406);
    let r = get(
        s.addr(),
        &format!("/r/undelegated-content/{empty}"),
        &[("Accept-Encoding", "br")],
    )
    .await
    .unwrap();
    assert_eq!(r.status, 404);
    assert_eq!(r.text(), format!("inscription {empty} content not found"));
}

// ord src/subcommand/server/r.rs: content_response maps a failed decode to
// ServerError::Internal, which error.rs sends as 500 with the bare reason phrase.
#[tokio::test]
async fn undecodable_brotli_with_decompress_is_500() {
    let s = server().await;
    let bad = id(0x0b, 0);
    s.insert(
        bad,
        Inscription::new("text/plain", b"not brotli at all".to_vec()).with_content_encoding("br"),
    );
    let r = get(s.addr(), &format!("/content/{bad}"), &[])
        .await
        .unwrap();
    assert_eq!(r.status, 500);
    assert_eq!(r.text(), "Internal Server Error");
    let r = get(
        s.addr(),
        &format!("/content/{bad}"),
        &[("Accept-Encoding", "br")],
    )
    .await
    .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"not brotli at all");
}

// ord src/subcommand/server.rs: the router and its layers have no `Service-Worker` rule
// (nor does anything under src/), so such a request is served like any other.
#[tokio::test]
async fn service_worker_header_is_served_normally() {
    let s = server().await;
    let plain = get(s.addr(), &format!("/content/{}", id(1, 0)), &[])
        .await
        .unwrap();
    let r = get(
        s.addr(),
        &format!("/content/{}", id(1, 0)),
        &[("Service-Worker", "script")],
    )
    .await
    .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header_all("content-security-policy"),
        vec![CSP_SELF, CSP_RECURSIVE]
    );
    assert_eq!(r.header("cache-control"), Some(CACHE_IMMUTABLE));
    assert_eq!(r.header("content-type"), Some(HTML));
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    assert_eq!(r.body, plain.body);
    let r = get(s.addr(), "/r/blockheight", &[("Service-Worker", "script")])
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "840000");
}

#[tokio::test]
async fn preview_of_html_is_content() {
    let s = server().await;
    let content = get(s.addr(), &format!("/content/{}", id(1, 0)), &[])
        .await
        .unwrap();
    let preview = get(s.addr(), &format!("/preview/{}", id(1, 0)), &[])
        .await
        .unwrap();
    assert_eq!(preview.status, 200);
    let strip_date = |h: &[(String, String)]| -> Vec<(String, String)> {
        h.iter().filter(|(n, _)| n != "date").cloned().collect()
    };
    assert_eq!(strip_date(&preview.headers), strip_date(&content.headers));
    assert_eq!(preview.body, content.body);

    // Non-HTML previews are ord's wrapper pages, with the policy ord gives that kind of
    // media (ord src/subcommand/server/server_config.rs: preview_content_security_policy).
    for (n, policy) in [
        (5, "default-src 'self' 'unsafe-inline'"),
        (4, "default-src 'self'"),
        (2, "script-src-elem 'self' https://cdn.jsdelivr.net"),
        (3, "default-src 'self'"),
    ] {
        let r = get(s.addr(), &format!("/preview/{}", id(n, 0)), &[])
            .await
            .unwrap();
        assert_eq!(r.status, 200, "{n}");
        assert_eq!(r.header("content-security-policy"), Some(policy), "{n}");
    }
}

#[tokio::test]
async fn explorer_embeds_sandboxed_preview() {
    let s = server().await;
    let r = get(s.addr(), &format!("/explorer/{}", id(1, 0)), &[])
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    assert!(r.text().contains(&format!(
        "<iframe sandbox=allow-scripts scrolling=no width=640 height=480 src=/preview/{}>",
        id(1, 0)
    )));
}

#[tokio::test]
async fn block_routes() {
    let mut chain = FakeChain {
        height: 7,
        blocktime: 1_700_000_000,
        ..FakeChain::default()
    };
    chain.hashes.insert(7, "ab".repeat(32));
    let s = server_with(ServerConfig {
        chain,
        ..ServerConfig::default()
    })
    .await;
    let cases: &[(&str, u16, &str, &str)] = &[
        ("/blockheight", 200, "text/plain; charset=utf-8", "7"),
        ("/r/blockheight", 200, "text/plain; charset=utf-8", "7"),
        ("/blocktime", 200, "text/plain; charset=utf-8", "1700000000"),
        (
            "/r/blocktime",
            200,
            "text/plain; charset=utf-8",
            "1700000000",
        ),
        (
            "/blockhash",
            200,
            "text/plain; charset=utf-8",
            &"ab".repeat(32),
        ),
        (
            "/r/blockhash",
            200,
            "application/json",
            &format!("\"{}\"", "ab".repeat(32)),
        ),
        (
            "/blockhash/3",
            200,
            "text/plain; charset=utf-8",
            &format!("{:064x}", 3),
        ),
        (
            "/r/blockhash/3",
            200,
            "application/json",
            &format!("\"{:064x}\"", 3),
        ),
        (
            "/r/blockhash/8",
            404,
            "text/plain; charset=utf-8",
            "blockhash not found",
        ),
    ];
    for (path, status, content_type, body) in cases {
        let r = get(s.addr(), path, &[]).await.unwrap();
        assert_eq!(r.status, *status, "{path}");
        assert_eq!(r.header("content-type"), Some(*content_type), "{path}");
        assert_eq!(r.text(), *body, "{path}");
        assert_eq!(r.header("access-control-allow-origin"), Some("*"), "{path}");
        assert_eq!(
            r.header("content-security-policy"),
            Some("default-src 'self'"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn recursive_inscription_routes() {
    let s = server().await;
    let parent = id(1, 0);
    let child = id(4, 0);

    let r = get(s.addr(), &format!("/r/children/{parent}"), &[])
        .await
        .unwrap();
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(
        r.text(),
        format!("{{\"ids\":[\"{child}\"],\"more\":false,\"page\":0}}")
    );
    let r = get(s.addr(), &format!("/r/children/{parent}/1"), &[])
        .await
        .unwrap();
    assert_eq!(r.text(), "{\"ids\":[],\"more\":false,\"page\":1}");

    // ord's parents route names its page field `page_index`.
    let r = get(s.addr(), &format!("/r/parents/{child}"), &[])
        .await
        .unwrap();
    assert_eq!(
        r.text(),
        format!("{{\"ids\":[\"{parent}\"],\"more\":false,\"page_index\":0}}")
    );
    let r = get(s.addr(), &format!("/r/parents/{parent}"), &[])
        .await
        .unwrap();
    assert_eq!(r.text(), "{\"ids\":[],\"more\":false,\"page_index\":0}");

    let r = get(s.addr(), &format!("/r/metadata/{child}"), &[])
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "\"a1616101\"");
    let r = get(s.addr(), &format!("/r/metadata/{parent}"), &[])
        .await
        .unwrap();
    assert_eq!(r.status, 404);
    assert_eq!(r.header("cache-control"), Some("no-store"));

    let r = get(s.addr(), &format!("/r/inscription/{child}"), &[])
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(v["id"], child.to_string());
    assert_eq!(v["content_type"], "text/plain;charset=utf-8");
    assert_eq!(v["content_length"], 5);
    assert_eq!(v["number"], 3);
    // Not read from a reveal: the fake tip's height and time, made-up place and value, no
    // fee (ord src/api.rs InscriptionRecursive: `fee` and `height` are plain numbers).
    assert_eq!(v["height"], 840_000);
    assert_eq!(v["timestamp"], 1_713_571_767);
    assert_eq!(v["fee"], 0);
    assert_eq!(v["output"], format!("{}:0", child.txid));
    assert_eq!(v["satpoint"], format!("{}:0:0", child.txid));
    assert_eq!(v["value"], 10_000);
    assert_eq!(v["address"], serde_json::Value::Null);
    assert_eq!(v["sat"], serde_json::Value::Null);

    let r = get(s.addr(), &format!("/r/undelegated-content/{parent}"), &[])
        .await
        .unwrap();
    assert_eq!(r.body, b"<p>hello</p>");
    assert_eq!(r.header_all("content-security-policy").len(), 2);
}

/// ord 0.27 `r::children_inscriptions_paginated`: `{children, more, page}`, 100 a page in
/// ascending inscription number, each child with the fields of ord's
/// `RelativeInscriptionRecursive` and no others; 404 for a parent that is not inscribed, 400
/// for a page that is not a number (issue 15: pages find child relay lists this way).
#[tokio::test]
async fn child_inscriptions_are_paged_like_ord() {
    let mut store = Store::new();
    let parent = id(1, 0);
    store.insert(parent, Inscription::new("text/plain;charset=utf-8", "list"));
    for n in 0..150u8 {
        let child = Inscription::new("text/plain;charset=utf-8", format!("# version {n}"));
        store.insert(id(2, u32::from(n)), child.with_parent(parent));
    }
    // Not a child: names no parent.
    store.insert(id(3, 0), Inscription::new("text/plain;charset=utf-8", "x"));
    let s = ContentServer::start(store, ServerConfig::default())
        .await
        .unwrap();

    let addr = s.addr();
    let page = |path: String| async move {
        let r = get(addr, &path, &[]).await.unwrap();
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_eq!(
            r.header_all("content-security-policy"),
            vec!["default-src 'self'"]
        );
        serde_json::from_slice::<serde_json::Value>(&r.body).unwrap()
    };
    let first = page(format!("/r/children/{parent}/inscriptions")).await;
    assert_eq!(
        first,
        page(format!("/r/children/{parent}/inscriptions/0")).await
    );
    let keys: Vec<&String> = first.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["children", "more", "page"]);
    assert_eq!(
        (first["more"].as_bool(), first["page"].as_u64()),
        (Some(true), Some(0))
    );
    let children = first["children"].as_array().unwrap();
    assert_eq!(children.len(), 100);
    let fields: Vec<&String> = children[0].as_object().unwrap().keys().collect();
    assert_eq!(
        fields,
        [
            "charms",
            "fee",
            "height",
            "id",
            "number",
            "output",
            "sat",
            "satpoint",
            "timestamp"
        ]
    );
    assert_eq!(children[0]["id"], id(2, 0).to_string());
    assert_eq!(children[0]["height"], 840_000);
    let numbers: Vec<i64> = children
        .iter()
        .map(|c| c["number"].as_i64().unwrap())
        .collect();
    assert!(numbers.windows(2).all(|w| w[0] < w[1]), "{numbers:?}");

    let second = page(format!("/r/children/{parent}/inscriptions/1")).await;
    assert_eq!(
        (second["more"].as_bool(), second["page"].as_u64()),
        (Some(false), Some(1))
    );
    let last = second["children"].as_array().unwrap();
    assert_eq!(last.len(), 50);
    assert_eq!(last[49]["id"], id(2, 149).to_string());
    // The ids route lists the same children in the same order.
    let ids = page(format!("/r/children/{parent}/1")).await;
    let same: Vec<&serde_json::Value> = last.iter().map(|c| &c["id"]).collect();
    assert_eq!(
        ids["ids"].as_array().unwrap().iter().collect::<Vec<_>>(),
        same
    );
    let empty = page(format!("/r/children/{}/inscriptions", id(3, 0))).await;
    assert_eq!(
        empty,
        serde_json::json!({"children": [], "more": false, "page": 0})
    );

    let r = get(
        s.addr(),
        &format!("/r/children/{}/inscriptions", id(9, 0)),
        &[],
    )
    .await
    .unwrap();
    assert_eq!(r.status, 404);
    let r = get(
        s.addr(),
        &format!("/r/children/{parent}/inscriptions/x"),
        &[],
    )
    .await
    .unwrap();
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn everything_else_is_404() {
    let s = server().await;
    let missing = id(9, 0);
    for path in [
        format!("/r/content/{}", id(1, 0)),
        format!("/content/{missing}"),
        format!("/r/inscription/{missing}"),
        format!("/r/children/{missing}"),
        "/".into(),
        "/favicon.ico".into(),
        "/r/sat/1".into(),
    ] {
        let r = get(s.addr(), &path, &[]).await.unwrap();
        assert_eq!(r.status, 404, "{path}");
    }
    let r = get(s.addr(), "/content/not-an-id", &[]).await.unwrap();
    assert_eq!(r.status, 400);
    let r = request(
        s.addr(),
        "POST",
        &format!("/content/{}", id(1, 0)),
        &[("Content-Length", "0")],
    )
    .await
    .unwrap();
    assert_eq!(r.status, 405);
}

// ord src/subcommand/server.rs: `CorsLayer::new().allow_methods([GET, POST])
// .allow_headers([CONTENT_TYPE]).allow_origin(Any)` wraps the router and the CSP/HSTS
// layers; tower-http 0.6 (cors/mod.rs) answers every OPTIONS itself as a preflight.
#[tokio::test]
async fn options_is_a_cors_preflight_without_csp_or_hsts() {
    let s = server_with(ServerConfig {
        csp_origin: CspOrigin::Fixed("https://ordinals.com".into()),
        ..ServerConfig::default()
    })
    .await;
    let preflight: Headers = &[
        ("Origin", "https://example.com"),
        ("Access-Control-Request-Method", "GET"),
    ];
    for path in [
        format!("/content/{}", id(1, 0)),
        format!("/content/{}", id(9, 0)),
        "/r/blockheight".into(),
        format!("/r/inscription/{}", id(1, 0)),
        "/nowhere".into(),
    ] {
        for headers in [preflight, &[]] {
            let r = request(s.addr(), "OPTIONS", &path, headers).await.unwrap();
            assert_eq!(r.status, 200, "{path} {headers:?}");
            assert_eq!(r.header("access-control-allow-origin"), Some("*"));
            assert_eq!(r.header("access-control-allow-methods"), Some("GET,POST"));
            assert_eq!(
                r.header("access-control-allow-headers"),
                Some("content-type")
            );
            assert_eq!(
                r.header("vary"),
                Some("origin, access-control-request-method, access-control-request-headers")
            );
            assert_eq!(r.header_all("content-security-policy").len(), 0, "{path}");
            assert_eq!(r.header_all("strict-transport-security").len(), 0, "{path}");
            assert_eq!(r.header_all("cache-control").len(), 0, "{path}");
            assert!(r.body.is_empty(), "{path}");
        }
    }
}

// ord serves HEAD through axum's GET routes: axum routing/route.rs sets `content-length`
// from the body and then drops the body, so HEAD has GET's headers and no body.
#[tokio::test]
async fn head_has_get_headers_and_length_without_body() {
    let s = server().await;
    let strip_date = |h: &[(String, String)]| -> Vec<(String, String)> {
        h.iter().filter(|(n, _)| n != "date").cloned().collect()
    };
    let cases: Vec<(String, Headers)> = vec![
        (format!("/content/{}", id(1, 0)), &[]),
        (
            format!("/content/{}", id(2, 0)),
            &[("Accept-Encoding", "br")],
        ),
        (format!("/content/{}", id(2, 0)), &[]),
        (format!("/preview/{}", id(5, 0)), &[]),
        (format!("/r/inscription/{}", id(4, 0)), &[]),
        ("/r/blockheight".into(), &[]),
        (format!("/content/{}", id(9, 0)), &[]),
        ("/content/x".into(), &[]),
    ];
    for (path, headers) in cases {
        let got = get(s.addr(), &path, headers).await.unwrap();
        let head = request(s.addr(), "HEAD", &path, headers).await.unwrap();
        assert_eq!(head.status, got.status, "{path}");
        assert!(!got.body.is_empty(), "{path}");
        assert_eq!(
            head.header("content-length"),
            Some(&*got.body.len().to_string()),
            "{path}"
        );
        assert_eq!(
            strip_date(&head.headers),
            strip_date(&got.headers),
            "{path}"
        );
        assert!(head.body.is_empty(), "{path}");
    }
}

#[tokio::test]
async fn insert_while_running() {
    let s = server().await;
    let late = id(7, 3);
    let r = get(s.addr(), &format!("/content/{late}"), &[])
        .await
        .unwrap();
    assert_eq!(r.status, 404);
    s.insert(late, Inscription::new("text/css", "p{}"));
    let r = get(s.addr(), &format!("/content/{late}"), &[])
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/css"));
}

#[tokio::test]
async fn loads_a_folder() {
    let dir = tempfile::tempdir().unwrap();
    let a = id(0xaa, 0);
    let b = id(0xbb, 1);
    let c = id(0xcc, 0);
    let d = id(0xdd, 2);
    std::fs::write(dir.path().join(format!("{a}.html")), "<b>a</b>").unwrap();
    std::fs::write(dir.path().join(format!("{b}")), "raw").unwrap();
    std::fs::write(
        dir.path().join(format!("{b}.type")),
        "text/plain;charset=utf-8\n",
    )
    .unwrap();
    std::fs::write(dir.path().join(format!("{b}.parents")), format!("{a}\n")).unwrap();
    std::fs::write(dir.path().join(format!("{b}.metadata")), [0xa0]).unwrap();
    let br = Inscription::brotli("text/javascript", b"1");
    std::fs::write(dir.path().join(format!("{c}.js")), br.body()).unwrap();
    std::fs::write(dir.path().join(format!("{c}.encoding")), "br").unwrap();
    std::fs::write(dir.path().join(format!("{d}")), [7u8]).unwrap();
    std::fs::write(dir.path().join("README.md"), "ignored").unwrap();

    let store = Store::load_dir(dir.path()).unwrap();
    assert_eq!(store.len(), 4);
    let ia = store.get(&a).unwrap();
    assert_eq!(ia.content_type(), Some("text/html;charset=utf-8"));
    let ib = store.get(&b).unwrap();
    assert_eq!(ib.content_type(), Some("text/plain;charset=utf-8"));
    assert_eq!(ib.parent_ids(), [a]);
    assert_eq!(ib.metadata.as_deref(), Some(&[0xa0][..]));
    let ic = store.get(&c).unwrap();
    assert_eq!(ic.content_type(), Some("text/javascript"));
    assert_eq!(ic.content_encoding(), Some("br"));
    assert_eq!(ic.body(), br.body());
    assert_eq!(store.get(&d).unwrap().content_type(), None);
    assert_eq!(store.children(&a), vec![b]);

    std::fs::write(dir.path().join(format!("{a}")), "dup").unwrap();
    assert!(Store::load_dir(dir.path()).is_err());
}

/// ord's brotli has one home: what `publish` inscribes (`compress_brotli_for`), the bundle's
/// size report and this server's `Inscription::brotli` are the same bytes, and the server
/// sends them as stored.
#[tokio::test]
async fn publish_bundle_and_server_brotli_alike() {
    let txt = bootstrap_codec::RelayTxt::parse(&fixtures::read("relay/relay.txt"));
    let entries: Vec<_> = txt.entries.into_iter().map(|e| e.entry).collect();
    let bundle = sandbox_runtime::bundle(&entries).unwrap();
    let js = bundle.js.as_bytes();
    let content_type = sandbox_runtime::Bundle::CONTENT_TYPE;
    let published = inscription::compress_brotli_for(content_type, js).unwrap();
    assert_eq!(published.content_encoding, Some("br"));
    assert_eq!(bundle.compressed, published);
    assert_eq!(bundle.brotli_len, published.body.len());
    assert_eq!(Inscription::brotli(content_type, js).body(), published.body);

    let (lib, page) = (id(0x61, 0), id(0x62, 0));
    let s = ContentServer::start_page_with_library(lib, js, page, "<p>page</p>")
        .await
        .unwrap();
    let r = get(
        s.addr(),
        &format!("/content/{lib}"),
        &[("Accept-Encoding", "br")],
    )
    .await
    .unwrap();
    assert_eq!(r.header("content-encoding"), Some("br"));
    assert_eq!(r.body, published.body);

    // Every mode of ord's table: text, font, generic, and a type ord does not list.
    let text = "<p>lumamesh</p>\n".repeat(64).into_bytes();
    for content_type in [
        HTML,
        "image/svg+xml",
        "font/woff2",
        "image/png",
        "x/unknown",
    ] {
        let published = inscription::compress_brotli_for(content_type, &text).unwrap();
        assert_eq!(published.content_encoding, Some("br"), "{content_type}");
        let stored = Inscription::brotli(content_type, &text);
        assert_eq!(stored.body(), published.body, "{content_type}");
    }
}
