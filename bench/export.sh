#!/usr/bin/env bash
# Export benchmark (issue 13): ROWS audit events (500,000 by default) in SQLite, exported as JSON
# and as CSV through /admin/v1/export/audit-events by a release build; reports the response
# size, time and the server's peak memory (VmHWM) before and after each export.
# Writes the export section of docs/benchmarks.md. Usage: bash bench/export.sh   (ROWS=500000)
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${ROWS:-500000}
work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
cargo build --release -p gatepass-server

export GATEPASS__DATA_DIR="$work" GATEPASS__SERVER__BIND=127.0.0.1:0 GATEPASS__LOG__LEVEL=warn
export GATEPASS_MASTER_KEY=$(head -c 32 /dev/urandom | base64)
bin=target/release/gatepass
$bin migrate >/dev/null
$bin bootstrap --json --name export-admin >"$work/admin.json"
python3 - "$work/gatepass.db" "$rows" <<'PY'
import sqlite3, sys, uuid, time
db, count = sys.argv[1], int(sys.argv[2])
con = sqlite3.connect(db)
now = int(time.time())
con.executemany(
    "INSERT INTO audit_events (id, occurred_at, actor, action, target, outcome, reason, request_id, source_addr, details) VALUES (?,?,?,?,?,?,?,?,?,?)",
    ((f"{i:08d}-{uuid.uuid4()}", now - i, "cli", "client.changed", f"gpc_bench{i:022d}", "success", None, str(uuid.uuid4()), "127.0.0.1", None) for i in range(count)),
)
con.commit()
PY
$bin serve >"$work/out" 2>"$work/err" &
pid=$!
pids+=($pid)
for _ in $(seq 100); do grep -q listening "$work/out" 2>/dev/null && break; sleep 0.1; done
url=$(grep -o 'http://[0-9.:]*' "$work/out" | head -1)
creds=$(python3 -c 'import json; d=json.load(open("'"$work"'/admin.json")); print(d["client_id"]+":"+d["client_secret"])')
token=$(curl -s -u "$creds" -d grant_type=client_credentials "$url/oauth2/token" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
hwm() { awk '/VmHWM/ {print int($2 / 1024)}' "/proc/$pid/status"; }
hwm_start=$(hwm)
measure() { # accept -> "bytes seconds hwm"
    local start end bytes
    start=$(date +%s.%N)
    bytes=$(curl -s -H "Authorization: Bearer $token" -H "Accept: $1" "$url/admin/v1/export/audit-events" | wc -c)
    end=$(date +%s.%N)
    echo "$bytes $(python3 -c "print(round($end - $start, 1))") $(hwm)"
}
read -r json_bytes json_s json_hwm < <(measure application/json)
read -r csv_bytes csv_s csv_hwm < <(measure text/csv)
echo "rows=$rows hwm_start=${hwm_start}MiB json=${json_bytes}B ${json_s}s hwm=${json_hwm}MiB csv=${csv_bytes}B ${csv_s}s hwm=${csv_hwm}MiB"

python3 bench/replace_section.py export <<MD
<!-- export:start -->
## Export of $rows audit events (issue 13)

Produced by \`bash bench/export.sh\` on $(date -u +%Y-%m-%d), same machine, release build, SQLite:
\`GET /admin/v1/export/audit-events\` streamed in pages of 500 (keyset), peak memory of the
server process (VmHWM) after start and after each export.

| format | response | time | VmHWM after start | VmHWM after the export |
|---|---|---|---|---|
| JSON | $((json_bytes / 1048576)) MiB | ${json_s} s | ${hwm_start} MiB | ${json_hwm} MiB |
| CSV | $((csv_bytes / 1048576)) MiB | ${csv_s} s | ${hwm_start} MiB | ${csv_hwm} MiB |

Before (issue 13's report): 756k rows gave a 236 MB response and 1.3 GB peak memory (every row
loaded at once).
<!-- export:end -->
MD
