/* srm: the printer of srm.math's normalized forms ("1/2 + sqrt(3)", "[0, 1)", "{1, 2}") and the
** structural hash (+, * and sets order-insensitive) used for de-duplication and for comparing
** expressions that cannot be evaluated. */
#include "srm_math_int.h"

#include <string.h>

/* ---- printer ---- */

struct pbuf {
  struct mm_ctx *c;
  char *s;
  size_t n, cap;
  bool full;
};

static void put(struct pbuf *b, const char *s, size_t n) {
  if (b->full) return;
  if (b->n + n + 1 > b->cap) {
    size_t ncap = b->cap ? b->cap * 2 : 128;
    while (ncap < b->n + n + 1)
      ncap *= 2;
    if (ncap > SRM_MATH_MAX_ANSWER * 4) {
      b->full = true;
      return;
    }
    char *t = mm_alloc(b->c, ncap);
    if (!t) {
      b->full = true;
      return;
    }
    if (b->n) memcpy(t, b->s, b->n);
    b->s = t;
    b->cap = ncap;
  }
  memcpy(b->s + b->n, s, n);
  b->n += n;
  b->s[b->n] = '\0';
}

static void puts_(struct pbuf *b, const char *s) {
  put(b, s, strlen(s));
}

static const char *const func_names[] = {
    "sin", "cos", "tan", "sec",  "csc",  "cot",   "asin", "acos", "atan", "sinh", "cosh", "tanh",
    "ln",  "log", "exp", "sqrt", "root", "floor", "ceil", "max",  "min",  "gcd",  "lcm",
};

static const char *const rel_names[] = {"=", "<", "<=", ">", ">=", "!=", "~", " in "};

static void print_node(struct pbuf *b, const struct mm_node *x, int depth);

static void print_kids(struct pbuf *b, const struct mm_node *x, const char *sep, int depth) {
  for (int k = 0; k < x->n; k++) {
    if (k) puts_(b, sep);
    print_node(b, x->kid[k], depth + 1);
  }
}

static bool atomic(const struct mm_node *x) {
  return x->kind == MK_NUM || x->kind == MK_SYM || x->kind == MK_CONST || x->kind == MK_FUNC ||
         x->kind == MK_APPLY || x->kind == MK_TUPLE || x->kind == MK_SET || x->kind == MK_ABS ||
         x->kind == MK_WORD;
}

static void print_wrapped(struct pbuf *b, const struct mm_node *x, int depth) {
  if (atomic(x)) {
    print_node(b, x, depth + 1);
  } else {
    puts_(b, "(");
    print_node(b, x, depth + 1);
    puts_(b, ")");
  }
}

static void print_node(struct pbuf *b, const struct mm_node *x, int depth) {
  if (depth > MM_MAX_DEPTH * 6 || b->full) {
    b->full = true;
    return;
  }
  switch (x->kind) {
  case MK_NUM:
    put(b, x->name, x->name_len);
    break;
  case MK_SYM:
    put(b, x->name, x->name_len);
    break;
  case MK_WORD:
    puts_(b, "\"");
    put(b, x->name, x->name_len);
    puts_(b, "\"");
    break;
  case MK_CONST:
    puts_(b, x->op == MC_PI ? "pi" : "oo");
    break;
  case MK_ADD:
    for (int k = 0; k < x->n; k++) {
      const struct mm_node *t = x->kid[k];
      if (k)
        puts_(b, t->kind == MK_NEG ? " - " : " + ");
      else if (t->kind == MK_NEG)
        puts_(b, "-");
      if (t->kind == MK_NEG)
        print_wrapped(b, t->kid[0], depth);
      else
        print_node(b, t, depth + 1);
    }
    break;
  case MK_MUL:
    for (int k = 0; k < x->n; k++) {
      if (k) puts_(b, "*");
      print_wrapped(b, x->kid[k], depth);
    }
    break;
  case MK_DIV:
    print_wrapped(b, x->kid[0], depth);
    puts_(b, "/");
    print_wrapped(b, x->kid[1], depth);
    break;
  case MK_POW:
    print_wrapped(b, x->kid[0], depth);
    puts_(b, "^");
    print_wrapped(b, x->kid[1], depth);
    break;
  case MK_NEG:
    puts_(b, "-");
    print_wrapped(b, x->kid[0], depth);
    break;
  case MK_FUNC:
    puts_(b, func_names[x->op]);
    puts_(b, "(");
    print_kids(b, x, ", ", depth);
    puts_(b, ")");
    break;
  case MK_APPLY:
  case MK_OPAQUE:
    put(b, x->name, x->name_len);
    puts_(b, "(");
    print_kids(b, x, ", ", depth);
    puts_(b, ")");
    break;
  case MK_FACT:
    print_wrapped(b, x->kid[0], depth);
    puts_(b, "!");
    break;
  case MK_ABS:
    puts_(b, "|");
    print_node(b, x->kid[0], depth + 1);
    puts_(b, "|");
    break;
  case MK_PCT:
    print_wrapped(b, x->kid[0], depth);
    puts_(b, "%");
    break;
  case MK_BINOM:
    puts_(b, "binom(");
    print_kids(b, x, ", ", depth);
    puts_(b, ")");
    break;
  case MK_PM:
    if (x->n == 2) {
      print_node(b, x->kid[0], depth + 1);
      puts_(b, x->op > 0 ? " +- " : " -+ ");
      print_wrapped(b, x->kid[1], depth);
    } else {
      puts_(b, x->op > 0 ? "+-" : "-+");
      print_wrapped(b, x->kid[0], depth);
    }
    break;
  case MK_LIST:
    print_kids(b, x, ", ", depth);
    break;
  case MK_SET:
    puts_(b, "{");
    print_kids(b, x, ", ", depth);
    puts_(b, "}");
    break;
  case MK_TUPLE:
    puts_(b, "(");
    print_kids(b, x, ", ", depth);
    puts_(b, ")");
    break;
  case MK_INTERVAL:
    puts_(b, x->lopen ? "(" : "[");
    print_kids(b, x, ", ", depth);
    puts_(b, x->ropen ? ")" : "]");
    break;
  case MK_MATRIX:
    puts_(b, "[");
    for (int r = 0; r < x->rows; r++) {
      puts_(b, r ? "; " : "");
      for (int k = 0; k < x->cols; k++) {
        if (k) puts_(b, ", ");
        print_node(b, x->kid[r * x->cols + k], depth + 1);
      }
    }
    puts_(b, "]");
    break;
  case MK_UNION:
  case MK_INTER:
    print_kids(b, x, x->kind == MK_UNION ? " U " : " n ", depth);
    break;
  case MK_SETMINUS:
    print_kids(b, x, " \\ ", depth);
    break;
  case MK_REL:
    for (int k = 0; k < x->n; k++) {
      if (k) {
        puts_(b, " ");
        puts_(b, rel_names[x->ops[k - 1]]);
        puts_(b, " ");
      }
      print_node(b, x->kid[k], depth + 1);
    }
    break;
  case MK_RATIO:
    print_kids(b, x, ":", depth);
    break;
  default:
    break;
  }
}

char *mm_print(struct mm_ctx *c, const struct mm_node *x) {
  struct pbuf b = {.c = c};
  print_node(&b, x, 0);
  if (b.full) {
    mm_limit(c, "printed form too long");
    return NULL;
  }
  if (!b.s) return mm_strndup(c, "", 0);
  return b.s;
}

/* ---- hashing ---- */

uint64_t mm_hash_bytes(const void *p, size_t n, uint64_t seed) {
  const unsigned char *s = p;
  uint64_t h = seed ^ UINT64_C(0xcbf29ce484222325);
  for (size_t k = 0; k < n; k++) {
    h ^= s[k];
    h *= UINT64_C(0x100000001b3);
  }
  h ^= h >> 29;
  h *= UINT64_C(0xbf58476d1ce4e5b9);
  h ^= h >> 32;
  return h;
}

static uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v + UINT64_C(0x9e3779b97f4a7c15) + (h << 6) + (h >> 2);
  return h;
}

static uint64_t hash_rec(const struct mm_node *x, int depth) {
  if (depth > MM_MAX_DEPTH * 6) return 0;
  uint64_t h = mix((uint64_t)x->kind * 1315423911u, (uint64_t)(x->op + 7));
  switch (x->kind) {
  case MK_NUM: {
    double v = x->num;
    if (v == 0) v = 0; /* -0 */
    h = mix(h, mm_hash_bytes(&v, sizeof v, 1));
    break;
  }
  case MK_SYM:
  case MK_WORD:
  case MK_APPLY:
  case MK_OPAQUE:
    h = mix(h, mm_hash_bytes(x->name, x->name_len, 2));
    break;
  case MK_INTERVAL:
    h = mix(h, (uint64_t)(x->lopen * 2 + x->ropen));
    break;
  case MK_MATRIX:
    h = mix(h, (uint64_t)(x->rows * 1000 + x->cols));
    break;
  case MK_REL:
    for (int k = 0; k < x->n - 1; k++)
      h = mix(h, (uint64_t)x->ops[k]);
    break;
  default:
    break;
  }
  bool commutative = x->kind == MK_ADD || x->kind == MK_MUL || x->kind == MK_LIST ||
                     x->kind == MK_SET || x->kind == MK_UNION || x->kind == MK_INTER;
  uint64_t acc = 0;
  for (int k = 0; k < x->n; k++) {
    uint64_t hk = hash_rec(x->kid[k], depth + 1);
    if (commutative)
      acc += hk * UINT64_C(0x9E3779B97F4A7C15) ^ (hk >> 31);
    else
      h = mix(h, hk);
  }
  return commutative ? mix(h, acc) : h;
}

uint64_t mm_hash(const struct mm_node *x) {
  return hash_rec(x, 0);
}
