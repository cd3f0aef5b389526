#!/usr/bin/env python3
"""fake-backend.py MODE: a backend that fails in one way, on 127.0.0.1, for
bench/upload-exit-delay.sh. Prints its URL on stdout, then serves until killed.

MODE: ok (200), 500, 429 (Retry-After: 30), 401, hang (accepts, reads the
request, never answers), silent (accepts, never reads), tls (HTTPS with a
self-signed certificate that no client trusts), refuse (prints the URL of a
closed port and exits), slow:MS (200 after MS milliseconds: a remote
backend's round trip)."""
import http.server, socket, socketserver, ssl, subprocess, sys, tempfile, os, threading, time

mode = sys.argv[1]
delay = 0.0
if mode.startswith("slow:"):
    mode, delay = "ok", int(mode[5:]) / 1000

if mode == "refuse":
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
    print(f"http://127.0.0.1:{port}", flush=True)
    sys.exit(0)

if mode == "silent":
    s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(128)
    print(f"http://127.0.0.1:{s.getsockname()[1]}", flush=True)
    conns = []
    while True:
        c, _ = s.accept(); conns.append(c)

class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n: self.rfile.read(n)
    def do_GET(self): self.do_POST()
    def do_POST(self):
        self._body()
        if mode == "hang":
            time.sleep(3600); return
        time.sleep(delay)
        code = {"ok": 200, "tls": 200, "500": 500, "429": 429, "401": 401}[mode]
        self.send_response(code)
        if code == 429: self.send_header("Retry-After", "30")
        self.send_header("Content-Length", "0"); self.end_headers()

class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

srv = S(("127.0.0.1", 0), H)
scheme = "http"
if mode == "tls":
    d = tempfile.mkdtemp()
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-keyout", f"{d}/k.pem", "-out", f"{d}/c.pem"],
                   check=True, capture_output=True)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain(f"{d}/c.pem", f"{d}/k.pem")
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    scheme = "https"
print(f"{scheme}://127.0.0.1:{srv.server_address[1]}", flush=True)
srv.serve_forever()
