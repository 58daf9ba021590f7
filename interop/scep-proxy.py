#!/usr/bin/env python3
"""Small HTTP proxy in front of scep-gateway, for the interop tests (stdlib only).

Why it exists:
  * Fixture capture: it saves every PKIOperation message a real client sends (the POST body, or the
    base64-decoded GET `message`) so that tests can parse real client output offline.
  * Client code paths the gateway's own caps never trigger: a request path that starts with
    `/drop=CAP1,CAP2/` makes the proxy remove those keywords from the GetCACaps answer and forward the
    rest of the path. Dropping `POSTPKIOperation` makes micromdm's scepclient use GET; dropping `AES`
    makes certmonger fall back to 3DES. Everything else is forwarded byte for byte.

Usage: scep-proxy.py --upstream http://127.0.0.1:PORT [--save-dir DIR]
It listens on a free loopback port and prints `listening on 127.0.0.1:PORT` once ready.
"""
import argparse
import base64
import http.server
import os
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request

_counter_lock = threading.Lock()
_counter = [0]


def decode_get_message(query):
    """Returns the `message` of a GET query as bytes, or None.

    Parsed by hand because urllib.parse.parse_qs turns `+` into a space, and clients send base64 with raw
    `+` (strongSwan, sscep: `%2B`, but not always), `%0A` line breaks, or the base64url alphabet (micromdm).
    """
    for part in query.split("&"):
        name, _, value = part.partition("=")
        if name != "message":
            continue
        text = urllib.parse.unquote(value)
        text = "".join(text.split()).replace("-", "+").replace("_", "/")
        text += "=" * (-len(text) % 4)
        try:
            return base64.b64decode(text)
        except ValueError:
            return None
    return None


class Handler(http.server.BaseHTTPRequestHandler):
    upstream = ""
    save_dir = None
    protocol_version = "HTTP/1.0"

    def log_message(self, fmt, *args):  # one short line per request on stderr
        sys.stderr.write("proxy: " + (fmt % args) + "\n")

    def _save(self, method, query, body):
        if self.save_dir is None or "operation=PKIOperation" not in query:
            return
        data = body if method == "POST" else decode_get_message(query)
        if not data:
            return
        with _counter_lock:
            _counter[0] += 1
            n = _counter[0]
        base = os.path.join(self.save_dir, "%03d-%s" % (n, method.lower()))
        with open(base + ".der", "wb") as f:
            f.write(data)
        if method == "GET":
            with open(base + ".query.txt", "w", encoding="ascii") as f:
                f.write(query)
        ctype = self.headers.get("Content-Type", "(none)")
        with open(os.path.join(self.save_dir, "index.txt"), "a", encoding="ascii") as f:
            f.write("%s %s %s content-type=%s\n" % (os.path.basename(base), method, self.path, ctype))

    def _forward(self, method):
        path, _, query = self.path.partition("?")
        drop = set()
        if path.startswith("/drop="):
            head, _, rest = path[len("/drop="):].partition("/")
            drop = set(filter(None, head.split(",")))
            path = "/" + rest
        body = None
        if method == "POST":
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self._save(method, query, body)
        url = self.upstream + path + ("?" + query if query else "")
        req = urllib.request.Request(url, data=body, method=method)
        if self.headers.get("Content-Type"):
            req.add_header("Content-Type", self.headers["Content-Type"])
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                status, headers, data = resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as err:
            status, headers, data = err.code, err.headers, err.read()
        if drop and "operation=GetCACaps" in query:
            kept = [line for line in data.decode("ascii", "replace").splitlines() if line.strip() not in drop]
            data = ("\n".join(kept) + "\n").encode("ascii")
        self.send_response(status)
        self.send_header("Content-Type", headers.get("Content-Type", "application/octet-stream"))
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # noqa: N802 (http.server naming)
        self._forward("GET")

    def do_POST(self):  # noqa: N802
        self._forward("POST")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--save-dir")
    args = parser.parse_args()
    Handler.upstream = args.upstream.rstrip("/")
    Handler.save_dir = args.save_dir
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print("listening on 127.0.0.1:%d" % server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
