#!/usr/bin/env python3
"""Baseline for bench/llm_fanout: how Python reward runners usually drive an LLM judge --
a ThreadPoolExecutor of N threads, a blocking HTTP client (urllib, keep-alive off as in the
standard library), one chat request per record, rows written in input order.
Usage: baseline.py BASE_URL DATA OUT [THREADS]"""
import json
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor


def judge(base, rec):
    body = json.dumps({"model": "mock", "messages": [{"role": "user", "content": rec["prompt"]}],
                       "temperature": 0}).encode()
    req = urllib.request.Request(base + "/chat/completions", data=body,
                                 headers={"Content-Type": "application/json"})
    for attempt in range(4):
        try:
            with urllib.request.urlopen(req, timeout=120) as resp:
                reply = json.loads(resp.read())
            content = reply["choices"][0]["message"]["content"]
            return {"id": rec["id"], "status": "ok", "content": content}
        except Exception as exc:  # noqa: BLE001 - a runner keeps going
            err = str(exc)
    return {"id": rec["id"], "status": "judge_failed", "reason": err}


def main():
    base, data, out = sys.argv[1], sys.argv[2], sys.argv[3]
    threads = int(sys.argv[4]) if len(sys.argv) > 4 else 80
    with open(data, encoding="utf-8") as f:
        records = [json.loads(line) for line in f if line.strip()]
    with ThreadPoolExecutor(threads) as pool, open(out, "w", encoding="utf-8") as o:
        for row in pool.map(lambda r: judge(base, r), records):
            o.write(json.dumps(row) + "\n")


main()
