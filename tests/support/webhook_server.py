#!/usr/bin/env python3
"""A webhook for the tests: answers POSTs the way a site's policy hook or event receiver would.

Prints the port it listens on (127.0.0.1) as the first line of stdout, then serves until killed.

  --decision issue|deny|pend   answer {"decision": ..., "reason": "hook says <decision>"} (default issue)
  --fail N                     answer the first N requests with HTTP 500, then normally
  --status CODE                answer every request with this HTTP status (and the decision body)
  --body TEXT                  answer with this body instead of the decision JSON
  --sleep SECONDS              wait this long before answering each request
  --record FILE                append each request as one JSON line {"path", "content_type", "body"} to FILE
  --port PORT                  listen on this port instead of a free one
"""
import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def parse_args():
    parser = argparse.ArgumentParser()
    parser.add_argument("--decision", default="issue")
    parser.add_argument("--fail", type=int, default=0)
    parser.add_argument("--status", type=int, default=200)
    parser.add_argument("--body")
    parser.add_argument("--sleep", type=float, default=0.0)
    parser.add_argument("--record")
    parser.add_argument("--port", type=int, default=0)
    return parser.parse_args()


ARGS = parse_args()
LOCK = threading.Lock()
STATE = {"requests": 0}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the gateway's client expects

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length).decode("utf-8", errors="replace")
        with LOCK:
            STATE["requests"] += 1
            count = STATE["requests"]
            if ARGS.record:
                with open(ARGS.record, "a", encoding="utf-8") as f:
                    entry = {"path": self.path, "content_type": self.headers.get("Content-Type", ""), "body": body}
                    f.write(json.dumps(entry) + "\n")
        if ARGS.sleep > 0:
            time.sleep(ARGS.sleep)
        if count <= ARGS.fail:
            self.answer(500, '{"error": "try again"}')
        elif ARGS.body is not None:
            self.answer(ARGS.status, ARGS.body)
        else:
            self.answer(ARGS.status, json.dumps({"decision": ARGS.decision, "reason": "hook says " + ARGS.decision}))

    def answer(self, status, text):
        data = text.encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test)

    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        pass


def main():
    server = ThreadingHTTPServer(("127.0.0.1", ARGS.port), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
