//! `gatepass`: the OAuth 2.0 client-credentials authorization server.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    gatepass_server::main()
}
