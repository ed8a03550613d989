"""Measures token-endpoint answer times for unknown vs known client ids (see auth-timing.sh).

Usage: auth_timing.py URL CLIENT_JSON N  -> a Markdown section on stdout.
"""
import base64
import http.client
import json
import platform
import random
import secrets
import statistics
import string
import subprocess
import sys
import time
import zlib
from urllib.parse import urlparse

url, client_file, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
client = json.load(open(client_file))["client"]["client_id"]
BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"


def base62(value, width):
    out = ""
    for _ in range(width):
        value, digit = divmod(value, 62)
        out = BASE62[digit] + out
    return out


def secret(good_checksum=True):
    body = "gps_" + "".join(secrets.choice(BASE62) for _ in range(43))
    checksum = zlib.crc32(body.encode()) ^ (0 if good_checksum else 1)
    return body + base62(checksum, 6)


def unknown_id():
    return "gpc_" + "".join(secrets.choice(CROCKFORD) for _ in range(26))


def request(conn, client_id, client_secret):
    auth = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
    headers = {"Authorization": f"Basic {auth}", "Content-Type": "application/x-www-form-urlencoded"}
    started = time.perf_counter_ns()
    conn.request("POST", "/oauth2/token", "grant_type=client_credentials", headers)
    response = conn.getresponse()
    response.read()
    elapsed = time.perf_counter_ns() - started
    assert response.status == 401, response.status
    return elapsed / 1000


kinds = {
    "unknown": lambda: (unknown_id(), secret()),
    "known": lambda: (client, secret()),
    "malformed": lambda: (client, secret(good_checksum=False)),
}
parsed = urlparse(url)
conn = http.client.HTTPConnection(parsed.hostname, parsed.port)
for _ in range(2000):  # warm-up
    request(conn, *random.choice(list(kinds.values()))())
order = [kind for kind in kinds for _ in range(n)]
random.shuffle(order)
times = {kind: [] for kind in kinds}
for kind in order:
    times[kind].append(request(conn, *kinds[kind]()))


def bootstrap_median_diff(a, b, rounds=2000):
    diffs = []
    for _ in range(rounds):
        diffs.append(statistics.median(random.choices(a, k=len(a))) - statistics.median(random.choices(b, k=len(b))))
    diffs.sort()
    return diffs[int(rounds * 0.025)], diffs[int(rounds * 0.975)]


def q(values, p):
    values = sorted(values)
    return values[int(len(values) * p)]


cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"], capture_output=True, text=True).stdout.strip()
rows = []
for kind, values in times.items():
    rows.append(f"| {kind} | {len(values)} | {statistics.median(values):.1f} | {statistics.mean(values):.1f} | {q(values, 0.9):.1f} | {q(values, 0.99):.1f} |")
low, high = bootstrap_median_diff(times["known"], times["unknown"])
diff = statistics.median(times["known"]) - statistics.median(times["unknown"])
print(f"""<!-- auth-timing:start -->
Measured {time.strftime('%Y-%m-%d')} on {platform.machine()} ({cpu}, {subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} cores),
release build, SQLite, one keep-alive connection over loopback, {n} requests of each kind in
random order after 2,000 warm-up requests; command: `bash bench/auth-timing.sh`. Times are the
whole HTTP exchange seen by the client, in µs.

| kind | requests | median | mean | p90 | p99 |
|---|---|---|---|---|---|
{chr(10).join(rows)}

Median(known) − median(unknown) = {diff:+.1f} µs (95% bootstrap interval {low:+.1f} … {high:+.1f} µs).
<!-- auth-timing:end -->""")
