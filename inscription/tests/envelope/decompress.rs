//! Decompression of untrusted brotli stops at a limit: a bomb (kilobytes that decode to
//! hundreds of megabytes) is refused with the limit named, and memory stays near the limit.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::Write;

use inscription::{decompress_brotli, decompress_brotli_limited, CompressError, MAX_DECOMPRESSED};

/// Counts the bytes live on the threads that ask for it (each test runs on its own
/// thread), and the most there were at once.
struct Counting;

thread_local! {
    static TRACK: Cell<bool> = const { Cell::new(false) };
    static LIVE: Cell<usize> = const { Cell::new(0) };
    static PEAK: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call is passed on to the system allocator unchanged; the counters are
// thread-local cells that allocate nothing.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        unsafe { System.dealloc(p, layout) };
        shrank(layout.size());
    }

    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let q = unsafe { System.realloc(p, layout, new_size) };
        if !q.is_null() {
            shrank(layout.size());
            grew(new_size);
        }
        q
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn grew(n: usize) {
    // `try_with`: the cells are gone while a thread is being torn down.
    let _ = TRACK.try_with(|track| {
        if track.get() {
            let live = LIVE.get() + n;
            LIVE.set(live);
            PEAK.set(PEAK.get().max(live));
        }
    });
}

fn shrank(n: usize) {
    let _ = TRACK.try_with(|track| {
        if track.get() {
            LIVE.set(LIVE.get().saturating_sub(n));
        }
    });
}

/// The most bytes live at once on this thread while `f` ran, counting from zero.
fn peak_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    LIVE.set(0);
    PEAK.set(0);
    TRACK.set(true);
    let out = f();
    TRACK.set(false);
    (out, PEAK.get())
}

/// `len` zero bytes as brotli, fed to the encoder a mebibyte at a time (quality 1, a
/// 64 KiB window: fast to make, and the decoder's own window stays small).
fn zeros(len: usize) -> Vec<u8> {
    let mut writer = brotli::CompressorWriter::new(Vec::new(), 4096, 1, 16);
    let chunk = vec![0u8; 1 << 20];
    let mut left = len;
    while left > 0 {
        let n = left.min(chunk.len());
        writer.write_all(&chunk[..n]).unwrap();
        left -= n;
    }
    writer.into_inner()
}

#[test]
fn brotli_bomb_is_refused_at_the_default_limit() {
    // 64 MiB of zeros: four times the limit, from a few kilobytes.
    let bomb = zeros(64 << 20);
    assert!(bomb.len() < 64 << 10, "{} bytes", bomb.len());
    let (result, peak) = peak_during(|| decompress_brotli(&bomb));
    eprintln!(
        "64 MiB bomb, {} bytes, default limit: peak {peak} bytes",
        bomb.len()
    );
    let err = result.expect_err("a bomb must not decode");
    assert!(
        matches!(err, CompressError::TooLarge { limit } if limit == MAX_DECOMPRESSED),
        "{err:?}"
    );
    assert!(
        err.to_string().contains(&MAX_DECOMPRESSED.to_string()),
        "{err}"
    );
    // The output never grows past the limit; the decoder's window and buffers are small.
    assert!(peak <= MAX_DECOMPRESSED + (1 << 20), "peak {peak} bytes");
}

#[test]
fn small_limit_stops_a_bigger_bomb_early() {
    // 256 MiB of zeros in a few hundred kilobytes, stopped at 1 MiB.
    let bomb = zeros(256 << 20);
    let limit = 1 << 20;
    let (result, peak) = peak_during(|| decompress_brotli_limited(&bomb, limit));
    eprintln!(
        "256 MiB bomb, {} bytes, 1 MiB limit: peak {peak} bytes",
        bomb.len()
    );
    assert!(matches!(result, Err(CompressError::TooLarge { limit: l }) if l == limit));
    assert!(peak <= limit + (1 << 20), "peak {peak} bytes");
}

#[test]
fn exactly_the_limit_decodes() {
    let body = vec![7u8; 100_000];
    let mut writer = brotli::CompressorWriter::new(Vec::new(), 4096, 5, 18);
    writer.write_all(&body).unwrap();
    let compressed = writer.into_inner();
    assert_eq!(
        decompress_brotli_limited(&compressed, body.len()).unwrap(),
        body
    );
    assert!(matches!(
        decompress_brotli_limited(&compressed, body.len() - 1),
        Err(CompressError::TooLarge { limit }) if limit == body.len() - 1
    ));
    assert_eq!(decompress_brotli(&compressed).unwrap(), body);
}
