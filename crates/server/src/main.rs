//! `gatepass`: the OAuth 2.0 client-credentials authorization server.
#![forbid(unsafe_code)]

/// mimalloc instead of the system allocator: a token request allocates a few dozen small
/// buffers, and mimalloc serves them in fewer instructions (docs/architecture.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    gatepass_server::main()
}
