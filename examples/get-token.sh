#!/usr/bin/env bash
# Gets an access token from a running Gatepass with client_secret_basic and prints its
# header and claims. Usage: examples/get-token.sh CLIENT_ID CLIENT_SECRET [ISSUER] [SCOPE]
set -euo pipefail
client_id=$1 client_secret=$2 issuer=${3:-http://127.0.0.1:8080} scope=${4:-}
args=(-s -u "$client_id:$client_secret" -d grant_type=client_credentials)
[ -n "$scope" ] && args+=(--data-urlencode "scope=$scope")
response=$(curl "${args[@]}" "$issuer/oauth2/token")
token=$(printf '%s' "$response" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
decode() { python3 -c 'import base64,json,sys; s=sys.argv[1]; print(json.dumps(json.loads(base64.urlsafe_b64decode(s+"="*(-len(s)%4))),indent=2))' "$1"; }
echo "header:"; decode "$(cut -d. -f1 <<<"$token")"
echo "claims:"; decode "$(cut -d. -f2 <<<"$token")"
