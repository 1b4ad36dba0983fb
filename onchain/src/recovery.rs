//! The recovery file: a key for every commit output, written before anything that could be
//! broadcast exists, so a reveal that never confirms does not lose the commit's funds.

use bitcoin::key::Secp256k1;
use bitcoin::secp256k1::All;
use bitcoin::Network;

use crate::summary::Stage;
use crate::wallet::rawtr_descriptor;

/// The recovery file's text: a comment saying what it is for, then for each stage its
/// commit output and ord's `rawtr(WIF)#checksum` descriptor of the key that can sweep it.
pub fn recovery_text(secp: &Secp256k1<All>, stages: &[Stage], network: Network) -> String {
    let mut text = String::from(
        "# Recovery keys for the commit outputs (ord's rawtr format). If a reveal never\n\
         # confirms, import one into Bitcoin Core (importdescriptors) to sweep its commit.\n",
    );
    for stage in stages {
        let commit = stage.prepared.commit.tx.compute_txid();
        let key = stage.prepared.reveal.recovery_key(secp);
        text.push_str(&format!(
            "# {} commit output {commit}:0\n{}\n",
            stage.label(),
            rawtr_descriptor(&key, network)
        ));
    }
    text
}
