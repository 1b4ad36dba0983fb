//! An HTTP/1.1 server that serves inscriptions the way ord does.
//!
//! Routes, status codes and headers follow ord's `src/subcommand/server.rs`
//! and `server/r.rs` (0.27–0.29); see the crate README for the list and the
//! few deliberate differences. What is served is [`inscription::Inscription`], the
//! `inscription` crate's type (re-exported here as [`Inscription`]); ord's rules (media
//! table, brotli, curses, reading reveals) come from that crate too.

mod reveal;
mod routes;
mod store;

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};

use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// The inscription the server stores and serves: the `inscription` crate's type.
pub use inscription::Inscription;
pub use reveal::{read_reveal, InsertRevealError};
pub use routes::{csp_for_origin, CACHE_IMMUTABLE, CSP_RECURSIVE, CSP_SELF};
pub use store::{LoadError, Store};

use crate::InscriptionId;

/// Which Content-Security-Policy `/content/<id>` sends.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum CspOrigin {
    /// No `--csp-origin`: ord's two headers.
    #[default]
    None,
    /// `--csp-origin ORIGIN`: ord's single header naming ORIGIN.
    Fixed(String),
    /// `--csp-origin` set to this server's own `http://127.0.0.1:<port>`.
    ServerOrigin,
}

/// Fake chain state for the block routes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FakeChain {
    /// Height of the chain tip.
    pub height: u32,
    /// Unix time of the tip block.
    pub blocktime: u64,
    /// Block hashes by height; a height up to the tip that is missing here
    /// gets a made-up hash (the height as 64 hex digits).
    pub hashes: BTreeMap<u32, String>,
}

impl Default for FakeChain {
    fn default() -> Self {
        Self {
            height: 840_000,
            blocktime: 1_713_571_767,
            hashes: BTreeMap::new(),
        }
    }
}

impl FakeChain {
    /// The hash of the block at `height`, or `None` above the tip.
    pub fn block_hash(&self, height: u32) -> Option<String> {
        if height > self.height {
            return None;
        }
        Some(
            self.hashes
                .get(&height)
                .cloned()
                .unwrap_or_else(|| format!("{height:064x}")),
        )
    }
}

/// Server settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerConfig {
    /// ord's `--csp-origin`.
    pub csp_origin: CspOrigin,
    /// ord's `--decompress`: serve `br` bodies decompressed to clients that do
    /// not accept `br`. When false such requests get 406, as ord's default does.
    pub decompress: bool,
    /// Block values for `/r/block*` and `/block*`; the tip also stands for the block that
    /// revealed every inscription (`/r/inscription`'s `height` and `timestamp`, curses).
    pub chain: FakeChain,
    /// ord's `--chain`: the network of `/r/inscription`'s `address` and of the jubilee
    /// height after which curses are vindicated. Default: mainnet, as ord.
    pub network: bitcoin::Network,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            csp_origin: CspOrigin::None,
            decompress: true,
            chain: FakeChain::default(),
            network: bitcoin::Network::Bitcoin,
        }
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// Binding 127.0.0.1:0 failed.
    #[error("cannot bind the content server")]
    Bind(#[source] std::io::Error),
    /// The CSP origin cannot go into a header.
    #[error("csp origin `{0}` is not a valid header value")]
    CspOrigin(String),
}

pub(crate) struct State {
    pub(crate) store: RwLock<Store>,
    pub(crate) config: ServerConfig,
    pub(crate) origin: String,
}

/// A running content server on `127.0.0.1:<ephemeral port>`; it stops when dropped.
pub struct ContentServer {
    addr: SocketAddr,
    state: Arc<State>,
    task: JoinHandle<()>,
}

impl ContentServer {
    /// Binds 127.0.0.1 port 0 and starts serving `store` on the current tokio runtime.
    pub async fn start(store: Store, config: ServerConfig) -> Result<Self, ServerError> {
        if let CspOrigin::Fixed(origin) = &config.csp_origin {
            if hyper::header::HeaderValue::from_str(&routes::csp_for_origin(origin)).is_err() {
                return Err(ServerError::CspOrigin(origin.clone()));
            }
        }
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(ServerError::Bind)?;
        let addr = listener.local_addr().map_err(ServerError::Bind)?;
        let state = Arc::new(State {
            store: RwLock::new(store),
            config,
            origin: format!("http://{addr}"),
        });
        let task = tokio::spawn(accept_loop(listener, state.clone()));
        Ok(Self { addr, state, task })
    }

    /// Serves one HTML page at `page` and the library it imports by recursion at `lib`
    /// (`text/javascript`, stored brotli-encoded as ord would inscribe it, see
    /// [`Inscription::brotli`]), with ord's default CSP. The usual set-up of end-to-end
    /// tests, benchmarks and demos.
    pub async fn start_page_with_library(
        lib: InscriptionId,
        lib_js: &[u8],
        page: InscriptionId,
        page_html: impl Into<Vec<u8>>,
    ) -> Result<Self, ServerError> {
        let mut store = Store::new();
        store.insert(lib, Inscription::brotli("text/javascript", lib_js));
        store.insert(page, Inscription::new("text/html;charset=utf-8", page_html));
        Self::start(store, ServerConfig::default()).await
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>`.
    pub fn origin(&self) -> &str {
        &self.state.origin
    }

    /// Absolute URL of `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.state.origin)
    }

    /// `…/content/<id>`.
    pub fn content_url(&self, id: &InscriptionId) -> String {
        self.url(&format!("/content/{id}"))
    }

    /// `…/preview/<id>`.
    pub fn preview_url(&self, id: &InscriptionId) -> String {
        self.url(&format!("/preview/{id}"))
    }

    /// `…/explorer/<id>`: a top-level page embedding the preview in
    /// `<iframe sandbox=allow-scripts>`, as explorers do.
    pub fn explorer_url(&self, id: &InscriptionId) -> String {
        self.url(&format!("/explorer/{id}"))
    }

    /// Adds or replaces an inscription while the server runs.
    pub fn insert(&self, id: InscriptionId, inscription: Inscription) {
        // A poisoned lock only means a request handler panicked; the map is intact.
        let mut store = self.state.store.write().unwrap_or_else(|e| e.into_inner());
        store.insert(id, inscription);
    }

    /// Adds every inscription of the reveal `tx` while the server runs, each under its id
    /// `<txid>i<n>` and served as ord would (see [`Store::insert_reveal`]); returns the ids.
    pub fn insert_reveal(
        &self,
        tx: &bitcoin::Transaction,
    ) -> Result<Vec<InscriptionId>, InsertRevealError> {
        // A poisoned lock only means a request handler panicked; the map is intact.
        let mut store = self.state.store.write().unwrap_or_else(|e| e.into_inner());
        store.insert_reveal(tx)
    }

    /// [`Store::insert_reveal_with_prevouts`] while the server runs.
    pub fn insert_reveal_with_prevouts(
        &self,
        tx: &bitcoin::Transaction,
        prevouts: &[bitcoin::TxOut],
    ) -> Result<Vec<InscriptionId>, InsertRevealError> {
        // A poisoned lock only means a request handler panicked; the map is intact.
        let mut store = self.state.store.write().unwrap_or_else(|e| e.into_inner());
        store.insert_reveal_with_prevouts(tx, prevouts)
    }

    /// [`Store::insert_commit`] while the server runs: remembers the outputs a later
    /// reveal spends.
    pub fn insert_commit(&self, tx: &bitcoin::Transaction) {
        // A poisoned lock only means a request handler panicked; the map is intact.
        let mut store = self.state.store.write().unwrap_or_else(|e| e.into_inner());
        store.insert_commit(tx);
    }
}

impl Drop for ContentServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn accept_loop(listener: TcpListener, state: Arc<State>) {
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                tracing::warn!("content server accept: {e}");
                continue;
            }
        };
        let state = state.clone();
        connections.spawn(async move {
            let service = service_fn(move |request| {
                let state = state.clone();
                async move { Ok::<_, Infallible>(routes::respond(&state, &request)) }
            });
            if let Err(e) = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!("content server connection: {e}");
            }
        });
        while connections.try_join_next().is_some() {}
    }
}

pub(crate) type Body = Full<Bytes>;
