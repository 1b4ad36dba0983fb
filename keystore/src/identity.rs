//! A relay's identity on disk: DTLS certificate and key, ICE password, Ed25519 node key.

use std::fmt;
use std::io;
use std::num::NonZeroU16;
use std::path::{Path, PathBuf};

use bootstrap_codec::{
    Fingerprint, IcePwd, IceUfrag, NodeKey, NodeSecret, RelayAddress, RelayEntry, UnsignedEntry,
};

use crate::atomic::Staged;

/// File name of the DTLS certificate (PEM).
pub const CERT_FILE: &str = "server.crt";
/// File name of the DTLS private key (PKCS#8 PEM).
pub const KEY_FILE: &str = "server.key";
/// File name of the ICE password (one line).
pub const ICE_PWD_FILE: &str = "server.key.icepwd";
/// File name of the Ed25519 node key (PKCS#8 PEM).
pub const NODE_KEY_FILE: &str = "node.key";

/// Where the four identity files live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityPaths {
    /// DTLS certificate, PEM.
    pub cert: PathBuf,
    /// DTLS private key, PEM.
    pub key: PathBuf,
    /// ICE password.
    pub ice_pwd: PathBuf,
    /// Ed25519 node key, PEM.
    pub node_key: PathBuf,
}

impl IdentityPaths {
    /// The standard names inside `dir`.
    pub fn in_dir(dir: impl AsRef<Path>) -> Self {
        let dir = dir.as_ref();
        IdentityPaths {
            cert: dir.join(CERT_FILE),
            key: dir.join(KEY_FILE),
            ice_pwd: dir.join(ICE_PWD_FILE),
            node_key: dir.join(NODE_KEY_FILE),
        }
    }

    /// Files wherever an operator put them, the ICE password beside the DTLS key
    /// (`<key file>.icepwd`, as [`ICE_PWD_FILE`] is beside [`KEY_FILE`]).
    pub fn beside_key(cert: PathBuf, key: PathBuf, node_key: PathBuf) -> Self {
        let mut ice_pwd = key.clone().into_os_string();
        ice_pwd.push(".icepwd");
        IdentityPaths {
            cert,
            key,
            ice_pwd: ice_pwd.into(),
            node_key,
        }
    }

    /// All four paths, in the order cert, key, ICE password, node key.
    pub fn all(&self) -> [&Path; 4] {
        [&self.cert, &self.key, &self.ice_pwd, &self.node_key]
    }

    /// The paths that exist already.
    pub fn existing(&self) -> Vec<PathBuf> {
        self.all()
            .into_iter()
            .filter(|p| p.exists())
            .map(Path::to_path_buf)
            .collect()
    }
}

/// Why an identity could not be created or loaded. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// A file does not exist.
    #[error("{}: missing {what}", path.display())]
    Missing {
        /// The file.
        path: PathBuf,
        /// What it should hold.
        what: &'static str,
    },
    /// A file exists but does not hold what it should.
    #[error("{}: {reason}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Reading or writing failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// `create` would overwrite files.
    #[error("identity files exist already: {}", list(.0))]
    Exists(Vec<PathBuf>),
    /// Key generation failed (no randomness or no crypto backend).
    #[error("generating keys failed: {0}")]
    Generate(String),
}

fn list(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A relay's identity, loaded or freshly generated.
///
/// ```
/// use keystore::{IdentityPaths, RelayIdentity};
///
/// let dir = std::env::temp_dir().join(format!("lumamesh-doc-{}", std::process::id()));
/// let paths = IdentityPaths::in_dir(&dir);
/// let created = RelayIdentity::create(&paths, false).unwrap();
/// let loaded = RelayIdentity::load(&paths).unwrap();
/// assert_eq!(created.fingerprint(), loaded.fingerprint());
/// assert!(RelayIdentity::create(&paths, false).is_err()); // never overwritten silently
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
#[derive(Clone)]
pub struct RelayIdentity {
    cert_der: Vec<u8>,
    cert_pem: String,
    key_pkcs8_der: Vec<u8>,
    key_pem: String,
    ice_pwd: IcePwd,
    node: NodeSecret,
}

impl fmt::Debug for RelayIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RelayIdentity")
            .field("fingerprint", &self.fingerprint())
            .field("node_key", &self.node.public())
            .finish_non_exhaustive()
    }
}

struct DtlsCert {
    der: Vec<u8>,
    pem: String,
    key_der: Vec<u8>,
    key_pem: String,
}

fn generate_cert() -> Result<DtlsCert, IdentityError> {
    let gen = |e: rcgen::Error| IdentityError::Generate(e.to_string());
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(gen)?;
    let mut params =
        rcgen::CertificateParams::new(vec!["lumamesh-relay".to_owned()]).map_err(gen)?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "lumamesh-relay");
    let cert = params.self_signed(&key).map_err(gen)?;
    Ok(DtlsCert {
        der: cert.der().to_vec(),
        pem: cert.pem(),
        key_der: key.serialize_der(),
        key_pem: key.serialize_pem(),
    })
}

fn read(path: &Path, what: &'static str) -> Result<String, IdentityError> {
    std::fs::read_to_string(path).map_err(|source| match source.kind() {
        io::ErrorKind::NotFound => IdentityError::Missing {
            path: path.to_owned(),
            what,
        },
        io::ErrorKind::InvalidData => IdentityError::Corrupt {
            path: path.to_owned(),
            reason: format!("{what} is not UTF-8 text"),
        },
        _ => IdentityError::Io {
            path: path.to_owned(),
            source,
        },
    })
}

fn corrupt(path: &Path, reason: impl fmt::Display) -> IdentityError {
    IdentityError::Corrupt {
        path: path.to_owned(),
        reason: reason.to_string(),
    }
}

fn load_cert(paths: &IdentityPaths) -> Result<DtlsCert, IdentityError> {
    let cert_pem = read(&paths.cert, "DTLS certificate (PEM)")?;
    let key_pem = read(&paths.key, "DTLS private key (PEM)")?;
    let (_, pem) = x509_parser::pem::parse_x509_pem(cert_pem.as_bytes())
        .map_err(|e| corrupt(&paths.cert, format!("not a PEM certificate: {e}")))?;
    if pem.label != "CERTIFICATE" {
        return Err(corrupt(
            &paths.cert,
            format!("PEM label is {:?}, expected \"CERTIFICATE\"", pem.label),
        ));
    }
    let cert = pem
        .parse_x509()
        .map_err(|e| corrupt(&paths.cert, format!("not an X.509 certificate: {e}")))?;
    let key = rcgen::KeyPair::from_pem(&key_pem)
        .map_err(|e| corrupt(&paths.key, format!("not a PKCS#8 PEM private key: {e}")))?;
    if key.algorithm() != &rcgen::PKCS_ECDSA_P256_SHA256 {
        return Err(corrupt(&paths.key, "the DTLS key must be ECDSA P-256"));
    }
    use rcgen::PublicKeyData;
    if cert.public_key().subject_public_key.data.as_ref() != key.der_bytes() {
        return Err(corrupt(
            &paths.key,
            format!(
                "this key does not belong to the certificate {}",
                paths.cert.display()
            ),
        ));
    }
    Ok(DtlsCert {
        der: pem.contents.clone(),
        pem: cert_pem,
        key_der: key.serialize_der(),
        key_pem,
    })
}

fn load_ice_pwd(path: &Path) -> Result<IcePwd, IdentityError> {
    let text = read(path, "ICE password")?;
    IcePwd::new(text.trim()).map_err(|e| corrupt(path, format!("ICE password: {e}")))
}

fn load_node_key(path: &Path) -> Result<NodeSecret, IdentityError> {
    let text = read(path, "Ed25519 node key (PEM)")?;
    NodeSecret::from_pkcs8_pem(&text)
        .map_err(|e| corrupt(path, format!("not an Ed25519 PKCS#8 PEM key: {e}")))
}

impl RelayIdentity {
    /// A fresh identity: new certificate and node key, the ICE password derived from both
    /// (see [`IcePwd::derived`]).
    pub fn generate() -> Result<Self, IdentityError> {
        let cert = generate_cert()?;
        let node = NodeSecret::generate().map_err(|e| IdentityError::Generate(e.to_string()))?;
        let ice_pwd = IcePwd::derived(&node.public(), &Fingerprint::of_certificate(&cert.der));
        Ok(Self::from_parts(cert, ice_pwd, node))
    }

    fn from_parts(cert: DtlsCert, ice_pwd: IcePwd, node: NodeSecret) -> Self {
        RelayIdentity {
            cert_der: cert.der,
            cert_pem: cert.pem,
            key_pkcs8_der: cert.key_der,
            key_pem: cert.key_pem,
            ice_pwd,
            node,
        }
    }

    /// Generates an identity and writes its four files (mode 0600, atomically).
    /// Refuses if any of them exists, unless `force`.
    pub fn create(paths: &IdentityPaths, force: bool) -> Result<Self, IdentityError> {
        let existing = paths.existing();
        if !force && !existing.is_empty() {
            return Err(IdentityError::Exists(existing));
        }
        let identity = Self::generate()?;
        identity.write(paths)?;
        Ok(identity)
    }

    /// Writes all four files, replacing any that exist: each staged whole first, so a failure
    /// while writing leaves the old files as they were.
    pub fn write(&self, paths: &IdentityPaths) -> Result<(), IdentityError> {
        let mut staged = Staged::new();
        let files: [(&Path, Vec<u8>); 4] = [
            (&paths.cert, self.cert_pem.clone().into_bytes()),
            (&paths.key, self.key_pem.clone().into_bytes()),
            (&paths.ice_pwd, format!("{}\n", self.ice_pwd).into_bytes()),
            (&paths.node_key, self.node.to_pkcs8_pem().into_bytes()),
        ];
        for (path, contents) in files {
            staged
                .stage(path, &contents)
                .map_err(|source| IdentityError::Io {
                    path: path.to_owned(),
                    source,
                })?;
        }
        staged.commit().map_err(|source| IdentityError::Io {
            path: paths.cert.clone(),
            source,
        })
    }

    /// Loads all four files; a missing or corrupt file is an error naming it.
    pub fn load(paths: &IdentityPaths) -> Result<Self, IdentityError> {
        let cert = load_cert(paths)?;
        let ice_pwd = load_ice_pwd(&paths.ice_pwd)?;
        let node = load_node_key(&paths.node_key)?;
        Ok(Self::from_parts(cert, ice_pwd, node))
    }

    /// Loads the identity, first creating whichever files are missing (never touching one
    /// that exists). The certificate and its key are created only as a pair. Returns the
    /// identity and the paths that were created.
    pub fn load_or_create(paths: &IdentityPaths) -> Result<(Self, Vec<PathBuf>), IdentityError> {
        let mut staged = Staged::new();
        let mut created = Vec::new();
        let stage = |staged: &mut Staged, path: &Path, contents: &[u8]| {
            staged
                .stage(path, contents)
                .map_err(|source| IdentityError::Io {
                    path: path.to_owned(),
                    source,
                })
        };
        let cert = match (paths.cert.exists(), paths.key.exists()) {
            (false, false) => {
                let cert = generate_cert()?;
                stage(&mut staged, &paths.cert, cert.pem.as_bytes())?;
                stage(&mut staged, &paths.key, cert.key_pem.as_bytes())?;
                created.extend([paths.cert.clone(), paths.key.clone()]);
                cert
            }
            _ => load_cert(paths)?,
        };
        let node = if paths.node_key.exists() {
            load_node_key(&paths.node_key)?
        } else {
            let node =
                NodeSecret::generate().map_err(|e| IdentityError::Generate(e.to_string()))?;
            stage(&mut staged, &paths.node_key, node.to_pkcs8_pem().as_bytes())?;
            created.push(paths.node_key.clone());
            node
        };
        let ice_pwd = if paths.ice_pwd.exists() {
            load_ice_pwd(&paths.ice_pwd)?
        } else {
            let pwd = IcePwd::derived(&node.public(), &Fingerprint::of_certificate(&cert.der));
            stage(&mut staged, &paths.ice_pwd, format!("{pwd}\n").as_bytes())?;
            created.push(paths.ice_pwd.clone());
            pwd
        };
        staged.commit().map_err(|source| IdentityError::Io {
            path: paths.cert.clone(),
            source,
        })?;
        Ok((Self::from_parts(cert, ice_pwd, node), created))
    }

    /// Replaces the ICE password (an operator's `ICE_PWD`).
    pub fn with_ice_pwd(mut self, pwd: IcePwd) -> Self {
        self.ice_pwd = pwd;
        self
    }

    /// SHA-256 of the certificate DER.
    pub fn fingerprint(&self) -> Fingerprint {
        Fingerprint::of_certificate(&self.cert_der)
    }

    /// The public node key (`nk`).
    pub fn node_key(&self) -> NodeKey {
        self.node.public()
    }

    /// The secret node key.
    pub fn node_secret(&self) -> &NodeSecret {
        &self.node
    }

    /// The ICE password.
    pub fn ice_pwd(&self) -> &IcePwd {
        &self.ice_pwd
    }

    /// The certificate, DER.
    pub fn cert_der(&self) -> &[u8] {
        &self.cert_der
    }

    /// The DTLS private key, PKCS#8 DER.
    pub fn key_pkcs8_der(&self) -> &[u8] {
        &self.key_pkcs8_der
    }

    /// Builds and signs this relay's entry.
    pub fn entry(&self, address: RelayAddress, port: NonZeroU16, ufrag: IceUfrag) -> RelayEntry {
        UnsignedEntry {
            address,
            port,
            fingerprint: self.fingerprint(),
            ufrag,
            pwd: self.ice_pwd.clone(),
        }
        .sign(&self.node)
    }
}
