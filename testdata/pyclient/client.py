"""A complete graphsignal socket client: Python stdlib only (docs/protocol.md)."""
import json, os, socket, time


class Graphsignal:
    def __init__(self, path=None):
        self.sock, self.dropped = None, 0
        path = path or os.environ.get("GRAPHSIGNAL_SOCKET")
        if path:  # outside `graphsignal run` every call is a no-op
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.settimeout(1.0)  # never stall the program for long
                self.sock.connect(path)
            except OSError:
                self.sock = None

    def send(self, msg):
        if self.sock is None:
            return
        try:
            line = json.dumps(msg, separators=(",", ":"), allow_nan=False) + "\n"
            self.sock.sendall(line.encode())
        except (OSError, ValueError, TypeError):
            self.dropped += 1

    def span(self, name, start_ns, end_ns=None, **fields):
        self.send(dict(type="span", name=name, start_ns=start_ns, end_ns=end_ns or time.time_ns(), **fields))

    def score(self, name, score, **fields):
        self.send(dict(type="score", name=name, score=score, **fields))

    def tag(self, key, value):  # value None removes the context tag
        self.send({"type": "tag", "key": key, "value": value})

    def log(self, message, level="info", **fields):
        self.send(dict(type="log", level=level, message=message, **fields))

    def metric(self, name, value, kind="gauge", **fields):
        self.send(dict(type="metric", name=name, kind=kind, value=value, **fields))

    def close(self):
        if self.sock is not None:
            self.sock.close()


if __name__ == "__main__":
    gs = Graphsignal()
    gs.tag("user_id", "u-1")
    start = time.time_ns()
    gs.span("generate", start, tags={"model_type": "chat"}, attributes={"model": "gpt-x"},
            payloads=[{"name": "input", "content_type": "application/json", "data": {"messages": [{"role": "user", "content": "hi"}]}}],
            usage=[{"payload_name": "input", "name": "token_count", "value": 12}])
    gs.score("user_feedback", 1, comment="thumbs up", tags={"run_id": "abc"})
    gs.log("generated", level="info")
    gs.metric("queue.depth", 3, unit="{item}")
    gs.close()
