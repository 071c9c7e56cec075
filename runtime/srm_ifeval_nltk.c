/* srm: NLTK's Punkt sentence tokenizer and word_tokenize for the IFEval checks (see
** srm_ifeval_nltk.h). Written from the behaviour of nltk 3.8 (punkt.py: PunktLanguageVars,
** PunktToken, _match_potential_end_contexts, _slices_from_text, _realign_boundaries,
** _first_pass_annotation, _second_pass_annotation, _ortho_heuristic; destructive.py:
** NLTKWordTokenizer.tokenize). Python's `\s` is spelled out as str.isspace()'s characters. */
#include "srm_ifeval_nltk.h"

#include "srm_ifeval_py.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Python's str.isspace() characters, for character classes. */
#define WS                                                                                         \
  "\\t\\n\\x0B\\f\\r\\x1C-\\x1F \\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}"      \
  "\\x{202F}\\x{205F}\\x{3000}"
#define S_ "[" WS "]"
#define NS "[^" WS "]"
#define NONWORD "(?:[)\";}\\]*:@'({\\[?!])"
#define MULTI "(?:-{2,}|\\.{2,}|(?:\\." S_ "){2,}\\.)"

#define MATCH_LIMIT 10000000u

/* ---------------------------------------------------------------------------------------- */
/* Trained-parameter stand-ins                                                                */

/* Abbreviations (lower case, without the final period): a period after them is no sentence
** break unless the next word looks like a sentence start. Sorted for bsearch. */
static const char *const abbrev_types[] = {
    "a.d",  "a.m",   "adm",  "al",    "apr",  "ariz", "assn", "aug",  "ave",    "b.c",  "bros",
    "c.e",  "calif", "capt", "cf",    "cmdr", "co",   "col",  "colo", "conn",   "corp", "cpl",
    "d.c",  "dec",   "del",  "dept",  "dr",   "e.g",  "esp",  "est",  "etc",    "feb",  "fig",
    "fla",  "ft",    "ga",   "gen",   "gov",  "hon",  "i.e",  "ill",  "inc",    "jan",  "jr",
    "kan",  "ky",    "la",   "lt",    "ltd",  "maj",  "mass", "md",   "messrs", "mich", "minn",
    "miss", "mo",    "mont", "mr",    "mrs",  "ms",   "mt",   "n.c",  "n.h",    "n.j",  "n.y",
    "nev",  "no",    "nov",  "oct",   "okla", "ore",  "p.m",  "pa",   "ph.d",   "pp",   "prof",
    "rep",  "rev",   "s.c",  "sen",   "sept", "sgt",  "sr",   "st",   "supt",   "tenn", "tex",
    "u.k",  "u.n",   "u.s",  "u.s.a", "va",   "vol",  "vs",   "wash", "wis",
};

/* Common English words: treated as seen lower case mid-sentence and capitalized only at sentence
** starts (Punkt's orthographic context), so a capitalized one after an abbreviation, ellipsis or
** initial starts a sentence. Sorted for bsearch. */
static const char *const common_words[] = {
    "a",         "about",     "after",    "again",     "all",    "also",        "although",
    "an",        "and",       "another",  "any",       "are",    "as",          "at",
    "be",        "because",   "before",   "both",      "but",    "by",          "can",
    "consider",  "could",     "do",       "does",      "during", "each",        "even",
    "every",     "finally",   "first",    "for",       "from",   "furthermore", "given",
    "had",       "has",       "have",     "he",        "her",    "here",        "his",
    "how",       "however",   "i",        "if",        "in",     "instead",     "is",
    "it",        "its",       "just",     "lastly",    "let",    "let's",       "many",
    "may",       "meanwhile", "moreover", "most",      "much",   "my",          "next",
    "no",        "not",       "now",      "of",        "on",     "once",        "one",
    "only",      "or",        "our",      "overall",   "please", "remember",    "second",
    "secondly",  "she",       "should",   "similarly", "since",  "so",          "some",
    "still",     "such",      "that",     "the",       "their",  "then",        "there",
    "therefore", "these",     "they",     "third",     "this",   "those",       "though",
    "thus",      "to",        "today",    "unlike",    "we",     "what",        "when",
    "where",     "whether",   "which",    "while",     "who",    "why",         "will",
    "with",      "without",   "would",    "yes",       "yet",    "you",         "your",
};

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int in_list(const char *const *list, size_t n, const char *key) {
  return bsearch(&key, list, n, sizeof list[0], cmp_str) != NULL;
}

static int is_abbrev(const char *w) {
  return in_list(abbrev_types, sizeof abbrev_types / sizeof abbrev_types[0], w);
}

static int is_common(const char *w) {
  return in_list(common_words, sizeof common_words / sizeof common_words[0], w);
}

/* ---------------------------------------------------------------------------------------- */
/* Compiled patterns (process-wide, immutable after the first use)                            */

enum {
  RX_WORD,   /* PunktLanguageVars._word_tokenizer_re */
  RX_PERIOD, /* PunktLanguageVars.period_context_re: group 1 after_tok, group 2 next_tok */
  RX_REWRITE /* first NLTKWordTokenizer rewrite; the rest follow in order */
};

struct rewrite {
  const char *pattern, *replacement;
  int pad; /* 1: add a space at both ends before this rule (tokenize's " " + text + " ") */
};

static const struct rewrite rewrites[] = {
    /* STARTING_QUOTES */
    {"([«“‘„]|[`]+)", " $1 ", 0},
    {"^\"", "``", 0},
    {"(``)", " $1 ", 0},
    {"([ (\\[{<])(\"|'{2})", "$1 `` ", 0},
    {"(?i)(')(?!re|ve|ll|m|t|s|d|n)(\\w)\\b", "$1 $2", 0},
    /* PUNCTUATION */
    {"([^.])(\\.)([\\])}>\"'»”’ ]*)" S_ "*$", "$1 $2 $3 ", 0},
    {"([:,])([^\\d])", " $1 $2", 0},
    {"([:,])$", " $1 ", 0},
    {"\\.{2,}", " $0 ", 0},
    {"[;@#$%&]", " $0 ", 0},
    {"([^.])(\\.)([\\])}>\"']*)" S_ "*$", "$1 $2$3 ", 0},
    {"[?!]", " $0 ", 0},
    {"([^'])' ", "$1 ' ", 0},
    {"[*]", " $0 ", 0},
    /* PARENS_BRACKETS, DOUBLE_DASHES */
    {"[\\]\\[(){}<>]", " $0 ", 0},
    {"--", " -- ", 0},
    /* ENDING_QUOTES, after padding */
    {"([»”’])", " $1 ", 1},
    {"''", " '' ", 0},
    {"\"", " '' ", 0},
    {"([^' ])('[sS]|'[mM]|'[dD]|') ", "$1 $2 ", 0},
    {"([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) ", "$1 $2 ", 0},
    /* CONTRACTIONS2, CONTRACTIONS3 */
    {"(?i)\\b(can)(not)\\b", " $1 $2 ", 0},
    {"(?i)\\b(d)('ye)\\b", " $1 $2 ", 0},
    {"(?i)\\b(gim)(me)\\b", " $1 $2 ", 0},
    {"(?i)\\b(gon)(na)\\b", " $1 $2 ", 0},
    {"(?i)\\b(got)(ta)\\b", " $1 $2 ", 0},
    {"(?i)\\b(lem)(me)\\b", " $1 $2 ", 0},
    {"(?i)\\b(more)('n)\\b", " $1 $2 ", 0},
    {"(?i)\\b(wan)(na)(?=" S_ ")", " $1 $2 ", 0},
    {"(?i) ('t)(is)\\b", " $1 $2 ", 0},
    {"(?i) ('t)(was)\\b", " $1 $2 ", 0},
};

#define N_REWRITES (sizeof rewrites / sizeof rewrites[0])
#define N_RX (RX_REWRITE + N_REWRITES)

static pcre2_code *rx[N_RX];
static pcre2_match_context *match_ctx;
static int rx_ok;
static pthread_once_t rx_once = PTHREAD_ONCE_INIT;

static pcre2_code *compile(const char *p, pcre2_compile_context *cc) {
  int err;
  PCRE2_SIZE off;
  pcre2_code *code =
      pcre2_compile((PCRE2_SPTR)p, PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP, &err, &off, cc);
  if (code) (void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
  return code;
}

static void compile_all(void) {
  pcre2_compile_context *cc = pcre2_compile_context_create(NULL);
  match_ctx = pcre2_match_context_create(NULL);
  if (!cc || !match_ctx) return;
  pcre2_set_newline(cc, PCRE2_NEWLINE_LF); /* Python's ^ and $ know only \n */
  pcre2_set_match_limit(match_ctx, MATCH_LIMIT);
  int ok = 1;
  ok &= (rx[RX_WORD] = compile(MULTI "|(?=[^(\"`{\\[:;&#*@)}\\]\\-,])" NS "+?(?=" S_ "|$|" NONWORD
                                     "|" MULTI "|,(?=$|" S_ "|" NONWORD "|" MULTI "))|" NS,
                               cc)) != NULL;
  ok &= (rx[RX_PERIOD] = compile("[.?!](?=(" NONWORD "|" S_ "+(" NS "+)))", cc)) != NULL;
  for (size_t i = 0; i < N_REWRITES; i++)
    ok &= (rx[RX_REWRITE + i] = compile(rewrites[i].pattern, cc)) != NULL;
  pcre2_compile_context_free(cc);
  rx_ok = ok;
}

static int ready(void) {
  pthread_once(&rx_once, compile_all);
  return rx_ok;
}

/* ---------------------------------------------------------------------------------------- */
/* Helpers                                                                                    */

struct buf {
  char *p;
  size_t n, cap;
};

static int buf_reserve(struct buf *b, size_t need) {
  if (need <= b->cap) return 0;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < need) {
    if (cap > SIZE_MAX / 2) return -1;
    cap *= 2;
  }
  char *p = realloc(b->p, cap);
  if (!p) return -1;
  b->p = p;
  b->cap = cap;
  return 0;
}

/* A valid UTF-8 copy of s (each invalid byte becomes U+FFFD), or s itself when it is valid. */
static const char *valid_utf8(const char *s, size_t n, size_t *outn, char **owned) {
  *owned = NULL;
  *outn = n;
  const unsigned char *u = (const unsigned char *)s;
  if (srm_py_valid_utf8(u, n)) return s;
  size_t pos;
  if (n > SIZE_MAX / 3 - 1) return NULL;
  char *copy = malloc(3 * n + 1);
  if (!copy) return NULL;
  size_t o = 0;
  for (pos = 0; pos < n;)
    o += srm_py_encode(srm_py_next(u, n, &pos), (unsigned char *)copy + o);
  *owned = copy;
  *outn = o;
  return copy;
}

/* One match of code at or after start; returns 1 (ovector filled), 0 (none) or -1 (error). */
static int match_at(pcre2_code *code, pcre2_match_data *md, const char *s, size_t n, size_t start) {
  int rc = pcre2_match(code, (PCRE2_SPTR)s, n, start, PCRE2_NO_UTF_CHECK, md, match_ctx);
  if (rc == PCRE2_ERROR_NOMATCH) return 0;
  return rc < 0 ? -1 : 1;
}

static int ascii_ws(char c) { /* Python's string.whitespace */
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\x0B' || c == '\f';
}

/* ---------------------------------------------------------------------------------------- */
/* Punkt tokens and their annotation                                                          */

#define ORTHO_BEG_UC 2
#define ORTHO_MID_LC 32
#define ORTHO_UC 14  /* BEG_UC | MID_UC | UNK_UC */
#define ORTHO_LC 112 /* BEG_LC | MID_LC | UNK_LC */
#define ORTHO_MID_UC 4
#define ORTHO_BEG_LC 16
#define TYPE_MAX 64 /* longer types are never abbreviations or common words */

struct ptoken {
  const char *tok;
  size_t len;
  char type[TYPE_MAX + 1]; /* lower-cased token or "##number##"; "" when too long */
  int type_long;
  unsigned sentbreak : 1, abbr : 1, ellipsis : 1, period_final : 1, first_upper : 1,
      first_lower : 1, is_initial : 1;
};

/* _RE_NUMERIC: ^-?[\.,]?\d[\d,\.-]*\.?$ */
static int is_numeric(const char *s, size_t n) {
  const unsigned char *u = (const unsigned char *)s;
  size_t pos = 0;
  if (pos < n && u[pos] == '-') pos++;
  if (pos < n && (u[pos] == '.' || u[pos] == ',')) pos++;
  if (pos >= n || !srm_py_isdecimal(srm_py_next(u, n, &pos))) return 0;
  while (pos < n) {
    int32_t cp = srm_py_next(u, n, &pos);
    if (!(cp == ',' || cp == '.' || cp == '-' || srm_py_isdecimal(cp))) return 0;
  }
  return 1;
}

static void ptoken_init(struct ptoken *t, const char *tok, size_t len) {
  memset(t, 0, sizeof *t);
  t->tok = tok;
  t->len = len;
  const unsigned char *u = (const unsigned char *)tok;
  if (is_numeric(tok, len)) {
    strcpy(t->type, "##number##");
  } else if (srm_py_lower_bound(len) <= TYPE_MAX) {
    size_t m = srm_py_lower(u, len, (unsigned char *)t->type);
    t->type[m] = '\0';
  } else {
    t->type_long = 1;
  }
  t->period_final = len > 0 && tok[len - 1] == '.';
  size_t pos = 0;
  int32_t first = srm_py_next(u, len, &pos);
  t->first_upper = srm_py_isupper_cp(first) && !srm_py_islower_cp(first);
  t->first_lower =
      srm_py_islower_cp(first) && !srm_py_isupper_cp(first) && !srm_py_istitle_cp(first);
  /* _RE_INITIAL: [^\W\d]\.$ */
  t->is_initial =
      pos + 1 == len && tok[pos] == '.' && srm_py_isword(first) && !srm_py_isdecimal(first);
}

/* type_no_period (or type when keep_period) copied to out; "" for a long type. */
static void type_without_period(const struct ptoken *t, int keep_period, char *out) {
  size_t n = strlen(t->type);
  strcpy(out, t->type);
  /* len(type) > 1 counts code points; a final '.' with any byte before it is > 1 */
  if (!keep_period && n > 1 && out[n - 1] == '.') out[n - 1] = '\0';
}

static void first_pass(struct ptoken *t) {
  const char *tok = t->tok;
  size_t len = t->len;
  if (len == 1 && (tok[0] == '.' || tok[0] == '?' || tok[0] == '!')) {
    t->sentbreak = 1;
    return;
  }
  size_t dots = 0;
  while (dots < len && tok[dots] == '.')
    dots++;
  if (dots == len && len >= 2) {
    t->ellipsis = 1;
    return;
  }
  if (t->period_final && !(len >= 2 && tok[len - 2] == '.')) {
    /* tok[:-1].lower() in abbrev_types, or its last '-'-separated part */
    char low[TYPE_MAX + 1];
    size_t body = len - 1;
    if (srm_py_lower_bound(body) <= TYPE_MAX) {
      size_t m = srm_py_lower((const unsigned char *)tok, body, (unsigned char *)low);
      low[m] = '\0';
      const char *dash = strrchr(low, '-');
      if (is_abbrev(low) || (dash && is_abbrev(dash + 1))) {
        t->abbr = 1;
        return;
      }
    }
    t->sentbreak = 1;
  }
}

static int ortho_context(const char *type) {
  return is_common(type) ? (ORTHO_MID_LC | ORTHO_BEG_UC) : 0;
}

enum ortho { ORTHO_FALSE, ORTHO_TRUE, ORTHO_UNKNOWN };

static enum ortho ortho_heuristic(const struct ptoken *t) {
  /* aug_tok.tok in ";:,.!?": a substring test */
  if (t->len > 0 && t->len <= 6) {
    static const char punct[] = ";:,.!?";
    for (size_t i = 0; i + t->len <= 6; i++)
      if (memcmp(punct + i, t->tok, t->len) == 0) return ORTHO_FALSE;
  }
  char typ[TYPE_MAX + 1];
  type_without_period(t, !t->sentbreak, typ);
  int ctx = t->type_long ? 0 : ortho_context(typ);
  if (t->first_upper && (ctx & ORTHO_LC) && !(ctx & ORTHO_MID_UC)) return ORTHO_TRUE;
  if (t->first_lower && ((ctx & ORTHO_UC) || !(ctx & ORTHO_BEG_LC))) return ORTHO_FALSE;
  return ORTHO_UNKNOWN;
}

static void second_pass(struct ptoken *t1, const struct ptoken *t2) {
  if (!t1->period_final) return;
  char typ[TYPE_MAX + 1], next_typ[TYPE_MAX + 1];
  type_without_period(t1, 0, typ);
  type_without_period(t2, !t2->sentbreak, next_typ);
  /* no collocations; sentence starters are part of the orthographic stand-in */
  if ((t1->abbr || t1->ellipsis) && !t1->is_initial) {
    if (ortho_heuristic(t2) == ORTHO_TRUE) {
      t1->sentbreak = 1;
      return;
    }
  }
  if (t1->is_initial || (!t1->type_long && strcmp(typ, "##number##") == 0)) {
    enum ortho o = ortho_heuristic(t2);
    if (o == ORTHO_FALSE) {
      t1->sentbreak = 0;
      t1->abbr = 1;
      return;
    }
    int next_lc = !t2->type_long && (ortho_context(next_typ) & ORTHO_LC);
    if (o == ORTHO_UNKNOWN && t1->is_initial && t2->first_upper && !next_lc) {
      t1->sentbreak = 0;
      t1->abbr = 1;
    }
  }
}

struct ptokens {
  struct ptoken *v;
  size_t n, cap;
};

/* PunktBaseClass._tokenize_words over s[b, e), appended to out. */
static int tokenize_words(const char *s, size_t b, size_t e, pcre2_match_data *md,
                          struct ptokens *out) {
  size_t line = b;
  while (line <= e) {
    const char *nl = memchr(s + line, '\n', e - line);
    size_t line_end = nl ? (size_t)(nl - s) : e;
    size_t sb, se;
    srm_py_strip((const unsigned char *)s + line, line_end - line, &sb, &se);
    if (se > sb) {
      size_t pos = line;
      for (;;) {
        int r = match_at(rx[RX_WORD], md, s, line_end, pos);
        if (r < 0) return -1;
        if (r == 0) break;
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        if (out->n == out->cap) {
          size_t nc = out->cap ? out->cap * 2 : 16;
          struct ptoken *nv = realloc(out->v, nc * sizeof *nv);
          if (!nv) return -1;
          out->v = nv;
          out->cap = nc;
        }
        ptoken_init(&out->v[out->n++], s + ov[0], ov[1] - ov[0]);
        pos = ov[1] > ov[0] ? ov[1] : ov[1] + 1;
        if (pos > line_end) break;
      }
    }
    if (!nl) break;
    line = line_end + 1;
  }
  return 0;
}

/* PunktSentenceTokenizer.text_contains_sentbreak(s[b, e)): 1, 0, or -1 on error. */
static int contains_sentbreak(const char *s, size_t b, size_t e, pcre2_match_data *md,
                              struct ptokens *toks) {
  toks->n = 0;
  if (tokenize_words(s, b, e, md, toks) != 0) return -1;
  for (size_t i = 0; i < toks->n; i++)
    first_pass(&toks->v[i]);
  for (size_t i = 0; i + 1 < toks->n; i++)
    second_pass(&toks->v[i], &toks->v[i + 1]);
  for (size_t i = 0; i + 1 < toks->n; i++)
    if (toks->v[i].sentbreak) return 1;
  return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Sentences                                                                                  */

struct spans {
  struct srm_span *v;
  size_t n, cap;
};

static int spans_push(struct spans *sp, size_t start, size_t stop) {
  if (sp->n == sp->cap) {
    size_t nc = sp->cap ? sp->cap * 2 : 16;
    struct srm_span *nv = realloc(sp->v, nc * sizeof *nv);
    if (!nv) return -1;
    sp->v = nv;
    sp->cap = nc;
  }
  sp->v[sp->n++] = (struct srm_span){start, stop};
  return 0;
}

/* re_boundary_realignment.match(s[b, e)): ["\')\]}]+?(?:\s+|(?=--)|$) in MULTILINE mode.
** Returns 1 with the closers' length in *kept and the match end in *end, or 0. */
static int realign_match(const char *s, size_t b, size_t e, size_t *kept, size_t *end) {
  const unsigned char *u = (const unsigned char *)s;
  for (size_t k = 1; b + k <= e; k++) {
    char c = s[b + k - 1];
    if (!(c == '"' || c == '\'' || c == ')' || c == ']' || c == '}')) return 0;
    size_t p = b + k, q = p;
    while (q < e) {
      size_t next = q;
      if (!srm_py_isspace(srm_py_next(u, e, &next))) break;
      q = next;
    }
    if (q > p || (p + 2 <= e && s[p] == '-' && s[p + 1] == '-') || p == e || s[p] == '\n') {
      *kept = k;
      *end = q;
      return 1;
    }
  }
  return 0;
}

/* The sentences of s (valid UTF-8) appended to fin; 0 or -1. */
static int sentences(const char *s, size_t n, struct spans *fin) {
  pcre2_match_data *md = pcre2_match_data_create(8, NULL);
  pcre2_match_data *wmd = pcre2_match_data_create(4, NULL);
  struct ptokens toks = {0};
  struct spans raw = {0};
  int rc = (md && wmd) ? 0 : -1;
  /* _slices_from_text over _match_potential_end_contexts */
  size_t last_break = 0, prev_start = 0, prev_stop = 0;
  int have_prev = 0;
  size_t prev_mend = 0, prev_after_end = 0, prev_next_tok = 0;
  int prev_has_next = 0;
  for (size_t pos = 0; rc == 0;) {
    int r = match_at(rx[RX_PERIOD], md, s, n, pos);
    int done = r == 0;
    if (r < 0) {
      rc = -1;
      break;
    }
    size_t mstart = 0, mend = 0, after_end = 0, next_tok = 0;
    int has_next = 0;
    size_t word_start = 0;
    if (!done) {
      PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
      mstart = ov[0];
      mend = ov[1];
      after_end = ov[3];
      has_next = ov[4] != PCRE2_UNSET;
      next_tok = has_next ? ov[4] : 0;
      /* the word before the match: after the last ASCII whitespace since the previous slice */
      size_t ws = 0;
      int found = 0;
      for (size_t i = mstart; i > prev_stop; i--)
        if (ascii_ws(s[i - 1])) {
          ws = i - 1 - prev_stop;
          found = 1;
          break;
        }
      word_start = (found && ws) ? ws + prev_stop + 1 : prev_start;
    }
    /* yield the previous match unless this one's word overlaps it */
    if (have_prev && (done || prev_stop <= word_start)) {
      int br = contains_sentbreak(s, prev_start, prev_after_end, wmd, &toks);
      if (br < 0) {
        rc = -1;
        break;
      }
      if (br) {
        if (spans_push(&raw, last_break, prev_mend) != 0) {
          rc = -1;
          break;
        }
        last_break = prev_has_next ? prev_next_tok : prev_mend;
      }
    }
    if (done) break;
    have_prev = 1;
    prev_start = word_start;
    prev_stop = mstart;
    prev_mend = mend;
    prev_after_end = after_end;
    prev_next_tok = next_tok;
    prev_has_next = has_next;
    pos = mend;
  }
  if (rc == 0) {
    size_t b, e;
    srm_py_strip((const unsigned char *)s, n, &b, &e);
    rc = spans_push(&raw, last_break, b < e ? e : 0);
  }
  /* _realign_boundaries */
  size_t realign = 0;
  for (size_t i = 0; rc == 0 && i < raw.n; i++) {
    size_t start = raw.v[i].start + realign, stop = raw.v[i].stop;
    int nonempty = stop > start;
    if (i + 1 == raw.n) {
      if (nonempty) rc = spans_push(fin, start, stop);
      break;
    }
    size_t kept, end;
    const struct srm_span *s2 = &raw.v[i + 1];
    if (s2->stop > s2->start && realign_match(s, s2->start, s2->stop, &kept, &end)) {
      rc = spans_push(fin, start, s2->start + kept);
      realign = end - s2->start;
    } else {
      realign = 0;
      if (nonempty) rc = spans_push(fin, start, stop);
    }
  }
  free(toks.v);
  free(raw.v);
  if (md) pcre2_match_data_free(md);
  if (wmd) pcre2_match_data_free(wmd);
  return rc;
}

int srm_nltk_sentences(const char *s0, size_t n0, struct srm_span **out, size_t *count) {
  *out = NULL;
  *count = 0;
  if (!ready()) return -1;
  size_t n;
  char *owned;
  const char *s = valid_utf8(s0, n0, &n, &owned);
  if (!s) return -1;
  struct spans fin = {0};
  int rc = sentences(s, n, &fin);
  free(owned);
  if (rc != 0 || owned) { /* offsets into a repaired copy would not fit s0 */
    free(fin.v);
    if (rc == 0) *count = fin.n;
    return rc;
  }
  *out = fin.v;
  *count = fin.n;
  return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* word_tokenize                                                                              */

/* Applies every NLTKWordTokenizer rewrite to a (valid UTF-8), leaving the result in a. */
static int rewrite_all(struct buf *a, struct buf *b, pcre2_match_data *md) {
  for (size_t i = 0; i < N_REWRITES; i++) {
    if (rewrites[i].pad) {
      if (buf_reserve(a, a->n + 2) != 0) return -1;
      memmove(a->p + 1, a->p, a->n);
      a->p[0] = ' ';
      a->p[a->n + 1] = ' ';
      a->n += 2;
    }
    const struct rewrite *rw = &rewrites[i];
    /* most rules find nothing: test first instead of copying the text through substitute */
    int found = pcre2_match(rx[RX_REWRITE + i], (PCRE2_SPTR)a->p, a->n, 0, PCRE2_NO_UTF_CHECK, md,
                            match_ctx);
    if (found == PCRE2_ERROR_NOMATCH) continue;
    if (found < 0) return -1;
    for (;;) {
      PCRE2_SIZE outlen = b->cap;
      if (b->cap == 0 && buf_reserve(b, a->n + 64) != 0) return -1;
      outlen = b->cap;
      int rc = pcre2_substitute(rx[RX_REWRITE + i], (PCRE2_SPTR)a->p, a->n, 0,
                                PCRE2_SUBSTITUTE_GLOBAL | PCRE2_SUBSTITUTE_OVERFLOW_LENGTH |
                                    PCRE2_SUBSTITUTE_UNSET_EMPTY | PCRE2_NO_UTF_CHECK,
                                NULL, match_ctx, (PCRE2_SPTR)rw->replacement, PCRE2_ZERO_TERMINATED,
                                (PCRE2_UCHAR *)b->p, &outlen);
      if (rc == PCRE2_ERROR_NOMEMORY) {
        if (buf_reserve(b, outlen + 1) != 0) return -1;
        continue;
      }
      if (rc < 0) return -1;
      b->n = outlen;
      break;
    }
    struct buf t = *a;
    *a = *b;
    *b = t;
  }
  return 0;
}

static int tokenize_sentence(const char *s, size_t n, struct buf *a, struct buf *b,
                             void (*fn)(void *, const char *, size_t), void *ud) {
  if (buf_reserve(a, n + 1) != 0) return -1;
  memcpy(a->p, s, n);
  a->n = n;
  pcre2_match_data *md = pcre2_match_data_create(1, NULL);
  int rc = md ? rewrite_all(a, b, md) : -1;
  if (md) pcre2_match_data_free(md);
  if (rc != 0) return -1;
  const unsigned char *u = (const unsigned char *)a->p;
  size_t pos = 0, start = 0;
  int in_tok = 0;
  while (pos < a->n) {
    size_t at = pos;
    int32_t cp = srm_py_next(u, a->n, &pos);
    if (srm_py_isspace(cp)) {
      if (in_tok) fn(ud, a->p + start, at - start);
      in_tok = 0;
    } else if (!in_tok) {
      in_tok = 1;
      start = at;
    }
  }
  if (in_tok) fn(ud, a->p + start, a->n - start);
  return 0;
}

int srm_nltk_word_tokens(const char *s0, size_t n0, void (*fn)(void *, const char *, size_t),
                         void *ud) {
  if (!ready()) return -1;
  size_t n;
  char *owned;
  const char *s = valid_utf8(s0, n0, &n, &owned);
  if (!s) return -1;
  struct buf a = {0}, b = {0};
  int rc = tokenize_sentence(s, n, &a, &b, fn, ud);
  free(a.p);
  free(b.p);
  free(owned);
  return rc;
}

static void count_upper(void *ud, const char *tok, size_t len) {
  if (srm_py_str_isupper((const unsigned char *)tok, len)) (*(size_t *)ud)++;
}

/*
** Which uppercase characters can end up in an isupper() token. word_tokenize only inserts spaces
** and swaps quote characters: cased characters keep their order and no whitespace goes away, and
** neither a sentence boundary (always after [.?!] or a closing quote or bracket) nor a rewrite
** separates two adjacent letters, except the contraction rules inside the \w runs "cannot",
** "gimme", "gonna", "gotta", "lemme", "wanna" and "'tis"/"'twas". So an uppercase letter next to
** a lowercase or titlecase letter in any other \w run shares a token with it, and that token is
** not isupper(). The others are "exposed": only the sentences holding one need word_tokenize.
*/

/* Python's cased-but-not-upper test for a neighbour, restricted to \w characters. */
static int lower_letter(int32_t cp) {
  return srm_py_isword(cp) && (srm_py_islower_cp(cp) || srm_py_istitle_cp(cp));
}

/* The \w run s[run, end) (end found from pos, inside s[.., e)) is one the rewrites split between
** two letters: cannot, gimme, gonna, gotta, lemme, wanna, 'tis, 'twas (caselessly; a short run
** with a non-ASCII character counts, as PCRE2 folds K and long s to k and s), or a run ending in
** n before an apostrophe (n't). */
static int contraction_run(const unsigned char *u, size_t e, size_t run, size_t pos) {
  size_t end = pos;
  while (end < e) {
    size_t next = end;
    if (!srm_py_isword(srm_py_next(u, e, &next))) break;
    end = next;
  }
  size_t len = end - run;
  if (len > 0 && (u[end - 1] == 'n' || u[end - 1] == 'N') && end < e && u[end] == '\'') return 1;
  if (len < 3 || len > 6) return 0;
  char low[6];
  for (size_t i = 0; i < len; i++) {
    if (u[run + i] >= 0x80) return 1;
    low[i] = (char)(u[run + i] >= 'A' && u[run + i] <= 'Z' ? u[run + i] + 32 : u[run + i]);
  }
  static const char *const words[] = {"cannot", "gimme", "gonna", "gotta",
                                      "lemme",  "wanna", "tis",   "twas"};
  for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
    if (strlen(words[i]) == len && memcmp(words[i], low, len) == 0) return 1;
  return 0;
}

/* 1 when s[b, e) holds an exposed uppercase character (see above); the characters outside the
** range count as whitespace. */
static int has_exposed_upper(const char *s, size_t b, size_t e) {
  const unsigned char *u = (const unsigned char *)s;
  int32_t prev = ' ';
  size_t run = b; /* where the \w run of the current character starts */
  for (size_t pos = b; pos < e;) {
    if (u[pos] < 0x80 && !(u[pos] >= 'A' && u[pos] <= 'Z')) { /* the common case */
      prev = u[pos++];
      if (!srm_py_isword(prev)) run = pos;
      continue;
    }
    int32_t cp = srm_py_next(u, e, &pos);
    int w = srm_py_isword(cp);
    if (srm_py_isupper_cp(cp)) {
      int32_t next = ' ';
      if (pos < e) {
        size_t after = pos;
        next = srm_py_next(u, e, &after);
      }
      int guarded =
          w && (lower_letter(prev) || lower_letter(next)) && !contraction_run(u, e, run, pos);
      if (!guarded) return 1;
    }
    if (!w) run = pos;
    prev = cp;
  }
  return 0;
}

/* Sentences already tokenized while checking one response: the loose variants share most of
** their sentences, and a sentence's count depends on its text alone. */
#define MEMO_SLOTS 128

struct memo_entry {
  uint64_t hash; /* 0 = empty */
  size_t off, len, count;
};

struct srm_nltk_memo {
  struct memo_entry slot[MEMO_SLOTS];
  size_t used;
  struct buf text; /* the sentences' bytes */
};

struct srm_nltk_memo *srm_nltk_memo_new(void) {
  return calloc(1, sizeof(struct srm_nltk_memo));
}

void srm_nltk_memo_free(struct srm_nltk_memo *m) {
  if (!m) return;
  free(m->text.p);
  free(m);
}

static uint64_t text_hash(const char *s, size_t n) {
  uint64_t h = 0xCBF29CE484222325ull ^ n;
  for (size_t i = 0; i < n; i++)
    h = (h ^ (unsigned char)s[i]) * 0x100000001B3ull;
  return h ? h : 1;
}

/* The memo's entry for s[0, n): an existing one (*found = 1), an empty slot to fill, or NULL. */
static struct memo_entry *memo_find(struct srm_nltk_memo *m, const char *s, size_t n, uint64_t h,
                                    int *found) {
  *found = 0;
  for (size_t i = (size_t)h & (MEMO_SLOTS - 1), k = 0; k < MEMO_SLOTS;
       k++, i = (i + 1) & (MEMO_SLOTS - 1)) {
    struct memo_entry *e = &m->slot[i];
    if (e->hash == 0) return m->used < MEMO_SLOTS / 2 ? e : NULL;
    if (e->hash == h && e->len == n && memcmp(m->text.p + e->off, s, n) == 0) {
      *found = 1;
      return e;
    }
  }
  return NULL;
}

int srm_nltk_capital_words_memo(const char *s0, size_t n0, struct srm_nltk_memo *memo,
                                size_t *count) {
  *count = 0;
  if (!ready()) return -1;
  size_t n;
  char *owned;
  const char *s = valid_utf8(s0, n0, &n, &owned);
  if (!s) return -1;
  if (!has_exposed_upper(s, 0, n)) { /* no token can be isupper() */
    free(owned);
    return 0;
  }
  struct spans sp = {0};
  int rc = sentences(s, n, &sp);
  struct buf a = {0}, b = {0};
  for (size_t i = 0; rc == 0 && i < sp.n; i++) {
    const char *t = s + sp.v[i].start;
    size_t tn = sp.v[i].stop - sp.v[i].start;
    if (!has_exposed_upper(s, sp.v[i].start, sp.v[i].stop)) continue;
    int found = 0;
    uint64_t h = 0;
    struct memo_entry *e = NULL;
    if (memo) {
      h = text_hash(t, tn);
      e = memo_find(memo, t, tn, h, &found);
    }
    if (found) {
      *count += e->count;
      continue;
    }
    size_t k = 0;
    rc = tokenize_sentence(t, tn, &a, &b, count_upper, &k);
    *count += k;
    if (rc == 0 && e && buf_reserve(&memo->text, memo->text.n + tn + 1) == 0) {
      memcpy(memo->text.p + memo->text.n, t, tn);
      *e = (struct memo_entry){h, memo->text.n, tn, k};
      memo->text.n += tn;
      memo->used++;
    }
  }
  free(sp.v);
  free(a.p);
  free(b.p);
  free(owned);
  return rc;
}

int srm_nltk_capital_words(const char *s, size_t n, size_t *count) {
  return srm_nltk_capital_words_memo(s, n, NULL, count);
}
