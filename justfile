# Shortcuts over cargo; nothing in the README requires `just`.

run:
    cargo run --release -- serve

build:
    cargo build --workspace

test:
    cargo test --workspace

lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings

bench:
    bash bench/token-endpoint.sh
    bash bench/guard.sh
    bash bench/admin.sh
