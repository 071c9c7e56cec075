# Regenerates langdetect_cases.jsonl and nltk_cases.jsonl (see README.md). Run from the project
# root with Debian 12's /usr/bin/python3, python3-langdetect and python3-nltk installed.
import json, random, re
from langdetect import DetectorFactory, detect
from langdetect.lang_detect_exception import LangDetectException
from nltk.tokenize.punkt import PunktSentenceTokenizer, PunktParameters
from nltk.tokenize.destructive import NLTKWordTokenizer
DetectorFactory.seed = 0
resp = [json.loads(l)['response'] for l in open('../shared/data/ifeval/responses_gpt4.jsonl')]
rng = random.Random(2024)
def ld(t):
    try: return detect(t)
    except LangDetectException: return None
texts = ["The response is English", "Desayunamos en McDonald's hoy", "これは日本語の文です。", "这是中文句子。", "Привет, как дела?",
         "Xin chào, tôi là người Việt Nam", "e-mail foo@bar.com or http://x.y/z", "123 !!", "", "ĐÂY LÀ TIẾNG VIỆT", "مرحبا بالعالم",
         "नमस्ते दुनिया", "안녕하세요 세계", "Ceci est une phrase en français.", "Dies ist ein deutscher Satz.", "HELLO WORLD THIS IS ALL CAPS"]
# a sample of non-English responses and random snippets
for r in resp:
    if ld(r) not in ('en', None) and len(texts) < 40: texts.append(r[:600])
pool = "".join(resp)
while len(texts) < 120:
    a = rng.randrange(len(pool)); s = pool[a:a + rng.choice([4, 8, 16, 40, 120])]
    if rng.random() < 0.3: s = s.upper()
    texts.append(s)
with open('tests/data/ifeval/langdetect_cases.jsonl', 'w') as f:
    for t in texts: f.write(json.dumps({"text": t, "lang": ld(t)}, ensure_ascii=False) + "\n")
src = open('runtime/srm_ifeval_nltk.c').read()
def clist(name):
    body = src[src.index(name):]; body = body[body.index('{')+1:body.index('};')]
    return re.findall(r'"([^"]*)"', body)
p = PunktParameters(); p.abbrev_types = set(clist('abbrev_types[]'))
for w in clist('common_words[]'): p.ortho_context[w] = 32 | 2
tok = PunktSentenceTokenizer(p); wt = NLTKWordTokenizer()
nt = ["Mr. Smith went to Washington. He said: \"Hi!\" (Really.) Yes.", "I.B.M. is big. It is.", "J. S. Bach was great. Then... what?",
      "Wait... what? No!!! OK.", "U.S.A. The end.", "It costs $3.50. Then 2. apples", "\"Hello.\" She said. 'Bye.' (end.) [x.] {y.}",
      "A. B. C. d. e.", "Buy milk, eggs, etc. The store closes soon.", "Use e.g. this one.", "DON'T STOP. I'M HERE. IT'S 'QUOTED' \"AND\" THIS--THAT can't gonna wanna",
      "", "   ", "...", ". . . .", "a.) b.) c.)", "word!!! Next", "«Bonjour» dit-il. “Yes.” ‘No.’", "Ph.D. students. Dr. Who?",
      "1. First item\n2. Second item\n3. third item", "Hello!\n\nNew paragraph here. And more.", "THE U.S. AND THE U.K. ARE ALLIES: NATO, G7; ETC."]
while len(nt) < 70:
    a = rng.randrange(len(pool)); nt.append(pool[a:a + rng.choice([60, 150, 300])])
with open('tests/data/ifeval/nltk_cases.jsonl', 'w') as f:
    for t in nt:
        sents = tok.tokenize(t)
        f.write(json.dumps({"text": t, "sentences": sents, "capital_words": sum(1 for s in sents for w in wt.tokenize(s) if w.isupper()),
                            "tokens": wt.tokenize(t)}, ensure_ascii=False) + "\n")
