//! Integration tests for bootstrap-codec: fixture vectors, property tests, SDP parsed by an
//! independent implementation (webrtc-sdp).

mod codec {
    pub mod props;
    pub mod sdp;
    pub mod vectors;
}
