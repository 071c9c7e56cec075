/* srm: IFEval's instruction checks, strict and loose (see srm_ifeval_checks.h). Each check_*
** function mirrors one checker class of instructions.py (check_following after
** build_description); srm_ifeval_check runs it on the response and on the seven other variants
** that evaluation_lib.test_instruction_following_loose builds. */
#include "srm_ifeval_checks.h"

#include "srm_ifeval_langdetect.h"
#include "srm_ifeval_nltk.h"
#include "srm_ifeval_py.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Python's str.isspace() characters, for character classes. */
#define WS                                                                                         \
  "\\t\\n\\x0B\\f\\r\\x1C-\\x1F \\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}"      \
  "\\x{202F}\\x{205F}\\x{3000}"
#define S_ "[" WS "]"
#define MATCH_LIMIT 10000000u

const char *const srm_ifeval_names[IFE_COUNT] = {
    "keywords:existence",
    "keywords:frequency",
    "keywords:forbidden_words",
    "keywords:letter_frequency",
    "language:response_language",
    "length_constraints:number_sentences",
    "length_constraints:number_paragraphs",
    "length_constraints:number_words",
    "length_constraints:nth_paragraph_first_word",
    "detectable_content:number_placeholders",
    "detectable_content:postscript",
    "detectable_format:number_bullet_lists",
    "detectable_format:constrained_response",
    "detectable_format:number_highlighted_sections",
    "detectable_format:multiple_sections",
    "detectable_format:json_format",
    "detectable_format:title",
    "combination:two_responses",
    "combination:repeat_prompt",
    "startend:end_checker",
    "change_case:capital_word_frequency",
    "change_case:english_capital",
    "change_case:english_lowercase",
    "punctuation:no_comma",
    "startend:quotation",
};

int srm_ifeval_lookup(const char *name, size_t len) {
  for (int i = 0; i < IFE_COUNT; i++)
    if (strlen(srm_ifeval_names[i]) == len && memcmp(srm_ifeval_names[i], name, len) == 0) return i;
  return -1;
}

/* ---------------------------------------------------------------------------------------- */
/* Fixed patterns                                                                             */

enum {
  RX_BULLET_STAR,   /* ^\s*\*[^\*].*$ (MULTILINE) */
  RX_BULLET_DASH,   /* ^\s*-.*$ (MULTILINE) */
  RX_HIGHLIGHT,     /* \*[^\n\*]*\* */
  RX_HIGHLIGHT2,    /* \*\*[^\n\*]*\*\* */
  RX_PARAGRAPH_SEP, /* \s?\*\*\*\s? */
  RX_TITLE,         /* <<[^\n]+>> */
  RX_PS_PPS,        /* \s*p\.\s?p\.\s?s.*$ (MULTILINE) */
  RX_PS_PS,         /* \s*p\.\s?s\..*$ (MULTILINE) */
  RX_FIXED
};

static const struct {
  const char *pattern;
  uint32_t opts;
} fixed_patterns[RX_FIXED] = {
    {"^" S_ "*\\*[^*].*$", PCRE2_MULTILINE},
    {"^" S_ "*-.*$", PCRE2_MULTILINE},
    {"\\*[^\\n*]*\\*", 0},
    {"\\*\\*[^\\n*]*\\*\\*", 0},
    {S_ "?\\*\\*\\*" S_ "?", 0},
    {"<<[^\\n]+>>", 0},
    {S_ "*p\\." S_ "?p\\." S_ "?s.*$", PCRE2_MULTILINE},
    {S_ "*p\\." S_ "?s\\..*$", PCRE2_MULTILINE},
};

static pcre2_code *fixed[RX_FIXED];
static pcre2_compile_context *compile_ctx;
static pcre2_match_context *match_ctx;
static int fixed_ok;
static pthread_once_t fixed_once = PTHREAD_ONCE_INIT;

static void compile_fixed(void) {
  compile_ctx = pcre2_compile_context_create(NULL);
  match_ctx = pcre2_match_context_create(NULL);
  if (!compile_ctx || !match_ctx) return;
  pcre2_set_newline(compile_ctx, PCRE2_NEWLINE_LF); /* Python's ^, $ and . know only \n */
  pcre2_set_match_limit(match_ctx, MATCH_LIMIT);
  int ok = 1;
  for (int i = 0; i < RX_FIXED; i++) {
    int err;
    PCRE2_SIZE off;
    fixed[i] =
        pcre2_compile((PCRE2_SPTR)fixed_patterns[i].pattern, PCRE2_ZERO_TERMINATED,
                      PCRE2_UTF | PCRE2_UCP | fixed_patterns[i].opts, &err, &off, compile_ctx);
    if (!fixed[i]) {
      ok = 0;
      continue;
    }
    (void)pcre2_jit_compile(fixed[i], PCRE2_JIT_COMPLETE);
  }
  fixed_ok = ok;
}

/* ---------------------------------------------------------------------------------------- */
/* Per-check state                                                                            */

/* One response and what its instructions share: the text (a valid UTF-8 copy when needed), its
** loose variants, the match data, a scratch buffer, the NLTK memo and the language detected in
** each variant (slots 0-3: the response without nothing/the first line/the last line/both;
** 4-7: the same without '*'). */
struct srm_ifeval_response {
  const char *s;
  size_t n;
  char *repaired;
  pcre2_match_data *md;
  char *scratch; /* lower-cased copies */
  size_t scratch_cap;
  struct srm_nltk_memo *nltk_memo; /* sentences tokenized for this response's variants */
  int have_variants;
  const char *v[8];
  size_t vn[8];
  char *stars[4]; /* the starless copies, built on first use */
  signed char lang_done[8];
  enum srm_langdetect_result lang_r[8];
  const char *lang[8];
};

struct ctx {
  const struct srm_ifeval_args *a;
  struct srm_ifeval_response *r;
  int slot;             /* the variant being checked (0-7), or -1 */
  pcre2_code *user[64]; /* patterns built from the arguments (keywords, splitter, marker) */
  size_t nuser;
  enum srm_ifeval_status status;
  char *err;
  size_t errlen;
};

static int fail(struct ctx *c, enum srm_ifeval_status st, const char *msg) {
  if (c->status == IFE_OK) {
    c->status = st;
    snprintf(c->err, c->errlen, "%s", msg);
  }
  return -1;
}

static char *scratch(struct ctx *c, size_t need) {
  struct srm_ifeval_response *r = c->r;
  if (need > r->scratch_cap) {
    char *p = realloc(r->scratch, need);
    if (!p) return NULL;
    r->scratch = p;
    r->scratch_cap = need;
  }
  return r->scratch;
}

/* Compiles a pattern built from the arguments; sets IFE_BAD_ARGS on a syntax error. */
static pcre2_code *compile_user(struct ctx *c, const char *p, size_t len, uint32_t opts) {
  if (c->nuser == sizeof c->user / sizeof c->user[0]) {
    fail(c, IFE_BAD_ARGS, "too many patterns");
    return NULL;
  }
  int err;
  PCRE2_SIZE off;
  pcre2_code *code =
      pcre2_compile((PCRE2_SPTR)p, len, PCRE2_UTF | PCRE2_UCP | opts, &err, &off, compile_ctx);
  if (!code) {
    PCRE2_UCHAR msg[160];
    char full[256];
    pcre2_get_error_message(err, msg, sizeof msg);
    snprintf(full, sizeof full, "bad regular expression in the arguments: %s at offset %zu",
             (const char *)msg, (size_t)off);
    fail(c, IFE_BAD_ARGS, full);
    return NULL;
  }
  c->user[c->nuser++] = code;
  return code;
}

/* Searches s from start: 1 match (ovector in c->r->md), 0 none, -1 error. */
static int search(struct ctx *c, pcre2_code *code, const char *s, size_t n, size_t start,
                  uint32_t opts) {
  int rc =
      pcre2_match(code, (PCRE2_SPTR)s, n, start, opts | PCRE2_NO_UTF_CHECK, c->r->md, match_ctx);
  if (rc == PCRE2_ERROR_NOMATCH) return 0;
  if (rc < 0) return fail(c, IFE_FAILED, "regular expression limit reached");
  return 1;
}

/* Number of matches as Python's re.findall counts them (3.7+: an empty match may follow a
** non-empty one; after an empty match the next must not be empty at the same place). */
static long count_matches(struct ctx *c, pcre2_code *code, const char *s, size_t n) {
  long count = 0;
  size_t pos = 0;
  int after_empty = 0;
  const unsigned char *u = (const unsigned char *)s;
  while (pos <= n) {
    int r = search(c, code, s, n, pos, after_empty ? PCRE2_NOTEMPTY_ATSTART | PCRE2_ANCHORED : 0);
    if (r < 0) return -1;
    if (r == 0) {
      if (!after_empty) break;
      after_empty = 0;
      if (pos >= n) break;
      srm_py_next(u, n, &pos); /* advance one character and search normally */
      continue;
    }
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(c->r->md);
    count++;
    after_empty = ov[1] == ov[0];
    pos = ov[1];
  }
  return count;
}

static int compare(enum srm_ifeval_relation rel, long long value, long long threshold) {
  return rel == IFE_LESS_THAN ? value < threshold : value >= threshold;
}

static int is_blank(const char *s, size_t n) {
  const unsigned char *u = (const unsigned char *)s;
  for (size_t pos = 0; pos < n;)
    if (!srm_py_isspace(srm_py_next(u, n, &pos))) return 0;
  return 1;
}

static void strip(const char **s, size_t *n) {
  size_t b, e;
  srm_py_strip((const unsigned char *)*s, *n, &b, &e);
  *s += b;
  *n = e - b;
}

/* str.lower() of s into c->scratch (offset off); NULL when out of memory. */
static char *lowered(struct ctx *c, const char *s, size_t n, size_t off, size_t *outn) {
  char *buf = scratch(c, off + srm_py_lower_bound(n) + 1);
  if (!buf) return NULL;
  *outn = srm_py_lower((const unsigned char *)s, n, (unsigned char *)buf + off);
  return buf;
}

/* ---------------------------------------------------------------------------------------- */
/* The checks: 1 followed, 0 not, -1 error                                                    */

static int check_keyword_existence(struct ctx *c, const char *s, size_t n) {
  for (size_t i = 0; i < c->nuser; i++) {
    int r = search(c, c->user[i], s, n, 0, 0);
    if (r <= 0) return r;
  }
  return 1;
}

static int check_keyword_frequency(struct ctx *c, const char *s, size_t n) {
  long k = count_matches(c, c->user[0], s, n);
  return k < 0 ? -1 : compare(c->a->relation, k, c->a->n);
}

static int check_forbidden_words(struct ctx *c, const char *s, size_t n) {
  for (size_t i = 0; i < c->nuser; i++) {
    int r = search(c, c->user[i], s, n, 0, 0);
    if (r != 0) return r < 0 ? -1 : 0;
  }
  return 1;
}

static int check_letter_frequency(struct ctx *c, const char *s, size_t n) {
  /* letter.strip().lower() must be one character for Counter to find it */
  const char *l = c->a->str.s;
  size_t ln = c->a->str.len;
  strip(&l, &ln);
  unsigned char low[16];
  if (ln == 0 || ln > 4) return compare(c->a->relation, 0, c->a->n);
  size_t lown = srm_py_lower((const unsigned char *)l, ln, low);
  size_t p = 0;
  int32_t letter = srm_py_next(low, lown, &p);
  if (p != lown) return compare(c->a->relation, 0, c->a->n);
  size_t m;
  char *v = lowered(c, s, n, 0, &m);
  if (!v) return fail(c, IFE_FAILED, "out of memory");
  long long count = 0;
  for (size_t pos = 0; pos < m;)
    if (srm_py_next((const unsigned char *)v, m, &pos) == letter) count++;
  return compare(c->a->relation, count, c->a->n);
}

/* langdetect.detect(s) == want; a text without features counts as followed. The verdict of a
** whole variant is remembered for the response's other instructions. */
static int language_is(struct ctx *c, const char *s, size_t n, const char *want, size_t wantlen) {
  struct srm_ifeval_response *r = c->r;
  int slot = c->slot >= 0 && s == r->v[c->slot] && n == r->vn[c->slot] ? c->slot : -1;
  enum srm_langdetect_result res;
  const char *lang = NULL;
  if (slot >= 0 && r->lang_done[slot]) {
    res = r->lang_r[slot];
    lang = r->lang[slot];
  } else {
    const char *err = NULL;
    const struct srm_langdetect *ld = srm_langdetect_shared(&err);
    if (!ld) return fail(c, IFE_NO_PROFILES, err);
    res = srm_langdetect_detect(ld, s, n, &lang, NULL);
    if (res == SRM_LD_NOMEM) return fail(c, IFE_FAILED, "out of memory");
    if (slot >= 0) {
      r->lang_done[slot] = 1;
      r->lang_r[slot] = res;
      r->lang[slot] = lang;
    }
  }
  if (res == SRM_LD_NO_FEATURES) return 1;
  return strlen(lang) == wantlen && memcmp(lang, want, wantlen) == 0;
}

static int check_response_language(struct ctx *c, const char *s, size_t n) {
  return language_is(c, s, n, c->a->str.s, c->a->str.len);
}

static int check_number_sentences(struct ctx *c, const char *s, size_t n) {
  struct srm_span *sp;
  size_t count;
  if (srm_nltk_sentences(s, n, &sp, &count) != 0)
    return fail(c, IFE_FAILED, "sentence split failed");
  free(sp);
  return compare(c->a->relation, (long long)count, c->a->n);
}

static int check_number_paragraphs(struct ctx *c, const char *s, size_t n) {
  /* re.split(r"\s?\*\*\*\s?", value): an empty piece may only be the first or the last */
  long long pieces = 0, empty_ends = 0;
  for (size_t pos = 0, piece = 0;; pieces++) {
    int r = search(c, fixed[RX_PARAGRAPH_SEP], s, n, pos, 0);
    if (r < 0) return -1;
    size_t end = n, next = n;
    if (r) {
      PCRE2_SIZE *ov = pcre2_get_ovector_pointer(c->r->md);
      end = ov[0];
      next = ov[1];
    }
    if (is_blank(s + piece, end - piece)) {
      if (pieces == 0 || r == 0)
        empty_ends++;
      else
        return 0;
    }
    if (r == 0) {
      pieces++;
      break;
    }
    piece = pos = next;
  }
  return pieces - empty_ends == c->a->n;
}

static int check_number_words(struct ctx *c, const char *s, size_t n) {
  return compare(c->a->relation, (long long)srm_ifeval_count_words(s, n), c->a->n);
}

static int check_nth_paragraph(struct ctx *c, const char *s, size_t n) {
  /* paragraphs = re.split(r"\n\n", value); empty ones do not count */
  long long num = 0, want = c->a->n2;
  const char *nth = NULL;
  size_t nth_len = 0;
  long long index = 0;
  for (size_t pos = 0;; index++) {
    const char *sep = NULL;
    for (size_t i = pos; i + 1 < n; i++)
      if (s[i] == '\n' && s[i + 1] == '\n') {
        sep = s + i;
        break;
      }
    size_t end = sep ? (size_t)(sep - s) : n;
    if (!is_blank(s + pos, end - pos)) num++;
    if (index == want - 1) {
      nth = s + pos;
      nth_len = end - pos;
    }
    if (!sep) break;
    pos = end + 2;
  }
  if (want > num || !nth) return 0;
  strip(&nth, &nth_len);
  if (nth_len == 0) return 0;
  /* the first whitespace-separated word, lstrip("'"), lstrip('"'), cut at punctuation */
  const unsigned char *u = (const unsigned char *)nth;
  size_t wend = 0;
  while (wend < nth_len) {
    size_t next = wend;
    if (srm_py_isspace(srm_py_next(u, nth_len, &next))) break;
    wend = next;
  }
  size_t w = 0;
  while (w < wend && nth[w] == '\'')
    w++;
  while (w < wend && nth[w] == '"')
    w++;
  char *buf = scratch(c, srm_py_lower_bound(wend) + 1);
  if (!buf) return fail(c, IFE_FAILED, "out of memory");
  size_t m = 0;
  while (w < wend) {
    char ch = nth[w];
    if (ch == '.' || ch == ',' || ch == '?' || ch == '!' || ch == '\'' || ch == '"') break;
    size_t next = w;
    srm_py_next(u, wend, &next);
    m += srm_py_lower(u + w, next - w, (unsigned char *)buf + m); /* letter.lower() */
    w = next;
  }
  if (num != c->a->n) return 0;
  /* compare with first_word.lower() */
  size_t fl = c->a->str.len;
  char *b2 = scratch(c, m + srm_py_lower_bound(fl) + 1);
  if (!b2) return fail(c, IFE_FAILED, "out of memory");
  size_t fm = srm_py_lower((const unsigned char *)c->a->str.s, fl, (unsigned char *)b2 + m);
  return fm == m && memcmp(b2, b2 + m, m) == 0;
}

static int check_placeholders(struct ctx *c, const char *s, size_t n) {
  long long count = 0;
  size_t i = 0;
  while (i < n) {
    if (s[i] != '[') {
      i++;
      continue;
    }
    size_t j = i + 1;
    while (j < n && s[j] != ']' && s[j] != '\n')
      j++;
    if (j < n && s[j] == ']') count++;
    i = j + 1; /* on '\n' or the end no '[' before j can match either */
  }
  return count >= c->a->n;
}

static int check_postscript(struct ctx *c, const char *s, size_t n) {
  size_t m;
  char *v = lowered(c, s, n, 0, &m);
  if (!v) return fail(c, IFE_FAILED, "out of memory");
  return search(c, c->user[0], v, m, 0, 0);
}

static long count_all(struct ctx *c, pcre2_code *code, const char *s, size_t n) {
  return count_matches(c, code, s, n);
}

static int check_bullet_lists(struct ctx *c, const char *s, size_t n) {
  long a = count_all(c, fixed[RX_BULLET_STAR], s, n);
  long b = a < 0 ? -1 : count_all(c, fixed[RX_BULLET_DASH], s, n);
  if (b < 0) return -1;
  return a + b == c->a->n;
}

static int contains(const char *s, size_t n, const char *needle) {
  size_t k = strlen(needle);
  if (k > n) return 0;
  for (size_t i = 0; i + k <= n; i++)
    if (s[i] == needle[0] && memcmp(s + i, needle, k) == 0) return 1;
  return 0;
}

static int check_constrained(struct ctx *c, const char *s, size_t n) {
  (void)c;
  strip(&s, &n);
  return contains(s, n, "My answer is yes.") || contains(s, n, "My answer is no.") ||
         contains(s, n, "My answer is maybe.");
}

static int check_highlighted(struct ctx *c, const char *s, size_t n) {
  long long count = 0;
  for (int pass = 0; pass < 2; pass++) {
    pcre2_code *code = fixed[pass ? RX_HIGHLIGHT2 : RX_HIGHLIGHT];
    size_t edge = pass ? 2 : 1;
    for (size_t pos = 0;;) {
      int r = search(c, code, s, n, pos, 0);
      if (r < 0) return -1;
      if (r == 0) break;
      PCRE2_SIZE *ov = pcre2_get_ovector_pointer(c->r->md);
      if (!is_blank(s + ov[0] + edge, ov[1] - ov[0] - 2 * edge)) count++;
      pos = ov[1];
    }
  }
  return count >= c->a->n;
}

static int check_sections(struct ctx *c, const char *s, size_t n) {
  long k = count_matches(c, c->user[0], s, n);
  return k < 0 ? -1 : k >= c->a->n;
}

static int check_json(struct ctx *c, const char *s, size_t n) {
  (void)c;
  strip(&s, &n);
  static const char *const prefixes[] = {"```json", "```Json", "```JSON", "```"};
  for (int i = 0; i < 4; i++) {
    size_t k = strlen(prefixes[i]);
    if (n >= k && memcmp(s, prefixes[i], k) == 0) {
      s += k;
      n -= k;
    }
  }
  if (n >= 3 && memcmp(s + n - 3, "```", 3) == 0) n -= 3;
  strip(&s, &n);
  return srm_ifeval_json_valid(s, n);
}

static int check_title(struct ctx *c, const char *s, size_t n) {
  for (size_t pos = 0;;) {
    int r = search(c, fixed[RX_TITLE], s, n, pos, 0);
    if (r <= 0) return r;
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(c->r->md);
    size_t b = ov[0], e = ov[1];
    while (b < e && s[b] == '<')
      b++;
    while (e > b && s[e - 1] == '>')
      e--;
    if (!is_blank(s + b, e - b)) return 1;
    pos = ov[1];
  }
}

static int check_two_responses(struct ctx *c, const char *s, size_t n) {
  (void)c;
  const char *valid[2] = {NULL, NULL};
  size_t vlen[2] = {0, 0}, nvalid = 0;
  size_t pos = 0;
  for (int index = 0;; index++) {
    size_t end = pos;
    while (end + 6 <= n && memcmp(s + end, "******", 6) != 0)
      end++;
    int last = end + 6 > n;
    if (last) end = n;
    const char *p = s + pos;
    size_t pl = end - pos;
    if (is_blank(p, pl)) {
      if (index != 0 && !last) return 0;
    } else {
      if (nvalid == 2) return 0;
      strip(&p, &pl);
      valid[nvalid] = p;
      vlen[nvalid++] = pl;
    }
    if (last) break;
    pos = end + 6;
  }
  return nvalid == 2 && !(vlen[0] == vlen[1] && memcmp(valid[0], valid[1], vlen[0]) == 0);
}

static int check_repeat_prompt(struct ctx *c, const char *s, size_t n) {
  const char *p = c->a->str.s;
  size_t pn = c->a->str.len, vm, pm;
  strip(&s, &n);
  strip(&p, &pn);
  if (!lowered(c, s, n, 0, &vm)) return fail(c, IFE_FAILED, "out of memory");
  char *buf = scratch(c, vm + srm_py_lower_bound(pn) + 1);
  if (!buf) return fail(c, IFE_FAILED, "out of memory");
  pm = srm_py_lower((const unsigned char *)p, pn, (unsigned char *)buf + vm);
  return pm <= vm && memcmp(buf, buf + vm, pm) == 0;
}

static int check_end(struct ctx *c, const char *s, size_t n) {
  const char *p = c->a->str.s;
  size_t pn = c->a->str.len, vm, pm;
  strip(&s, &n);
  while (n > 0 && s[0] == '"')
    s++, n--;
  while (n > 0 && s[n - 1] == '"')
    n--;
  strip(&p, &pn);
  if (!lowered(c, s, n, 0, &vm)) return fail(c, IFE_FAILED, "out of memory");
  char *buf = scratch(c, vm + srm_py_lower_bound(pn) + 1);
  if (!buf) return fail(c, IFE_FAILED, "out of memory");
  pm = srm_py_lower((const unsigned char *)p, pn, (unsigned char *)buf + vm);
  return pm <= vm && memcmp(buf + vm - pm, buf + vm, pm) == 0;
}

static int check_capital_words(struct ctx *c, const char *s, size_t n) {
  size_t count;
  struct srm_ifeval_response *r = c->r;
  if (!r->nltk_memo && !(r->nltk_memo = srm_nltk_memo_new()))
    return fail(c, IFE_FAILED, "out of memory");
  if (srm_nltk_capital_words_memo(s, n, r->nltk_memo, &count) != 0)
    return fail(c, IFE_FAILED, "word_tokenize failed");
  return compare(c->a->relation, (long long)count, c->a->n);
}

static int check_english_capital(struct ctx *c, const char *s, size_t n) {
  if (!srm_py_str_isupper((const unsigned char *)s, n)) return 0;
  return language_is(c, s, n, "en", 2);
}

static int check_english_lowercase(struct ctx *c, const char *s, size_t n) {
  if (!srm_py_str_islower((const unsigned char *)s, n)) return 0;
  return language_is(c, s, n, "en", 2);
}

static int check_no_comma(struct ctx *c, const char *s, size_t n) {
  (void)c;
  return memchr(s, ',', n) == NULL;
}

static int check_quotation(struct ctx *c, const char *s, size_t n) {
  (void)c;
  strip(&s, &n);
  return n > 1 && s[0] == '"' && s[n - 1] == '"';
}

typedef int (*check_fn)(struct ctx *, const char *, size_t);

static const check_fn checks[IFE_COUNT] = {
    check_keyword_existence,
    check_keyword_frequency,
    check_forbidden_words,
    check_letter_frequency,
    check_response_language,
    check_number_sentences,
    check_number_paragraphs,
    check_number_words,
    check_nth_paragraph,
    check_placeholders,
    check_postscript,
    check_bullet_lists,
    check_constrained,
    check_highlighted,
    check_sections,
    check_json,
    check_title,
    check_two_responses,
    check_repeat_prompt,
    check_end,
    check_capital_words,
    check_english_capital,
    check_english_lowercase,
    check_no_comma,
    check_quotation,
};

/* ---------------------------------------------------------------------------------------- */
/* Patterns from the arguments                                                                */

/* Joins up to three parts into c->scratch and compiles them. */
static pcre2_code *compile_parts(struct ctx *c, const char *a, size_t an, const char *b, size_t bn,
                                 const char *d, size_t dn, uint32_t opts) {
  char *buf = scratch(c, an + bn + dn + 1);
  if (!buf) {
    fail(c, IFE_FAILED, "out of memory");
    return NULL;
  }
  memcpy(buf, a, an);
  memcpy(buf + an, b, bn);
  memcpy(buf + an + bn, d, dn);
  return compile_user(c, buf, an + bn + dn, opts);
}

static int prepare(struct ctx *c) {
  const struct srm_ifeval_args *a = c->a;
  const char *s = a->str.s;
  size_t n = a->str.len;
  switch (a->id) {
  case IFE_KEYWORD_EXISTENCE:
    for (size_t i = 0; i < a->nlist; i++)
      if (!compile_user(c, a->list[i].s, a->list[i].len, PCRE2_CASELESS)) return -1;
    return 0;
  case IFE_FORBIDDEN_WORDS:
    for (size_t i = 0; i < a->nlist; i++)
      if (!compile_parts(c, "\\b", 2, a->list[i].s, a->list[i].len, "\\b", 2, PCRE2_CASELESS))
        return -1;
    return 0;
  case IFE_KEYWORD_FREQUENCY:
    strip(&s, &n);
    return compile_user(c, s, n, PCRE2_CASELESS) ? 0 : -1;
  case IFE_MULTIPLE_SECTIONS:
    strip(&s, &n);
    return compile_parts(c, S_ "?", strlen(S_ "?"), s, n, S_ "?\\d+" S_ "?",
                         strlen(S_ "?\\d+" S_ "?"), 0)
               ? 0
               : -1;
  case IFE_POSTSCRIPT: {
    strip(&s, &n);
    if (n == 5 && memcmp(s, "P.P.S", 5) == 0) {
      c->user[c->nuser++] = fixed[RX_PS_PPS];
      return 0;
    }
    if (n == 4 && memcmp(s, "P.S.", 4) == 0) {
      c->user[c->nuser++] = fixed[RX_PS_PS];
      return 0;
    }
    /* r"\s*" + marker.lower() + r".*$", MULTILINE */
    char *low = malloc(srm_py_lower_bound(n) + 1);
    if (!low) return fail(c, IFE_FAILED, "out of memory");
    size_t m = srm_py_lower((const unsigned char *)s, n, (unsigned char *)low);
    pcre2_code *code = compile_parts(c, S_ "*", strlen(S_ "*"), low, m, ".*$", 3, PCRE2_MULTILINE);
    free(low);
    return code ? 0 : -1;
  }
  default:
    return 0;
  }
}

/* ---------------------------------------------------------------------------------------- */
/* Strict and loose                                                                           */

static int followed(struct ctx *c, const char *s, size_t n) {
  if (is_blank(s, n)) return 0; /* `response.strip() and ...` */
  return checks[c->a->id](c, s, n);
}

/* s without '*' into a new buffer. */
static char *without_stars(const char *s, size_t n, size_t *outn) {
  char *out = malloc(n + 1);
  if (!out) return NULL;
  size_t o = 0;
  for (size_t i = 0; i < n; i++)
    if (s[i] != '*') out[o++] = s[i];
  *outn = o;
  return out;
}

struct srm_ifeval_response *srm_ifeval_response_new(const char *response, size_t len) {
  struct srm_ifeval_response *r = calloc(1, sizeof *r);
  if (!r) return NULL;
  /* a valid UTF-8 copy when needed, so PCRE2 never sees invalid input */
  const unsigned char *u = (const unsigned char *)response;
  if (!srm_py_valid_utf8(u, len)) {
    r->repaired = malloc(3 * len + 1);
    if (!r->repaired) {
      free(r);
      return NULL;
    }
    size_t o = 0;
    for (size_t pos = 0; pos < len;)
      o += srm_py_encode(srm_py_next(u, len, &pos), (unsigned char *)r->repaired + o);
    response = r->repaired;
    len = o;
  }
  r->s = response;
  r->n = len;
  r->md = pcre2_match_data_create(16, NULL);
  if (!r->md) {
    srm_ifeval_response_free(r);
    return NULL;
  }
  return r;
}

void srm_ifeval_response_free(struct srm_ifeval_response *r) {
  if (!r) return;
  for (int i = 0; i < 4; i++)
    free(r->stars[i]);
  if (r->md) pcre2_match_data_free(r->md);
  srm_nltk_memo_free(r->nltk_memo);
  free(r->scratch);
  free(r->repaired);
  free(r);
}

/* The loose variants: without the first line, the last line, both (stripped). */
static void make_variants(struct srm_ifeval_response *r) {
  const char *response = r->s;
  size_t len = r->n;
  const char *first_nl = memchr(response, '\n', len);
  const char *last_nl = NULL;
  for (size_t i = len; i > 0; i--)
    if (response[i - 1] == '\n') {
      last_nl = response + i - 1;
      break;
    }
  r->v[0] = response;
  r->vn[0] = len;
  r->v[1] = first_nl ? first_nl + 1 : response + len;
  r->vn[1] = (size_t)(response + len - r->v[1]);
  r->v[2] = response;
  r->vn[2] = last_nl ? (size_t)(last_nl - response) : 0;
  r->v[3] = (first_nl && last_nl > first_nl) ? first_nl + 1 : response;
  r->vn[3] = (first_nl && last_nl > first_nl) ? (size_t)(last_nl - first_nl - 1) : 0;
  for (int i = 1; i < 4; i++)
    strip(&r->v[i], &r->vn[i]);
  r->have_variants = 1;
}

/* Variant i (0-3) without '*' as slot 4 + i; -1 when out of memory. */
static int make_starless(struct srm_ifeval_response *r, int i) {
  if (r->stars[i]) return 0;
  r->stars[i] = without_stars(r->v[i], r->vn[i], &r->vn[4 + i]);
  if (!r->stars[i]) return -1;
  r->v[4 + i] = r->stars[i];
  return 0;
}

static int followed_slot(struct ctx *c, int slot) {
  c->slot = slot;
  int rv = followed(c, c->r->v[slot], c->r->vn[slot]);
  c->slot = -1;
  return rv;
}

enum srm_ifeval_status srm_ifeval_response_check(struct srm_ifeval_response *r,
                                                 const struct srm_ifeval_args *a, int *strict,
                                                 int *loose, char *errbuf, size_t errlen) {
  *strict = *loose = 0;
  pthread_once(&fixed_once, compile_fixed);
  if (!fixed_ok) {
    snprintf(errbuf, errlen, "cannot compile the IFEval patterns");
    return IFE_FAILED;
  }
  if ((int)a->id < 0 || a->id >= IFE_COUNT) {
    snprintf(errbuf, errlen, "unknown instruction");
    return IFE_BAD_ARGS;
  }
  struct ctx c = {.a = a, .r = r, .slot = -1, .status = IFE_OK, .err = errbuf, .errlen = errlen};
  if (!r->have_variants) make_variants(r);
  if (prepare(&c) == 0 && c.status == IFE_OK) {
    int rv = followed_slot(&c, 0);
    if (rv >= 0) {
      *strict = rv;
      int any = rv;
      for (int i = 0; i < 4 && !any && c.status == IFE_OK; i++) {
        if (i > 0) {
          rv = followed_slot(&c, i);
          if (rv < 0) break;
          if (rv) {
            any = 1;
            break;
          }
        }
        if (!memchr(r->v[i], '*', r->vn[i])) continue; /* the same text as without '*' */
        if (make_starless(r, i) != 0) {
          fail(&c, IFE_FAILED, "out of memory");
          break;
        }
        rv = followed_slot(&c, 4 + i);
        if (rv < 0) break;
        any = rv;
      }
      *loose = any;
    }
  }
  for (size_t i = 0; i < c.nuser; i++) {
    int is_fixed = 0;
    for (int k = 0; k < RX_FIXED; k++)
      is_fixed |= c.user[i] == fixed[k];
    if (!is_fixed) pcre2_code_free(c.user[i]);
  }
  if (c.status != IFE_OK) *strict = *loose = 0;
  return c.status;
}

enum srm_ifeval_status srm_ifeval_check(const struct srm_ifeval_args *a, const char *response,
                                        size_t len, int *strict, int *loose, char *errbuf,
                                        size_t errlen) {
  *strict = *loose = 0;
  struct srm_ifeval_response *r = srm_ifeval_response_new(response, len);
  if (!r) {
    snprintf(errbuf, errlen, "out of memory");
    return IFE_FAILED;
  }
  enum srm_ifeval_status st = srm_ifeval_response_check(r, a, strict, loose, errbuf, errlen);
  srm_ifeval_response_free(r);
  return st;
}

/* ---------------------------------------------------------------------------------------- */
/* Word count and JSON                                                                        */

size_t srm_ifeval_count_words(const char *s, size_t n) {
  const unsigned char *u = (const unsigned char *)s;
  size_t count = 0;
  int in_word = 0;
  for (size_t pos = 0; pos < n;) {
    int w = srm_py_isword(srm_py_next(u, n, &pos));
    if (w && !in_word) count++;
    in_word = w;
  }
  return count;
}

static size_t json_ws(const char *s, size_t n, size_t i) {
  while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
    i++;
  return i;
}

static int is_digit(char ch) {
  return ch >= '0' && ch <= '9';
}

/* One scalar (string, number, literal) at s[i]; returns the index after it, or 0 on error
** (a value never ends at index 0). */
static size_t json_scalar(const char *s, size_t n, size_t i) {
  if (i >= n) return 0;
  char ch = s[i];
  if (ch == '"') {
    for (i++; i < n; i++) {
      unsigned char b = (unsigned char)s[i];
      if (b == '"') return i + 1;
      if (b < 0x20) return 0; /* strict: no raw control characters */
      if (b == '\\') {
        if (++i >= n) return 0;
        char e = s[i];
        if (e == 'u') {
          for (int k = 1; k <= 4; k++) {
            char h = i + (size_t)k < n ? s[i + (size_t)k] : 0;
            if (!(is_digit(h) || (h >= 'a' && h <= 'f') || (h >= 'A' && h <= 'F'))) return 0;
          }
          i += 4;
        } else if (!strchr("\"\\/bfnrt", e) || e == '\0') {
          return 0;
        }
      }
    }
    return 0;
  }
  static const char *const literals[] = {"true", "false", "null", "NaN", "Infinity", "-Infinity"};
  for (int k = 0; k < 6; k++) {
    size_t l = strlen(literals[k]);
    if (n - i >= l && memcmp(s + i, literals[k], l) == 0) return i + l;
  }
  /* -?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)? */
  size_t j = i;
  if (j < n && s[j] == '-') j++;
  if (j >= n || !is_digit(s[j])) return 0;
  if (s[j] == '0')
    j++;
  else
    while (j < n && is_digit(s[j]))
      j++;
  if (j + 1 < n && s[j] == '.' && is_digit(s[j + 1])) {
    j++;
    while (j < n && is_digit(s[j]))
      j++;
  }
  if (j < n && (s[j] == 'e' || s[j] == 'E')) {
    size_t k = j + 1;
    if (k < n && (s[k] == '-' || s[k] == '+')) k++;
    if (k < n && is_digit(s[k])) {
      while (k < n && is_digit(s[k]))
        k++;
      j = k;
    }
  }
  return j;
}

int srm_ifeval_json_valid(const char *s, size_t n) {
  /* containers on a stack of bits (1 = object), grown on the heap */
  size_t depth = 0, cap = 0;
  unsigned char *stack = NULL;
  size_t i = json_ws(s, n, 0);
  int ok = 0;
  for (;;) {
    /* expect a value */
    if (i < n && (s[i] == '[' || s[i] == '{')) {
      int obj = s[i] == '{';
      if (depth / 8 >= cap) {
        size_t nc = cap ? cap * 2 : 64;
        unsigned char *ns = realloc(stack, nc);
        if (!ns) break;
        memset(ns + cap, 0, nc - cap);
        stack = ns;
        cap = nc;
      }
      if (obj)
        stack[depth / 8] |= (unsigned char)(1u << (depth % 8));
      else
        stack[depth / 8] &= (unsigned char)~(1u << (depth % 8));
      depth++;
      i = json_ws(s, n, i + 1);
      char close = obj ? '}' : ']';
      if (i < n && s[i] == close) {
        depth--;
        i++;
      } else {
        if (obj) {
          size_t k = json_scalar(s, n, i);
          if (!k || s[i] != '"') break;
          i = json_ws(s, n, k);
          if (i >= n || s[i] != ':') break;
          i = json_ws(s, n, i + 1);
        }
        continue; /* the first element */
      }
    } else {
      size_t k = json_scalar(s, n, i);
      if (!k) break;
      i = k;
    }
    /* after a value: close containers or expect a separator */
    int again = 0;
    for (;;) {
      i = json_ws(s, n, i);
      if (depth == 0) break;
      int obj = (stack[(depth - 1) / 8] >> ((depth - 1) % 8)) & 1;
      if (i < n && s[i] == ',') {
        i = json_ws(s, n, i + 1);
        if (obj) {
          size_t k = json_scalar(s, n, i);
          if (!k || s[i] != '"') break;
          i = json_ws(s, n, k);
          if (i >= n || s[i] != ':') break;
          i = json_ws(s, n, i + 1);
        }
        again = 1;
        break;
      }
      if (i < n && s[i] == (obj ? '}' : ']')) {
        depth--;
        i++;
        continue;
      }
      break;
    }
    if (again) continue;
    ok = depth == 0 && i == n;
    break;
  }
  free(stack);
  return ok;
}
