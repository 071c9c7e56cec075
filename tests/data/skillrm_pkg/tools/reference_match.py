import json, re

def norm(text):
    text = re.sub(r"[^\w\s]", " ", (text or "").lower())
    words = [w for w in text.split() if w not in ("a", "an", "the")]
    return " ".join(words)

with open("input.json", encoding="utf-8") as f:
    data = json.load(f)
answer, reference = norm(data.get("response")), norm(data.get("reference"))
ok = bool(reference) and (answer == reference or answer.endswith(" " + reference))
print(json.dumps({"score": 1 if ok else 0, "reason": "matches the reference" if ok else "differs from the reference"}))
