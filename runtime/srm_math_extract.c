/* srm: final-answer extraction for srm.math. Candidates are collected in one pass per pattern
** family with Math-Verify's priorities (0: \boxed{}, "final answer is X. I hope", "#### N";
** 50: "final answer ... is X"; 100: "answer: X", "Answer: (C)"; 200: "answer ... X"; 300: the
** last LaTeX span or number), then tried best first (within a priority, the one ending last)
** until one parses. A text that is nothing but an answer is taken whole before all of them.
**
** Every scan is linear or uses binary search over precomputed delimiter positions, so a 1 MB
** adversarial text costs milliseconds; at most MM_MAX_ATTEMPTS candidates are parsed. */
#include "srm_math_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

enum { CK_LATEX, CK_EXPR, CK_CHOICE };

struct cand {
  size_t start, end;
  int prio;
  int kind;
  char *txt;
  size_t len;
};

/* Sorted positions of one closing delimiter. */
struct posv {
  size_t *v;
  size_t n, cap;
};

struct ex {
  const char *s;
  size_t n;
  struct cand *c;
  size_t nc, capc;
  struct posv dd, br, pa, nl; /* "$$", "\]", "\)", newlines */
  struct posv fa, aw, hs;     /* "final answer", "answer" (the word), "####" and line "A:" */
  struct posv bx;             /* "\boxed" and "\fbox" */
  size_t plain_from;          /* plain spans and numbers are looked for from here on */
  bool oom;
  /* expr_at caches: the run of expression characters [run_lo, run_hi), and the first
  ** operator at or after op_from (op_pos, or run_hi when there is none) */
  size_t run_lo, run_hi, op_from, op_pos;
  size_t kstar; /* the last position <= run_hi after which a suffix may follow */
};

static bool posv_push(struct ex *X, struct posv *p, size_t v) {
  if (p->n == p->cap) {
    size_t ncap = p->cap ? p->cap * 2 : 64;
    size_t *nv = realloc(p->v, ncap * sizeof *nv);
    if (!nv) {
      X->oom = true;
      return false;
    }
    p->v = nv;
    p->cap = ncap;
  }
  p->v[p->n++] = v;
  return true;
}

/* First position >= from, or SIZE_MAX. */
static size_t posv_next(const struct posv *p, size_t from) {
  size_t lo = 0, hi = p->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (p->v[mid] < from)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < p->n ? p->v[lo] : SIZE_MAX;
}

static void add_cand(struct ex *X, size_t start, size_t end, int prio, int kind, char *txt,
                     size_t len) {
  if (!txt) {
    X->oom = true;
    return;
  }
  if (X->nc == X->capc) {
    size_t ncap = X->capc ? X->capc * 2 : 32;
    struct cand *nv = realloc(X->c, ncap * sizeof *nv);
    if (!nv) {
      free(txt);
      X->oom = true;
      return;
    }
    X->c = nv;
    X->capc = ncap;
  }
  X->c[X->nc++] = (struct cand){start, end, prio, kind, txt, len};
}

/* Keeps only the last `keep` candidates added since index `from` (they end last). */
static void trim_family(struct ex *X, size_t from, size_t keep) {
  if (X->nc - from <= 2 * keep) return;
  size_t drop = X->nc - from - keep;
  for (size_t k = from; k < from + drop; k++)
    free(X->c[k].txt);
  memmove(X->c + from, X->c + from + drop, keep * sizeof *X->c);
  X->nc = from + keep;
}

static char *dup_n(const char *s, size_t n) {
  char *t = malloc(n + 1);
  if (!t) return NULL;
  memcpy(t, s, n);
  t[n] = '\0';
  return t;
}

static bool is_space(int ch) {
  return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v';
}

static bool is_digit(int ch) {
  return ch >= '0' && ch <= '9';
}

/* Case-insensitive match of the lowercase ASCII literal lit at s[i]. */
static bool ieq_at(const char *s, size_t n, size_t i, const char *lit) {
  for (size_t k = 0; lit[k]; k++) {
    if (i + k >= n) return false;
    unsigned char ch = (unsigned char)s[i + k];
    if (ch >= 'A' && ch <= 'Z') ch = (unsigned char)(ch | 0x20);
    if (ch != (unsigned char)lit[k]) return false;
  }
  return true;
}

/* ---- LaTeX spans ---- */

struct env {
  size_t a, b, e; /* content [a, b), end e */
  bool pct;
};

/* A percent sign or word right after a span: \s*(\\?%|percent|percentage|pct). */
static size_t percent_after(const char *s, size_t n, size_t i) {
  size_t j = i;
  while (j < n && is_space(s[j]))
    j++;
  if (j < n && s[j] == '%') return j + 1;
  if (j + 1 < n && s[j] == '\\' && s[j + 1] == '%') return j + 2;
  if (ieq_at(s, n, j, "percentage")) return j + 10;
  if (ieq_at(s, n, j, "percent")) return j + 7;
  if (ieq_at(s, n, j, "pct")) return j + 3;
  return 0;
}

static size_t simple_number(const char *s, size_t n, size_t i) {
  size_t j = i;
  if (j < n && s[j] == '-') j++;
  size_t d = j;
  while (j < n && is_digit(s[j]))
    j++;
  if (j == d) return 0;
  if (j + 1 < n && (s[j] == '.' || s[j] == ',') && is_digit(s[j + 1])) {
    j++;
    while (j < n && is_digit(s[j]))
      j++;
  }
  return j;
}

/* One LaTeX span starting exactly at p. */
static bool env_at(struct ex *X, size_t p, bool plain, struct env *E) {
  const char *s = X->s;
  size_t n = X->n;
  if (p >= n) return false;
  bool esc = p > 0 && s[p - 1] == '\\';
  if (s[p] == '$' && !esc) {
    if (p + 1 < n && s[p + 1] == '$') {
      size_t q = posv_next(&X->dd, p + 3);
      if (q != SIZE_MAX) {
        *E = (struct env){p + 2, q, q + 2, false};
        goto found;
      }
    }
    if (p == 0 || !is_digit(s[p - 1])) {
      for (size_t i = p + 1; i < n; i++) {
        if (s[i] == '\\' && i + 1 < n && s[i + 1] == '$') {
          i++;
          continue;
        }
        if (s[i] == '\n') break;
        if (s[i] == '$') {
          if (i == p + 1) break;
          *E = (struct env){p + 1, i, i + 1, false};
          goto found;
        }
      }
    }
    return false;
  }
  if (s[p] == '\\' && !esc && p + 1 < n && (s[p + 1] == '[' || s[p + 1] == '(')) {
    bool display = s[p + 1] == '[';
    size_t q = posv_next(display ? &X->br : &X->pa, p + 3);
    if (q == SIZE_MAX) return false;
    if (!display && posv_next(&X->nl, p + 2) < q) return false;
    *E = (struct env){p + 2, q, q + 2, false};
    goto found;
  }
  if (is_space(s[p]) && p + 1 < n && s[p + 1] == '[') {
    size_t i = p + 2;
    while (i < n && s[i] != '\n' && s[i] != ']' && s[i] != '[')
      i++;
    if (i >= n || s[i] != ']' || i == p + 2 || i + 1 >= n || !is_space(s[i + 1])) return false;
    *E = (struct env){p + 2, i, i + 2, false};
    goto found;
  }
  if (plain && (s[p] == '\\' || s[p] == '-')) {
    size_t i = p;
    if (s[i] == '-') i++;
    if (i + 6 > n || memcmp(s + i, "\\frac{", 6) != 0) return false;
    size_t j = simple_number(s, n, i + 6);
    if (!j || j >= n || s[j] != '}' || j + 1 >= n || s[j + 1] != '{') return false;
    size_t k = simple_number(s, n, j + 2);
    if (!k || k >= n || s[k] != '}') return false;
    *E = (struct env){p, k + 1, k + 1, false};
    goto found;
  }
  return false;
found : {
  size_t e = percent_after(s, n, E->e);
  if (e) E->e = e, E->pct = true;
}
  return true;
}

/* Up to six spans joined by ",", "and", "or"; returns the joined text (", "-separated). */
static char *env_group_at(struct ex *X, size_t p, bool plain, size_t *end, size_t *len) {
  struct env E[6];
  int k = 0;
  if (!env_at(X, p, plain, &E[0])) return NULL;
  k = 1;
  size_t e = E[0].e;
  while (k < 6) {
    size_t j = e;
    while (j < X->n && is_space(X->s[j]))
      j++;
    size_t q = 0;
    if (j < X->n && X->s[j] == ',') j++;
    if (ieq_at(X->s, X->n, j, "and"))
      q = j + 3;
    else if (ieq_at(X->s, X->n, j, "or"))
      q = j + 2;
    else if (j > e && X->s[j - 1] == ',')
      q = j;
    if (!q) break;
    while (q < X->n && is_space(X->s[q]))
      q++;
    if (!env_at(X, q, plain, &E[k])) break;
    e = E[k].e;
    k++;
  }
  size_t total = 0;
  for (int i = 0; i < k; i++)
    total += E[i].b - E[i].a + 6;
  char *t = malloc(total + 1);
  if (!t) {
    X->oom = true;
    return NULL;
  }
  size_t m = 0;
  for (int i = 0; i < k; i++) {
    if (i) t[m++] = ',', t[m++] = ' ';
    memcpy(t + m, X->s + E[i].a, E[i].b - E[i].a);
    m += E[i].b - E[i].a;
    if (E[i].pct) t[m++] = '\\', t[m++] = '%';
  }
  t[m] = '\0';
  *end = e;
  *len = m;
  return t;
}

/* ---- plain numbers and expressions ---- */

/* A currency sign at i: its length, or 0. */
static size_t currency_at(const char *s, size_t n, size_t i) {
  if (i >= n || (s[i] != '$' && (unsigned char)s[i] < 0x80)) return 0;
  static const char *const signs[] = {"$",
                                      "\xe2\x82\xac",
                                      "\xc2\xa3",
                                      "\xc2\xa5",
                                      "\xe2\x82\xb9",
                                      "\xe2\x82\xbd",
                                      "\xe2\x82\xa9",
                                      "\xe0\xb8\xbf"};
  for (size_t k = 0; k < sizeof signs / sizeof signs[0]; k++) {
    size_t m = strlen(signs[k]);
    if (i + m <= n && memcmp(s + i, signs[k], m) == 0) return m;
  }
  return 0;
}

/* Math-Verify's number formats at i (after any currency). Writes the normalized number
** (separators removed, "," decimal to ".", "%" kept) into out; returns its end or 0. */
static size_t number_at(const char *s, size_t n, size_t i, char *out, size_t cap, size_t *out_len) {
  size_t j = i, m = 0;
  bool neg = false;
  if (j < n && s[j] == '-') neg = true, j++;
  if (j >= n || !(is_digit(s[j]) || (s[j] == '.' && j + 1 < n && is_digit(s[j + 1])))) return 0;
  size_t d = j, e = 0;
  char buf[96];
  size_t bm = 0;
  /* 1: 1,234,567.89 or 1 234 */
  if (s[d] >= '1' && s[d] <= '9') {
    for (size_t len = 3; len >= 1 && !e; len--) {
      size_t g = d + len;
      bool ok = g <= n;
      for (size_t q = d; ok && q < g; q++)
        ok = is_digit(s[q]);
      if (!ok || g + 4 > n || (s[g] != ',' && s[g] != ' ') || !is_digit(s[g + 1]) ||
          !is_digit(s[g + 2]) || !is_digit(s[g + 3]))
        continue;
      bm = 0;
      for (size_t q = d; q < g; q++)
        buf[bm++] = s[q];
      while (g + 4 <= n && (s[g] == ',' || s[g] == ' ') && is_digit(s[g + 1]) &&
             is_digit(s[g + 2]) && is_digit(s[g + 3]) && bm + 3 < 60) {
        memcpy(buf + bm, s + g + 1, 3);
        bm += 3;
        g += 4;
      }
      if (g + 1 < n && s[g] == '.' && is_digit(s[g + 1])) {
        buf[bm++] = '.';
        g++;
        while (g < n && is_digit(s[g]) && bm < 90)
          buf[bm++] = s[g++];
        while (g < n && is_digit(s[g]))
          g++;
      }
      e = g;
    }
  }
  if (!e) {
    size_t g = d;
    bm = 0;
    while (g < n && is_digit(s[g])) {
      if (bm < 60) buf[bm++] = s[g];
      g++;
    }
    if (g + 1 < n && (s[g] == '.' || s[g] == ',') && is_digit(s[g + 1])) {
      if (bm == 0) buf[bm++] = '0';
      buf[bm++] = '.';
      g++;
      while (g < n && is_digit(s[g])) {
        if (bm < 90) buf[bm++] = s[g];
        g++;
      }
    }
    if (bm == 0) return 0;
    e = g;
  }
  /* strip leading zeros of the integer part */
  size_t z = 0;
  while (z + 1 < bm && buf[z] == '0' && buf[z + 1] != '.')
    z++;
  if (neg && m < cap) out[m++] = '-';
  for (size_t q = z; q < bm && m < cap; q++)
    out[m++] = buf[q];
  /* percent */
  size_t p = e;
  while (p < n && is_space(s[p]))
    p++;
  size_t pe = 0;
  if (p < n && s[p] == '%')
    pe = p + 1;
  else if (ieq_at(s, n, p, "percent"))
    pe = p + 7;
  else if (ieq_at(s, n, p, "pct"))
    pe = p + 3;
  if (pe && m + 1 < cap) {
    out[m++] = '%';
    e = pe;
  }
  *out_len = m;
  return e;
}

static bool expr_char(const char *s, size_t n, size_t i, size_t *len) {
  unsigned char ch = (unsigned char)s[i];
  *len = 1;
  if (is_digit(ch) || ch == '.' || is_space(ch) || strchr("+-*/^()", ch)) return ch != 0;
  if (i + 1 < n && ch == 0xC3 &&
      ((unsigned char)s[i + 1] == 0x97 || (unsigned char)s[i + 1] == 0xB7)) {
    *len = 2; /* × ÷ */
    return true;
  }
  return false;
}

static bool expr_op(const char *s, size_t i) {
  unsigned char ch = (unsigned char)s[i];
  return strchr("+-*/^()", ch) != NULL || ch == 0xC3;
}

static bool suffix_ok(const char *s, size_t n, size_t k) {
  if (k + 1 < n && s[k] == '*' && s[k + 1] == '*') k += 2;
  return k >= n || s[k] == '.' || s[k] == ',' || s[k] == ':' || is_space(s[k]) || s[k] == ')' ||
         s[k] == '$';
}

/* The end of the run of expression characters that contains i (cached). */
static size_t run_end(struct ex *X, size_t i) {
  if (i >= X->run_lo && i < X->run_hi) return X->run_hi;
  size_t r = i, len;
  while (r < X->n && expr_char(X->s, X->n, r, &len))
    r += len;
  X->run_lo = i;
  X->run_hi = r;
  X->op_from = X->op_pos = SIZE_MAX;
  size_t k = r;
  while (k > i && !suffix_ok(X->s, X->n, k))
    k--;
  X->kstar = k;
  return r;
}

/* The first operator at or after q inside the current run (cached), or the run end. */
static size_t next_op(struct ex *X, size_t q) {
  if (X->op_from != SIZE_MAX && q >= X->op_from && q <= X->op_pos) return X->op_pos;
  size_t r = q;
  while (r < X->run_hi && !expr_op(X->s, r))
    r++;
  X->op_from = q;
  X->op_pos = r;
  return r;
}

/* An arithmetic expression at i ("2/3", "(1/2) * (4/3)"): at least one operator, a valid
** suffix after it. Returns its end (trailing spaces excluded) or 0. */
static size_t expr_at(struct ex *X, size_t i) {
  const char *s = X->s;
  size_t n = X->n, j = i;
  if (j < n && s[j] == '-') j++;
  if (j < n && s[j] == '(') j++;
  if (j < n && s[j] == '-') j++;
  if (j >= n || !is_digit(s[j])) return 0;
  size_t first = j;
  run_end(X, first);
  size_t k = X->kstar;
  if (k <= first + 1) return 0;
  /* an operator after the first digit with at least one character after it */
  if (next_op(X, first + 1) + 1 >= k) return 0;
  size_t e = k;
  while (e > i && (is_space(s[e - 1]) || s[e - 1] == '.'))
    e--;
  return e;
}

/* A number or expression with Math-Verify's anchors at p: p must follow start, a space or "=";
** optional "**" and currency. kind CK_EXPR; returns end or 0 and the normalized text. */
static size_t expr_or_number(struct ex *X, size_t p, bool want_expr, bool want_num, char **txt,
                             size_t *len, size_t *num_start) {
  const char *s = X->s;
  size_t n = X->n, i = p;
  if (i + 1 < n && s[i] == '*' && s[i + 1] == '*') i += 2;
  if (want_expr) {
    size_t e = expr_at(X, i);
    if (e) {
      *txt = dup_n(s + i, e - i);
      *len = e - i;
      *num_start = i;
      return e;
    }
  }
  if (want_num) {
    size_t c = currency_at(s, n, i);
    char out[128];
    size_t m = 0;
    size_t e = number_at(s, n, i + c, out, sizeof out, &m);
    if (e) {
      *txt = dup_n(out, m);
      *len = m;
      *num_start = i + c;
      return e;
    }
  }
  return 0;
}

static bool prefix_ok(const char *s, size_t p) {
  return p == 0 || is_space(s[p - 1]) || s[p - 1] == '=';
}

/* ---- candidate families ---- */

#define FAMILY_KEEP 256

static void plain_latex(struct ex *X) {
  size_t from = X->nc;
  for (size_t p = X->plain_from; p < X->n && !X->oom;) {
    char ch = X->s[p];
    if (ch != '$' && ch != '\\' && ch != '-' && !is_space(ch)) {
      p++;
      continue;
    }
    size_t end, len;
    char *t = env_group_at(X, p, true, &end, &len);
    if (t) {
      add_cand(X, p, end, 300, CK_LATEX, t, len);
      trim_family(X, from, FAMILY_KEEP);
      p = end;
    } else {
      p++;
    }
  }
}

/* Plain numbers and expressions anywhere (two non-overlapping scans done in one pass). */
static void plain_expr(struct ex *X) {
  const char *s = X->s;
  size_t n = X->n, from = X->nc, next_expr = 0, next_num = 0;
  for (size_t p = X->plain_from; p < n && !X->oom; p++) {
    unsigned char ch = (unsigned char)s[p];
    if (!(is_digit(ch) || ch == '-' || ch == '(' || ch == '.' || ch == '*' || ch >= 0x80 ||
          ch == '$') ||
        !prefix_ok(s, p))
      continue;
    for (int kind = 0; kind < 2; kind++) {
      size_t *next = kind == 0 ? &next_expr : &next_num;
      if (p < *next) continue;
      char *t;
      size_t len, ns;
      size_t e = expr_or_number(X, p, kind == 0, kind == 1, &t, &len, &ns);
      if (!e) continue;
      add_cand(X, p == 0 ? 0 : p - 1, e, 300, CK_EXPR, t, len);
      trim_family(X, from, FAMILY_KEEP * 2);
      *next = e;
    }
  }
}

#define LAST_MARKERS 64 /* only the last markers of a kind are looked at */

static void final_answer(struct ex *X, bool latex, bool expr) {
  const char *s = X->s;
  size_t n = X->n;
  for (size_t m = X->fa.n > LAST_MARKERS ? X->fa.n - LAST_MARKERS : 0; m < X->fa.n; m++) {
    size_t a = X->fa.v[m], after = a + 12;
    /* priority 0: "final answer is X. I hope" */
    if (ieq_at(s, n, after, " is")) {
      size_t j = after + 3;
      if (j < n && s[j] == ':') j++;
      size_t ws = j;
      while (j < n && is_space(s[j]))
        j++;
      size_t end = 0, len = 0;
      char *t = NULL;
      int kind = CK_LATEX;
      if (latex) t = env_group_at(X, j, false, &end, &len);
      if (!t && expr && j > ws) {
        size_t ns;
        end = expr_or_number(X, j, true, true, &t, &len, &ns);
        kind = CK_EXPR;
      }
      if (t) {
        size_t k = end;
        if (k < n && s[k] == '.') k++;
        if (k < n && is_space(s[k])) k++;
        if (ieq_at(s, n, k, "i hope") && s[k] == 'I')
          add_cand(X, a, k + 6, 0, kind, t, len);
        else
          free(t);
      }
    }
    /* priority 50: "final answer ... is X" within 100 characters */
    for (size_t q = after; q < n && q <= after + 100 && !X->oom; q++) {
      if (!is_space(s[q]) || !ieq_at(s, n, q + 1, "is")) continue;
      size_t j = q + 3;
      if (j < n && s[j] == ':') j++;
      size_t end = 0, len = 0;
      char *t = NULL;
      int kind = CK_LATEX;
      if (latex) {
        size_t k = j;
        while (k < n && is_space(s[k]))
          k++;
        t = env_group_at(X, k, false, &end, &len);
      }
      if (!t && expr && j < n && (is_space(s[j]) || s[j] == '=')) {
        size_t ns;
        end = expr_or_number(X, j + 1, true, true, &t, &len, &ns);
        kind = CK_EXPR;
      }
      if (t) {
        add_cand(X, a, end, 50, kind, t, len);
        break;
      }
      if (s[q] == '\n' && !latex) break;
    }
  }
}

/* "Answer: (C)", "the answer is B.": a single capital A-J. */
/* Adds the expression or number at p as a candidate answer for the marker at a, unless it is
** the left side of an equation (followed by '='). Returns whether one was added. */
static bool expr_candidate(struct ex *X, size_t a, size_t p, int prio) {
  const char *s = X->s;
  size_t n = X->n;
  char *t;
  size_t len, ns;
  size_t e = expr_or_number(X, p, true, true, &t, &len, &ns);
  if (!e) return false;
  size_t w = e;
  while (w < n && is_space(s[w]))
    w++;
  if (w < n && s[w] == '=') {
    free(t);
    return false;
  }
  add_cand(X, a, e, prio, CK_EXPR, t, len);
  return true;
}

static void choice_after(struct ex *X, size_t a, size_t j) {
  const char *s = X->s;
  size_t n = X->n;
  while (j < n && (is_space(s[j]) || s[j] == '*' || s[j] == '$'))
    j++;
  static const char *const wraps[] = {"\\boxed{", "\\text{", "\\textbf{", "\\mathrm{"};
  for (size_t w = 0; w < sizeof wraps / sizeof wraps[0]; w++)
    if (ieq_at(s, n, j, wraps[w])) j += strlen(wraps[w]);
  bool paren = j < n && s[j] == '(';
  if (paren) j++;
  if (j >= n || s[j] < 'A' || s[j] > 'J') return;
  size_t k = j + 1;
  if (paren) {
    if (k >= n || s[k] != ')') return;
    k++;
  }
  if (k < n && !(is_space(s[k]) || strchr(".,;:)}*$", s[k]))) return;
  size_t q = k;
  while (q < n && (s[q] == ' ' || s[q] == '\t'))
    q++;
  if (q < n && s[q] == '=') return;
  add_cand(X, a, k, 100, CK_CHOICE, dup_n(s + j, 1), 1);
}

static void answer_word(struct ex *X, bool latex, bool expr) {
  const char *s = X->s;
  size_t n = X->n;
  for (size_t m = X->aw.n > LAST_MARKERS ? X->aw.n - LAST_MARKERS : 0; m < X->aw.n; m++) {
    size_t a = X->aw.v[m], j = a + 6;
    bool colon = j < n && s[j] == ':';
    /* choice letters */
    {
      size_t k = j;
      if (colon)
        k++;
      else {
        while (k < n && s[k] == ' ')
          k++;
        if (ieq_at(s, n, k, "is")) {
          k += 2;
          if (k < n && s[k] == ':') k++;
        } else {
          k = SIZE_MAX;
        }
      }
      if (k != SIZE_MAX) choice_after(X, a, k);
    }
    for (int pass = 0; pass < 2; pass++) {
      if (pass == 0 && !colon) continue;
      int prio = pass == 0 ? 100 : 200;
      size_t start = pass == 0 ? j + 1 : j;
      bool done = false;
      if (latex) {
        for (size_t q = start; q <= start + 50 && q < n && !done; q++) {
          size_t end, len;
          char *t = env_group_at(X, q, false, &end, &len);
          if (t) {
            add_cand(X, a, end, prio, CK_LATEX, t, len);
            done = true;
          }
        }
      }
      if (expr) {
        /* after the last "=" within 100 characters, else the first number within 50 */
        size_t lim = start + 100;
        size_t nl = start;
        while (nl < n && nl < lim && s[nl] != '\n')
          nl++;
        bool got = false;
        for (size_t q = nl; q > start && !got; q--) {
          size_t eq = q - 1;
          if (s[eq] != '=') continue;
          size_t k = eq + 1;
          while (k < n && is_space(s[k]) && s[k] != '\n')
            k++;
          if (k == eq + 1) continue;
          got = expr_candidate(X, a, k, prio);
        }
        for (size_t q = start; q <= start + 50 && q < n && !got; q++) {
          if (s[q] == '\n') break;
          if (!prefix_ok(s, q) || q == start) continue;
          got = expr_candidate(X, a, q, prio);
        }
      }
    }
  }
}

/* "#### 42" (GSM8K references) and a last line "A: 42" (OpenAI's GSM8K solutions). */
static void hashes(struct ex *X) {
  const char *s = X->s;
  size_t n = X->n;
  for (size_t h = X->hs.n > LAST_MARKERS ? X->hs.n - LAST_MARKERS : 0; h < X->hs.n; h++) {
    size_t a = X->hs.v[h];
    bool line_a = s[a] == 'A';
    size_t j = a + (line_a ? 2 : 4);
    while (j < n && (is_space(s[j]) || s[j] == '#'))
      j++;
    j += currency_at(s, n, j);
    char out[128];
    size_t m;
    size_t e = number_at(s, n, j, out, sizeof out, &m);
    if (line_a && e) { /* only as the whole last line */
      size_t k = e;
      while (k < n && is_space(s[k]))
        k++;
      if (k < n) e = 0;
    }
    if (e) add_cand(X, a, e, 0, CK_EXPR, dup_n(out, m), m);
  }
}

/* The gap between two boxes joins them when it is only spacing and commas, or a few words
** including "and"/"or" ("\boxed{1} and \boxed{2}", "\boxed{(3, 3)} \text{ for part (a) and }"). */
static bool joinable_gap(const char *s, size_t a, size_t b) {
  if (b - a > 60) return false;
  int words = 0;
  bool conj = false, stop = false;
  for (size_t i = a; i < b;) {
    char ch = s[i];
    if (ch == '\\') {
      size_t j = i + 1;
      while (j < b && isalpha((unsigned char)s[j]))
        j++;
      if (j == i + 1) j++;
      i = j; /* \quad, \text, \), \[, \, */
      continue;
    }
    if (isalpha((unsigned char)ch)) {
      size_t j = i;
      while (j < b && isalpha((unsigned char)s[j]))
        j++;
      words++;
      if ((j - i == 3 && ieq_at(s, b, i, "and")) || (j - i == 2 && ieq_at(s, b, i, "or")))
        conj = true;
      i = j;
      continue;
    }
    if (ch == '.' || ch == '\n') stop = stop || ch == '.';
    if (ch == ',') conj = true;
    i++;
  }
  if (words == 0) return !stop;
  return conj && words <= 5;
}

static void boxes(struct ex *X) {
  const char *s = X->s;
  size_t n = X->n;
  /* collect the boxes: content [a, b), start, end */
  struct box {
    size_t start, a, b, end;
  } *bx = NULL;
  size_t nb = 0, cap = 0;
  size_t skip_to = 0;
  for (size_t m = 0; m < X->bx.n && !X->oom; m++) {
    size_t i = X->bx.v[m];
    if (i < skip_to) continue; /* inside the previous box */
    size_t len = 0;
    if (i + 7 <= n && memcmp(s + i + 1, "boxed", 5) == 0)
      len = 6;
    else if (i + 6 <= n && memcmp(s + i + 1, "fbox", 4) == 0)
      len = 5;
    if (!len) continue;
    size_t j = i + len;
    while (j < n && s[j] == ' ')
      j++;
    if (j >= n || s[j] != '{') continue;
    int depth = 0;
    size_t k = j, close = SIZE_MAX;
    for (; k < n; k++) {
      if (s[k] == '\\' && k + 1 < n) {
        k++;
        continue;
      }
      if (s[k] == '{')
        depth++;
      else if (s[k] == '}' && --depth == 0) {
        close = k;
        break;
      }
    }
    if (nb == cap) {
      cap = cap ? cap * 2 : 8;
      struct box *nbx = realloc(bx, cap * sizeof *nbx);
      if (!nbx) {
        X->oom = true;
        break;
      }
      bx = nbx;
    }
    if (close == SIZE_MAX) { /* unbalanced: the rest of the text */
      bx[nb++] = (struct box){i, j + 1, n, n};
      break;
    }
    bx[nb++] = (struct box){i, j + 1, close, close + 1};
    skip_to = close; /* nested boxes are part of this one */
  }
  /* groups of adjacent boxes, each a candidate */
  for (size_t g = 0; g < nb && !X->oom;) {
    size_t h = g;
    while (h + 1 < nb && joinable_gap(s, bx[h].end, bx[h + 1].start))
      h++;
    size_t total = 0;
    for (size_t k = g; k <= h; k++)
      total += bx[k].b - bx[k].a + 4;
    char *t = malloc(total + 1);
    if (!t) {
      X->oom = true;
      break;
    }
    size_t m = 0;
    for (size_t k = g; k <= h; k++) {
      if (k > g) t[m++] = ',', t[m++] = ' ';
      memcpy(t + m, s + bx[k].a, bx[k].b - bx[k].a);
      m += bx[k].b - bx[k].a;
    }
    /* "$\boxed{28}$ pct" */
    size_t e = bx[h].end, q = e;
    while (q < n && (s[q] == '$' || s[q] == ' '))
      q++;
    if (q + 1 < n && s[q] == '\\' && (s[q + 1] == ')' || s[q + 1] == ']')) q += 2;
    size_t pe = percent_after(s, n, q);
    if (pe) {
      t[m++] = '\\';
      t[m++] = '%';
    }
    t[m] = '\0';
    add_cand(X, bx[g].start, e, 0, CK_LATEX, t, m);
    g = h + 1;
  }
  free(bx);
}

/* Is the whole text an answer (no prose): short words only outside commands and \text{}? */
static bool looks_bare(const char *s, size_t n) {
  if (n == 0 || n > 2000) return false;
  if ((n >= 2 && s[0] == 'A' && s[1] == ':') || memmem(s, n, "####", 4)) return false;
  for (size_t i = 0; i < n; i++) {
    char ch = s[i];
    if (ch == '$' || ch == '\n') return false;
    if (ch == '\\') {
      size_t j = i + 1;
      while (j < n && isalpha((unsigned char)s[j]))
        j++;
      size_t len = j - i - 1;
      if ((len == 5 && memcmp(s + i + 1, "boxed", 5) == 0) ||
          (len == 4 && memcmp(s + i + 1, "fbox", 4) == 0) ||
          (len == 0 && j < n && (s[j] == '[' || s[j] == '(')))
        return false;
      bool text = (len == 5 && memcmp(s + i + 1, "begin", 5) == 0) ||
                  (len == 3 && memcmp(s + i + 1, "end", 3) == 0) ||
                  (len == 4 && memcmp(s + i + 1, "text", 4) == 0) ||
                  (len == 4 && memcmp(s + i + 1, "mbox", 4) == 0) ||
                  (len == 6 && memcmp(s + i + 1, "textbf", 6) == 0) ||
                  (len == 6 && memcmp(s + i + 1, "mathrm", 6) == 0);
      if (text && j < n && s[j] == '{') {
        while (j < n && s[j] != '}')
          j++;
      }
      i = j > i + 1 ? j - 1 : j;
      continue;
    }
    if (isalpha((unsigned char)ch)) {
      size_t j = i;
      while (j < n && isalpha((unsigned char)s[j]))
        j++;
      size_t len = j - i;
      if (len >= 2) {
        static const char *const ok[] = {"and", "or",  "sin",  "cos", "tan", "log",
                                         "ln",  "exp", "sqrt", "pi",  "cm",  "m"};
        bool fine = false;
        for (size_t k = 0; k < sizeof ok / sizeof ok[0] && !fine; k++)
          fine = strlen(ok[k]) == len && memcmp(ok[k], s + i, len) == 0;
        if (!fine) return false;
      }
      i = j - 1;
    }
  }
  return true;
}

#define PLAIN_WINDOW ((size_t)128 << 10)

static int cand_order(const void *pa, const void *pb) {
  const struct cand *a = pa, *b = pb;
  if (a->prio != b->prio) return a->prio < b->prio ? -1 : 1;
  if (a->end != b->end) return a->end > b->end ? -1 : 1;
  if (a->start != b->start) return a->start < b->start ? -1 : 1;
  return 0;
}

static bool parses(const struct srm_math_opts *o, const char *t, size_t len) {
  struct mm_ctx c;
  mm_ctx_init(&c, o);
  struct mm_node *x = mm_parse(&c, t, len);
  mm_ctx_free(&c);
  return x != NULL;
}

/* Sorts the candidates and returns the first that parses (its text, taken from X). */
static char *try_candidates(struct ex *X, const struct srm_math_opts *o, int *attempts,
                            size_t *out_len) {
  if (X->oom || X->nc == 0) return NULL;
  qsort(X->c, X->nc, sizeof *X->c, cand_order);
  for (size_t k = 0; k < X->nc && *attempts < MM_MAX_ATTEMPTS; k++) {
    struct cand *c = &X->c[k];
    if (c->len == 0 || c->len > SRM_MATH_MAX_ANSWER) continue;
    (*attempts)++;
    if (c->kind == CK_CHOICE || parses(o, c->txt, c->len)) {
      char *r = c->txt;
      c->txt = NULL;
      if (out_len) *out_len = c->len;
      return r;
    }
  }
  return NULL;
}

char *srm_math_extract(const char *text, size_t len, const struct srm_math_opts *o, size_t *out_len,
                       const char **why) {
  struct srm_math_opts def;
  if (!o) {
    srm_math_opts_init(&def);
    o = &def;
  }
  if (why) *why = "no answer found";
  if (len > SRM_MATH_MAX_TEXT) {
    if (why) *why = "text too long";
    return NULL;
  }
  bool latex = o->targets & SRM_MATH_LATEX, expr = o->targets & SRM_MATH_EXPR;
  /* trim */
  while (len > 0 && is_space(text[0]))
    text++, len--;
  while (len > 0 && is_space(text[len - 1]))
    len--;
  if (len == 0) return NULL;
  if (latex && looks_bare(text, len) && parses(o, text, len)) {
    char *r = dup_n(text, len);
    if (r && out_len) *out_len = len;
    return r;
  }
  struct ex X = {.s = text, .n = len};
  /* one pass: delimiter positions and markers */
  for (size_t i = 0; i < len && !X.oom; i++) {
    char ch = text[i];
    bool esc = i > 0 && text[i - 1] == '\\';
    switch (ch) {
    case '\n':
      posv_push(&X, &X.nl, i);
      break;
    case '$':
      if (i + 1 < len && text[i + 1] == '$' && !esc) posv_push(&X, &X.dd, i);
      break;
    case '\\':
      if (i + 1 < len && !esc && text[i + 1] == ']') posv_push(&X, &X.br, i);
      if (i + 1 < len && !esc && text[i + 1] == ')') posv_push(&X, &X.pa, i);
      if (i + 5 < len && (text[i + 1] == 'b' || text[i + 1] == 'f') &&
          ((i + 6 < len && memcmp(text + i + 1, "boxed", 5) == 0) ||
           memcmp(text + i + 1, "fbox", 4) == 0))
        posv_push(&X, &X.bx, i);
      break;
    case '#':
      if (i + 4 <= len && memcmp(text + i, "####", 4) == 0) {
        posv_push(&X, &X.hs, i);
        i += 3;
      }
      break;
    case 'A':
      if (i + 1 < len && text[i + 1] == ':' && (i == 0 || text[i - 1] == '\n'))
        posv_push(&X, &X.hs, i);
      /* fall through */
    case 'a':
      if (ieq_at(text, len, i, "answer") &&
          !(i + 6 < len && isalpha((unsigned char)text[i + 6]) && text[i + 6] != 's')) {
        posv_push(&X, &X.aw, i);
        if (i >= 6 && ieq_at(text, len, i - 6, "final ")) posv_push(&X, &X.fa, i - 6);
      }
      break;
    default:
      break;
    }
  }
  if (latex) boxes(&X);
  if (latex || expr) {
    final_answer(&X, latex, expr);
    answer_word(&X, latex, expr);
  }
  if (expr) hashes(&X);
  int attempts = 0;
  char *result = try_candidates(&X, o, &attempts, out_len);
  if (!result && !X.oom) {
    /* nothing anchored: the last LaTeX span or number, near the end of the text */
    for (size_t k = 0; k < X.nc; k++)
      free(X.c[k].txt);
    X.nc = 0;
    X.plain_from = len > PLAIN_WINDOW ? len - PLAIN_WINDOW : 0;
    if (latex) plain_latex(&X);
    if (expr) plain_expr(&X);
    result = try_candidates(&X, o, &attempts, out_len);
  }
  if (X.oom && why) *why = "out of memory";
  for (size_t k = 0; k < X.nc; k++)
    free(X.c[k].txt);
  free(X.c);
  free(X.dd.v);
  free(X.br.v);
  free(X.pa.v);
  free(X.nl.v);
  free(X.fa.v);
  free(X.aw.v);
  free(X.hs.v);
  free(X.bx.v);
  return result;
}
