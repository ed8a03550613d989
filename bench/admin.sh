#!/usr/bin/env bash
# Admin API benchmark: 100,000 clients in the (SQLite) database, one page of 100 filtered by
# label, under wrk -t2 -c16 -d20s after a 5 s warm-up. Replaces the admin section of
# docs/benchmarks.md. Usage: bash bench/admin.sh   (DURATION=20s, CLIENTS=100000 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${DURATION:-20s}
count=${CLIENTS:-100000}
work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --release -p gatepass-server

export GATEPASS__DATA_DIR="$work" GATEPASS__SERVER__BIND=127.0.0.1:0 GATEPASS__LOG__LEVEL=warn
export GATEPASS_MASTER_KEY=$(head -c 32 /dev/urandom | base64)
target/release/gatepass bootstrap --json --name bench-admin >"$work/admin.json"
# Bulk-load clients straight into the database (the API would take minutes for 100k).
python3 - "$work/gatepass.db" "$count" <<'PY'
import sqlite3, sys, json
db, count = sys.argv[1], int(sys.argv[2])
con = sqlite3.connect(db)
teams = ["payments", "search", "billing", "infra", "data", "mobile", "web", "ops", "ml", "edge"]
rows = [(f"gpc_bench{i:022d}", f"bench-{i}", "sites:read", "", json.dumps({"team": teams[i % 10]}, separators=(",", ":")), 0, 1_700_000_000, 1_700_000_000) for i in range(count)]
con.executemany("INSERT INTO clients (client_id, name, scopes, audiences, labels, disabled, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?)", rows)
con.commit()
PY
target/release/gatepass serve >"$work/out" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q listening "$work/out" && break; sleep 0.1; done
url=$(grep -o 'http://[0-9.:]*' "$work/out" | head -1)
creds=$(python3 -c 'import json; d=json.load(open("'"$work"'/admin.json")); print(d["client_id"]+":"+d["client_secret"])')
token=$(curl -s -u "$creds" -d grant_type=client_credentials "$url/oauth2/token" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
page="$url/admin/v1/clients?label=team:billing&limit=100"
items=$(curl -s -H "Authorization: Bearer $token" "$page" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))')
[ "$items" = 100 ] || { echo "expected a full page, got $items" >&2; exit 1; }
printf 'wrk.headers["Authorization"] = "Bearer %s"\n' "$token" >"$work/auth.lua"
wrk -t2 -c16 -d5s -s "$work/auth.lua" "$page" >/dev/null
wrk -t2 -c16 -d"$duration" --latency -s "$work/auth.lua" "$page" >"$work/wrk.txt"
cat "$work/wrk.txt"
rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.txt"); p50=$(awk '$1=="50%" {print $2}' "$work/wrk.txt"); p99=$(awk '$1=="99%" {print $2}' "$work/wrk.txt")
non2xx=$(awk '/Non-2xx/ {print $NF}' "$work/wrk.txt")
section=$(cat <<MD
<!-- admin:start -->
## Admin API

Produced by \`bash bench/admin.sh\` on $(date -u +%Y-%m-%d), same machine: $count clients in SQLite
(labels \`team\` over 10 values), \`GET /admin/v1/clients?label=team:billing&limit=100\` with a
bearer token under \`wrk -t2 -c16 -d$duration\` after 5 s of warm-up.

| pages/s | p50 | p99 | non-2xx |
|---|---|---|---|
| $rps | $p50 | $p99 | ${non2xx:-0} |

Target: p99 ≤ 50 ms for a page of 100 filtered by label. Every admin request also reads its
token's standing (one indexed read), which these figures include. Token throughput is the
token-endpoint table above.
<!-- admin:end -->
MD
)
printf '%s\n' "$section" | python3 bench/replace_section.py admin
echo "$section"
