//! What Ringside's end-to-end tests and lab benchmarks share: the live bridge lab, the
//! console started on a port of the kernel's choosing, and commands that must succeed.

// Test support: it panics on broken expectations like the tests that use it.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::missing_panics_doc,
    clippy::must_use_candidate,
    clippy::new_without_default
)]

pub mod console;
pub mod consumer;
pub mod lab;
pub mod process;
