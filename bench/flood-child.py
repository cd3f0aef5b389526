#!/usr/bin/env python3
"""flood-child.py SOCKET_SPANS HTTP_SPANS: the program bench/flood.sh runs
under `graphsignal run`. It floods the run's intakes as fast as it can:
SOCKET_SPANS spans over the local socket from 4 connections (4 processes),
then HTTP_SPANS spans over OTLP/HTTP (JSON, 1,000 spans a request) from 4
threads. It never waits for graphsignal and ignores refusals."""
import json, os, socket, sys, threading, time, urllib.request
from multiprocessing import Process

sock_spans, http_spans = int(sys.argv[1]), int(sys.argv[2])
CONNS, LINES_PER_WRITE = 4, 1000

def socket_flood(n):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(os.environ["GRAPHSIGNAL_SOCKET"])
    now = time.time_ns()
    line = json.dumps({"type": "span", "name": "llm.generate", "start_ns": now, "end_ns": now + 250_000_000,
                       "tags": {"model_type": "chat"},
                       "attributes": {"model": "gpt-4o", "temperature": 0.2, "tokens": 123}}).encode() + b"\n"
    chunk = line * LINES_PER_WRITE
    for _ in range(n // LINES_PER_WRITE):
        s.sendall(chunk)
    s.sendall(line * (n % LINES_PER_WRITE))
    s.close()

def otlp_body(n, seed):
    now = time.time_ns()
    spans = [{"traceId": "%032x" % (seed * 1_000_000 + i + 1), "spanId": "%016x" % (i + 1), "name": "http.request",
              "kind": 3, "startTimeUnixNano": str(now), "endTimeUnixNano": str(now + 1_000_000),
              "attributes": [{"key": "http.method", "value": {"stringValue": "POST"}},
                             {"key": "http.status_code", "value": {"intValue": "200"}}]} for i in range(n)]
    return json.dumps({"resourceSpans": [{"resource": {"attributes": [
        {"key": "service.name", "value": {"stringValue": "flood"}}]},
        "scopeSpans": [{"scope": {"name": "flood"}, "spans": spans}]}]}).encode()

def http_flood(url, requests, refused):
    body = otlp_body(1000, threading.get_ident() % 1000)
    for _ in range(requests):
        req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
        try:
            urllib.request.urlopen(req, timeout=30).read()
        except Exception:
            refused[0] += 1

if sock_spans:
    procs = [Process(target=socket_flood, args=(sock_spans // CONNS,)) for _ in range(CONNS)]
    for p in procs: p.start()
    for p in procs: p.join()
if http_spans:
    base = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"].rstrip("/") + "/v1/traces"
    refused = [0]
    threads = [threading.Thread(target=http_flood, args=(base, http_spans // 1000 // CONNS, refused)) for _ in range(CONNS)]
    for t in threads: t.start()
    for t in threads: t.join()
    print(f"flood-child: {refused[0]} OTLP requests refused", file=sys.stderr)
