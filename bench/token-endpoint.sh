#!/usr/bin/env bash
# Token endpoint benchmark: Gatepass (release build, SQLite) against panva's oidc-provider
# v9 (client_credentials, ES256 JWT access tokens), both on loopback, driven by wrk at 16
# and 64 connections, 20 s each, after a 5 s warm-up of each server. Writes
# docs/benchmarks.md. Usage: bash bench/token-endpoint.sh   (DURATION=20s by default)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
duration=${DURATION:-20s}
work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

if ! command -v wrk >/dev/null; then
    apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi
cargo build --release -p gatepass-server

# --- Gatepass -------------------------------------------------------------------------
export GATEPASS__DATA_DIR="$work/gatepass" GATEPASS__SERVER__BIND=127.0.0.1:0 GATEPASS__LOG__LEVEL=warn
export GATEPASS_MASTER_KEY=$(head -c 32 /dev/urandom | base64)
target/release/gatepass migrate >/dev/null
boot=$(target/release/gatepass bootstrap --json --name bench)
gp_id=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["client_id"])' "$boot")
gp_secret=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["client_secret"])' "$boot")
target/release/gatepass serve >"$work/gatepass.out" 2>"$work/gatepass.err" &
pids+=($!)
for _ in $(seq 100); do grep -q listening "$work/gatepass.out" 2>/dev/null && break; sleep 0.1; done
gp_url=$(grep -o 'http://[0-9.:]*' "$work/gatepass.out" | head -1)

# --- panva oidc-provider v9 -----------------------------------------------------------
mkdir -p "$work/peer" && cd "$work/peer"
npm init -y >/dev/null 2>&1
npm install --silent --no-audit --no-fund oidc-provider@9 >/dev/null 2>&1
peer_version=$(node -p 'require("oidc-provider/package.json").version')
cat >peer.mjs <<'JS'
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';
const jwk = { ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }), kid: 'bench', alg: 'ES256', use: 'sig' };
const port = Number(process.env.PORT);
const resource = 'https://api.example.com';
const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [{ client_id: 'bench', client_secret: 'bench-secret-0123456789abcdef0123456789', grant_types: ['client_credentials'],
              redirect_uris: [], response_types: [], token_endpoint_auth_method: 'client_secret_basic', scope: 'api:read',
              id_token_signed_response_alg: 'ES256' }],
  scopes: ['api:read'],
  jwks: { keys: [jwk] },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => resource,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({ scope: 'api:read', audience: resource, accessTokenTTL: 900,
                                      accessTokenFormat: 'jwt', jwt: { sign: { alg: 'ES256' } } }),
    },
  },
});
provider.listen(port, '127.0.0.1', () => console.log('listening'));
JS
peer_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
PORT=$peer_port node peer.mjs >"$work/peer.out" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q listening "$work/peer.out" 2>/dev/null && break; sleep 0.1; done
peer_url="http://127.0.0.1:$peer_port"
cd "$root"

# --- load -----------------------------------------------------------------------------
lua() { # $1 basic credentials, $2 body
    cat <<LUA
wrk.method = "POST"
wrk.body = "$2"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic $(printf '%s' "$1" | base64 -w0)"
LUA
}
lua "$gp_id:$gp_secret" "grant_type=client_credentials" >"$work/gatepass.lua"
lua "bench:bench-secret-0123456789abcdef0123456789" "grant_type=client_credentials&scope=api:read" >"$work/peer.lua"

# Sanity: each server answers 200 with a token for the exact request wrk sends.
header() { sed -n 's/.*"Authorization"\] = "\(.*\)"/\1/p' "$work/$1.lua"; }
body() { sed -n 's/^wrk.body = "\(.*\)"/\1/p' "$work/$1.lua"; }
for target in "gatepass $gp_url/oauth2/token" "peer $peer_url/token"; do
    set -- $target
    status=$(curl -s -o "$work/$1.sample" -w '%{http_code}' -H "Authorization: $(header "$1")" \
        -H 'Content-Type: application/x-www-form-urlencoded' --data "$(body "$1")" "$2")
    echo "$1 sample status $status: $(head -c 120 "$work/$1.sample")"
    [ "$status" = 200 ] || { echo "$1 did not issue a token" >&2; exit 1; }
done

run_wrk() { # name url connections duration
    wrk -t2 -c"$3" -d"$4" --latency -s "$work/$1.lua" "$2" 2>&1
}
results=()
for target in "gatepass $gp_url/oauth2/token" "peer $peer_url/token"; do
    set -- $target
    run_wrk "$1" "$2" 16 5s >/dev/null # warm-up
    for c in 16 64; do
        out=$(run_wrk "$1" "$2" "$c" "$duration")
        echo "$out" >"$work/$1-$c.txt"
        rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
        p50=$(awk '$1=="50%" {print $2}' <<<"$out")
        p99=$(awk '$1=="99%" {print $2}' <<<"$out")
        non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out"); non2xx=${non2xx:-0}
        errors=$(awk '/Socket errors/ {print $0}' <<<"$out" | sed 's/^ *//'); errors=${errors:-none}
        echo "$1 c=$c: $rps req/s p50 $p50 p99 $p99 non-2xx $non2xx ($errors)"
        results+=("| $1 | $c | $rps | $p50 | $p99 | $non2xx |")
    done
done

gp_rps64=$(awk '/Requests\/sec/ {print $2}' "$work/gatepass-64.txt")
peer_rps64=$(awk '/Requests\/sec/ {print $2}' "$work/peer-64.txt")
ratio=$(python3 -c "print(f'{$gp_rps64/$peer_rps64:.1f}')")
{
    echo "# Benchmarks"
    echo
    echo "## Token endpoint: Gatepass vs panva oidc-provider"
    echo
    echo "Produced by \`bash bench/token-endpoint.sh\` on $(date -u +%Y-%m-%d)."
    echo "Machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(free -g | awk '/Mem:/ {print $2}') GiB;"
    echo "load generator and both servers on the same machine over loopback."
    echo
    echo "- Gatepass: release build, SQLite, ES256, client_secret_basic, log level warn, one worker per core."
    echo "- Peer: oidc-provider $peer_version on Node $(node --version), one process, client_credentials with"
    echo "  ES256 JWT access tokens (resource indicators), client_secret_basic."
    echo "- Each server warmed up with 5 s of load first; then \`wrk -t2 -cN -d$duration --latency\` per row."
    echo
    echo "| server | connections | tokens/s | p50 | p99 | non-2xx |"
    echo "|---|---|---|---|---|---|"
    printf '%s\n' "${results[@]}"
    echo
    echo "At 64 connections Gatepass issues **${ratio}×** the peer's tokens per second."
    echo "Target (issue: token service): ≥ 35,000 tokens/s at 64 connections, p99 ≤ 5 ms, zero non-2xx."
} >docs/benchmarks.md
cat docs/benchmarks.md
