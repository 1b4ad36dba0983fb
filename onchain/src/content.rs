//! One body ready for an envelope, and what is reported about it.

use bitcoin::Network;
use inscription::{CompressError, Inscription};

use crate::policy::{check_content_size, PolicyError};
use crate::reveal::smaller_encoding;

/// Why a body cannot be inscribed as given.
#[derive(Debug, thiserror::Error)]
pub enum ContentError {
    /// Refused by the network's content limit.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// Brotli failed (a bug in the encoder, not in the body).
    #[error("compressing {name}")]
    Compress {
        /// Where the body came from.
        name: String,
        /// What failed.
        #[source]
        error: CompressError,
    },
}

/// One inscription and where its body came from.
#[derive(Debug, Clone)]
pub struct Content {
    /// Where it came from (for messages and the summary).
    pub name: String,
    /// Bytes before compression.
    pub raw_len: usize,
    /// The inscription.
    pub inscription: Inscription,
}

impl Content {
    /// `body` as `content_type`: refused if ord would not index it on `network`, and
    /// brotli-compressed with ord's parameters when `compress` and that makes it smaller.
    pub fn new(
        name: &str,
        content_type: &str,
        body: Vec<u8>,
        compress: bool,
        network: Network,
    ) -> Result<Content, ContentError> {
        check_content_size(name, body.len(), network)?;
        let raw_len = body.len();
        let mut inscription = Inscription::new(content_type, body);
        if compress {
            inscription =
                smaller_encoding(inscription).map_err(|error| ContentError::Compress {
                    name: name.to_owned(),
                    error,
                })?;
        }
        Ok(Content {
            name: name.to_owned(),
            raw_len,
            inscription,
        })
    }

    /// An inscription with no body and no content type (a delegate alone), as ord writes one.
    pub fn bodiless(name: &str) -> Content {
        Content {
            name: name.to_owned(),
            raw_len: 0,
            inscription: Inscription::default(),
        }
    }
}

/// What one inscription holds, as the run's summary reports it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ContentSummary {
    /// Source name.
    pub name: String,
    /// MIME type.
    pub content_type: Option<String>,
    /// Bytes before compression.
    pub bytes: usize,
    /// Bytes in the envelope's body.
    pub inscribed_bytes: usize,
    /// `br` when compressed.
    pub content_encoding: Option<String>,
}

impl ContentSummary {
    /// Summarises `content`.
    pub fn of(content: &Content) -> Self {
        Self {
            name: content.name.clone(),
            content_type: content.inscription.content_type().map(str::to_owned),
            bytes: content.raw_len,
            inscribed_bytes: content.inscription.body().len(),
            content_encoding: content.inscription.content_encoding().map(str::to_owned),
        }
    }
}
