#!/usr/bin/env bash
# Resource guard benchmark: criterion (raw ring ES256 verification vs the guard on a fresh
# and on a repeated token) and wrk (the example service's guarded route vs its unguarded
# one, -t2 -c64 -d20s after a 5 s warm-up each). Replaces the guard section of
# docs/benchmarks.md. Usage: bash bench/guard.sh   (DURATION=20s by default)
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${DURATION:-20s}
work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }

cargo bench -p gatepass-resource-guard --bench validate 2>&1 | tee "$work/criterion.txt" | grep -E '^(raw|guard)|time:'
median() { grep -A1 "^$1" "$work/criterion.txt" | grep -o 'time: *\[[^]]*\]' | awk '{print $4, $5}'; }
raw=$(median "raw ring ES256 verify"); fresh=$(median "guard: fresh token"); repeated=$(median "guard: repeated token")
to_us() { python3 -c "v,u='$1'.split(); f={'ns':1e-3,'µs':1,'us':1,'ms':1e3}[u]; print(float(v)*f)"; }
ratio=$(python3 -c "print(f'{$(to_us "$fresh")/$(to_us "$raw"):.2f}')")

cargo build --release -p gatepass-server -p example-downstream-service
export GATEPASS__DATA_DIR="$work/gatepass" GATEPASS__SERVER__BIND=127.0.0.1:0 GATEPASS__LOG__LEVEL=warn
export GATEPASS_MASTER_KEY=$(head -c 32 /dev/urandom | base64)
target/release/gatepass clients create --name bench --scope sites:read --audience https://api.example.com --json >"$work/client.json"
target/release/gatepass serve >"$work/gatepass.out" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q listening "$work/gatepass.out" && break; sleep 0.1; done
issuer=$(grep -o 'http://[0-9.:]*' "$work/gatepass.out" | head -1)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
GATEPASS_ISSUER=$issuer BIND=127.0.0.1:$port target/release/example-downstream-service >"$work/service.out" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q listening "$work/service.out" && break; sleep 0.1; done
creds=$(python3 -c 'import json; d=json.load(open("'"$work"'/client.json")); print(d["client"]["client_id"]+":"+d["client_secret"])')
token=$(curl -s -u "$creds" -d grant_type=client_credentials "$issuer/oauth2/token" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "http://127.0.0.1:$port/sites")" = 200 ]
printf 'wrk.headers["Authorization"] = "Bearer %s"\n' "$token" >"$work/auth.lua"

load() { # name url [script]
    local args=(-t2 -c64 --latency); [ -n "${3:-}" ] && args+=(-s "$3")
    wrk "${args[@]}" -d5s "$2" >/dev/null
    wrk "${args[@]}" -d"$duration" "$2" >"$work/$1.txt"
    awk '/Requests\/sec/ {print $2}' "$work/$1.txt"
}
row() { # label name
    local p99 non2xx; p99=$(awk '$1=="99%" {print $2}' "$work/$2.txt"); non2xx=$(awk '/Non-2xx/ {print $NF}' "$work/$2.txt")
    echo "| $1 | $(awk '/Requests\/sec/ {print $2}' "$work/$2.txt") | $p99 | ${non2xx:-0} |"
}
open_rps=$(load open "http://127.0.0.1:$port/")
guarded_rps=$(load guarded "http://127.0.0.1:$port/sites" "$work/auth.lua")
share=$(python3 -c "print(f'{100*$guarded_rps/$open_rps:.0f}')")

section=$(cat <<MD
<!-- guard:start -->
## Resource guard

Produced by \`bash bench/guard.sh\` on $(date -u +%Y-%m-%d), same machine ($(nproc) cores).

Validation cost (criterion, \`cargo bench -p gatepass-resource-guard\`; median of each):

| what | time |
|---|---|
| raw ring ES256 verification | $raw |
| guard, fresh token (every check, no cache) | $fresh |
| guard, repeated token (verified-token cache) | $repeated |

Fresh token costs **${ratio}×** raw verification (target ≤ 1.3×); a repeated token target ≤ 2 µs.

The example service (\`examples/downstream-service\`, release) under \`wrk -t2 -c64 -d$duration\`
after 5 s of warm-up, a guarded route with one repeated token vs the unguarded route:

| route | requests/s | p99 | non-2xx |
|---|---|---|---|
$(row "GET / (unguarded)" open)
$(row "GET /sites (RequireScopes sites:read)" guarded)

The guarded route reaches **${share}%** of the unguarded one (target ≥ 60%).
<!-- guard:end -->
MD
)
printf '%s\n' "$section" | python3 bench/replace_section.py guard
echo "$section"
