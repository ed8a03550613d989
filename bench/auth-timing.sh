#!/usr/bin/env bash
# Does the token endpoint's answer time tell an attacker whether a client id exists?
# Sends, interleaved in random order over keep-alive connections, token requests with
#   unknown:   a well-formed client id that does not exist + a well-formed secret
#   known:     an existing client id + a well-formed wrong secret
#   malformed: an existing client id + a secret with a bad checksum
# against a release build (SQLite, failure limits off) and writes the latency distribution of
# each to docs/security.md. Usage: bash bench/auth-timing.sh   (N=20000 per kind by default)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${N:-20000}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
cargo build --release -p gatepass-server
export GATEPASS__DATA_DIR="$work" GATEPASS__SERVER__BIND=127.0.0.1:0 GATEPASS__LOG__LEVEL=error
export GATEPASS__LIMITS__FAILED_AUTH_PER_CLIENT=0 GATEPASS__LIMITS__FAILED_AUTH_PER_ADDRESS=0
export GATEPASS_MASTER_KEY=$(head -c 32 /dev/urandom | base64)
target/release/gatepass migrate >/dev/null
target/release/gatepass clients create --name timing --scope sites:read --json >"$work/client.json"
target/release/gatepass serve >"$work/out" 2>"$work/err" &
for _ in $(seq 100); do grep -q listening "$work/out" 2>/dev/null && break; sleep 0.1; done
url=$(grep -o 'http://[0-9.:]*' "$work/out" | head -1)
python3 bench/auth_timing.py "$url" "$work/client.json" "$n" >"$work/section.md"
python3 bench/replace_section.py auth-timing docs/security.md <"$work/section.md"
cat "$work/section.md"
