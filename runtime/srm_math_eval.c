/* srm: evaluation and comparison of parsed answers for srm.math. Constant expressions compare
** exactly as rationals when they fit in 64 bits, otherwise numerically; expressions with free
** variables are evaluated (complex doubles) at MM_TRIALS pseudo-random points shared by both
** sides. On top: Math-Verify's rules for sets (order-free), tuples (ordered), intervals
** (brackets matter), relations (equal up to a constant factor), assignments (`x = 5` vs `5`),
** percentages, float literals (rounded to `precision` decimals) and symbol names. All work is
** counted (MM_MAX_WORK) and every recursion is depth-bounded. */
#include "srm_math_int.h"

#include <complex.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

typedef double complex cplx;

enum { GOLD, PRED };

/* ---- small helpers ---- */

static bool is_special_sym(const struct mm_node *x) {
  if (x->kind != MK_SYM) return false;
  if (x->name_len == 1 && (x->name[0] == 'e' || x->name[0] == 'i')) return true;
  return x->name_len == 3 && memcmp(x->name, "...", 3) == 0;
}

/* Does x contain a free variable (symbol, word, unknown function of a variable)? */
static bool has_free(const struct mm_node *x, int depth) {
  if (depth > MM_MAX_DEPTH * 6) return true;
  switch (x->kind) {
  case MK_SYM:
    return !is_special_sym(x);
  case MK_WORD:
    return true;
  case MK_OPAQUE:
    return false;
  default:
    break;
  }
  for (int k = 0; k < x->n; k++)
    if (has_free(x->kid[k], depth + 1)) return true;
  return false;
}

static bool has_infinity(const struct mm_node *x, int depth) {
  if (depth > MM_MAX_DEPTH * 6) return false;
  if (x->kind == MK_CONST && x->op == MC_INF) return true;
  for (int k = 0; k < x->n; k++)
    if (has_infinity(x->kid[k], depth + 1)) return true;
  return false;
}

/* Symbols only, no numbers: the left side of an assignment ("x", "f(x)", "|AB|", "(p, q)"). */
static bool only_symbols(const struct mm_node *x, int depth) {
  if (depth > 32) return false;
  switch (x->kind) {
  case MK_SYM:
  case MK_WORD:
    return true;
  case MK_MUL:
  case MK_DIV:
  case MK_RATIO:
  case MK_TUPLE:
  case MK_ABS:
  case MK_APPLY:
  case MK_ADD:
    for (int k = 0; k < x->n; k++)
      if (!only_symbols(x->kid[k], depth + 1)) return false;
    return x->n > 0;
  default:
    return false;
  }
}

static bool is_rel(const struct mm_node *x) {
  return x->kind == MK_REL;
}

static bool is_equation(const struct mm_node *x) {
  if (x->kind != MK_REL) return false;
  for (int k = 0; k < x->n - 1; k++)
    if (x->ops[k] != MR_EQ) return false;
  return true;
}

static bool is_assignment(const struct mm_node *x) {
  return is_equation(x) && only_symbols(x->kid[0], 0);
}

static bool is_setlike(const struct mm_node *x) {
  switch (x->kind) {
  case MK_LIST:
  case MK_SET:
  case MK_TUPLE:
  case MK_INTERVAL:
  case MK_UNION:
  case MK_INTER:
  case MK_SETMINUS:
    return true;
  default:
    return false;
  }
}

static bool struct_eq(const struct mm_node *a, const struct mm_node *b, int depth) {
  if (depth > MM_MAX_DEPTH * 6) return false;
  if (a->kind != b->kind || a->n != b->n || a->op != b->op) return false;
  switch (a->kind) {
  case MK_NUM:
    if (a->num != b->num || (a->flags & MF_FLOAT) != (b->flags & MF_FLOAT)) return false;
    if (a->exact_state == 1 && b->exact_state == 1 && (a->rn != b->rn || a->rd != b->rd))
      return false;
    break;
  case MK_SYM:
  case MK_WORD:
  case MK_APPLY:
  case MK_OPAQUE:
    if (a->name_len != b->name_len || memcmp(a->name, b->name, a->name_len) != 0) return false;
    break;
  case MK_INTERVAL:
    if (a->lopen != b->lopen || a->ropen != b->ropen) return false;
    break;
  case MK_MATRIX:
    if (a->rows != b->rows || a->cols != b->cols) return false;
    break;
  case MK_REL:
    for (int k = 0; k < a->n - 1; k++)
      if (a->ops[k] != b->ops[k]) return false;
    break;
  default:
    break;
  }
  for (int k = 0; k < a->n; k++)
    if (!struct_eq(a->kid[k], b->kid[k], depth + 1)) return false;
  return true;
}

/* ---- exact rationals ---- */

typedef __int128 i128;

static i128 gcd128(i128 a, i128 b) {
  if (a < 0) a = -a;
  if (b < 0) b = -b;
  while (b) {
    i128 t = a % b;
    a = b;
    b = t;
  }
  return a;
}

/* Stores n/d (d != 0) reduced into *rn, *rd. */
static bool rat_norm(i128 n, i128 d, i128 *rn, i128 *rd) {
  if (d == 0) return false;
  if (d < 0) {
    if (__builtin_sub_overflow((i128)0, n, &n) || __builtin_sub_overflow((i128)0, d, &d))
      return false;
  }
  i128 g = gcd128(n, d);
  if (g > 1) n /= g, d /= g;
  *rn = n;
  *rd = d;
  return true;
}

static bool set_rat(struct mm_node *x, i128 n, i128 d) {
  return rat_norm(n, d, &x->rn, &x->rd);
}

static bool rat_add(i128 an, i128 ad, i128 bn, i128 bd, i128 *n, i128 *d) {
  i128 p, q, r;
  if (__builtin_mul_overflow(an, bd, &p) || __builtin_mul_overflow(bn, ad, &q) ||
      __builtin_add_overflow(p, q, &r) || __builtin_mul_overflow(ad, bd, &q))
    return false;
  return rat_norm(r, q, n, d);
}

static bool rat_mul(i128 an, i128 ad, i128 bn, i128 bd, i128 *n, i128 *d) {
  /* cross-reduce first to keep the products small */
  i128 g1 = gcd128(an, bd), g2 = gcd128(bn, ad);
  if (g1 > 1) an /= g1, bd /= g1;
  if (g2 > 1) bn /= g2, ad /= g2;
  i128 p, q;
  if (__builtin_mul_overflow(an, bn, &p) || __builtin_mul_overflow(ad, bd, &q)) return false;
  return rat_norm(p, q, n, d);
}

static bool exact(struct mm_node *x, int depth);

static bool exact_kids(struct mm_node *x, int depth) {
  for (int k = 0; k < x->n; k++)
    if (!exact(x->kid[k], depth + 1)) return false;
  return true;
}

static bool isqrt128(i128 v, i128 *r) {
  if (v < 0 || v > ((i128)1 << 100)) return false;
  i128 s = (i128)sqrtl((long double)v);
  for (i128 t = s > 2 ? s - 2 : 0; t <= s + 2; t++)
    if (t * t == v) {
      *r = t;
      return true;
    }
  return false;
}

static bool compute_exact(struct mm_node *x, int depth) {
  i128 n, d;
  struct mm_node **k = x->kid;
  switch (x->kind) {
  case MK_NEG:
    if (!exact_kids(x, depth)) return false;
    return set_rat(x, -k[0]->rn, k[0]->rd);
  case MK_ADD:
  case MK_MUL:
    if (!exact_kids(x, depth)) return false;
    n = x->kind == MK_ADD ? 0 : 1, d = 1;
    for (int i = 0; i < x->n; i++) {
      bool ok = x->kind == MK_ADD ? rat_add(n, d, k[i]->rn, k[i]->rd, &n, &d)
                                  : rat_mul(n, d, k[i]->rn, k[i]->rd, &n, &d);
      if (!ok) return false;
    }
    return set_rat(x, n, d);
  case MK_DIV:
    if (!exact_kids(x, depth) || k[1]->rn == 0) return false;
    return rat_mul(k[0]->rn, k[0]->rd, k[1]->rd, k[1]->rn, &x->rn, &x->rd) &&
           set_rat(x, x->rn, x->rd);
  case MK_PCT:
    if (!exact_kids(x, depth)) return false;
    return rat_mul(k[0]->rn, k[0]->rd, 1, 100, &x->rn, &x->rd);
  case MK_POW: {
    if (!exact_kids(x, depth)) return false;
    struct mm_node *b = k[0], *e = k[1];
    if (e->rd != 1 || e->rn > 128 || e->rn < -128) return false;
    if (e->rn < 0 && b->rn == 0) return false;
    n = 1, d = 1;
    int p = (int)(e->rn < 0 ? -e->rn : e->rn);
    for (int i = 0; i < p; i++)
      if (!rat_mul(n, d, b->rn, b->rd, &n, &d)) return false;
    return e->rn < 0 ? set_rat(x, d, n) : set_rat(x, n, d);
  }
  case MK_FUNC:
    if (x->op == MF_SQRT && x->n == 1 && exact_kids(x, depth)) {
      i128 a, b;
      if (isqrt128(k[0]->rn, &a) && isqrt128(k[0]->rd, &b)) return set_rat(x, a, b);
    }
    return false;
  case MK_ABS:
    if (!exact_kids(x, depth)) return false;
    return set_rat(x, k[0]->rn < 0 ? -k[0]->rn : k[0]->rn, k[0]->rd);
  case MK_FACT:
    if (!exact_kids(x, depth) || k[0]->rd != 1 || k[0]->rn < 0 || k[0]->rn > 33) return false;
    n = 1;
    for (int i = 2; i <= (int)k[0]->rn; i++)
      n *= i;
    return set_rat(x, n, 1);
  case MK_APPLY:
    if (x->name_len == 5 && memcmp(x->name, "_base", 5) == 0 && exact_kids(x, depth)) {
      /* 204_5: digits in base 5 */
      struct mm_node *num = k[0];
      i128 base = k[1]->rn;
      if (k[1]->rd != 1 || base < 2 || base > 10 || num->kind != MK_NUM) return false;
      n = 0;
      for (size_t i = 0; i < num->name_len; i++) {
        int dgt = num->name[i] - '0';
        if (dgt < 0 || dgt > 9 || dgt >= base) return false;
        if (__builtin_mul_overflow(n, base, &n) || __builtin_add_overflow(n, dgt, &n)) return false;
      }
      return set_rat(x, n, 1);
    }
    return false;
  default:
    return false;
  }
}

static bool exact(struct mm_node *x, int depth) {
  if (x->exact_state == 0) {
    bool ok = depth < MM_MAX_DEPTH * 6 && compute_exact(x, depth);
    x->exact_state = ok ? 1 : 2;
  }
  return x->exact_state == 1;
}

/* ---- numeric evaluation ---- */

static double unit_hash(const char *s, size_t n, uint64_t seed) {
  uint64_t h = mm_hash_bytes(s, n, seed);
  return (double)(h >> 11) / 9007199254740992.0; /* [0, 1) */
}

static cplx sym_value(struct mm_ctx *c, const char *name, size_t len, int trial, int side) {
  if (len == 1 && name[0] == 'e') return M_E;
  if (len == 1 && name[0] == 'i') return I;
  if (side == PRED)
    for (int k = 0; k < c->n_rename; k++)
      if (strlen(c->rename_from[k]) == len && memcmp(c->rename_from[k], name, len) == 0) {
        name = c->rename_to[k];
        len = strlen(name);
        break;
      }
  return 0.55 + 1.7 * unit_hash(name, len, 0x51u + (uint64_t)trial * 7919u);
}

static bool finite_c(cplx v) {
  return isfinite(creal(v)) && isfinite(cimag(v));
}

static cplx real_or_nan(double v) {
  return v;
}

/* Integer power by squaring (keeps 2^10 exact in doubles). */
static cplx ipow(cplx b, long e) {
  bool neg = e < 0;
  unsigned long u = neg ? (unsigned long)(-e) : (unsigned long)e;
  cplx r = 1;
  while (u) {
    if (u & 1) r *= b;
    b *= b;
    u >>= 1;
  }
  return neg ? 1.0 / r : r;
}

static cplx eval(struct mm_ctx *c, struct mm_node *x, int trial, int side, int depth);

static cplx undefined_fn(const char *name, size_t len, cplx arg) {
  double a = 0.7 + unit_hash(name, len, 11), b = unit_hash(name, len, 12) * 3;
  double d = 0.5 + unit_hash(name, len, 13);
  return csin(a * arg + b) + d * ccos(0.37 * arg) + 0.11 * arg;
}

static cplx eval_func(struct mm_ctx *c, struct mm_node *x, int trial, int side, int depth) {
  cplx a = eval(c, x->kid[0], trial, side, depth + 1);
  switch (x->op) {
  case MF_SIN:
    return csin(a);
  case MF_COS:
    return ccos(a);
  case MF_TAN:
    return ctan(a);
  case MF_SEC:
    return 1.0 / ccos(a);
  case MF_CSC:
    return 1.0 / csin(a);
  case MF_COT:
    return 1.0 / ctan(a);
  case MF_ASIN:
    return casin(a);
  case MF_ACOS:
    return cacos(a);
  case MF_ATAN:
    return catan(a);
  case MF_SINH:
    return csinh(a);
  case MF_COSH:
    return ccosh(a);
  case MF_TANH:
    return ctanh(a);
  case MF_LN:
    return clog(a);
  case MF_LOG:
    if (x->n == 2) return clog(a) / clog(eval(c, x->kid[1], trial, side, depth + 1));
    return clog(a);
  case MF_EXP:
    return cexp(a);
  case MF_SQRT:
    if (cimag(a) == 0 && creal(a) >= 0) return sqrt(creal(a));
    return csqrt(a);
  case MF_ROOT: {
    cplx k = eval(c, x->kid[1], trial, side, depth + 1);
    if (cimag(a) == 0 && creal(a) >= 0 && cimag(k) == 0) return pow(creal(a), 1.0 / creal(k));
    return cpow(a, 1.0 / k);
  }
  case MF_FLOOR:
    return floor(creal(a));
  case MF_CEIL:
    return ceil(creal(a));
  case MF_MAX:
  case MF_MIN:
  case MF_GCD:
  case MF_LCM: {
    double r = creal(a);
    for (int k = 1; k < x->n; k++) {
      double v = creal(eval(c, x->kid[k], trial, side, depth + 1));
      if (x->op == MF_MAX)
        r = v > r ? v : r;
      else if (x->op == MF_MIN)
        r = v < r ? v : r;
      else {
        if (r != floor(r) || v != floor(v) || fabs(r) > 9e15 || fabs(v) > 9e15) return NAN;
        double g = (double)gcd128((i128)r, (i128)v);
        if (x->op == MF_GCD)
          r = (double)g;
        else
          r = g != 0 ? fabs(r * v) / g : 0;
      }
    }
    return r;
  }
  default:
    return NAN;
  }
}

static cplx eval(struct mm_ctx *c, struct mm_node *x, int trial, int side, int depth) {
  if (++c->work > MM_MAX_WORK) {
    mm_limit(c, "evaluation budget exceeded");
    return NAN;
  }
  if (depth > MM_MAX_DEPTH * 6) {
    mm_limit(c, "nesting too deep");
    return NAN;
  }
  if (x->exact_state == 1 || (x->kind != MK_NUM && exact(x, depth)))
    return (double)x->rn / (double)x->rd;
  cplx a, b;
  switch (x->kind) {
  case MK_NUM:
    return x->num;
  case MK_SYM:
    return sym_value(c, x->name, x->name_len, trial, side);
  case MK_WORD:
    return 0.3 + unit_hash(x->name, x->name_len, 0x77u + (uint64_t)trial);
  case MK_CONST:
    return x->op == MC_PI ? M_PI : INFINITY;
  case MK_ADD:
    a = 0;
    for (int k = 0; k < x->n; k++)
      a += eval(c, x->kid[k], trial, side, depth + 1);
    return a;
  case MK_MUL:
    a = 1;
    for (int k = 0; k < x->n; k++)
      a *= eval(c, x->kid[k], trial, side, depth + 1);
    return a;
  case MK_DIV:
    a = eval(c, x->kid[0], trial, side, depth + 1);
    b = eval(c, x->kid[1], trial, side, depth + 1);
    if (b == 0) return NAN;
    return a / b;
  case MK_POW:
    a = eval(c, x->kid[0], trial, side, depth + 1);
    b = eval(c, x->kid[1], trial, side, depth + 1);
    if (cimag(b) == 0 && creal(b) == floor(creal(b)) && fabs(creal(b)) <= 1024)
      return ipow(a, (long)creal(b));
    if (cimag(a) == 0 && creal(a) > 0 && cimag(b) == 0) return pow(creal(a), creal(b));
    if (a == 0) return creal(b) > 0 ? 0 : NAN;
    return cpow(a, b);
  case MK_NEG:
    return -eval(c, x->kid[0], trial, side, depth + 1);
  case MK_FUNC:
    return eval_func(c, x, trial, side, depth);
  case MK_APPLY: {
    a = 0;
    for (int k = 0; k < x->n; k++)
      a = a * 1.618 + eval(c, x->kid[k], trial, side, depth + 1);
    return undefined_fn(x->name, x->name_len, a);
  }
  case MK_FACT:
    a = eval(c, x->kid[0], trial, side, depth + 1);
    if (cimag(a) != 0 || creal(a) < 0) return NAN;
    return real_or_nan(tgamma(creal(a) + 1));
  case MK_ABS:
    return cabs(eval(c, x->kid[0], trial, side, depth + 1));
  case MK_PCT:
    return eval(c, x->kid[0], trial, side, depth + 1) / 100.0;
  case MK_BINOM: {
    a = eval(c, x->kid[0], trial, side, depth + 1);
    b = eval(c, x->kid[1], trial, side, depth + 1);
    double n = creal(a), k = creal(b);
    if (cimag(a) != 0 || cimag(b) != 0 || k < 0 || n < k) return NAN;
    return exp(lgamma(n + 1) - lgamma(k + 1) - lgamma(n - k + 1));
  }
  case MK_OPAQUE:
    return 0.4 + 1.3 * (double)(mm_hash(x) >> 11) / 9007199254740992.0;
  default:
    return NAN;
  }
}

/* ---- scalar comparison ---- */

static bool close_c(cplx a, cplx b) {
  double scale = fmax(cabs(a), cabs(b));
  return cabs(a - b) <= 1e-9 * scale + 1e-12;
}

static bool atomic_float(const struct mm_node *x) {
  while (x->kind == MK_NEG || x->kind == MK_PCT)
    x = x->kid[0];
  return x->kind == MK_NUM && (x->flags & MF_FLOAT);
}

/* Rounds to p decimals; compares as integers while they are exact in a double. */
static bool rounded_equal(double a, double b, int p) {
  double scale = pow(10.0, p);
  double ra = a * scale, rb = b * scale;
  if (fabs(ra) < 4e15 && fabs(rb) < 4e15) return round(ra) == round(rb);
  return fabs(a - b) <= 1e-12 * fmax(fabs(a), fabs(b));
}

/* 1 equal, 0 different, -1 undecided (no point where both sides are finite). */
static int numeric_equal(struct mm_ctx *c, struct mm_node *g, struct mm_node *p, bool *rounded) {
  bool free_vars = has_free(g, 0) || has_free(p, 0);
  *rounded = false;
  if (atomic_float(g) || atomic_float(p)) {
    if (free_vars) return 0;
    cplx a = eval(c, g, 0, GOLD, 0), b = eval(c, p, 0, PRED, 0);
    if (!finite_c(a) || !finite_c(b)) return -1;
    *rounded = true;
    return rounded_equal(creal(a), creal(b), c->opts->precision) &&
           rounded_equal(cimag(a), cimag(b), c->opts->precision);
  }
  if (!free_vars && exact(g, 0) && exact(p, 0)) return g->rn == p->rn && g->rd == p->rd;
  int trials = free_vars ? MM_TRIALS : 1, decided = 0;
  for (int t = 0; t < trials; t++) {
    cplx a = eval(c, g, t, GOLD, 0), b = eval(c, p, t, PRED, 0);
    if (c->limit) return 0;
    bool fa = finite_c(a), fb = finite_c(b);
    if (fa && fb) {
      if (!close_c(a, b)) return 0;
      decided++;
    } else if (fa != fb) {
      return 0;
    } else if (isinf(creal(a)) && isinf(creal(b)) && cimag(a) == 0 && cimag(b) == 0 &&
               has_infinity(g, 0) && has_infinity(p, 0)) {
      /* \infty on both sides; an overflow (10^{10^{10}}) stays undecided */
      if ((creal(a) > 0) != (creal(b) > 0)) return 0;
      decided++;
    }
  }
  return decided ? 1 : -1;
}

/* ---- names ---- */

/* The name of a symbol, a \text{} word or a product of one-letter symbols ("odd" for o*d*d). */
static bool name_of(const struct mm_node *x, char *buf, size_t cap, size_t *len) {
  if (x->kind == MK_SYM || x->kind == MK_WORD) {
    if (x->name_len >= cap) return false;
    memcpy(buf, x->name, x->name_len);
    *len = x->name_len;
    return true;
  }
  if (x->kind == MK_MUL) {
    size_t m = 0;
    for (int k = 0; k < x->n; k++) {
      const struct mm_node *f = x->kid[k];
      if (f->kind != MK_SYM || f->name_len != 1 || m + 1 >= cap) return false;
      buf[m++] = f->name[0];
    }
    *len = m;
    return true;
  }
  return false;
}

static bool symbolish(const struct mm_node *x) {
  return (x->kind == MK_SYM && !is_special_sym(x)) || x->kind == MK_WORD;
}

static bool names_equal(const struct mm_node *g, const struct mm_node *p) {
  char a[256], b[256];
  size_t na, nb;
  if (!name_of(g, a, sizeof a, &na) || !name_of(p, b, sizeof b, &nb)) return false;
  if (na != nb) return false;
  if (na > 1 || g->kind == MK_MUL || p->kind == MK_MUL) return strncasecmp(a, b, na) == 0;
  return memcmp(a, b, na) == 0;
}

/* ---- structure ---- */

static struct mm_node *last_rhs(struct mm_node *x) {
  return x->kid[x->n - 1];
}

static struct mm_node *rel2(struct mm_ctx *c, struct mm_node *l, int op, struct mm_node *r) {
  struct mm_node *x = mm_new(c, MK_REL, 2);
  if (!x) return NULL;
  x->ops = mm_alloc(c, sizeof *x->ops);
  if (!x->ops) return NULL;
  x->ops[0] = op;
  x->kid[0] = l;
  x->kid[1] = r;
  return x;
}

static struct mm_node *infinity(struct mm_ctx *c, bool negative) {
  struct mm_node *x = mm_new(c, MK_CONST, 0);
  if (!x) return NULL;
  x->op = MC_INF;
  if (!negative) return x;
  struct mm_node *n = mm_new(c, MK_NEG, 1);
  if (n) n->kid[0] = x;
  return n;
}

static struct mm_node *interval(struct mm_ctx *c, struct mm_node *a, bool lo, struct mm_node *b,
                                bool ro) {
  if (!a || !b) return NULL;
  struct mm_node *x = mm_new(c, MK_INTERVAL, 2);
  if (!x) return NULL;
  x->kid[0] = a;
  x->kid[1] = b;
  x->lopen = lo;
  x->ropen = ro;
  return x;
}

/* "a < x <= b", "x > 3", "k \ge 2" as an interval; NULL when it is not one. */
static struct mm_node *rel_to_set(struct mm_ctx *c, struct mm_node *r) {
  if (r->kind != MK_REL) return NULL;
  if (r->n == 3) {
    int o1 = r->ops[0], o2 = r->ops[1];
    bool up = (o1 == MR_LT || o1 == MR_LE) && (o2 == MR_LT || o2 == MR_LE);
    bool down = (o1 == MR_GT || o1 == MR_GE) && (o2 == MR_GT || o2 == MR_GE);
    if (!(up || down) || has_free(r->kid[0], 0) || has_free(r->kid[2], 0) ||
        !has_free(r->kid[1], 0))
      return NULL;
    if (up) return interval(c, r->kid[0], o1 == MR_LT, r->kid[2], o2 == MR_LT);
    return interval(c, r->kid[2], o2 == MR_GT, r->kid[0], o1 == MR_GT);
  }
  if (r->n != 2) return NULL;
  int op = r->ops[0];
  struct mm_node *l = r->kid[0], *v = r->kid[1];
  if (has_free(v, 0) && !has_free(l, 0)) {
    /* c < x is x > c */
    struct mm_node *t = l;
    l = v;
    v = t;
    op = op == MR_LT ? MR_GT : op == MR_LE ? MR_GE : op == MR_GT ? MR_LT : op == MR_GE ? MR_LE : op;
  }
  if (!has_free(l, 0) || has_free(v, 0)) return NULL;
  switch (op) {
  case MR_LT:
    return interval(c, infinity(c, true), true, v, true);
  case MR_LE:
    return interval(c, infinity(c, true), true, v, false);
  case MR_GT:
    return interval(c, v, true, infinity(c, false), true);
  case MR_GE:
    return interval(c, v, false, infinity(c, false), true);
  default:
    return NULL;
  }
}

/* A + B, A * B, c * A for matrices, entry by entry; x itself when there is nothing to do. */
static struct mm_node *mat_reduce(struct mm_ctx *c, struct mm_node *x, int depth) {
  if (depth > 16 || c->err) return x;
  if (x->kind == MK_NEG) {
    struct mm_node *a = mat_reduce(c, x->kid[0], depth + 1);
    if (a->kind != MK_MATRIX) return x;
    struct mm_node *m = mm_new(c, MK_MATRIX, a->n);
    if (!m) return x;
    m->rows = a->rows, m->cols = a->cols;
    for (int k = 0; k < a->n; k++) {
      m->kid[k] = mm_new(c, MK_NEG, 1);
      if (!m->kid[k]) return x;
      m->kid[k]->kid[0] = a->kid[k];
    }
    return m;
  }
  if (x->kind != MK_ADD && x->kind != MK_MUL) return x;
  bool any = false;
  struct mm_node *acc = NULL;
  for (int k = 0; k < x->n; k++) {
    struct mm_node *f = mat_reduce(c, x->kid[k], depth + 1);
    if (f->kind == MK_MATRIX) any = true;
    if (!acc) {
      acc = f;
      continue;
    }
    bool ma = acc->kind == MK_MATRIX, mf = f->kind == MK_MATRIX;
    struct mm_node *m = NULL;
    if (x->kind == MK_ADD) {
      if (!ma || !mf || acc->rows != f->rows || acc->cols != f->cols) return x;
      m = mm_new(c, MK_MATRIX, acc->n);
      if (!m) return x;
      m->rows = acc->rows, m->cols = acc->cols;
      for (int q = 0; q < acc->n; q++) {
        m->kid[q] = mm_new(c, MK_ADD, 2);
        if (!m->kid[q]) return x;
        m->kid[q]->kid[0] = acc->kid[q];
        m->kid[q]->kid[1] = f->kid[q];
      }
    } else if (ma && mf) {
      if (acc->cols != f->rows) return x;
      m = mm_new(c, MK_MATRIX, acc->rows * f->cols);
      if (!m) return x;
      m->rows = acc->rows, m->cols = f->cols;
      for (int i = 0; i < acc->rows; i++)
        for (int j = 0; j < f->cols; j++) {
          struct mm_node *s = mm_new(c, MK_ADD, acc->cols);
          if (!s) return x;
          for (int q = 0; q < acc->cols; q++) {
            s->kid[q] = mm_new(c, MK_MUL, 2);
            if (!s->kid[q]) return x;
            s->kid[q]->kid[0] = acc->kid[i * acc->cols + q];
            s->kid[q]->kid[1] = f->kid[q * f->cols + j];
          }
          m->kid[i * f->cols + j] = s;
        }
    } else if (ma || mf) {
      struct mm_node *mat = ma ? acc : f, *s = ma ? f : acc;
      m = mm_new(c, MK_MATRIX, mat->n);
      if (!m) return x;
      m->rows = mat->rows, m->cols = mat->cols;
      for (int q = 0; q < mat->n; q++) {
        m->kid[q] = mm_new(c, MK_MUL, 2);
        if (!m->kid[q]) return x;
        m->kid[q]->kid[0] = s;
        m->kid[q]->kid[1] = mat->kid[q];
      }
    } else {
      m = mm_new(c, x->kind, 2);
      if (!m) return x;
      m->kid[0] = acc;
      m->kid[1] = f;
    }
    acc = m;
  }
  return any && acc && acc->kind == MK_MATRIX ? acc : x;
}

/* ---- the comparison ---- */

struct cmp {
  struct mm_ctx *c;
  const char *how;
  int depth;
};

static bool cmp_node(struct cmp *K, struct mm_node *g, struct mm_node *p);

/* Element comparisons report their own "how"; the collection's is kept. */
static bool cmp_ordered(struct cmp *K, struct mm_node *g, struct mm_node *p) {
  if (g->n != p->n) return false;
  const char *how = K->how;
  bool ok = true;
  for (int k = 0; k < g->n && ok; k++)
    ok = cmp_node(K, g->kid[k], p->kid[k]);
  K->how = how;
  return ok;
}

/* Each gold element matched by a distinct predicted element (greedy). */
static bool cmp_unordered(struct cmp *K, struct mm_node *g, struct mm_node *p) {
  if (g->n != p->n) return false;
  if (g->n > MM_MAX_ITEMS) return false;
  unsigned char used[MM_MAX_ITEMS];
  memset(used, 0, (size_t)p->n);
  const char *how = K->how;
  for (int i = 0; i < g->n; i++) {
    K->how = how;
    bool found = false;
    for (int j = 0; j < p->n && !found; j++) {
      if (used[j]) continue;
      if (cmp_node(K, g->kid[i], p->kid[j])) {
        used[j] = 1;
        found = true;
      }
      if (K->c->limit) return false;
    }
    if (!found) {
      K->how = how;
      return false;
    }
  }
  K->how = how;
  return true;
}

/* A set without its repeated elements ({1, 1, 2} is {1, 2}); x itself when none repeat. */
static struct mm_node *dedup(struct mm_ctx *c, struct mm_node *x) {
  if ((x->kind != MK_LIST && x->kind != MK_SET) || x->n < 2 || x->n > 256) return x;
  uint64_t h[256];
  int keep = 0;
  bool dup[256] = {false};
  for (int i = 0; i < x->n; i++) {
    h[i] = mm_hash(x->kid[i]);
    for (int j = 0; j < i && !dup[i]; j++)
      if (!dup[j] && h[j] == h[i] && struct_eq(x->kid[j], x->kid[i], 0)) dup[i] = true;
    keep += dup[i] ? 0 : 1;
  }
  if (keep == x->n) return x;
  struct mm_node *y = mm_new(c, x->kind, keep);
  if (!y) return x;
  y->flags = x->flags;
  for (int i = 0, k = 0; i < x->n; i++)
    if (!dup[i]) y->kid[k++] = x->kid[i];
  return y;
}

static bool cmp_sets(struct cmp *K, struct mm_node *g, struct mm_node *p) {
  struct mm_ctx *c = K->c;
  g = dedup(c, g);
  p = dedup(c, p);
  /* a single value compares with a one-element collection */
  if (!is_setlike(g)) {
    struct mm_node *w = mm_new(c, MK_LIST, 1);
    if (!w) return false;
    w->kid[0] = g;
    g = w;
  }
  if (!is_setlike(p)) {
    struct mm_node *w = mm_new(c, MK_LIST, 1);
    if (!w) return false;
    w->kid[0] = p;
    p = w;
  }
  int gk = g->kind, pk = p->kind;
  bool g_pair = gk == MK_TUPLE && (g->flags & MF_PAREN) && g->n == 2;
  bool p_pair = pk == MK_TUPLE && (p->flags & MF_PAREN) && p->n == 2;
  if (gk == MK_INTERVAL || pk == MK_INTERVAL) {
    K->how = "interval";
    if (gk == MK_INTERVAL && pk == MK_INTERVAL) {
      if (g->lopen != p->lopen || g->ropen != p->ropen) return false;
      return cmp_ordered(K, g, p);
    }
    /* (a, b) is also the open interval */
    if (gk == MK_INTERVAL && p_pair) return g->lopen && g->ropen && cmp_ordered(K, g, p);
    if (pk == MK_INTERVAL && g_pair) return p->lopen && p->ropen && cmp_ordered(K, g, p);
    return false;
  }
  if (gk == MK_UNION || gk == MK_INTER || gk == MK_SETMINUS || pk == MK_UNION || pk == MK_INTER ||
      pk == MK_SETMINUS) {
    K->how = "set";
    if (gk != pk) return false;
    return gk == MK_SETMINUS ? cmp_ordered(K, g, p) : cmp_unordered(K, g, p);
  }
  if (gk == MK_TUPLE) {
    K->how = "tuple";
    return cmp_ordered(K, g, p); /* a predicted set keeps its written order */
  }
  if (pk == MK_TUPLE && gk == MK_SET && K->c->opts->strict) {
    K->how = "set";
    return cmp_unordered(K, g, p);
  }
  K->how = "set";
  if (K->c->opts->ordered_lists && gk == MK_LIST && pk == MK_LIST) return cmp_ordered(K, g, p);
  return cmp_unordered(K, g, p);
}

/* Normalizes a two-sided relation to "l - r  op  0" with op in {=, !=, <, <=}. */
static int rel_norm(int op, struct mm_node **l, struct mm_node **r) {
  if (op == MR_GT || op == MR_GE) {
    struct mm_node *t = *l;
    *l = *r;
    *r = t;
    return op == MR_GT ? MR_LT : MR_LE;
  }
  return op == MR_APPROX ? MR_EQ : op;
}

/* gl op gr  vs  pl op pr: same operator and lhs - rhs equal up to a constant factor (positive
** for inequalities); without variables the differences must be equal. */
static bool cmp_rel_pair(struct cmp *K, struct mm_node *gl, int gop, struct mm_node *gr,
                         struct mm_node *pl, int pop, struct mm_node *pr) {
  struct mm_ctx *c = K->c;
  gop = rel_norm(gop, &gl, &gr);
  pop = rel_norm(pop, &pl, &pr);
  if (gop != pop) return false;
  if (gop == MR_IN) return cmp_node(K, gl, pl) && cmp_node(K, gr, pr);
  bool free_vars = has_free(gl, 0) || has_free(gr, 0) || has_free(pl, 0) || has_free(pr, 0);
  int trials = free_vars ? MM_TRIALS : 1;
  cplx ratio = 0;
  bool have_ratio = false;
  for (int t = 0; t < trials; t++) {
    cplx dg = eval(c, gl, t, GOLD, 0) - eval(c, gr, t, GOLD, 0);
    cplx dp = eval(c, pl, t, PRED, 0) - eval(c, pr, t, PRED, 0);
    if (c->limit || !finite_c(dg) || !finite_c(dp)) return false;
    double sg = cabs(dg), sp = cabs(dp);
    bool zg = sg < 1e-10, zp = sp < 1e-10;
    if (zg && zp) continue;
    if (zg != zp) return false;
    if (!free_vars) {
      if (close_c(dg, dp)) return true;
      return (gop == MR_EQ || gop == MR_NE) && close_c(dg, -dp);
    }
    cplx r = dg / dp;
    if (!have_ratio) {
      ratio = r;
      have_ratio = true;
      if ((gop == MR_LT || gop == MR_LE) && !(creal(r) > 0 && fabs(cimag(r)) < 1e-9)) return false;
    } else if (!close_c(r, ratio) && cabs(r - ratio) > 1e-7 * cabs(ratio)) {
      return false;
    }
  }
  return true;
}

static bool cmp_relations(struct cmp *K, struct mm_node *g, struct mm_node *p) {
  K->how = "relation";
  if (g->n != p->n) return false;
  for (int k = 0; k < g->n - 1; k++)
    if (!cmp_rel_pair(K, g->kid[k], g->ops[k], g->kid[k + 1], p->kid[k], p->ops[k], p->kid[k + 1]))
      return false;
  return true;
}

static struct mm_node *strip_pct(struct mm_node *x) {
  return x->kind == MK_PCT ? x->kid[0] : x;
}

static bool cmp_scalars(struct cmp *K, struct mm_node *g, struct mm_node *p) {
  bool rounded;
  int r = numeric_equal(K->c, g, p, &rounded);
  if (r == 1) {
    K->how = rounded ? "rounded" : (has_free(g, 0) || has_free(p, 0)) ? "numeric" : "value";
    return true;
  }
  /* 28\% matches 28 as well as 0.28 */
  struct mm_node *g2 = strip_pct(g), *p2 = strip_pct(p);
  if (g2 != g || p2 != p) {
    if (numeric_equal(K->c, g2, p2, &rounded) == 1) {
      K->how = "percent";
      return true;
    }
  }
  if (r == -1 && mm_hash(g) == mm_hash(p)) {
    K->how = "structure";
    return true;
  }
  K->how = "value";
  return false;
}

static struct mm_node *unwrap_in(struct mm_node *x) {
  if (x->kind == MK_REL && x->n == 2 && x->ops[0] == MR_IN && only_symbols(x->kid[0], 0))
    return x->kid[1];
  return x;
}

static bool cmp_node(struct cmp *K, struct mm_node *g, struct mm_node *p) {
  struct mm_ctx *c = K->c;
  if (++K->depth > MM_MAX_DEPTH || c->limit) {
    mm_limit(c, "nesting too deep");
    K->depth--;
    return false;
  }
  bool res = false;
  if (struct_eq(g, p, 0)) {
    K->how = "identical";
    res = true;
    goto done;
  }
  g = unwrap_in(g);
  p = unwrap_in(p);
  bool ga = is_assignment(g), pa = is_assignment(p);
  if (ga && pa) {
    g = rel2(c, g->kid[0], MR_EQ, last_rhs(g));
    p = rel2(c, p->kid[0], MR_EQ, last_rhs(p));
    if (!g || !p) goto done;
  } else if (ga && !is_rel(p)) {
    g = last_rhs(g);
  } else if (pa && !is_rel(g)) {
    p = last_rhs(p);
  } else if (is_equation(p) && !is_rel(g)) {
    p = last_rhs(p); /* "1 = 7 + 1 - 7" vs "1" */
  }
  if (is_rel(g) && is_setlike(p) && !is_rel(p)) {
    struct mm_node *s = rel_to_set(c, g);
    if (s) g = s;
  } else if (c->opts->set_relation && is_setlike(g) && is_rel(p)) {
    struct mm_node *s = rel_to_set(c, p);
    if (s) p = s;
  }
  g = mat_reduce(c, g, 0);
  p = mat_reduce(c, p, 0);
  if (struct_eq(g, p, 0)) {
    K->how = "identical";
    res = true;
    goto done;
  }
  if (is_rel(g) || is_rel(p)) {
    res = is_rel(g) && is_rel(p) && cmp_relations(K, g, p);
    if (!res) K->how = "relation";
    goto done;
  }
  if (g->kind == MK_RATIO || p->kind == MK_RATIO) {
    K->how = "ratio";
    res = g->kind == p->kind && cmp_ordered(K, g, p);
    goto done;
  }
  if (g->kind == MK_MATRIX || p->kind == MK_MATRIX) {
    K->how = "matrix";
    if (g->kind == MK_MATRIX && p->kind == MK_MATRIX) {
      res = g->rows == p->rows && g->cols == p->cols && cmp_ordered(K, g, p);
    } else {
      /* a vector written as a tuple */
      struct mm_node *m = g->kind == MK_MATRIX ? g : p, *t = g->kind == MK_MATRIX ? p : g;
      res = t->kind == MK_TUPLE && (m->rows == 1 || m->cols == 1) && t->n == m->n &&
            (g == m ? cmp_ordered(K, g, t) : cmp_ordered(K, t, p));
    }
    goto done;
  }
  if (is_setlike(g) || is_setlike(p)) {
    res = cmp_sets(K, g, p);
    goto done;
  }
  if (symbolish(g) || symbolish(p)) {
    K->how = "symbol";
    res = names_equal(g, p);
    goto done;
  }
  res = cmp_scalars(K, g, p);
done:
  K->depth--;
  return res;
}

/* Free symbol names (sorted, distinct) of x into names[], at most cap. */
static void collect_syms(const struct mm_node *x, const char **names, size_t *lens, int *n, int cap,
                         int depth) {
  if (depth > MM_MAX_DEPTH * 6 || *n >= cap) return;
  if (x->kind == MK_SYM && !is_special_sym(x)) {
    for (int k = 0; k < *n; k++)
      if (lens[k] == x->name_len && memcmp(names[k], x->name, lens[k]) == 0) return;
    names[*n] = x->name;
    lens[*n] = x->name_len;
    (*n)++;
    return;
  }
  for (int k = 0; k < x->n; k++)
    collect_syms(x->kid[k], names, lens, n, cap, depth + 1);
}

static void sort_names(const char **names, size_t *lens, int n) {
  for (int i = 1; i < n; i++)
    for (int j = i; j > 0; j--) {
      size_t m = lens[j] < lens[j - 1] ? lens[j] : lens[j - 1];
      int r = memcmp(names[j], names[j - 1], m);
      if (r > 0 || (r == 0 && lens[j] >= lens[j - 1])) break;
      const char *t = names[j];
      names[j] = names[j - 1];
      names[j - 1] = t;
      size_t tl = lens[j];
      lens[j] = lens[j - 1];
      lens[j - 1] = tl;
    }
}

/* Non-strict mode: the prediction's variables are renamed to the gold's, in sorted order. */
static void setup_rename(struct mm_ctx *c, const struct mm_node *g, const struct mm_node *p) {
  enum { CAP = 32 };
  const char *gn[CAP], *pn[CAP];
  size_t gl[CAP], pl[CAP];
  int ng = 0, np = 0;
  collect_syms(g, gn, gl, &ng, CAP, 0);
  collect_syms(p, pn, pl, &np, CAP, 0);
  if (ng != np || ng == 0 || ng >= CAP) return;
  sort_names(gn, gl, ng);
  sort_names(pn, pl, np);
  c->rename_from = mm_alloc(c, (size_t)np * sizeof *c->rename_from);
  c->rename_to = mm_alloc(c, (size_t)np * sizeof *c->rename_to);
  if (!c->rename_from || !c->rename_to) return;
  for (int k = 0; k < np; k++) {
    c->rename_from[k] = mm_strndup(c, pn[k], pl[k]);
    c->rename_to[k] = mm_strndup(c, gn[k], gl[k]);
    if (!c->rename_from[k] || !c->rename_to[k]) return;
  }
  c->n_rename = np;
}

void mm_set_str(char *dst, size_t cap, const char *src) {
  size_t n = strlen(src);
  if (n >= cap) n = cap - 1;
  memcpy(dst, src, n);
  dst[n] = '\0';
}

bool mm_compare(struct mm_ctx *c, struct mm_node *gold, struct mm_node *pred,
                struct srm_math_result *r) {
  if (!c->opts->strict) setup_rename(c, gold, pred);
  struct cmp K = {.c = c, .how = "value"};
  bool eq = cmp_node(&K, gold, pred);
  if (c->limit) {
    r->limit = true;
    eq = false;
    mm_set_str(r->how, sizeof r->how, "limit");
    mm_set_str(r->why, sizeof r->why, c->err ? c->err : "limit");
    return false;
  }
  mm_set_str(r->how, sizeof r->how, K.how);
  if (!eq) {
    char buf[160];
    snprintf(buf, sizeof buf, "not equal (%s comparison)", K.how);
    mm_set_str(r->why, sizeof r->why, buf);
  }
  return eq;
}
