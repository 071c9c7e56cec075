#!/usr/bin/env python3
"""Minimal HTTP client for srm's CLI tests (Python standard library only).

Usage: http_client.py METHOD URL [BODY_FILE]
Prints the status code on the first line, then the response body.
"""
import sys
import urllib.error
import urllib.request


def main() -> int:
    method, url = sys.argv[1], sys.argv[2]
    data = None
    if len(sys.argv) > 3:
        with open(sys.argv[3], "rb") as f:
            data = f.read()
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            status, body = resp.status, resp.read()
    except urllib.error.HTTPError as e:
        status, body = e.code, e.read()
    sys.stdout.write(f"{status}\n")
    sys.stdout.write(body.decode("utf-8", "replace"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
