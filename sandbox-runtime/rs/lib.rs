//! The Lumamesh sandbox runtime: the JavaScript client that runs inside an inscription
//! (sources under `sandbox-runtime/src/`), and the bundler that turns it into one
//! self-contained, minified ES module with signed relay entries embedded.
//!
//! ```
//! use bootstrap_codec::RelayTxt;
//!
//! let txt = RelayTxt::parse(&fixtures::read("relay/relay.txt"));
//! let entries: Vec<_> = txt.entries.into_iter().map(|e| e.entry).collect();
//! let bundle = sandbox_runtime::bundle(&entries).unwrap();
//! assert!(bundle.js.contains("export"));
//! assert!(bundle.brotli_len < bundle.js.len());
//! // What `publish` inscribes: ord's brotli for text/javascript.
//! assert_eq!(bundle.compressed.content_encoding, Some("br"));
//! ```

mod bundle;
mod sources;

pub use bundle::{bundle, bundle_as, minify, Bundle, BundleError, Flavor};
pub use sources::{concatenate, MODULES};
