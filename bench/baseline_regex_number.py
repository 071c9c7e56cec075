#!/usr/bin/env python3
"""Baseline for bench/run_regex_number.sh: the same reward as skills/gsm8k.lua (a clean final
'#### N' line, then the final number compared with the reference) written the way a researcher
would in plain Python: json + re, one output row per record. Usage: IN OUT"""
import json
import re
import sys

FORMAT = re.compile(r"(?:####|A:)\s*\$?\s*-?[\d,]*\.?\d+\s*$")
NUMBER = re.compile(r"-?[\d,]*\.?\d+(?:/\d+)?")


def final_number(text):
    if "####" in text:
        text = text.rsplit("####", 1)[1]
    found = NUMBER.findall(text)
    if not found:
        return None
    s = found[-1].replace(",", "")
    if "/" in s:
        a, b = s.split("/")
        return float(a) / float(b) if float(b) else None
    return float(s)


def main():
    with open(sys.argv[1], encoding="utf-8") as src, open(sys.argv[2], "w", encoding="utf-8") as out:
        for line in src:
            rec = json.loads(line)
            resp = rec["response"]
            fmt = 1 if FORMAT.search(resp) else 0
            if not fmt:
                score, reason = 0, "vetoed by format"
            else:
                got, want = final_number(resp), final_number(rec["answer"])
                score = 1 if got is not None and want is not None and abs(got - want) <= 1e-9 * max(1, abs(want)) else 0
                reason = "answer"
            out.write(json.dumps({"id": rec["id"], "score": score, "status": "ok", "reason": reason,
                                  "components": {"format": {"score": fmt, "status": "ok"}}}) + "\n")


main()
