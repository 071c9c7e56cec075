/* srm: the public entry points of the math core (srm_math.h): options, the per-call arena,
** srm_math_equal and srm_math_normalize. Parsing lives in srm_math_parse.c, comparison in
** srm_math_eval.c, extraction in srm_math_extract.c. */
#include "srm_math_int.h"

#include <stdlib.h>
#include <string.h>

struct mm_block {
  struct mm_block *next;
  size_t used, cap;
  max_align_t data[];
};

#define BLOCK_SIZE ((size_t)32 << 10)

void srm_math_opts_init(struct srm_math_opts *o) {
  o->precision = 6;
  o->strict = true;
  o->ordered_lists = false;
  o->set_relation = false;
  o->targets = SRM_MATH_LATEX | SRM_MATH_EXPR;
}

void mm_ctx_init(struct mm_ctx *c, const struct srm_math_opts *o) {
  memset(c, 0, sizeof *c);
  c->opts = o;
}

void mm_ctx_free(struct mm_ctx *c) {
  struct mm_block *b = c->blocks;
  while (b) {
    struct mm_block *next = b->next;
    free(b);
    b = next;
  }
  c->blocks = NULL;
}

void mm_fail(struct mm_ctx *c, const char *msg) {
  if (!c->err) c->err = msg;
}

void mm_limit(struct mm_ctx *c, const char *msg) {
  if (!c->limit) {
    c->err = msg;
    c->limit = true;
  }
}

void *mm_alloc(struct mm_ctx *c, size_t n) {
  n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
  if (n == 0) n = sizeof(max_align_t);
  struct mm_block *b = c->blocks;
  if (!b || b->cap - b->used < n) {
    size_t cap = n > BLOCK_SIZE ? n : BLOCK_SIZE;
    if (c->arena_total + cap > MM_MAX_ARENA) {
      mm_limit(c, "memory limit");
      return NULL;
    }
    b = malloc(sizeof *b + cap);
    if (!b) {
      mm_limit(c, "out of memory");
      return NULL;
    }
    b->next = c->blocks;
    b->used = 0;
    b->cap = cap;
    c->blocks = b;
    c->arena_total += cap;
  }
  void *p = (char *)b->data + b->used;
  b->used += n;
  memset(p, 0, n);
  return p;
}

char *mm_strndup(struct mm_ctx *c, const char *s, size_t n) {
  char *t = mm_alloc(c, n + 1);
  if (!t) return NULL;
  memcpy(t, s, n);
  t[n] = '\0';
  return t;
}

static void trim(const char **s, size_t *n) {
  while (*n && (**s == ' ' || **s == '\t' || **s == '\n' || **s == '\r'))
    (*s)++, (*n)--;
  while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t' || (*s)[*n - 1] == '\n' ||
                (*s)[*n - 1] == '\r'))
    (*n)--;
}

/* Text fallback: equal after dropping whitespace and $ signs (both non-empty). */
static bool text_equal(const char *a, size_t an, const char *b, size_t bn) {
  size_t i = 0, j = 0;
  bool any = false;
  for (;;) {
    while (i < an && (a[i] == ' ' || a[i] == '\t' || a[i] == '\n' || a[i] == '\r' || a[i] == '$'))
      i++;
    while (j < bn && (b[j] == ' ' || b[j] == '\t' || b[j] == '\n' || b[j] == '\r' || b[j] == '$'))
      j++;
    if (i == an || j == bn) return any && i == an && j == bn;
    if (a[i] != b[j]) return false;
    any = true;
    i++, j++;
  }
}

bool srm_math_equal(const char *gold, size_t glen, const char *pred, size_t plen,
                    const struct srm_math_opts *o, struct srm_math_result *r) {
  struct srm_math_opts def;
  if (!o) {
    srm_math_opts_init(&def);
    o = &def;
  }
  memset(r, 0, sizeof *r);
  trim(&gold, &glen);
  trim(&pred, &plen);
  if (glen > 0 && glen == plen && memcmp(gold, pred, glen) == 0) {
    r->equal = true;
    mm_set_str(r->how, sizeof r->how, "identical");
    return true;
  }
  struct mm_ctx c;
  mm_ctx_init(&c, o);
  struct mm_node *g = mm_parse(&c, gold, glen);
  const char *gerr = c.err;
  bool glimit = c.limit;
  c.err = NULL;
  c.limit = false;
  c.nodes = 0;
  struct mm_node *p = mm_parse(&c, pred, plen);
  const char *perr = c.err;
  bool plimit = c.limit;
  c.err = NULL;
  c.limit = false;
  if (!g || !p) {
    r->gold_failed = !g;
    r->pred_failed = !p;
    r->limit = (!g && glimit) || (!p && plimit);
    if (!r->limit && text_equal(gold, glen, pred, plen)) {
      r->equal = true;
      mm_set_str(r->how, sizeof r->how, "text");
    } else {
      mm_set_str(r->how, sizeof r->how, r->limit ? "limit" : "text");
      char buf[160];
      if (!g) {
        size_t k = strlen("gold not parsed: ");
        memcpy(buf, "gold not parsed: ", k);
        mm_set_str(buf + k, sizeof buf - k, gerr ? gerr : "error");
      } else {
        size_t k = strlen("prediction not parsed: ");
        memcpy(buf, "prediction not parsed: ", k);
        mm_set_str(buf + k, sizeof buf - k, perr ? perr : "error");
      }
      mm_set_str(r->why, sizeof r->why, buf);
    }
    mm_ctx_free(&c);
    return r->equal;
  }
  c.nodes = 0;
  r->equal = mm_compare(&c, g, p, r);
  mm_ctx_free(&c);
  return r->equal;
}

char *srm_math_normalize(const char *s, size_t len, const char **err, bool *is_limit) {
  struct srm_math_opts o;
  srm_math_opts_init(&o);
  struct mm_ctx c;
  mm_ctx_init(&c, &o);
  if (is_limit) *is_limit = false;
  trim(&s, &len);
  struct mm_node *x = mm_parse(&c, s, len);
  char *out = NULL;
  if (x) {
    char *p = mm_print(&c, x);
    if (p) {
      size_t n = strlen(p);
      out = malloc(n + 1);
      if (out)
        memcpy(out, p, n + 1);
      else
        mm_limit(&c, "out of memory");
    }
  }
  if (!out) {
    if (err) *err = c.err ? c.err : "cannot parse";
    if (is_limit) *is_limit = c.limit;
  }
  mm_ctx_free(&c);
  return out;
}
