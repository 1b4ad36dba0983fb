//! Request → response, mirroring ord's router and its layers.

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use serde::Serialize;

use bitcoin::hashes::Hash;
use bitcoin::OutPoint;
use inscription::{jubilee_height, Media};

use super::store::{Entry, Place};
use super::{Body, CspOrigin, Inscription, State, Store};
use crate::InscriptionId;

/// ord's two headers without `--csp-origin`.
pub const CSP_SELF: &str = "default-src 'self' 'unsafe-eval' 'unsafe-inline' data: blob:";
/// The second of ord's two headers.
pub const CSP_RECURSIVE: &str = "default-src *:*/content/ *:*/blockheight *:*/blockhash *:*/blockhash/ *:*/blocktime *:*/r/ 'unsafe-eval' 'unsafe-inline' data: blob:";
/// ord's `Cache-Control` for content.
pub const CACHE_IMMUTABLE: &str = "public, max-age=1209600, immutable";

/// The single header ord sends with `--csp-origin ORIGIN`.
pub fn csp_for_origin(origin: &str) -> String {
    format!(
        "default-src {origin}/content/ {origin}/blockheight {origin}/blockhash {origin}/blockhash/ {origin}/blocktime {origin}/r/ 'unsafe-eval' 'unsafe-inline' data: blob:"
    )
}

const PAGE_SIZE: usize = 100;

type Resp = Response<Body>;
/// A finished error response; boxed to keep `Result`s small.
type Reject = Box<Resp>;

pub(crate) fn respond<B>(state: &State, request: &Request<B>) -> Resp {
    if request.method() == Method::OPTIONS {
        return preflight();
    }
    let mut response = route(state, request);
    finish(&mut response);
    // axum (routing/route.rs) sets `Content-Length` from the body of every response, and
    // for HEAD (served by the GET handler) drops the body afterwards, so HEAD reports the
    // length GET sends.
    let length = hyper::body::Body::size_hint(response.body()).exact();
    if let Some(length) = length {
        response
            .headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    }
    if request.method() == Method::HEAD {
        *response.body_mut() = Full::new(Bytes::new());
    }
    response
}

/// ord's `CorsLayer` (tower-http 0.6, `allow_methods([GET, POST])`,
/// `allow_headers([CONTENT_TYPE])`, `allow_origin(Any)`) answers every OPTIONS request
/// itself, with or without `Access-Control-Request-Method`, before the router and the
/// CSP and HSTS layers that sit inside it: 200, an empty body, only the CORS headers.
fn preflight() -> Resp {
    let mut response = status(StatusCode::OK);
    let headers = response.headers_mut();
    headers.insert(
        header::VARY,
        HeaderValue::from_static(
            "origin, access-control-request-method, access-control-request-headers",
        ),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET,POST"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("content-type"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}

fn route<B>(state: &State, request: &Request<B>) -> Resp {
    let method = request.method();
    if method != Method::GET && method != Method::HEAD {
        let mut response = status(StatusCode::METHOD_NOT_ALLOWED);
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET,HEAD"));
        return response;
    }

    // A poisoned lock only means another handler panicked; the map is intact.
    let store = state.store.read().unwrap_or_else(|e| e.into_inner());
    let accept_encoding = request
        .headers()
        .get(header::ACCEPT_ENCODING)
        .map(|v| v.to_str().unwrap_or_default().to_owned());
    let path = request.uri().path();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let chain = &state.config.chain;

    let result = match segments.as_slice() {
        ["content", id] => with_inscription(&store, id, |i| {
            let i = delegated(&store, id, i)?;
            content(state, id, i, accept_encoding.as_deref())
        }),
        ["r", "undelegated-content", id] => with_inscription(&store, id, |i| {
            content(state, id, i, accept_encoding.as_deref())
        }),
        ["preview", id] => with_inscription(&store, id, |i| {
            let i = delegated(&store, id, i)?;
            if media(i) == Media::Iframe {
                content(state, id, i, accept_encoding.as_deref())
            } else {
                Ok(preview_placeholder(state, id, i))
            }
        }),
        ["explorer", id] => parse_id(id).map(|id| explorer(&id)),
        ["blockheight"] | ["r", "blockheight"] => Ok(text(chain.height.to_string())),
        ["blocktime"] | ["r", "blocktime"] => Ok(text(chain.blocktime.to_string())),
        ["blockhash"] => block_hash(state, Some(chain.height)).map(text),
        ["blockhash", h] => parse_height(h)
            .and_then(|h| block_hash(state, Some(h)))
            .map(text),
        ["r", "blockhash"] => block_hash(state, Some(chain.height)).map(|h| json(&h)),
        ["r", "blockhash", h] => parse_height(h)
            .and_then(|h| block_hash(state, Some(h)))
            .map(|h| json(&h)),
        ["r", "inscription", id] => {
            parse_id(id).and_then(|id| inscription_json(state, &store, &id))
        }
        ["r", "metadata", id] => with_inscription(&store, id, |i| match &i.metadata {
            Some(cbor) => Ok(json(&hex::encode(cbor))),
            None => Err(not_found(format!("inscription {id} metadata not found"))),
        }),
        ["r", "children", id, "inscriptions"] => child_inscriptions(state, &store, id, "0"),
        ["r", "children", id, "inscriptions", page] => child_inscriptions(state, &store, id, page),
        ["r", "children", id] => children(&store, id, "0"),
        ["r", "children", id, page] => children(&store, id, page),
        ["r", "parents", id] => parents(&store, id, "0"),
        ["r", "parents", id, page] => parents(&store, id, page),
        _ => Err(Box::new(status(StatusCode::NOT_FOUND))),
    };
    result.unwrap_or_else(|response| *response)
}

/// ord's outer layers: CSP if absent, HSTS, CORS. The fallback policy is always
/// `default-src 'self'`, with or without `--csp-origin` (ord's `SetResponseHeaderLayer`
/// in `src/subcommand/server.rs`): only the handlers that set their own policy (content,
/// previews) name the origin.
fn finish(response: &mut Resp) {
    let headers = response.headers_mut();
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'self'"),
        );
    }
    headers.insert(
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static("max-age=31536000; includeSubDomains; preload"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.append(
        header::VARY,
        HeaderValue::from_static(
            "origin, access-control-request-method, access-control-request-headers",
        ),
    );
}

fn origin(state: &State) -> Option<&str> {
    match &state.config.csp_origin {
        CspOrigin::None => None,
        CspOrigin::Fixed(origin) => Some(origin),
        CspOrigin::ServerOrigin => Some(&state.origin),
    }
}

/// Values here are validated when the server starts (CSP origin) or by
/// [`content_encoding`]; an unrepresentable one is sent empty.
fn header_value(value: &str) -> HeaderValue {
    HeaderValue::from_str(value).unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn status(code: StatusCode) -> Resp {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = code;
    response
}

fn with_body(code: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Resp {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = code;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

fn text(body: String) -> Resp {
    with_body(StatusCode::OK, "text/plain; charset=utf-8", body)
}

fn json<T: Serialize>(value: &T) -> Resp {
    // Serializing plain data structs to a Vec cannot fail.
    let body = serde_json::to_vec(value).expect("serialize JSON");
    with_body(StatusCode::OK, "application/json", body)
}

/// ord's `ServerError::NotFound`: 404, `no-store`, a plain-text message.
fn not_found(message: String) -> Reject {
    let mut response = with_body(StatusCode::NOT_FOUND, "text/plain; charset=utf-8", message);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Box::new(response)
}

/// axum's path rejection for a segment that does not parse.
fn bad_path(segment: &str, what: &str) -> Reject {
    Box::new(with_body(
        StatusCode::BAD_REQUEST,
        "text/plain; charset=utf-8",
        format!("Invalid URL: Cannot parse `{segment}` to a `{what}`"),
    ))
}

fn parse_id(segment: &str) -> Result<InscriptionId, Reject> {
    segment
        .parse()
        .map_err(|_| bad_path(segment, "InscriptionId"))
}

fn parse_height(segment: &str) -> Result<u32, Reject> {
    segment.parse().map_err(|_| bad_path(segment, "u32"))
}

fn with_inscription<T>(
    store: &Store,
    segment: &str,
    f: impl FnOnce(&Inscription) -> Result<T, Reject>,
) -> Result<T, Reject> {
    let id = parse_id(segment)?;
    match store.get(&id) {
        Some(inscription) => f(inscription),
        None => Err(not_found(format!("inscription {id} not found"))),
    }
}

/// ord's `content_inner`: an inscription with a delegate serves the delegate's content
/// (one level, as ord), and 404 `delegate <id> not found` if there is no such inscription.
fn delegated<'a>(
    store: &'a Store,
    id: &str,
    inscription: &'a Inscription,
) -> Result<&'a Inscription, Reject> {
    match inscription.delegate_id() {
        None => Ok(inscription),
        Some(delegate) => store
            .get(&delegate)
            .ok_or_else(|| not_found(format!("delegate {id} not found"))),
    }
}

fn block_hash(state: &State, height: Option<u32>) -> Result<String, Reject> {
    height
        .and_then(|h| state.config.chain.block_hash(h))
        .ok_or_else(|| not_found("blockhash not found".to_owned()))
}

/// ord's `Inscription::content_encoding`: the tag's value if it can be a header value,
/// a value that is not UTF-8 counting as empty.
fn content_encoding(inscription: &Inscription) -> Option<&str> {
    let raw = inscription.content_encoding.as_deref()?;
    let encoding = std::str::from_utf8(raw).unwrap_or_default();
    HeaderValue::from_str(encoding).is_ok().then_some(encoding)
}

/// ord's `r::content_response`; `id` is the requested inscription, for the 404 ord sends
/// when the inscription served has no body.
fn content(
    state: &State,
    id: &str,
    inscription: &Inscription,
    accept: Option<&str>,
) -> Result<Resp, Reject> {
    let encoding = content_encoding(inscription);
    if inscription.body.is_none() {
        // ord checks the body after the encoding; both paths end in this 404 when the
        // encoding is acceptable or decompressible.
        let acceptable = encoding.is_none_or(|encoding| {
            is_acceptable(accept, encoding) || (state.config.decompress && encoding == "br")
        });
        if acceptable {
            return Err(not_found(format!("inscription {id} content not found")));
        }
    }
    let mut headers = HeaderMap::new();
    match origin(state) {
        None => {
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CSP_SELF),
            );
            headers.append(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CSP_RECURSIVE),
            );
        }
        Some(origin) => {
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                header_value(&csp_for_origin(origin)),
            );
        }
    }
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_IMMUTABLE),
    );
    headers.insert(
        header::CONTENT_TYPE,
        inscription
            .content_type()
            .and_then(|t| HeaderValue::from_str(t).ok())
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );

    let mut body = Bytes::copy_from_slice(inscription.body());
    if let Some(encoding) = encoding {
        if is_acceptable(accept, encoding) {
            headers.insert(header::CONTENT_ENCODING, header_value(encoding));
        } else if state.config.decompress && encoding == "br" {
            // A body that does not decode is ord's `ServerError::Internal`: 500 with the
            // bare reason phrase.
            let decompressed = match inscription::decompress_brotli(&body) {
                Ok(decompressed) => decompressed,
                Err(e) => {
                    tracing::warn!("content server: brotli body of {id} does not decode: {e}");
                    return Err(Box::new(with_body(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "text/plain; charset=utf-8",
                        "Internal Server Error",
                    )));
                }
            };
            body = decompressed.into();
        } else {
            let mut message =
                format!("inscription content encoding `{encoding}` is not acceptable.");
            match accept {
                Some(accept) => message.push_str(&format!(" `Accept-Encoding` header: `{accept}`")),
                None => message.push_str(" `Accept-Encoding` header not present"),
            }
            return Err(Box::new(with_body(
                StatusCode::NOT_ACCEPTABLE,
                "text/plain; charset=utf-8",
                message,
            )));
        }
    }
    let mut response = Response::new(Full::new(body));
    *response.headers_mut() = headers;
    Ok(response)
}

/// ord's `AcceptEncoding::is_acceptable`: an exact token match, q-values ignored.
fn is_acceptable(accept: Option<&str>, encoding: &str) -> bool {
    accept
        .unwrap_or_default()
        .split(',')
        .any(|value| value.split(';').next().unwrap_or_default().trim() == encoding)
}

/// ord's `ServerConfig::preview_content_security_policy` (`server_config.rs`): the
/// policy of the preview page for each kind of media, with `'self'` replaced by the
/// `--csp-origin` if there is one.
fn preview_csp(state: &State, inscription: &Inscription) -> String {
    let policy = match media(inscription) {
        // An iframe preview serves the content itself, with the content's policy.
        Media::Audio | Media::Iframe | Media::Text | Media::Unknown | Media::Video => {
            "default-src 'self'"
        }
        Media::Code | Media::Markdown | Media::Pdf => {
            "script-src-elem 'self' https://cdn.jsdelivr.net"
        }
        Media::Font => "script-src-elem 'self'; style-src 'self' 'unsafe-inline'",
        Media::Image => "default-src 'self' 'unsafe-inline'",
        Media::Model => "script-src-elem 'self' https://ajax.googleapis.com",
    };
    match origin(state) {
        Some(origin) => policy.replace("'self'", origin),
        None => policy.to_owned(),
    }
}

/// ord's `Inscription::media`: no body or no (UTF-8) content type is unknown, otherwise
/// ord's media table decides.
fn media(inscription: &Inscription) -> Media {
    match (&inscription.body, inscription.content_type()) {
        (Some(_), Some(content_type)) => Media::for_content_type(content_type),
        _ => Media::Unknown,
    }
}

fn preview_placeholder(state: &State, id: &str, inscription: &Inscription) -> Resp {
    let mut response = with_body(
        StatusCode::OK,
        "text/html; charset=utf-8",
        format!(
            "<!doctype html><html><body><a href=/content/{id}>/content/{id}</a></body></html>\n"
        ),
    );
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        header_value(&preview_csp(state, inscription)),
    );
    response
}

fn explorer(id: &InscriptionId) -> Resp {
    with_body(
        StatusCode::OK,
        "text/html; charset=utf-8",
        format!(
            "<!doctype html>\n<html lang=en>\n<head><meta charset=utf-8><title>Inscription {id}</title></head>\n<body>\n<h1>Inscription {id}</h1>\n<iframe sandbox=allow-scripts scrolling=no width=640 height=480 src=/preview/{id}></iframe>\n</body>\n</html>\n"
        ),
    )
}

/// ord's `api::RelativeInscriptionRecursive`: what `/r/children/<id>/inscriptions` lists of
/// each child, the fields of [`InscriptionRecursive`] that do not describe the content.
#[derive(Serialize)]
struct RelativeInscriptionRecursive {
    charms: Vec<String>,
    fee: u64,
    height: u32,
    id: InscriptionId,
    number: i64,
    output: String,
    sat: Option<u64>,
    satpoint: String,
    timestamp: i64,
}

#[derive(Serialize)]
struct InscriptionRecursive {
    charms: Vec<String>,
    content_type: Option<String>,
    content_length: Option<usize>,
    delegate: Option<InscriptionId>,
    fee: u64,
    height: u32,
    id: InscriptionId,
    number: i64,
    output: String,
    sat: Option<u64>,
    satpoint: String,
    timestamp: i64,
    value: Option<u64>,
    address: Option<String>,
}

/// ord's charm names for what the store knows, in ord's `Charm::ALL` order:
/// `reinscription`, `cursed` before the jubilee, `unbound`, `vindicated` after it, and
/// `burned` on an `OP_RETURN` output.
fn charms(entry: &Entry, height: u32, network: bitcoin::Network) -> Vec<String> {
    let jubilant = height >= jubilee_height(network);
    let cursed = entry.cursed();
    let reinscription = entry
        .revealed
        .as_ref()
        .is_some_and(|revealed| revealed.reinscription);
    let burned = matches!(
        entry.place(),
        Some(Place::Output { txout, .. }) if txout.script_pubkey.is_op_return()
    );
    [
        ("reinscription", reinscription),
        ("cursed", cursed && !jubilant),
        ("unbound", entry.unbound()),
        ("vindicated", cursed && jubilant),
        ("burned", burned),
    ]
    .into_iter()
    .filter(|(_, set)| *set)
    .map(|(name, _)| name.to_owned())
    .collect()
}

/// ord's `r::inscription` (`src/subcommand/server/r.rs`). For an inscription read from a
/// reveal: `output`/`satpoint` where the store's index put it, `value` and `address` (for
/// the server's network) of that output, and the fee when the spent values are known.
/// `height` and `timestamp` are the fake chain's tip. See the crate README for what is
/// sent when something is not known.
fn inscription_json(state: &State, store: &Store, id: &InscriptionId) -> Result<Resp, Reject> {
    Ok(json(&recursive(state, store, id)?))
}

/// [`inscription_json`]'s value.
fn recursive(
    state: &State,
    store: &Store,
    id: &InscriptionId,
) -> Result<InscriptionRecursive, Reject> {
    let entry = store
        .entry(id)
        .ok_or_else(|| not_found(format!("inscription {id} not found")))?;
    let inscription = &entry.inscription;
    let chain = &state.config.chain;
    let network = state.config.network;
    let placeholder = OutPoint::new(id.txid, 0);
    let (output, satpoint, value, address) = match entry.place() {
        Some(Place::Output {
            outpoint,
            offset,
            txout,
        }) => (
            *outpoint,
            format!("{outpoint}:{offset}"),
            Some(txout.value.to_sat()),
            bitcoin::Address::from_script(&txout.script_pubkey, network)
                .ok()
                .map(|address| address.to_string()),
        ),
        Some(Place::Unbound(n)) => {
            let unbound = OutPoint::new(bitcoin::Txid::all_zeros(), 0);
            (unbound, format!("{unbound}:{n}"), None, None)
        }
        Some(Place::Unknown) => (placeholder, format!("{placeholder}:0"), None, None),
        // Not from a reveal: made-up values of the right shape.
        None => (placeholder, format!("{placeholder}:0"), Some(10_000), None),
    };
    Ok(InscriptionRecursive {
        charms: charms(entry, chain.height, network),
        content_type: inscription.content_type().map(str::to_owned),
        content_length: inscription.body.as_ref().map(Vec::len),
        delegate: inscription.delegate_id(),
        fee: entry
            .revealed
            .as_ref()
            .and_then(|revealed| revealed.fee)
            .unwrap_or(0),
        height: chain.height,
        id: *id,
        number: i64::try_from(entry.number).unwrap_or(i64::MAX),
        output: output.to_string(),
        sat: None,
        satpoint,
        timestamp: i64::try_from(chain.blocktime).unwrap_or(i64::MAX),
        value,
        address,
    })
}

fn page_of(segment: &str) -> Result<usize, Reject> {
    segment.parse().map_err(|_| bad_path(segment, "usize"))
}

fn paginate(ids: Vec<InscriptionId>, page: usize) -> (Vec<InscriptionId>, bool) {
    let start = page.saturating_mul(PAGE_SIZE);
    let more = ids.len() > start.saturating_add(PAGE_SIZE);
    (ids.into_iter().skip(start).take(PAGE_SIZE).collect(), more)
}

fn children(store: &Store, id: &str, page: &str) -> Result<Resp, Reject> {
    #[derive(Serialize)]
    struct Children {
        ids: Vec<InscriptionId>,
        more: bool,
        page: usize,
    }
    let page = page_of(page)?;
    with_inscription(store, id, |_| Ok(()))?;
    let (ids, more) = paginate(store.children(&parse_id(id)?), page);
    Ok(json(&Children { ids, more, page }))
}

/// ord's `r::children_inscriptions_paginated`: the children of one page (100, ascending
/// inscription number), each as `/r/inscription` describes it without the content fields.
fn child_inscriptions(state: &State, store: &Store, id: &str, page: &str) -> Result<Resp, Reject> {
    #[derive(Serialize)]
    struct ChildInscriptions {
        children: Vec<RelativeInscriptionRecursive>,
        more: bool,
        page: usize,
    }
    let page = page_of(page)?;
    with_inscription(store, id, |_| Ok(()))?;
    let (ids, more) = paginate(store.children(&parse_id(id)?), page);
    let children = ids
        .iter()
        .map(|child| {
            let r = recursive(state, store, child)?;
            Ok(RelativeInscriptionRecursive {
                charms: r.charms,
                fee: r.fee,
                height: r.height,
                id: r.id,
                number: r.number,
                output: r.output,
                sat: r.sat,
                satpoint: r.satpoint,
                timestamp: r.timestamp,
            })
        })
        .collect::<Result<_, Reject>>()?;
    Ok(json(&ChildInscriptions {
        children,
        more,
        page,
    }))
}

fn parents(store: &Store, id: &str, page: &str) -> Result<Resp, Reject> {
    #[derive(Serialize)]
    struct Inscriptions {
        ids: Vec<InscriptionId>,
        more: bool,
        page_index: u32,
    }
    let page = page_of(page)?;
    let parents = with_inscription(store, id, |i| Ok(i.parent_ids()))?;
    let (ids, more) = paginate(parents, page);
    Ok(json(&Inscriptions {
        ids,
        more,
        page_index: u32::try_from(page).unwrap_or(u32::MAX),
    }))
}
