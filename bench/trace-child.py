#!/usr/bin/env python3
"""trace-child.py N: the program bench/show-trace.sh runs under `graphsignal
run`. It sends one trace of N spans over the run's socket: a root, 99
children of it, and the rest spread under those, each with attributes, token
usage and a JSON payload, and one failed span with an exception. It prints
the trace id."""
import json, os, socket, sys, time

n = int(sys.argv[1])
trace = "%032x" % (int(time.time_ns()) & ((1 << 127) - 1) | 1)
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(os.environ["GRAPHSIGNAL_SOCKET"])
now = time.time_ns()
root = "%016x" % 1
lines = [json.dumps({"type": "span", "name": "root", "trace_id": trace, "span_id": root,
                     "start_ns": now, "end_ns": now + 3_000_000_000})]
parents = [root]
for i in range(1, n):
    span = "%016x" % (i + 1)
    parent = root if i < 100 else parents[i % len(parents)]
    if i < 100:
        parents.append(span)
    start = now + i * 200_000
    sp = {"type": "span", "name": "step-%d" % (i % 7), "trace_id": trace, "span_id": span, "parent_span_id": parent,
          "start_ns": start, "end_ns": start + 1_000_000,
          "attributes": {"model": "gpt-4o", "temperature": 0.2, "i": i},
          "payloads": [{"name": "input", "content_type": "application/json",
                        "data": {"messages": [{"role": "user", "content": "what is the weather like today?"}]}}],
          "usage": [{"payload_name": "input", "name": "token_count", "value": 120}]}
    if i == n // 2:
        sp["exceptions"] = [{"type": "ValueError", "message": "bad input", "stack_trace": "Traceback ...",
                             "ts_ns": start + 500_000}]
    lines.append(json.dumps(sp))
s.sendall(("\n".join(lines) + "\n").encode())
s.close()
print(trace)
