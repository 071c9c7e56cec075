#!/usr/bin/env python3
"""Baseline for bench/serve: the usual Python reward server (http.server.ThreadingHTTPServer,
standard library only) with the same rule as bench/serve/equal.lua: reward 1 when the response
equals the label. Usage: baseline.py PORT"""
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else each response waits ~40 ms for a delayed ACK

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        rows = [{"id": r.get("id", i), "score": 1 if r.get("response") == r.get("label") else 0,
                 "status": "ok"} for i, r in enumerate(body["records"])]
        out = json.dumps({"rows": rows}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
