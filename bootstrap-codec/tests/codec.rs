//! Integration tests for bootstrap-codec: fixture vectors, property tests, SDP parsed by an
//! independent implementation (webrtc-sdp), and identity files on disk.

mod codec {
    pub mod identity;
    pub mod props;
    pub mod sdp;
    pub mod vectors;
}
