#!/usr/bin/python3
"""Time to the first audio byte of POST /v1/audio/speech over HTTP/1.1: the first body
byte past the container header (SKIP bytes: 44 for wav, 0 for pcm), not the response head,
which voxd sends at once. bench/first_byte.sh runs it; one JSON line per request.
usage: first_byte.py PORT SKIP JSON_BODY"""
import http.client, json, sys, time

port, skip, body = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3].encode()
t0 = time.monotonic()
c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
c.request("POST", "/v1/audio/speech", body, {"Content-Type": "application/json"})
r = c.getresponse()
if r.status != 200:
    sys.exit(f"status {r.status}: {r.read()[:200]!r}")
got, first = 0, None
while True:
    d = r.read1(65536)
    if not d:
        break
    got += len(d)
    if first is None and got > skip:
        first = time.monotonic() - t0
total = time.monotonic() - t0
print(json.dumps({"first_ms": round(first * 1000, 1), "total_ms": round(total * 1000, 1),
                  "bytes": got}))
