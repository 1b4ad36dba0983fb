//! `lumamesh-relay`: serves browser DataChannels on one UDP socket. Configured by flags or the
//! environment variables named in `--help`.

use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::num::{NonZeroU16, NonZeroUsize};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use bootstrap_codec::{HostName, IcePwd, IceUfrag, RelayAddress, RelayEntry};
use clap::Parser;
use keystore::{IdentityPaths, RelayIdentity};
use lumamesh_relay::core::{Limits, RelayConfig};
use lumamesh_relay::driver::{self, Socket};
use lumamesh_relay::health::{self, Snapshot};
use lumamesh_relay::mesh::swarm::{Mesh, MeshError, MeshSalt, MeshSettings};
use lumamesh_relay::shard::Cores;
use report::{usage, UsageContext};
use tokio::net::UdpSocket;
use tokio::sync::watch;
use tracing::{info, warn};

mod public_host;

/// Lumamesh relay: WebRTC DataChannels from static SDP, rooms and signal forwarding.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Public IP address: the host candidate browsers send to, and the entry's address
    /// [default: 127.0.0.1, or with PUBLIC_HOST the address the name resolves to].
    #[arg(long, env = "PUBLIC_IP", value_name = "PUBLIC_IP")]
    public_ip: Option<IpAddr>,
    /// DNS name to publish in the relay entry instead of PUBLIC_IP.
    ///
    /// Browsers resolve the name themselves (no fetch): Chromium does, Firefox cannot
    /// (docs/relay-txt.md, "Host names"), so publish an IP entry too. The relay still serves
    /// on PUBLIC_IP; without PUBLIC_IP it looks the name up at start and serves on the
    /// address Chromium will use (IPv6 if the name has one).
    #[arg(
        long,
        env = "PUBLIC_HOST",
        value_name = "PUBLIC_HOST",
        value_parser = public_host::parse
    )]
    public_host: Option<HostName>,
    /// UDP port to listen on (0 picks a free port, printed at start).
    #[arg(
        long,
        env = "UDP_PORT",
        value_name = "UDP_PORT",
        default_value_t = 3478
    )]
    udp_port: u16,
    /// Local address to bind the UDP socket to (default: all interfaces of PUBLIC_IP's family).
    #[arg(long, env = "UDP_BIND", value_name = "UDP_BIND")]
    udp_bind: Option<IpAddr>,
    /// Bytes of UDP receive and send buffer to ask the kernel for.
    ///
    /// A burst of new clients waits here while the relay works; datagrams past it are
    /// dropped by the kernel (`RcvbufErrors` in `netstat -su`) and resent by the clients
    /// only after a timeout. The kernel caps it at net.core.rmem_max / wmem_max; the size
    /// obtained is logged at start.
    #[arg(
        long,
        env = "UDP_BUFFER_BYTES",
        value_name = "UDP_BUFFER_BYTES",
        default_value_t = driver::DEFAULT_BUFFER_BYTES
    )]
    udp_buffer_bytes: usize,
    /// ICE username fragment shared by all sessions.
    #[arg(
        long,
        env = "ICE_UFRAG",
        value_name = "ICE_UFRAG",
        default_value = "luma"
    )]
    ice_ufrag: IceUfrag,
    /// ICE password (default: read from, or created in, <KEY_FILE>.icepwd).
    #[arg(long, env = "ICE_PWD", value_name = "ICE_PWD", hide_env_values = true)]
    ice_pwd: Option<IcePwd>,
    /// DTLS certificate (PEM), created if missing.
    #[arg(
        long,
        env = "CERT_FILE",
        value_name = "CERT_FILE",
        default_value = "server.crt"
    )]
    cert_file: PathBuf,
    /// DTLS private key (PEM), created if missing.
    #[arg(
        long,
        env = "KEY_FILE",
        value_name = "KEY_FILE",
        default_value = "server.key"
    )]
    key_file: PathBuf,
    /// Ed25519 node key that signs the relay entry, created if missing.
    #[arg(
        long,
        env = "NODE_KEY",
        value_name = "NODE_KEY",
        default_value = "node.key"
    )]
    node_key: PathBuf,
    /// Address for the health/metrics HTTP server (off if unset).
    #[arg(long, env = "HEALTH_LISTEN", value_name = "HEALTH_LISTEN")]
    health_listen: Option<SocketAddr>,
    /// Most sessions served at once.
    #[arg(
        long,
        env = "MAX_SESSIONS",
        value_name = "MAX_SESSIONS",
        default_value_t = 1000
    )]
    max_sessions: usize,
    /// Most members per room, counted across the federation (2..=1362).
    #[arg(
        long,
        env = "MAX_ROOM_SIZE",
        value_name = "MAX_ROOM_SIZE",
        default_value_t = 250
    )]
    max_room_size: u16,
    /// Most sessions handshaking at once (ICE, DTLS, SCTP not yet done).
    #[arg(
        long,
        env = "MAX_HANDSHAKING",
        value_name = "MAX_HANDSHAKING",
        default_value_t = Limits::default().max_handshaking
    )]
    max_handshaking: usize,
    /// New sessions per second allowed per source IP.
    #[arg(
        long,
        env = "NEW_SESSIONS_PER_IP",
        value_name = "NEW_SESSIONS_PER_IP",
        default_value_t = Limits::default().new_sessions_per_ip_per_sec
    )]
    new_sessions_per_ip: f32,
    /// New sessions a source IP may open in a burst.
    #[arg(
        long,
        env = "NEW_SESSION_BURST_PER_IP",
        value_name = "NEW_SESSION_BURST_PER_IP",
        default_value_t = Limits::default().new_session_burst_per_ip
    )]
    new_session_burst_per_ip: f32,
    /// New sessions per second allowed per source prefix (IPv4 /24, IPv6 /64).
    #[arg(
        long,
        env = "NEW_SESSIONS_PER_PREFIX",
        value_name = "NEW_SESSIONS_PER_PREFIX",
        default_value_t = Limits::default().new_sessions_per_prefix_per_sec
    )]
    new_sessions_per_prefix: f32,
    /// New sessions a source prefix (IPv4 /24, IPv6 /64) may open in a burst.
    #[arg(
        long,
        env = "NEW_SESSION_BURST_PER_PREFIX",
        value_name = "NEW_SESSION_BURST_PER_PREFIX",
        default_value_t = Limits::default().new_session_burst_per_prefix
    )]
    new_session_burst_per_prefix: f32,
    /// Most sessions one source IP may hold (handshaking, open or closing).
    #[arg(
        long,
        env = "MAX_SESSIONS_PER_IP",
        value_name = "MAX_SESSIONS_PER_IP",
        default_value_t = Limits::default().max_sessions_per_ip
    )]
    max_sessions_per_ip: usize,
    /// Most sessions one source prefix (IPv4 /24, IPv6 /64) may hold.
    #[arg(
        long,
        env = "MAX_SESSIONS_PER_PREFIX",
        value_name = "MAX_SESSIONS_PER_PREFIX",
        default_value_t = Limits::default().max_sessions_per_prefix
    )]
    max_sessions_per_prefix: usize,
    /// Most handshakes one source IP may have running at once.
    #[arg(
        long,
        env = "MAX_HANDSHAKING_PER_IP",
        value_name = "MAX_HANDSHAKING_PER_IP",
        default_value_t = Limits::default().max_handshaking_per_ip
    )]
    max_handshaking_per_ip: usize,
    /// Most handshakes one source prefix (IPv4 /24, IPv6 /64) may have running at once.
    #[arg(
        long,
        env = "MAX_HANDSHAKING_PER_PREFIX",
        value_name = "MAX_HANDSHAKING_PER_PREFIX",
        default_value_t = Limits::default().max_handshaking_per_prefix
    )]
    max_handshaking_per_prefix: usize,
    /// Milliseconds after its first STUN check by which a session must have sent DTLS.
    ///
    /// A session without a DTLS datagram by then is dropped; 100 up to the 10 s handshake
    /// timeout. A browser sends DTLS within a round trip or two of its first check.
    #[arg(
        long,
        env = "HANDSHAKE_STALL_MS",
        value_name = "HANDSHAKE_STALL_MS",
        default_value_t = Limits::default().handshake_stall.as_millis() as u64
    )]
    handshake_stall_ms: u64,
    /// Signals per second one member may have the relay deliver to one other member.
    ///
    /// Past its burst, a signal over this rate is refused `RateLimited` (from another relay:
    /// dropped and counted in `signals_limited`).
    #[arg(
        long,
        env = "FORWARD_SIGNALS_PER_SEC",
        value_name = "FORWARD_SIGNALS_PER_SEC",
        default_value_t = Limits::default().forward_signals_per_sec
    )]
    forward_signals_per_sec: f32,
    /// Signals one member may send one other member in a burst.
    #[arg(
        long,
        env = "FORWARD_SIGNAL_BURST",
        value_name = "FORWARD_SIGNAL_BURST",
        default_value_t = Limits::default().forward_signal_burst
    )]
    forward_signal_burst: f32,
    /// KiB of signal blobs per second one member may have delivered to one other member.
    ///
    /// A blob costs one per started KiB.
    #[arg(
        long,
        env = "FORWARD_KIB_PER_SEC",
        value_name = "FORWARD_KIB_PER_SEC",
        default_value_t = Limits::default().forward_kib_per_sec
    )]
    forward_kib_per_sec: f32,
    /// KiB of signal blobs one member may send one other member in a burst.
    ///
    /// At least 16, so that one blob of the largest size fits.
    #[arg(
        long,
        env = "FORWARD_KIB_BURST",
        value_name = "FORWARD_KIB_BURST",
        default_value_t = Limits::default().forward_kib_burst
    )]
    forward_kib_burst: f32,
    /// Joins per minute one member may make in one room once its burst is spent.
    ///
    /// Every join (and its leave) is told to every member; a join past the budget is refused
    /// `RateLimited` and told to no one.
    #[arg(
        long,
        env = "JOINS_PER_MIN",
        value_name = "JOINS_PER_MIN",
        default_value_t = Limits::default().joins_per_min
    )]
    joins_per_min: f32,
    /// Joins one member may make in one room in a burst.
    #[arg(
        long,
        env = "JOIN_BURST",
        value_name = "JOIN_BURST",
        default_value_t = Limits::default().join_burst
    )]
    join_burst: f32,
    /// Joins and leaves per second one room tells its members.
    ///
    /// Past the burst, a rejoin (a member the room saw join before) is refused `RateLimited` and
    /// counted in `room_churn_limited`; a first join and a leave never are, so newcomers always
    /// get in.
    #[arg(
        long,
        env = "ROOM_CHURN_PER_SEC",
        value_name = "ROOM_CHURN_PER_SEC",
        default_value_t = Limits::default().room_churn_per_sec
    )]
    room_churn_per_sec: f32,
    /// Joins and leaves one room tells in a burst.
    #[arg(
        long,
        env = "ROOM_CHURN_BURST",
        value_name = "ROOM_CHURN_BURST",
        default_value_t = Limits::default().room_churn_burst
    )]
    room_churn_burst: f32,
    /// Federation: relays with the same salt form one network [default: the empty salt].
    ///
    /// The salt is turned into a libp2p pre-shared key (pnet): relays with different salts
    /// cannot complete a connection, so they exchange nothing at all. Any string; give it to
    /// the relays you want in the federation (it is never printed or logged). Setting
    /// MESH_SALT, MESH_LISTEN or MESH_PEERS turns federation on; with none of them the relay
    /// works alone.
    #[arg(
        long,
        env = "MESH_SALT",
        value_name = "MESH_SALT",
        hide_env_values = true
    )]
    mesh_salt: Option<MeshSalt>,
    /// Federation: host:port to listen on for other relays (TCP), e.g. 0.0.0.0:4001.
    ///
    /// Port 0 picks a free port (printed at start as `mesh:`). The port is announced to the
    /// federation with this relay's entry, so relays that learn of it dial it here.
    #[arg(long, env = "MESH_LISTEN", value_name = "MESH_LISTEN")]
    mesh_listen: Option<String>,
    /// Federation: comma-separated host:port of relays to dial, e.g. relay-b:4001,10.0.0.3:4001.
    ///
    /// Each is dialled at start and redialled whenever the connection fails or closes
    /// (waiting 1 s, doubling up to 60 s). Relays learned from the federation's directory are
    /// dialled as well, so one peer is enough to join.
    #[arg(long, env = "MESH_PEERS", value_name = "MESH_PEERS")]
    mesh_peers: Option<String>,
    /// Threads serving clients, one relay core ("shard") each [default: the number of
    /// available cores; 1 for a federated relay].
    ///
    /// Each source prefix (IPv4 /24, IPv6 /64) is served by one shard; rooms, MAX_SESSIONS,
    /// MAX_HANDSHAKING and MAX_ROOM_SIZE hold across shards, and /metrics sums them all.
    /// A federated relay (MESH_SALT, MESH_LISTEN or MESH_PEERS) runs on one thread only.
    #[arg(long, env = "THREADS", value_name = "THREADS")]
    threads: Option<NonZeroUsize>,
}

impl Args {
    /// Whether a federation setting is given.
    fn federated(&self) -> bool {
        self.mesh_salt.is_some() || self.mesh_listen.is_some() || self.mesh_peers.is_some()
    }

    /// How many shards to run: THREADS, else one per available core (one when federated).
    fn threads(&self) -> Result<usize> {
        match self.threads {
            Some(n) if n.get() > 1 && self.federated() => Err(usage(format!(
                "THREADS={n} cannot be combined with federation (MESH_SALT, MESH_LISTEN or \
                 MESH_PEERS): a federated relay runs on one thread; unset THREADS or set THREADS=1"
            ))),
            Some(n) => Ok(n.get()),
            None if self.federated() => Ok(1),
            None => Ok(std::thread::available_parallelism().map_or(1, NonZeroUsize::get)),
        }
    }
}

fn main() -> ExitCode {
    report::main(|args: Args| {
        tracing_subscriber::fmt()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env()
                    .unwrap_or_else(|_| "info,str0m=warn".into()),
            )
            .with_writer(std::io::stderr)
            // Colour only on a terminal: log files and journald get plain text.
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init();
        let threads = args.threads()?;
        // One thread: the relay as it always ran, all on the current thread.
        let mut runtime = if threads == 1 {
            tokio::runtime::Builder::new_current_thread()
        } else {
            let mut builder = tokio::runtime::Builder::new_multi_thread();
            builder.worker_threads(threads);
            builder
        };
        runtime
            .enable_all()
            .build()
            .context("starting the tokio runtime")?
            .block_on(run(args, threads))
    })
}

async fn run(args: Args, threads: usize) -> Result<()> {
    let federated = args.federated();
    let mut mesh_settings = MeshSettings::parse(
        args.mesh_listen.as_deref(),
        args.mesh_peers.as_deref(),
        None,
    )
    .map_err(usage)?;
    // A salt in its own type, whose Debug never shows it.
    mesh_settings.salt = args.mesh_salt.clone().unwrap_or_default();
    let limits = Limits {
        max_sessions: args.max_sessions,
        max_room_size: args.max_room_size,
        max_handshaking: args.max_handshaking,
        new_sessions_per_ip_per_sec: args.new_sessions_per_ip,
        new_session_burst_per_ip: args.new_session_burst_per_ip,
        new_sessions_per_prefix_per_sec: args.new_sessions_per_prefix,
        new_session_burst_per_prefix: args.new_session_burst_per_prefix,
        max_sessions_per_ip: args.max_sessions_per_ip,
        max_sessions_per_prefix: args.max_sessions_per_prefix,
        max_handshaking_per_ip: args.max_handshaking_per_ip,
        max_handshaking_per_prefix: args.max_handshaking_per_prefix,
        handshake_stall: Duration::from_millis(args.handshake_stall_ms),
        forward_signals_per_sec: args.forward_signals_per_sec,
        forward_signal_burst: args.forward_signal_burst,
        forward_kib_per_sec: args.forward_kib_per_sec,
        forward_kib_burst: args.forward_kib_burst,
        joins_per_min: args.joins_per_min,
        join_burst: args.join_burst,
        room_churn_per_sec: args.room_churn_per_sec,
        room_churn_burst: args.room_churn_burst,
        ..Limits::default()
    };
    limits.validate().usage("invalid limits")?;
    if let Some(ip) = args
        .public_ip
        .filter(|ip| ip.is_unspecified() || ip.is_multicast())
    {
        return Err(usage(format!(
            "PUBLIC_IP must be a unicast address browsers can reach, got {ip}"
        )));
    }
    let (public_ip, address) = match &args.public_host {
        Some(host) => {
            let plan = public_host::serve_ip(host, args.public_ip)
                .await
                .map_err(usage)?;
            for warning in &plan.warnings {
                warn!("{warning}");
            }
            (plan.ip, RelayAddress::Host(host.clone()))
        }
        None => {
            let ip = args.public_ip.unwrap_or(Ipv4Addr::LOCALHOST.into());
            (ip, RelayAddress::from_ip(ip).usage("PUBLIC_IP")?)
        }
    };
    let paths = IdentityPaths::beside_key(
        args.cert_file.clone(),
        args.key_file.clone(),
        args.node_key.clone(),
    );
    let (mut identity, created) = RelayIdentity::load_or_create(&paths)
        .usage("loading the relay identity (CERT_FILE, KEY_FILE, NODE_KEY)")?;
    for path in &created {
        info!(path = %path.display(), "created identity file");
    }
    if let Some(pwd) = args.ice_pwd.clone() {
        identity = identity.with_ice_pwd(pwd);
    }

    let bind_ip = args.udp_bind.unwrap_or(match public_ip {
        IpAddr::V4(_) => Ipv4Addr::UNSPECIFIED.into(),
        IpAddr::V6(_) => Ipv6Addr::UNSPECIFIED.into(),
    });
    let socket = UdpSocket::bind((bind_ip, args.udp_port))
        .await
        .usage(format!(
            "binding UDP {bind_ip}:{} (UDP_PORT)",
            args.udp_port
        ))?;
    let socket = Socket::new(socket).context("setting up the UDP socket")?;
    socket.set_buffer_sizes(args.udp_buffer_bytes);
    let port = socket.local_addr()?.port();
    let nonzero_port = NonZeroU16::new(port).context("the socket has no port")?;
    let entry = identity.entry(address.clone(), nonzero_port, args.ice_ufrag.clone());
    let local_addr = SocketAddr::new(public_ip, port);
    let mut config = RelayConfig::new(&identity, &entry, local_addr);
    config.limits = limits;
    config.federated = federated;
    let started = Instant::now();
    let cores = Cores::new(config, threads, started).usage("invalid limits")?;
    let mesh = if federated {
        Some(start_mesh(&mesh_settings, &identity, &entry).await?)
    } else {
        None
    };

    let (stats_tx, stats_rx) = watch::channel(Snapshot::default());
    let health_addr = match args.health_listen {
        Some(addr) => {
            let listener = health::bind(addr)
                .await
                .usage(format!("binding HEALTH_LISTEN {addr}"))?;
            let bound = listener.local_addr()?;
            let state = health::HealthState {
                node_id: identity.node_key().to_string(),
                stats: stats_rx,
                started,
            };
            tokio::spawn(health::serve(listener, state));
            Some(bound)
        }
        None => None,
    };

    // Machine-readable start banner on stdout (tests and scripts read it); logs go to stderr.
    let mut out = std::io::stdout().lock();
    writeln!(out, "address: {address}")?;
    writeln!(out, "ip: {public_ip}")?;
    writeln!(out, "port: {port}")?;
    writeln!(out, "fingerprint: {}", identity.fingerprint())?;
    writeln!(out, "nk: {}", identity.node_key())?;
    if let Some(addr) = health_addr {
        writeln!(out, "health: {addr}")?;
    }
    if let Some(mesh) = &mesh {
        if let Some(addr) = mesh.listen_addr() {
            writeln!(out, "mesh: {addr}")?;
        }
        writeln!(out, "peer_id: {}", mesh.peer_id())?;
    }
    writeln!(out, "relay.txt: {}", entry.to_line())?;
    out.flush()?;
    drop(out);
    info!(%local_addr, threads, "relay serving");

    cores
        .run(socket, mesh, shutdown_signal(), stats_tx)
        .await
        .context("UDP driver failed")
}

/// Starts the federation; a `MESH_LISTEN` that cannot be bound is the operator's to fix.
async fn start_mesh(
    settings: &MeshSettings,
    identity: &RelayIdentity,
    entry: &RelayEntry,
) -> Result<Mesh> {
    if settings.listen.is_none() && settings.peers.is_empty() {
        warn!(
            "MESH_SALT is set but neither MESH_LISTEN nor MESH_PEERS: no relay can reach this one"
        );
    }
    match Mesh::start(settings, identity.node_secret(), entry).await {
        Ok(mesh) => {
            info!(peer_id = %mesh.peer_id(), listen = ?mesh.listen_addr(), peers = settings.peers.len(), "relay mesh started");
            Ok(mesh)
        }
        Err(e @ MeshError::Bind { .. }) => Err(e).usage("starting the relay mesh"),
        Err(e) => Err(e).context("starting the relay mesh"),
    }
}

/// Resolves on SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
