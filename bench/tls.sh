#!/usr/bin/env bash
# Token endpoint over TLS: Gatepass (release, SQLite) on plain HTTP and on HTTPS (rustls,
# ES256 certificate made here, TLS 1.3), and the bench/baseline practical limit, in one run,
# each warmed up for 5 s, then wrk -t2 at 16 and 64 keep-alive connections. Writes the "tls"
# section of docs/benchmarks.md. Usage: bash bench/tls.sh   (DURATION=20s by default)
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${DURATION:-20s}
work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

if ! command -v wrk >/dev/null; then
    apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi
cargo build --release -p gatepass-server -p token-baseline

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null

export GATEPASS__SERVER__BIND=127.0.0.1:0 GATEPASS__LOG__LEVEL=warn
export GATEPASS_MASTER_KEY=$(head -c 32 /dev/urandom | base64)
serve() { # name [tls] -> sets url_<name>; each server has its own database and client
    mkdir -p "$work/$1"
    export GATEPASS__DATA_DIR="$work/$1" GATEPASS__DATABASE__URL="sqlite://$work/$1/gatepass.db"
    target/release/gatepass migrate >/dev/null
    target/release/gatepass bootstrap --json --name "bench-$1" >"$work/$1/client.json"
    if [ "${2:-}" = tls ]; then
        GATEPASS__SERVER__TLS_CERT_FILE="$work/cert.pem" GATEPASS__SERVER__TLS_KEY_FILE="$work/key.pem" \
            target/release/gatepass serve >"$work/$1.out" 2>"$work/$1.err" &
    else
        target/release/gatepass serve >"$work/$1.out" 2>"$work/$1.err" &
    fi
    pids+=($!)
    for _ in $(seq 100); do grep -q listening "$work/$1.out" 2>/dev/null && break; sleep 0.1; done
    printf -v "url_$1" '%s' "$(grep -o 'https\?://[0-9.:]*' "$work/$1.out" | head -1)"
}
serve plain
serve tls tls
target/release/token-baseline >"$work/baseline.out" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q listening "$work/baseline.out" 2>/dev/null && break; sleep 0.1; done
url_baseline=$(grep -o 'http://[0-9.:]*' "$work/baseline.out" | head -1)

cp -r "$work/plain" "$work/baseline" # the baseline accepts any Basic credentials
for name in plain tls baseline; do
    credentials=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["client_id"]+":"+d["client_secret"])' "$work/$name/client.json")
    cat >"$work/$name.lua" <<LUA
wrk.method = "POST"
wrk.body = "grant_type=client_credentials"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic $(printf '%s' "$credentials" | base64 -w0)"
LUA
    url_var="url_$name"
    status=$(curl -s --cacert "$work/cert.pem" -o /dev/null -w '%{http_code}' -u "$credentials" \
        -d grant_type=client_credentials "${!url_var}/oauth2/token")
    echo "$name sample status $status"
    [ "$status" = 200 ] || { echo "$name did not issue a token" >&2; exit 1; }
done
tls_version=$(curl -sv --cacert "$work/cert.pem" -o /dev/null "$url_tls/healthz" 2>&1 |
    sed -n 's/.*SSL connection using \([^ ]*\) .*/\1/p' | head -1)
load_before=$(cut -d' ' -f1 /proc/loadavg)

results=()
for target in "baseline $url_baseline baseline(actix+ring),plain" "plain $url_plain Gatepass-SQLite,plain" "tls $url_tls Gatepass-SQLite,TLS"; do
    set -- $target
    wrk -t2 -c16 -d5s -s "$work/$1.lua" "$2/oauth2/token" >/dev/null 2>&1 # warm-up
    for c in 16 64; do
        out=$(wrk -t2 -c"$c" -d"$duration" --latency -s "$work/$1.lua" "$2/oauth2/token" 2>&1)
        rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
        p50=$(awk '$1=="50%" {print $2}' <<<"$out"); p99=$(awk '$1=="99%" {print $2}' <<<"$out")
        non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out"); non2xx=${non2xx:-0}
        echo "$3 c=$c: $rps req/s p50 $p50 p99 $p99 non-2xx $non2xx"
        results+=("| ${3/,/ | } | $c | $rps | $p50 | $p99 | $non2xx |")
        printf -v "rps_$1_$c" '%s' "$rps"
    done
done
share=$(python3 -c "print(f'{$rps_tls_64/$rps_plain_64:.2f}')")
load_after=$(cut -d' ' -f1 /proc/loadavg)
{
    echo "<!-- tls:start -->"
    echo "## Token endpoint over TLS"
    echo
    echo "Produced by \`bash bench/tls.sh\` on $(date -u +%Y-%m-%d), same machine as above"
    echo "($(nproc) cores), load generator and servers over loopback. Gatepass release build on SQLite,"
    echo "ES256 tokens, client_secret_basic, log level warn; TLS: rustls + ring, $tls_version, ECDSA P-256"
    echo "certificate; wrk keeps its connections alive, so this is the cost of encryption, not of"
    echo "handshakes. Each server warmed up for 5 s, then \`wrk -t2 -cN -d$duration --latency\`."
    echo "Load average before and after the run: $load_before, $load_after (2 cores; anything above"
    echo "about 2 means other work shared the machine, and every row, the baseline's too, is lower"
    echo "than on a quiet machine: compare rows within this table, not with the one above)."
    echo
    echo "| server | transport | connections | tokens/s | p50 | p99 | non-2xx |"
    echo "|---|---|---|---|---|---|---|"
    printf '%s\n' "${results[@]}"
    echo
    echo "- At 64 connections HTTPS reaches **${share}×** the plain-HTTP rate."
    echo "<!-- tls:end -->"
} | python3 bench/replace_section.py tls
sed -n '/<!-- tls:start -->/,/<!-- tls:end -->/p' docs/benchmarks.md
