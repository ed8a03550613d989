#!/usr/bin/env bash
# Credential freshness benchmark (docs/benchmarks.md, section "freshness"), in one run:
#  1. 10,000 distinct clients taking turns at the token endpoint against one client, in
#     alternating pairs (target: ≥ 0.8×);
#  2. the token endpoint (one client) against the baseline probe (bench/baseline), in
#     alternating pairs (targets: ≥ 0.9×, p99 ≤ 1.1× the baseline's);
#  3. the database at rest (PostgreSQL): table reads and rows read per second by an idle node
#     holding 1 client and holding 10,000 (the feed poll; must not grow with the clients).
# Usage: bash bench/freshness.sh   (CLIENTS=10000, DURATION=10s, ROUNDS=3, REST=20 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
clients=${CLIENTS:-10000}
duration=${DURATION:-10s}
rounds=${ROUNDS:-3}
rest=${REST:-20}
work=$(mktemp -d)
pids=()
pg_server=${GATEPASS_BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432}
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    psql "$pg_server/postgres" -qc 'DROP DATABASE IF EXISTS gatepass_fresh WITH (FORCE)' 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
for tool in psql python3 curl; do
    command -v "$tool" >/dev/null || { echo "bench/freshness.sh needs $tool" >&2; exit 1; }
done
if ! command -v wrk >/dev/null; then
    apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi
cargo build --release -p gatepass-server -p token-baseline

export GATEPASS__SERVER__BIND=127.0.0.1:0 GATEPASS__LOG__LEVEL=warn
GATEPASS_MASTER_KEY=$(head -c 32 /dev/urandom | base64)
export GATEPASS_MASTER_KEY
serve() { # name database-url -> sets url_<name>, pid_<name>
    mkdir -p "$work/$1"
    export GATEPASS__DATA_DIR="$work/$1" GATEPASS__DATABASE__URL="$2"
    target/release/gatepass migrate >/dev/null
    target/release/gatepass bootstrap --json --name "bench-$1" >"$work/$1/admin.json"
    target/release/gatepass serve >"$work/$1/out" 2>"$work/$1/err" &
    pids+=($!)
    printf -v "pid_$1" '%s' "$!"
    for _ in $(seq 100); do grep -q listening "$work/$1/out" 2>/dev/null && break; sleep 0.1; done
    printf -v "url_$1" '%s' "$(grep -o 'http://[0-9.:]*' "$work/$1/out" | head -1)"
}
# N clients through the admin API (4 at a time); writes "client_id:secret" lines to $3.
seed() { # url count file
    python3 - "$1" "$2" "$3" "$work/$4/admin.json" <<'PY'
import base64, json, sys, urllib.request
from concurrent.futures import ThreadPoolExecutor
url, count, out, admin = sys.argv[1], int(sys.argv[2]), sys.argv[3], json.load(open(sys.argv[4]))
tag = out.rsplit("/", 1)[-1].split(".")[0]
def post(path, body, headers):
    req = urllib.request.Request(url + path, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(req) as r:
        return json.load(r)
basic = base64.b64encode(f"{admin['client_id']}:{admin['client_secret']}".encode()).decode()
token = post("/oauth2/token", b"grant_type=client_credentials",
             {"Authorization": "Basic " + basic, "Content-Type": "application/x-www-form-urlencoded"})["access_token"]
def make(i):
    made = post("/admin/v1/clients", json.dumps({"name": f"bench-{tag}-{i}", "scopes": ["api:read"]}).encode(),
                {"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    return made["client"]["client_id"] + ":" + made["client_secret"]
with ThreadPoolExecutor(4) as pool:
    lines = list(pool.map(make, range(count)))
open(out, "w").write("\n".join(lines) + "\n")
PY
}
# A wrk script sending each credential of $1 in turn (one Authorization header per request).
lua_many() {
    python3 - "$1" <<'PY'
import base64, sys
creds = [l.strip() for l in open(sys.argv[1]) if l.strip()]
print("local headers = {")
for c in creds:
    print('  "Basic %s",' % base64.b64encode(c.encode()).decode())
print("}")
print('''local i = 0
request = function()
  i = i % #headers + 1
  return wrk.format("POST", nil, {["Content-Type"] = "application/x-www-form-urlencoded", ["Authorization"] = headers[i]}, "grant_type=client_credentials")
end''')
PY
}
wrk_run() { wrk -t2 -c64 -d"$2" --latency -s "$1" "$3" 2>&1; }
rps() { awk '/Requests\/sec/ {print $2}' "$1"; }
p99() { awk '$1=="99%" {print $2}' "$1"; }
non2xx() { local n; n=$(awk '/Non-2xx/ {print $NF}' "$1"); echo "${n:-0}"; }

# --- 1 and 2: SQLite node, the baseline ---------------------------------------------------
serve sqlite "sqlite://$work/sqlite/gatepass.db"
seed "$url_sqlite" "$clients" "$work/many.txt" sqlite
head -1 "$work/many.txt" >"$work/one.txt"
lua_many "$work/many.txt" >"$work/many.lua"
lua_many "$work/one.txt" >"$work/one.lua"
target/release/token-baseline >"$work/baseline.out" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q listening "$work/baseline.out" 2>/dev/null && break; sleep 0.1; done
url_baseline=$(grep -o 'http://[0-9.:]*' "$work/baseline.out" | head -1)
# The baseline ignores who asks: one header serves.
lua_many "$work/one.txt" >"$work/baseline.lua"
# Warm-up: every client once (the cache holds them all), each server 5 s.
wrk_run "$work/many.lua" 5s "$url_sqlite/oauth2/token" >/dev/null
wrk_run "$work/one.lua" 5s "$url_sqlite/oauth2/token" >/dev/null
wrk_run "$work/baseline.lua" 5s "$url_baseline/oauth2/token" >/dev/null
reads() { curl -s "$url_sqlite/metrics" | awk '/^gatepass_credential_reads_total / {print $2}'; }
many_pairs=() base_pairs=()
reads_before=$(reads)
for round in $(seq "$rounds"); do
    wrk_run "$work/many.lua" "$duration" "$url_sqlite/oauth2/token" >"$work/many-$round.txt"
    wrk_run "$work/one.lua" "$duration" "$url_sqlite/oauth2/token" >"$work/one-$round.txt"
    wrk_run "$work/baseline.lua" "$duration" "$url_baseline/oauth2/token" >"$work/base-$round.txt"
    many_pairs+=("$(rps "$work/many-$round.txt") $(rps "$work/one-$round.txt")")
    base_pairs+=("$(rps "$work/one-$round.txt") $(p99 "$work/one-$round.txt") $(rps "$work/base-$round.txt") $(p99 "$work/base-$round.txt")")
    echo "round $round: $clients clients $(rps "$work/many-$round.txt")/s (non-2xx $(non2xx "$work/many-$round.txt")), one client $(rps "$work/one-$round.txt")/s p99 $(p99 "$work/one-$round.txt"), baseline $(rps "$work/base-$round.txt")/s p99 $(p99 "$work/base-$round.txt")"
done
reads_during=$(python3 -c "print(int(float('$(reads)') - float('$reads_before')))")
summary=$(python3 - "${many_pairs[@]}" <<'PY'
import statistics, sys
pairs = [tuple(map(float, a.split())) for a in sys.argv[1:]]
r = [m / o for m, o in pairs]
print(f"{statistics.median(r):.2f}|{', '.join(f'{x:.2f}' for x in r)}|{statistics.median(m for m, _ in pairs):.0f}|{statistics.median(o for _, o in pairs):.0f}")
PY
)
IFS='|' read -r many_ratio many_list many_rps one_rps <<<"$summary"
summary=$(python3 - "${base_pairs[@]}" <<'PY'
import statistics, sys
def ms(v): return float(v[:-2]) / 1000 if v.endswith("us") else float(v[:-2]) if v.endswith("ms") else float(v[:-1]) * 1000
rows = [a.split() for a in sys.argv[1:]]
r = [float(g) / float(b) for g, _, b, _ in rows]
p = [ms(gp) / ms(bp) for _, gp, _, bp in rows]
print(f"{statistics.median(r):.2f}|{', '.join(f'{x:.2f}' for x in r)}|{statistics.median(ms(x[1]) for x in rows):.2f}|{statistics.median(ms(x[3]) for x in rows):.2f}|{statistics.median(p):.2f}")
PY
)
IFS='|' read -r base_ratio base_list p99_g p99_b p99_ratio <<<"$summary"
kill "$pid_sqlite"

# --- 3: PostgreSQL at rest, 1 client and 10,000 -------------------------------------------
psql "$pg_server/postgres" -qc 'DROP DATABASE IF EXISTS gatepass_fresh WITH (FORCE)' -c 'CREATE DATABASE gatepass_fresh'
serve postgres "$pg_server/gatepass_fresh"
# Table reads (scans of Gatepass's tables) and rows read, from PostgreSQL's own statistics:
# what the node asks of the database, without autovacuum's work after the seeding.
stat() { psql "$pg_server/gatepass_fresh" -qAtc "SELECT sum(seq_scan + coalesce(idx_scan, 0)), sum(seq_tup_read + coalesce(idx_tup_fetch, 0)) FROM pg_stat_user_tables"; }
at_rest() { # seconds -> "table reads/s rows/s"
    # Let the last requests' writes settle: the usage write-behind of every client used
    # (one batch of updates per secret) and the audit writer.
    sleep "${SETTLE:-30}"
    local a b
    a=$(stat); sleep "$1"; b=$(stat)
    python3 -c "a=[int(x) for x in '$a'.split('|')]; b=[int(x) for x in '$b'.split('|')]; print(f'{(b[0]-a[0])/$1:.1f} {(b[1]-a[1])/$1:.0f}')"
}
seed "$url_postgres" 1 "$work/pg-one.txt" postgres
lua_many "$work/pg-one.txt" >"$work/pg-one.lua"
wrk -t1 -c1 -d1s -s "$work/pg-one.lua" "$url_postgres/oauth2/token" >/dev/null
read -r rest_tx_1 rest_rows_1 <<<"$(at_rest "$rest")"
seed "$url_postgres" "$clients" "$work/pg-many.txt" postgres
lua_many "$work/pg-many.txt" >"$work/pg-many.lua"
wrk -t2 -c16 -d5s -s "$work/pg-many.lua" "$url_postgres/oauth2/token" >/dev/null
read -r rest_tx_n rest_rows_n <<<"$(at_rest "$rest")"
echo "at rest: 1 client $rest_tx_1 table reads/s $rest_rows_1 rows/s; $clients clients $rest_tx_n table reads/s $rest_rows_n rows/s"

{
    echo "<!-- freshness:start -->"
    echo "## Credential freshness: many clients, the baseline, the database at rest"
    echo
    echo "Produced by \`bash bench/freshness.sh\` on $(date -u +%Y-%m-%d) ($(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')),"
    echo "release build, SQLite, \`wrk -t2 -c64 -d$duration\` per run after a 5 s warm-up of each server,"
    echo "$rounds rounds of ($clients clients taking turns, one client, the baseline) back to back."
    echo
    echo "| measure | result | target |"
    echo "|---|---|---|"
    echo "| $clients distinct clients round-robin ÷ one client | **${many_ratio}×** (rounds: ${many_list}; medians ${many_rps} vs ${one_rps} tokens/s) | ≥ 0.8× |"
    echo "| credentials read from the database during the $rounds rounds | ${reads_during} | (every client was cached in the warm-up) |"
    echo "| token endpoint (one client) ÷ the baseline probe | **${base_ratio}×** (rounds: ${base_list}) | ≥ 0.9× |"
    echo "| p99: Gatepass ÷ the baseline | **${p99_ratio}×** (median p99 ${p99_g} ms vs ${p99_b} ms) | ≤ 1.1× |"
    echo "| PostgreSQL at rest, one idle node over ${rest} s: table reads/s, rows read/s | 1 client: ${rest_tx_1}, ${rest_rows_1}; $clients clients: ${rest_tx_n}, ${rest_rows_n} | reads do not grow with clients |"
    echo
    echo "Before the change feed the cache kept a credential 500 ms, and 10,000 clients taking turns"
    echo "reached 0.44× one client (20,166 against 45,610 tokens/s). At rest a node now reads the feed"
    echo "4 times a second (one indexed read each) whatever the number of clients; the rows read at rest"
    echo "that grow with clients are the 30-second reload of the set of known client ids"
    echo "(auth/src/known_clients.rs, the abuse-resistance tiering), not the credentials."
    echo "<!-- freshness:end -->"
} | python3 bench/replace_section.py freshness
sed -n '/<!-- freshness:start -->/,/<!-- freshness:end -->/p' docs/benchmarks.md
