#!/usr/bin/env python3
"""Baseline for bench/run_math.sh: a plain-Python answer checker in the usual pre-Math-Verify
style -- take the last \\boxed{} (or "final answer is $...$"), rewrite the LaTeX into SymPy
syntax, and call two answers equal when their strings match or simplify(a - b) == 0
(elementwise for comma lists). One pair at a time, 2 s alarm per pair.

Usage: baseline_math.py DATA.jsonl OUT.jsonl [LIMIT]
"""
import json
import re
import signal
import sys

from sympy import simplify
from sympy.parsing.sympy_parser import (implicit_multiplication_application, parse_expr,
                                        standard_transformations)

TRANSFORMS = standard_transformations + (implicit_multiplication_application,)


def last_boxed(text):
    start = text.rfind("\\boxed{")
    if start < 0:
        m = re.findall(r"final answer is \$(.+?)\$", text)
        return m[-1] if m else None
    i, depth = start + len("\\boxed{"), 1
    for j in range(i, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return text[i:j]
    return None


def group(s, i):
    """The braced group at s[i] ('{'), as (content, end)."""
    depth = 0
    for j in range(i, len(s)):
        depth += s[j] == "{"
        depth -= s[j] == "}"
        if depth == 0:
            return s[i + 1:j], j + 1
    raise ValueError("unbalanced")


def to_sympy(s):
    for a, b in (("\\left", ""), ("\\right", ""), ("\\!", ""), ("\\,", ""), ("$", ""),
                 ("\\dfrac", "\\frac"), ("\\tfrac", "\\frac"), ("{,}", ""), ("\\cdot", "*"),
                 ("\\times", "*"), ("\\pi", "pi"), ("\\infty", "oo"), ("^\\circ", ""),
                 ("\\%", "/100")):
        s = s.replace(a, b)
    out, i = [], 0
    while i < len(s):
        if s.startswith("\\frac", i):
            num, j = group(s, i + 5)
            den, k = group(s, j)
            out.append("((%s)/(%s))" % (to_sympy(num), to_sympy(den)))
            i = k
        elif s.startswith("\\sqrt", i) and i + 5 < len(s) and s[i + 5] == "{":
            arg, j = group(s, i + 5)
            out.append("sqrt(%s)" % to_sympy(arg))
            i = j
        else:
            out.append(s[i])
            i += 1
    return "".join(out).replace("{", "(").replace("}", ")").replace("^", "**").replace("\\", "")


def equal(gold, pred):
    if gold.strip() == pred.strip():
        return True
    g, p = to_sympy(gold), to_sympy(pred)
    if g.replace(" ", "") == p.replace(" ", ""):
        return True
    gs, ps = g.strip("()[] ").split(","), p.strip("()[] ").split(",")
    if len(gs) != len(ps):
        return False
    for a, b in zip(gs, ps):
        x = parse_expr(a, transformations=TRANSFORMS)
        y = parse_expr(b, transformations=TRANSFORMS)
        if simplify(x - y) != 0:
            return False
    return True


def alarm(*_):
    raise TimeoutError()


def main():
    limit = int(sys.argv[3]) if len(sys.argv) > 3 else None
    signal.signal(signal.SIGALRM, alarm)
    n = 0
    with open(sys.argv[1]) as f, open(sys.argv[2], "w") as out:
        for line in f:
            if limit is not None and n >= limit:
                break
            r = json.loads(line)
            got = last_boxed(r["response"])
            ok = False
            if got is not None:
                signal.alarm(2)
                try:
                    ok = equal(r["answer"], got)
                except Exception:
                    ok = False
                finally:
                    signal.alarm(0)
            out.write(json.dumps({"id": r["id"], "score": 1 if ok else 0}) + "\n")
            n += 1


if __name__ == "__main__":
    main()
