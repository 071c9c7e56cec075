#!/usr/bin/env python3
"""Load for srm serve tests (Python standard library only).

Usage: load_client.py URL N THREADS [KILL_PID KILL_AFTER]
POSTs N scoring requests to URL/v1/score from THREADS threads; after KILL_AFTER responses it
sends SIGTERM to KILL_PID (a replica going away mid-load). Prints {"ok": n, "failed": n,
"errors": [...]} as JSON; a request counts as ok only with status 200 and a row scoring 1.
"""
import json
import os
import signal
import sys
import threading
import urllib.error
import urllib.request


def main() -> int:
    url, n, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    kill_pid = int(sys.argv[4]) if len(sys.argv) > 5 else 0
    kill_after = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    lock = threading.Lock()
    state = {"next": 0, "done": 0, "ok": 0, "failed": 0, "errors": [], "killed": False}

    def worker():
        while True:
            with lock:
                i = state["next"]
                if i >= n:
                    return
                state["next"] += 1
            body = json.dumps({"records": [{"id": i, "response": str(i), "label": str(i)}]})
            req = urllib.request.Request(url + "/v1/score", data=body.encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
            good, err = False, None
            try:
                with urllib.request.urlopen(req, timeout=30) as resp:
                    rows = json.loads(resp.read())["rows"]
                    good = resp.status == 200 and rows[0]["id"] == i and rows[0]["score"] == 1
                    err = None if good else "bad row %r" % rows
            except (urllib.error.URLError, OSError, ValueError, KeyError) as e:
                err = repr(e)
            with lock:
                state["done"] += 1
                if good:
                    state["ok"] += 1
                else:
                    state["failed"] += 1
                    state["errors"].append(err)
                if kill_pid and not state["killed"] and state["done"] >= kill_after:
                    state["killed"] = True
                    os.kill(kill_pid, signal.SIGTERM)

    ts = [threading.Thread(target=worker) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print(json.dumps({"ok": state["ok"], "failed": state["failed"], "errors": state["errors"][:5],
                      "killed": state["killed"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
