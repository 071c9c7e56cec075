#!/usr/bin/env python3
"""Regenerates the seed corpora tests/fuzz/corpus/<target>/ from the test fixtures (tests/data)
and the shared data sets (../shared/data, used when present). Each seed has the byte layout its
fuzz target documents (see tests/fuzz/fuzz_<target>.c); at most 50 small files per target.
Deterministic: the same inputs give the same files. Run from the project root:
    python3 tests/fuzz/make_seeds.py
"""
import ast
import json
import os
import re
import shutil

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.path.join(os.path.dirname(ROOT), "shared", "data")
OUT = os.path.join(ROOT, "tests", "fuzz", "corpus")
MAX_FILES = 50
MAX_BYTES = 2048


def rows(path, limit=None):
    out = []
    if not os.path.exists(path):
        return out
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                out.append(json.loads(line))
            if limit and len(out) >= limit:
                break
    return out


def clip(b, n=MAX_BYTES):
    return b[:n]


def u8(s):
    return s.encode("utf-8", "surrogatepass")


def every(seq, n):
    """n items spread evenly over seq."""
    if len(seq) <= n:
        return list(seq)
    step = len(seq) / n
    return [seq[int(i * step)] for i in range(n)]


def write(target, seeds):
    d = os.path.join(OUT, target)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    seen = set()
    n = 0
    for name, data in seeds:
        if data in seen or n >= MAX_FILES:
            continue
        seen.add(data)
        with open(os.path.join(d, "%02d-%s" % (n, name)), "wb") as f:
            f.write(data)
        n += 1
    print("%-10s %d seeds" % (target, n))


def data_file(*parts):
    """A fixture from tests/data, else the shared copy."""
    p = os.path.join(ROOT, "tests", "data", *parts)
    return p if os.path.exists(p) else os.path.join(SHARED, *parts)


def jsonl_seeds():
    lines = [clip(l, 600) for l in open(data_file("ifeval", "input_data.jsonl"), "rb").read().split(b"\n")[:3]]
    body = b"\n".join(lines) + b"\n"
    seeds = [
        ("plain", b"\x00\x00" + body),
        ("chunk7", b"\x00\x07" + body),
        ("cap40", b"\x28\x05" + body),
        ("bom-crlf", b"\x00\x03\xef\xbb\xbf{\"a\":1}\r\n\r\n  \t\n{\"b\":2}\r\n{\"c\":3}"),
        ("blank-lines", b"\x10\x01\n\n \n\t\r\n{}\n\n[]\n"),
        ("bad-utf8", b"\x00\x02{\"s\":\"\xc3\x28\xed\xa0\x80\xf4\x90\x80\x80\"}\n{\"ok\":\"\xc3\xa9\"}\n"),
        ("too-long", b"\x08\x03" + b"{\"x\":\"" + b"y" * 100 + b"\"}\n{}\n" + b"z" * 50),
        ("long-bom", b"\x04\x01\xef\xbb\xbf" + b"a" * 30 + b"\r\nb\n"),
        ("no-newline", b"\x00\x00{\"last\":true}"),
        ("cr-only", b"\x00\x01\r\r\r\n\r"),
    ]
    return seeds


def json_seeds():
    seeds = []
    for i, r in enumerate(every(rows(data_file("ifeval", "input_data.jsonl")), 8)):
        seeds.append(("ifeval-row%d" % i, clip(u8(json.dumps(r)))))
    for i, r in enumerate(every(rows(data_file("math", "math_verify_cases.jsonl")), 6)):
        seeds.append(("math-row%d" % i, clip(u8(json.dumps(r)))))
    seeds += [
        ("numbers", b"[0, -0, -0.0, 1.0, 1e2, 1E-2, 9007199254740993, -9223372036854775808, 1e400, 123456789012345678901234567890]"),
        ("escapes", b'{"s": "\\u00e9\\ud83d\\ude00\\n\\t\\"\\\\\\/", "lone": "\\ud800", "nul": "a\\u0000b"}'),
        ("nested", b"[" * 60 + b"1" + b"]" * 60),
        ("deep", b'{"a":' * 120 + b"null" + b"}" * 120),
        ("literals", b"[true, false, null, {}, [], \"\", {\"\": []}]"),
        ("keys", b'{"1": 1, "b": {"c": [1, {"d": null}]}, "a": 2, "1.5": true}'),
        ("ws", b" \t\r\n{ \"a\" : [ 1 , 2 ] } \n"),
        ("bad-trailing", b'{"a": 1,}'),
        ("bad-nan", b"[NaN, Infinity, -Infinity, 0x10]"),
        ("bad-utf8", b'{"s": "\xc3\x28\xff"}'),
        ("dup-keys", b'{"a": 1, "a": 2}'),
        ("top-scalar", b'"just a string"'),
    ]
    return seeds


def chat_body(content, **extra):
    msg = {"role": "assistant", "content": content}
    msg.update(extra.pop("message", {}))
    body = {"id": "x", "object": "chat.completion", "choices": [{"index": 0, "message": msg, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 12, "completion_tokens": 34, "total_tokens": 46}}
    body.update(extra)
    return u8(json.dumps(body))


def judge_texts():
    """Real judge verdict texts (judgebench outputs), tails clipped."""
    out = []
    d = os.path.join(SHARED, "judgebench", "outputs")
    if not os.path.isdir(d):
        return out
    for name in sorted(os.listdir(d))[:6]:
        for r in rows(os.path.join(d, name), 2):
            js = r.get("judgments", [])
            if isinstance(js, str):
                try:
                    js = ast.literal_eval(js)
                except (ValueError, SyntaxError):
                    continue
            for j in js[:1]:
                resp = j.get("judgment", {}).get("response")
                if isinstance(resp, str):
                    out.append(resp[-700:])
    return out


def llm_reply_seeds():
    texts = judge_texts()[:6] + ["The answer is 42.", ""]
    seeds = [("content%d" % i, b"\x00" + clip(chat_body(t))) for i, t in enumerate(texts)]
    seeds += [
        ("null-content", b"\x00" + chat_body(None, message={"tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{\"x\": 1}"}}]})),
        ("reasoning", b"\x00" + chat_body("ok", message={"reasoning_content": "thinking..."})),
        ("no-usage", b'\x00{"choices": [{"message": {"content": "hi"}, "finish_reason": null}]}'),
        ("str-usage", b'\x00{"choices": [{"message": {"content": "hi"}}], "usage": {"prompt_tokens": "7", "completion_tokens": 1e300}}'),
        ("empty-choices", b'\x00{"choices": []}'),
        ("choices-object", b'\x00{"choices": {"1": {"message": {}}}}'),
        ("error-body", b'\x00{"error": {"message": "model overloaded", "type": "server_error"}}'),
        ("truncated", b"\x00" + chat_body("cut here")[:40]),
        ("html", b"\x00<html><body>502 Bad Gateway</body></html>"),
        ("http400-kwargs", b'\x07{"error": "unknown field chat_template_kwargs"}'),
        ("http400", b'\x07{"error": "bad request"}'),
    ]
    return seeds


def judge_seeds():
    texts = judge_texts()
    seeds = [("judgebench%d" % i, bytes([i]) + u8(t)) for i, t in enumerate(texts[:20])]
    crafted = [
        '{"reason": "clear and correct", "score": 8}',
        'Reasoning first.\n```json\n{"reason": "ok", "score": 3}\n```',
        "Score: 7/10",
        "score = 11",
        '{"reason": "tie game", "winner": "tie"}',
        "My final verdict is [[B]]",
        'Winner: "A"',
        '{"reason": "second is best", "best": 2}',
        "best: 3",
        '{"results": [{"item": 1, "pass": true, "reason": "y"}, {"item": 2, "pass": false}]}',
        '{"results": [{"item": 3, "pass": true}]}',
        '{"results": [{"item": 1, "pass": true}]}',
        "prefix {not json} and then {\"score\": 5} suffix }",
        "```\n{\"winner\": \"a\"}\n```",
        "",
    ]
    for i, t in enumerate(crafted):
        seeds.append(("crafted%d" % i, bytes([i * 7 % 256]) + u8(t)))
    return seeds


def math_seeds():
    seeds = []
    cases = rows(data_file("math", "math_verify_cases.jsonl"))
    for i, r in enumerate(every(cases, 24)):
        c = r.get("case", {})
        g, p = c.get("gold"), c.get("pred")
        if isinstance(g, str) and isinstance(p, str):
            seeds.append(("verify%d" % i, bytes([i * 37 % 256]) + clip(u8(g) + b"\0" + u8(p))))
    for i, r in enumerate(rows(data_file("math", "hendrycks_is_equiv.jsonl"))[:8]):
        seeds.append(("hendrycks%d" % i, b"\x0b" + clip(u8(r["str1"]) + b"\0" + u8(r["str2"]))))
    for i, r in enumerate(every(rows(os.path.join(SHARED, "math", "math500_test.jsonl")), 6)):
        seeds.append(("math500-%d" % i, b"\x03" + clip(u8(r.get("answer", "")) + b"\0" + u8(r.get("solution", ""))[-1500:])))
    for i, r in enumerate(every(rows(data_file("gsm8k", "example_model_solutions.jsonl")), 6)):
        gt = r["ground_truth"].split("####")[-1].strip()
        sol = r.get("175b_verification") or r.get("6b_finetuning") or ""
        if isinstance(sol, list):
            sol = sol[0] if sol else ""
        if isinstance(sol, dict):
            sol = json.dumps(sol)
        seeds.append(("gsm8k%d" % i, b"\x02" + clip(u8(gt) + b"\0" + u8(str(sol))[-1200:])))
    return seeds


IFEVAL_IDS = [
    "keywords:existence", "keywords:frequency", "keywords:forbidden_words", "keywords:letter_frequency",
    "language:response_language", "length_constraints:number_sentences", "length_constraints:number_paragraphs",
    "length_constraints:number_words", "length_constraints:nth_paragraph_first_word",
    "detectable_content:number_placeholders", "detectable_content:postscript",
    "detectable_format:number_bullet_lists", "detectable_format:constrained_response",
    "detectable_format:number_highlighted_sections", "detectable_format:multiple_sections",
    "detectable_format:json_format", "detectable_format:title", "combination:two_responses",
    "combination:repeat_prompt", "startend:end_checker", "change_case:capital_word_frequency",
    "change_case:english_capital", "change_case:english_lowercase", "punctuation:no_comma",
    "startend:quotation",
]
LANGS = ["en", "es", "pt", "ar", "hi", "fr", "ru", "de", "ja", "it", "bn", "uk", "th", "ur", "ta", "te", "bg",
         "ko", "pl", "he", "fa", "vi", "ne", "sw", "kn", "mr", "gu", "pa", "ml", "fi"]


def ifeval_seeds():
    inputs = rows(data_file("ifeval", "input_data.jsonl"))
    responses = {r["prompt"]: r["response"] for r in rows(data_file("ifeval", "responses_gpt4.jsonl"))}
    seeds, covered = [], {}
    for row in inputs:
        resp = responses.get(row["prompt"])
        if resp is None:
            continue
        for iid, kw in zip(row["instruction_id_list"], row["kwargs"]):
            if covered.get(iid, 0) >= 2 or iid not in IFEVAL_IDS:
                continue
            kw = {k: v for k, v in kw.items() if v is not None}
            n = n2 = rel = 0
            s = ""
            for k, v in kw.items():
                if k == "nth_paragraph":
                    n2 = int(v)
                elif isinstance(v, (int, float)):
                    n = int(v) % 64
                elif k.endswith("relation"):
                    rel = 0 if v == "less than" else 1
                elif k == "language":
                    rel = LANGS.index(v) if v in LANGS else 0
                elif isinstance(v, list):
                    s = ",".join(v)
                else:
                    s = v
            sb = u8(s)[:255]
            head = bytes([IFEVAL_IDS.index(iid), n, n2, rel, len(sb)]) + sb
            seeds.append((iid.replace(":", "-"), head + clip(u8(resp), 1500)))
            covered[iid] = covered.get(iid, 0) + 1
    for h in range(7):  # the helpers
        text = u8(every(list(responses.values()), 7)[h])[:800]
        seeds.append(("helper%d" % h, bytes([25 + h, 0, 0, 0, 0]) + text))
    return seeds


def re_seeds():
    pats = [
        (r"\d+", "There are 12 apples and 345 pears."),
        (r"(?<word>\p{L}+)\s+(\p{N}+)", "Größe 42 und 7"),
        (r"^#+\s*(.*)$", "# Title\n## Sub\ntext"),
        (r"(a+)+$", "aaaaaaaaaaaaaaaaaaaaaaaaaaaa!"),
        (r"(?:a|a)*b", "a" * 40),
        (r"(x+x+)+y", "x" * 30),
        (r"\\boxed\{([^{}]*)\}", r"so \boxed{42} and \boxed{x^2}"),
        (r"(?i)final answer:?\s*(.+)", "The Final Answer: 17"),
        (r"(?=a)|b", "abab"),
        (r"", "empty pattern"),
        (r"(.)\1", "aabbcc"),
        (r"(?<=\s)\w+(?=\.)", "end of it. done."),
        (r"[\x{1F600}-\x{1F64F}]", "smile \U0001F600 ok"),
        (r"\X", "e\u0301 \U0001F468\u200D\U0001F469"),
        (r"(?s).*?", "line1\nline2"),
        (r"*bad", "x"),
        (r"(?<name>a)(?<name>b)", "ab"),
        (r"\K", "abc"),
        (r"a{2,}?", "aaaa"),
        (r"[[:alpha:]]+", "abc123"),
    ]
    seeds = []
    for i, (p, s) in enumerate(pats):
        pb = u8(p)
        flags = [0, 1, 2, 4, 8, 16, 32, 3][i % 8]
        seeds.append(("pat%d" % i, bytes([flags, (i * 2) % 18, len(pb)]) + pb + u8(s)))
        seeds.append(("pat%d-mod" % i, bytes([flags, (i * 2 + 1) % 18 + 2, len(pb)]) + pb + u8(s)))
    seeds.append(("bad-utf8-subject", b"\x00\x00\x03\\w+" + b"ab\xff\xfecd"))
    seeds.append(("bad-utf8-pattern", b"\x00\x02\x02\xc3\x28" + b"abc"))
    return seeds


def tok_seeds():
    seeds = []
    texts = []
    for r in every(rows(data_file("gsm8k", "example_model_solutions.jsonl")), 8):
        texts.append(r["question"])
    for r in every(rows(data_file("ifeval", "responses_gpt4.jsonl")), 8):
        texts.append(r["response"][:1000])
    texts += [
        "<|endoftext|>hello<|im_start|>user\n<think>x</think>",
        "  multiple   spaces\t\ttabs\n\n\nnewlines   ",
        "caf\u00e9 vs cafe\u0301 (NFC and NFD)",
        "\u4e2d\u6587\u5b57\u7b26 \U0001F600 emoji \u0645\u0631\u062d\u0628\u0627",
        "I'm you're they've we'll she'd IT'S 12345 3.14159",
    ]
    for i, t in enumerate(texts):
        seeds.append(("text%d" % i, bytes([i % 6]) + clip(u8(t))))
    seeds.append(("invalid-utf8", b"\x00ab\xff\xfe c\xe2\x82 \xed\xa0\x80 end"))
    seeds.append(("invalid-utf8-hf", b"\x01ab\xff\xfe c\xe2\x82 \xed\xa0\x80 end"))
    return seeds


def main():
    write("jsonl", jsonl_seeds())
    write("json", json_seeds())
    write("llm_reply", llm_reply_seeds())
    write("judge", judge_seeds())
    write("math", math_seeds())
    write("ifeval", ifeval_seeds())
    write("re", re_seeds())
    write("tok", tok_seeds())


if __name__ == "__main__":
    main()
