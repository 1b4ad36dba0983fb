//! `lumamesh relay init`

use std::fmt;
use std::path::PathBuf;

use keystore::{IdentityError, IdentityPaths, RelayIdentity};

use crate::{output, UsageError};

#[derive(Debug, clap::Args)]
pub struct Init {
    /// Directory for the identity files (created with mode 0700 if missing).
    ///
    /// Writes server.crt and server.key (self-signed ECDSA P-256 DTLS certificate),
    /// server.key.icepwd (ICE password) and node.key (Ed25519 node key), each with mode 0600.
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,
    /// Replace an existing identity. The old node key is lost, and with it every relay.txt
    /// entry it signed.
    #[arg(long)]
    force: bool,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, serde::Serialize)]
struct Output {
    dir: PathBuf,
    files: Vec<PathBuf>,
    fingerprint: String,
    nk: String,
    ice_pwd: String,
}

impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "created relay identity in {}", self.dir.display())?;
        for file in &self.files {
            writeln!(f, "  {}", file.display())?;
        }
        writeln!(f, "fingerprint  sha-256 {}", self.fingerprint)?;
        writeln!(f, "nk           {}", self.nk)?;
        writeln!(
            f,
            "next: lumamesh relay encode --dir {} --ip <public IP>",
            self.dir.display()
        )
    }
}

impl Init {
    pub fn run(self) -> anyhow::Result<()> {
        let paths = IdentityPaths::in_dir(&self.dir);
        let identity = match RelayIdentity::create(&paths, self.force) {
            Err(IdentityError::Exists(files)) => {
                let list: Vec<_> = files.iter().map(|p| p.display().to_string()).collect();
                return Err(UsageError(format!(
                    "a relay identity exists already in {} ({}); pass --force to replace it \
                     (its node key and every entry it signed are lost)",
                    self.dir.display(),
                    list.join(", ")
                ))
                .into());
            }
            other => other?,
        };
        let out = Output {
            dir: self.dir,
            files: paths.all().iter().map(|p| p.to_path_buf()).collect(),
            fingerprint: identity.fingerprint().to_string(),
            nk: identity.node_key().to_string(),
            ice_pwd: identity.ice_pwd().to_string(),
        };
        output::print(self.json, &out)
    }
}
