#!/usr/bin/env bash
# Instructions per token request, counted by valgrind's callgrind (repeatable on a loaded,
# shared machine, where wall-clock numbers are not): Gatepass (release build, SQLite, Basic
# credentials, the credential cache warm) against bench/baseline, each serving N sequential
# keep-alive requests after a warm-up of 300. Counts every thread of the process while the N
# requests run (HTTP, the handler, background tasks), not the kernel. Writes the
# `callgrind` section of docs/benchmarks.md.
# Usage: bash bench/callgrind.sh   (N=2000 by default; needs valgrind and python3)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${N:-2000}
for tool in valgrind callgrind_control callgrind_annotate python3; do
    command -v "$tool" >/dev/null || { echo "bench/callgrind.sh needs $tool" >&2; exit 1; }
done
work=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
cargo build --release -p gatepass-server -p token-baseline

cat >"$work/load.py" <<'PY'
import base64, http.client, sys
url, creds, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
conn = http.client.HTTPConnection(url.split("//")[1], timeout=120)
headers = {"Authorization": "Basic " + base64.b64encode(creds.encode()).decode(),
           "Content-Type": "application/x-www-form-urlencoded"}
for _ in range(n):
    conn.request("POST", "/oauth2/token", body="grant_type=client_credentials", headers=headers)
    response = conn.getresponse()
    response.read()
    if response.status != 200:
        sys.exit(f"answered {response.status}")
PY

measure() { # name credentials command... -> prints instructions per request
    local name=$1 creds=$2; shift 2
    valgrind --tool=callgrind --callgrind-out-file="$work/$name.out" "$@" >"$work/$name.log" 2>"$work/$name.err" &
    pid=$!
    for _ in $(seq 600); do grep -q listening "$work/$name.log" 2>/dev/null && break; sleep 0.2; done
    local url; url=$(grep -o 'http://[0-9.:]*' "$work/$name.log" | head -1)
    python3 "$work/load.py" "$url" "$creds" 300
    callgrind_control -z "$pid" >/dev/null 2>&1
    python3 "$work/load.py" "$url" "$creds" "$n"
    callgrind_control -d "$pid" >/dev/null 2>&1
    kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
    local total; total=$(callgrind_annotate "$work/$name.out.1" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
    echo $((total / n))
}

export GATEPASS__DATA_DIR="$work/gatepass" GATEPASS__DATABASE__URL="sqlite://$work/gatepass/gatepass.db"
export GATEPASS__SERVER__BIND=127.0.0.1:0 GATEPASS__LOG__LEVEL=warn
export GATEPASS_MASTER_KEY=$(head -c 32 /dev/urandom | base64)
mkdir -p "$work/gatepass"
target/release/gatepass migrate >/dev/null
target/release/gatepass bootstrap --json --name callgrind >"$work/client.json"
creds=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["client_id"]+":"+d["client_secret"])' "$work/client.json")
gatepass=$(measure gatepass "$creds" target/release/gatepass serve)
baseline=$(measure baseline "a:b" target/release/token-baseline)
ratio=$(python3 -c "print(f'{$baseline / $gatepass:.2f}')")
commit=$(git rev-parse --short HEAD)
echo "Gatepass $gatepass, baseline $baseline instructions per request (baseline/Gatepass $ratio)"
python3 bench/replace_section.py callgrind <<MD
<!-- callgrind:start -->
## Instructions per token request (callgrind)

Produced by \`bash bench/callgrind.sh\` on $(date -u +%Y-%m-%d) at $commit: $n sequential keep-alive
requests after a warm-up, every thread of the server counted (not the kernel), SQLite, credential
cache warm. Instruction counts repeat within about 2% run to run even on a loaded machine, so
they compare builds where wall-clock runs cannot.

| server | instructions per request |
|---|---|
| Gatepass | $gatepass |
| baseline (actix-web + ring, bench/baseline) | $baseline |

The baseline needs $ratio× the instructions of Gatepass per token (both sign one ES256 JWT with
ring, most of either count).
<!-- callgrind:end -->
MD
