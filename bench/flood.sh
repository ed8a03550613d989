#!/usr/bin/env bash
# Flood benchmark (issue 13), before and after in the same run: random well-formed client ids
# against the token endpoint of two release builds (SQLite), each with a well-formed secret
# that is stored nowhere (so every request is a credential-cache miss and a failed
# authentication), for DURATION under wrk -t2 -cCONNECTIONS. Meanwhile 50 wrong secrets are
# sent for a real client id from the same address. The same load runs first against the build
# from before the abuse-resistance work ("before": BEFORE_REV, by default 1c8db06^1, the first
# parent of "Merge branch 'issue13'"), then against this tree's release build ("after").
# For each it reports requests/s absorbed, database growth (bytes/s), bytes the server process
# wrote to storage per second (/proc/PID/io write_bytes: database, WAL and its log file), log
# lines per second, audit rows written for failed authentications, events the audit queue
# dropped, RSS before, at the end of the flood and after the failure window, and how many of
# the 50 the audit log shows (a row counts 1, or its `count` when it has one). Fails if the
# after build does not count exactly 50; the before build's count is reported as it is.
# Writes the flood section of docs/benchmarks.md.
#
# Usage: bash bench/flood.sh   (DURATION=15s, CONNECTIONS=64 by default)
#   BEFORE_BIN=/path/to/gatepass  the before build's binary, if already built. Unset: the
#     script checks BEFORE_REV out into a temporary git worktree and builds it there
#     (cargo build --release -p gatepass-server, own CARGO_TARGET_DIR under the temporary
#     directory; about 10-25 minutes from scratch), and removes both at exit.
#   BEFORE_REV=REV  the before tree (default 1c8db06^1).
#   SHARED_NOTE=TEXT  a sentence appended to the section, e.g. what else the machine was running.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${DURATION:-15s}
connections=${CONNECTIONS:-64}
before_rev=${BEFORE_REV:-1c8db06^1}
work=$(mktemp -d)
worktree=
cleanup() {
    for pid in $(cat "$work"/*/pid 2>/dev/null); do kill "$pid" 2>/dev/null || true; done
    if [ -n "$worktree" ]; then git worktree remove --force "$worktree" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
trap "exit 130" INT TERM
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --release -p gatepass-server
after_bin=$PWD/target/release/gatepass
before_commit=$(git rev-parse --short "$before_rev")
if [ -z "${BEFORE_BIN:-}" ]; then
    worktree=$work/before-src
    git worktree add --detach "$worktree" "$before_rev"
    (cd "$worktree" && CARGO_TARGET_DIR="$work/before-target" cargo build --release -p gatepass-server)
    BEFORE_BIN=$work/before-target/release/gatepass
fi
[ -x "$BEFORE_BIN" ] || { echo "no before binary at $BEFORE_BIN" >&2; exit 1; }

# One generator for both builds: a random well-formed client id per request.
lua() {
    cat <<LUA
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
    "grant_type=client_credentials&client_id=" .. table.concat(t) .. "&client_secret=$1")
end
LUA
}

# measure NAME BIN: runs the flood against BIN in a fresh data directory and sets
# NAME_rps, NAME_growth, ... (see the assignments at its end).
measure() {
    local name=$1 bin=$2 dir=$work/$1
    mkdir -p "$dir"
    eval "${name}_load='$(cut -d' ' -f1 /proc/loadavg)'"
    (
        export GATEPASS__DATA_DIR="$dir" GATEPASS__SERVER__BIND=127.0.0.1:0 GATEPASS__LOG__LEVEL=info
        export GATEPASS_MASTER_KEY=$(head -c 32 /dev/urandom | base64)
        "$bin" migrate >/dev/null
        # Both builds print the same JSON for these two commands (checked against 1c8db06^1).
        victim=$("$bin" bootstrap --json --name flood-victim | python3 -c 'import json,sys; print(json.load(sys.stdin)["client_id"])')
        # A well-formed secret that is stored nowhere: create a client, keep its secret, delete it.
        gone=$("$bin" clients create --json --name flood-gone --scope sites:read)
        gone_id=$(echo "$gone" | python3 -c 'import json,sys; print(json.load(sys.stdin)["client"]["client_id"])')
        secret=$(echo "$gone" | python3 -c 'import json,sys; print(json.load(sys.stdin)["client_secret"])')
        "$bin" clients delete "$gone_id" >/dev/null

        "$bin" serve >"$dir/out" 2>"$dir/err" &
        pid=$!
        echo "$pid" >"$dir/pid"
        for _ in $(seq 100); do grep -q listening "$dir/out" 2>/dev/null && break; sleep 0.1; done
        url=$(grep -o 'http://[0-9.:]*' "$dir/out" | head -1)
        rss() { awk '/VmRSS/ {print $2}' "/proc/$pid/status"; }
        written() { awk '/^write_bytes/ {print $2}' "/proc/$pid/io"; }
        db_bytes() { du -cb "$dir"/gatepass.db* | tail -1 | cut -f1; }
        curl -s "$url/readyz" >/dev/null
        sleep 1
        rss_before=$(rss); db_before=$(db_bytes); lines_before=$(wc -l <"$dir/err"); written_before=$(written)
        rows_before=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT count(*) FROM audit_events').fetchone()[0])" "$dir/gatepass.db")

        lua "$secret" >"$dir/flood.lua"
        # The 50 wrong secrets for the real client id, spread over the flood.
        (
            for _ in $(seq 50); do
                curl -s -o /dev/null -d grant_type=client_credentials -d client_id="$victim" -d client_secret="$secret" "$url/oauth2/token"
                sleep 0.2
            done
        ) &
        guesser=$!
        started=$(date +%s.%N)
        wrk -t2 -c"$connections" -d"$duration" -s "$dir/flood.lua" "$url/oauth2/token" >"$dir/wrk.txt"
        ended=$(date +%s.%N)
        wait $guesser
        echo "== $name ($bin)" >&2
        cat "$dir/wrk.txt" >&2
        rss_flood=$(rss)
        sleep 7 # the after build amends its running counts every 5 s; the before build drains its queue
        db_after=$(db_bytes); lines_after=$(wc -l <"$dir/err"); written_after=$(written)
        seconds=$(python3 -c "print($ended - $started)")
        rps=$(awk '/Requests\/sec/ {print $2}' "$dir/wrk.txt")
        requests=$(awk '/requests in/ {print $1}' "$dir/wrk.txt")
        # Failed authentications: token.auth_failed (after; `count` in details) or
        # token.denied / token.throttled (before; one row per request).
        read -r counted events <<<"$(python3 - "$dir/gatepass.db" "$victim" <<'PY'
import json, sqlite3, sys
con = sqlite3.connect(sys.argv[1])
failed = "action IN ('token.auth_failed', 'token.denied', 'token.throttled')"
def count(details):
    try:
        return int(json.loads(details)["count"])
    except (TypeError, ValueError, KeyError):
        return 1
rows = con.execute(f"SELECT details FROM audit_events WHERE {failed} AND target=?", (sys.argv[2],)).fetchall()
events = con.execute(f"SELECT count(*) FROM audit_events WHERE {failed}").fetchone()[0]
print(sum(count(d) for (d,) in rows), events)
PY
)"
        rows_after=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT count(*) FROM audit_events').fetchone()[0])" "$dir/gatepass.db")
        # Dropped audit events: the before build logs one WARN line per drop; the after build
        # counts them in gatepass_audit_events_dropped_total.
        dropped=$(grep -c 'event dropped' "$dir/err" || true)
        metric=$(curl -s "$url/metrics" | awk '/^gatepass_audit_events_dropped_total/ {s += $2; n++} END {if (n) print s}')
        [ -n "$metric" ] && dropped=$((dropped + ${metric%.*}))
        growth=$(python3 -c "print(round(($db_after - $db_before) / $seconds))")
        write_rate=$(python3 -c "print(round(($written_after - $written_before) / $seconds))")
        log_rate=$(python3 -c "print(round(($lines_after - $lines_before) / $seconds, 1))")
        sleep 60 # the failure window ends; its counters are forgotten
        rss_later=$(rss)
        echo "$name: requests/s=$rps requests=$requests seconds=$seconds db_growth_bytes_per_s=$growth written_bytes_per_s=$write_rate failure_rows=$events audit_rows_added=$((rows_after - rows_before)) dropped=$dropped log_lines=$((lines_after - lines_before)) log_lines_per_s=$log_rate rss_kb before=$rss_before flood=$rss_flood after_window=$rss_later victim_count=$counted" >&2
        cat >"$dir/result" <<VARS
${name}_rps=$rps
${name}_requests=$requests
${name}_growth=$growth
${name}_write_rate=$write_rate
${name}_events=$events
${name}_dropped=$dropped
${name}_log_rate=$log_rate
${name}_log_lines=$((lines_after - lines_before))
${name}_rss="$((rss_before / 1024)) / $((rss_flood / 1024)) / $((rss_later / 1024))"
${name}_rss_later=$rss_later
${name}_counted=$counted
VARS
        kill "$pid"
    )
    # shellcheck disable=SC1090
    . "$dir/result"
}

measure before "$BEFORE_BIN"
measure after "$after_bin"
[ "$after_counted" = 50 ] || { echo "the after build counted the 50 wrong secrets as $after_counted" >&2; exit 1; }

# after / before: 2.21x, or 1/394 below a tenth.
ratio() {
    python3 -c "
import sys
a, b = float(sys.argv[1]), float(sys.argv[2])
r = a / b if b else None
print('n/a' if r is None else '0' if a == 0 else f'{r:.2f}x' if r >= 0.1 else f'1/{1 / r:,.0f}')" "$1" "$2"
}
mib() { python3 -c "import sys; print(f'{int(sys.argv[1]) / 1048576:.2f} MB/s' if abs(int(sys.argv[1])) >= 1048576 else f'{int(sys.argv[1])} B/s')" "$1"; }
shared="1-minute load average as each row started: $before_load before, $after_load after (2 cores).${SHARED_NOTE:+ $SHARED_NOTE}"

python3 bench/replace_section.py flood <<MD
<!-- flood:start -->
## Flood of random client ids (issue 13)

Produced by \`bash bench/flood.sh\` on $(date -u +%Y-%m-%d), same machine (2 cores), release builds,
SQLite, default limits: \`wrk -t2 -c$connections -d$duration\` posting a random well-formed
\`client_id\` and a well-formed secret stored nowhere (every request a cache miss and a failed
authentication) from one address, while 50 wrong secrets are sent for a real client id. Both rows
come from the same run, one after the other, with the same load: "before" is $before_commit
(\`$before_rev\`, the tree before the abuse-resistance work), "after" is this tree.

| | requests/s absorbed | database growth | bytes written to storage | failure audit rows | audit events dropped | log lines/s | RSS before / end of flood / after the window | the real id's 50 failures in the audit log |
|---|---|---|---|---|---|---|---|---|
| before ($before_commit) | $before_rps | $(mib "$before_growth") | $(mib "$before_write_rate") | $before_events | $before_dropped | $before_log_rate ($before_log_lines lines) | $before_rss MiB | $before_counted |
| after (this build) | $after_rps | $(mib "$after_growth") | $(mib "$after_write_rate") | $after_events | $after_dropped | $after_log_rate ($after_log_lines lines) | $after_rss MiB | $after_counted |
| after / before | $(ratio "$after_rps" "$before_rps") | $(ratio "$after_growth" "$before_growth") | $(ratio "$after_write_rate" "$before_write_rate") | $(ratio "$after_events" "$before_events") | | $(ratio "$after_log_rate" "$before_log_rate") | $(ratio "$after_rss_later" "$before_rss_later") (after the window) | $after_counted vs $before_counted |

Bytes written to storage is the server process's \`write_bytes\` (/proc/PID/io) over the flood
and 7 s after it, per second of flood: database, WAL and the log file. Database growth is the
size of \`gatepass.db*\` over the same span. The before build writes one audit row and one log line
per failed request from a queue that drops on overflow; the after build writes one event per
(client id or address, reason) per window, amended every 5 s, and the 429s after the address limit
write nothing. Other work on the machine lowers requests/s, and the two rows ran at different
moments, so their ratio carries that noise.
$shared
<!-- flood:end -->
MD
