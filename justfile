# Shortcuts over cargo; nothing in the README requires `just`.

run:
    cargo run --release -p gatepass-server -- serve

build:
    cargo build --workspace

test:
    cargo test --workspace

# Chromium and playwright-core for the console's browser tests (then `just test` runs them).
e2e-setup:
    bash e2e/setup.sh

lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings

bench:
    bash bench/token-endpoint.sh
    bash bench/guard.sh
    bash bench/admin.sh
    bash bench/auth-timing.sh
    bash bench/tls.sh

# Each cargo-fuzz target for 10 minutes (fuzz/README.md).
fuzz:
    cd fuzz && for t in token_request basic_header secret_format guard_validate; do RUSTC_BOOTSTRAP=1 cargo fuzz run -s none -a $t -- -max_total_time=600; done
