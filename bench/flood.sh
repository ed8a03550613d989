#!/usr/bin/env bash
# Flood benchmark (issue 13): random well-formed client ids against the token endpoint of a
# release build (SQLite), each with a well-formed secret that is stored nowhere (so every
# request is a credential-cache miss and a failed authentication), for DURATION under
# wrk -t2 -cCONNECTIONS. Meanwhile 50 wrong secrets are sent for a real client id from the same
# address. Reports requests/s absorbed, database growth (bytes/s), RSS before, at the end of
# the flood and after the failure window, and the audited count of the 50 (must be 50).
# Writes the flood section of docs/benchmarks.md.
# Usage: bash bench/flood.sh   (DURATION=15s, CONNECTIONS=64 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${DURATION:-15s}
connections=${CONNECTIONS:-64}
work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --release -p gatepass-server

export GATEPASS__DATA_DIR="$work" GATEPASS__SERVER__BIND=127.0.0.1:0 GATEPASS__LOG__LEVEL=info
export GATEPASS_MASTER_KEY=$(head -c 32 /dev/urandom | base64)
bin=target/release/gatepass
$bin migrate >/dev/null
victim=$($bin bootstrap --json --name flood-victim | python3 -c 'import json,sys; print(json.load(sys.stdin)["client_id"])')
# A well-formed secret that is stored nowhere: create a client, keep its secret, delete it.
gone=$($bin clients create --json --name flood-gone --scope sites:read)
gone_id=$(echo "$gone" | python3 -c 'import json,sys; print(json.load(sys.stdin)["client"]["client_id"])')
secret=$(echo "$gone" | python3 -c 'import json,sys; print(json.load(sys.stdin)["client_secret"])')
$bin clients delete "$gone_id" >/dev/null

$bin serve >"$work/out" 2>"$work/err" &
pid=$!
pids+=($pid)
for _ in $(seq 100); do grep -q listening "$work/out" 2>/dev/null && break; sleep 0.1; done
url=$(grep -o 'http://[0-9.:]*' "$work/out" | head -1)
rss() { awk '/VmRSS/ {print $2}' "/proc/$pid/status"; }
db_bytes() { du -cb "$work"/gatepass.db* | tail -1 | cut -f1; }
curl -s "$url/readyz" >/dev/null
sleep 1
rss_before=$(rss); db_before=$(db_bytes); lines_before=$(wc -l <"$work/err")

cat >"$work/flood.lua" <<LUA
local chars = "0123456789abcdefghjkmnpqrstvwxyz"
math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16))
request = function()
  local t = { "gpc_" }
  local first = math.random(1, 8)
  t[2] = string.sub(chars, first, first)
  for _ = 1, 25 do
    local r = math.random(1, 32)
    t[#t + 1] = string.sub(chars, r, r)
  end
  return wrk.format("POST", "/oauth2/token", { ["Content-Type"] = "application/x-www-form-urlencoded" },
    "grant_type=client_credentials&client_id=" .. table.concat(t) .. "&client_secret=$secret")
end
LUA
# The 50 wrong secrets for the real client id, spread over the flood.
(
    for _ in $(seq 50); do
        curl -s -o /dev/null -d grant_type=client_credentials -d client_id="$victim" -d client_secret="$secret" "$url/oauth2/token"
        sleep 0.2
    done
) &
guesser=$!
started=$(date +%s.%N)
wrk -t2 -c"$connections" -d"$duration" -s "$work/flood.lua" "$url/oauth2/token" >"$work/wrk.txt"
ended=$(date +%s.%N)
wait $guesser
cat "$work/wrk.txt"
rss_flood=$(rss)
sleep 7 # the running counts are amended every 5 s
db_after=$(db_bytes); lines_after=$(wc -l <"$work/err")
seconds=$(python3 -c "print($ended - $started)")
rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.txt")
requests=$(awk '/requests in/ {print $1}' "$work/wrk.txt")
counted=$(python3 - "$work/gatepass.db" "$victim" <<'PY'
import json, sqlite3, sys
con = sqlite3.connect(sys.argv[1])
rows = con.execute("SELECT details FROM audit_events WHERE action='token.auth_failed' AND target=?", (sys.argv[2],)).fetchall()
print(sum(json.loads(d)["count"] for (d,) in rows))
PY
)
events=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(\"SELECT count(*) FROM audit_events WHERE action='token.auth_failed'\").fetchone()[0])" "$work/gatepass.db")
growth=$(python3 -c "print(round(($db_after - $db_before) / $seconds))")
sleep 60 # the failure window ends; its counters are forgotten
rss_later=$(rss)
echo "requests/s=$rps requests=$requests db_growth_bytes_per_s=$growth audit_events=$events log_lines=$((lines_after - lines_before)) rss_kb before=$rss_before flood=$rss_flood after_window=$rss_later victim_count=$counted"
[ "$counted" = 50 ] || { echo "the 50 wrong secrets were counted as $counted" >&2; exit 1; }

python3 bench/replace_section.py flood <<MD
<!-- flood:start -->
## Flood of random client ids (issue 13)

Produced by \`bash bench/flood.sh\` on $(date -u +%Y-%m-%d), same machine (2 cores), release build,
SQLite, default limits: \`wrk -t2 -c$connections -d$duration\` posting a random well-formed
\`client_id\` and a well-formed secret stored nowhere (every request a cache miss and a failed
authentication) from one address, while 50 wrong secrets are sent for a real client id.

| | requests/s absorbed | database growth | audit events written | log lines | RSS before / end of flood / after the window | the real id's 50 failures counted |
|---|---|---|---|---|---|---|
| after (this build) | $rps | $growth B/s | $events | $((lines_after - lines_before)) | $((rss_before / 1024)) / $((rss_flood / 1024)) / $((rss_later / 1024)) MiB | $counted |
| before (issue 13's report, same machine) | ~38,000 | ~9.7 MB/s (146 MB in 15 s) | one per request | one per request | 26 / 341 / 341 MiB | 16 |

The "before" row is issue 13's report against the earlier build, not measured in this run
(a second release build takes about 10 minutes here). Other builds were running on the machine
during the run, so requests/s is a floor. Database growth is WAL and checkpoint noise plus one
amended event per key every 5 s; the 429s after the address limit write nothing.
<!-- flood:end -->
MD
