//! A DTLS provider that builds dimpl's configuration once instead of once per `Rtc`.
//!
//! str0m's aws-lc-rs provider calls `dimpl::Config::builder().build()` for every new `Rtc`,
//! and that build validates the whole crypto provider (ECDH and ECDSA self-checks, including
//! P-384). Profiling the relay showed this at ~45% of CPU during connection bursts. The
//! configuration is immutable and shared through an `Arc` by design, so this provider caches
//! it per MTU and otherwise does what str0m's does, except that a DTLS server demands a
//! cookie (see [`CachedDtlsProvider`]).

use std::sync::{Arc, Mutex};
use std::time::Instant;

use str0m::crypto::dtls::{
    DtlsCert, DtlsImplError, DtlsInstance, DtlsOutput, DtlsProvider, DtlsVersion, ProtocolVersion,
};
use str0m::crypto::{CryptoError, CryptoProvider};

/// The crypto provider every relay and client `Rtc` should use: str0m's aws-lc-rs provider
/// with [`CachedDtlsProvider`] for DTLS.
pub fn crypto_provider() -> Arc<CryptoProvider> {
    static CACHED: CachedDtlsProvider = CachedDtlsProvider {
        configs: Mutex::new(Vec::new()),
    };
    Arc::new(CryptoProvider {
        dtls_provider: &CACHED,
        ..str0m::crypto::from_feature_flags()
    })
}

/// Creates dimpl DTLS instances from a cached configuration (one per MTU seen).
#[derive(Debug)]
pub struct CachedDtlsProvider {
    configs: Mutex<Vec<(Option<usize>, Arc<dimpl::Config>)>>,
}

impl CachedDtlsProvider {
    fn config(&self, mtu: Option<usize>) -> Result<Arc<dimpl::Config>, CryptoError> {
        // A poisoned lock only means another thread panicked mid-push; the list is still valid.
        let mut configs = self.configs.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, config)) = configs.iter().find(|(m, _)| *m == mtu) {
            return Ok(config.clone());
        }
        // Server cookies on (str0m's own provider turns them off): ICE proves nothing about
        // the return route here, because the relay is ICE-lite and its password is public,
        // so a spoofed binding request plus a spoofed ClientHello would otherwise make the
        // relay send its certificate flight, and retransmit it, to a victim. With the cookie
        // the victim gets one small HelloVerifyRequest; a real client pays one round trip.
        let mut builder = dimpl::Config::builder().use_server_cookie(true);
        if let Some(mtu) = mtu {
            builder = builder.mtu(mtu);
        }
        let config = Arc::new(
            builder
                .build()
                .map_err(|e| CryptoError::Other(format!("dimpl config creation failed: {e}")))?,
        );
        configs.push((mtu, config.clone()));
        Ok(config)
    }
}

impl DtlsProvider for CachedDtlsProvider {
    fn generate_certificate(&self) -> Option<DtlsCert> {
        str0m::crypto::from_feature_flags()
            .dtls_provider
            .generate_certificate()
    }

    fn new_dtls(
        &self,
        cert: &DtlsCert,
        now: Instant,
        dtls_version: DtlsVersion,
        mtu: Option<usize>,
    ) -> Result<Box<dyn DtlsInstance>, CryptoError> {
        let config = self.config(mtu)?;
        let certificate = dimpl::DtlsCertificate {
            certificate: cert.certificate.clone(),
            private_key: cert.private_key.clone(),
        };
        let dtls = match dtls_version {
            DtlsVersion::Dtls12 => dimpl::Dtls::new_12(config, certificate, now),
            DtlsVersion::Dtls13 => dimpl::Dtls::new_13(config, certificate, now),
            DtlsVersion::Auto => dimpl::Dtls::new_auto(config, certificate, now),
            other => {
                return Err(CryptoError::Other(format!(
                    "unsupported DTLS version: {other}"
                )))
            }
        };
        Ok(Box::new(Instance(dtls)))
    }
}

/// A dimpl instance behind str0m's DTLS trait.
struct Instance(dimpl::Dtls);

impl std::fmt::Debug for Instance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Instance")
    }
}

impl DtlsInstance for Instance {
    fn set_active(&mut self, active: bool) {
        self.0.set_active(active);
    }

    fn handle_packet(&mut self, packet: &[u8]) -> Result<(), DtlsImplError> {
        self.0.handle_packet(packet)
    }

    fn poll_output<'a>(&mut self, buf: &'a mut [u8]) -> DtlsOutput<'a> {
        self.0.poll_output(buf)
    }

    fn handle_timeout(&mut self, now: Instant) -> Result<(), DtlsImplError> {
        self.0.handle_timeout(now)
    }

    fn send_application_data(&mut self, data: &[u8]) -> Result<usize, DtlsImplError> {
        self.0.send_application_data(data)
    }

    fn is_active(&self) -> bool {
        self.0.is_active()
    }

    fn protocol_version(&self) -> Option<ProtocolVersion> {
        self.0.protocol_version()
    }

    fn is_closing(&self) -> bool {
        self.0.is_closing()
    }

    fn is_closed(&self) -> bool {
        self.0.is_closed()
    }

    fn close(&mut self) -> Result<(), DtlsImplError> {
        self.0.close()
    }
}
