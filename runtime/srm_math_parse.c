/* srm: the answer parser of srm.math: a recursive-descent parser over the lexer's tokens
** (srm_math_lex.c) with explicit depth and size limits, producing an mm_node tree (see
** srm_math_int.h); \pm expansion; the printer used for normalized forms; the structural hash. */
#include "srm_math_int.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool is_digit(int ch) {
  return ch >= '0' && ch <= '9';
}

/* ---- parser ---- */

struct parser {
  struct mm_ctx *c;
  struct mm_tok *t;
  int nt, i;
  int depth;
  int abs_depth;
};

struct mm_node *mm_new(struct mm_ctx *c, int kind, int n) {
  if (++c->nodes > MM_MAX_NODES) {
    mm_limit(c, "expression too large");
    return NULL;
  }
  struct mm_node *x = mm_alloc(c, sizeof *x);
  if (!x) return NULL;
  x->kind = (uint8_t)kind;
  x->n = n;
  if (n > 0) {
    x->kid = mm_alloc(c, (size_t)n * sizeof *x->kid);
    if (!x->kid) return NULL;
  }
  return x;
}

static struct mm_node *new1(struct mm_ctx *c, int kind, struct mm_node *a) {
  struct mm_node *x = mm_new(c, kind, 1);
  if (x) x->kid[0] = a;
  return x;
}

static struct mm_node *new2(struct mm_ctx *c, int kind, struct mm_node *a, struct mm_node *b) {
  struct mm_node *x = mm_new(c, kind, 2);
  if (x) x->kid[0] = a, x->kid[1] = b;
  return x;
}

/* A growable array of nodes in the arena. */
struct vec {
  struct mm_node **v;
  int n, cap;
};

static bool vec_push(struct mm_ctx *c, struct vec *v, struct mm_node *x) {
  if (v->n >= MM_MAX_ITEMS) {
    mm_limit(c, "too many elements");
    return false;
  }
  if (v->n == v->cap) {
    int ncap = v->cap ? v->cap * 2 : 8;
    struct mm_node **nv = mm_alloc(c, (size_t)ncap * sizeof *nv);
    if (!nv) return false;
    if (v->n) memcpy(nv, v->v, (size_t)v->n * sizeof *nv);
    v->v = nv;
    v->cap = ncap;
  }
  v->v[v->n++] = x;
  return true;
}

static struct mm_node *from_vec(struct mm_ctx *c, int kind, const struct vec *v) {
  struct mm_node *x = mm_new(c, kind, v->n);
  if (x && v->n) memcpy(x->kid, v->v, (size_t)v->n * sizeof *x->kid);
  return x;
}

static struct mm_tok *peek(struct parser *P) {
  return &P->t[P->i];
}

static bool is_op(const struct mm_tok *k, int op) {
  return k->t == T_OP && k->op == op;
}

static bool accept_op(struct parser *P, int op) {
  if (is_op(peek(P), op)) {
    P->i++;
    return true;
  }
  return false;
}

static bool enter(struct parser *P) {
  if (++P->depth > MM_MAX_DEPTH) {
    mm_limit(P->c, "nesting too deep");
    return false;
  }
  return true;
}

static struct mm_node *syntax(struct parser *P, const char *msg) {
  mm_fail(P->c, msg);
  return NULL;
}

static struct mm_node *parse_list(struct parser *P, int kind);
static struct mm_node *parse_item(struct parser *P);
static struct mm_node *parse_add(struct parser *P);
static struct mm_node *parse_mul(struct parser *P);
static struct mm_node *parse_unary(struct parser *P);
static struct mm_node *parse_postfix(struct parser *P);
static struct mm_node *parse_primary(struct parser *P);

static struct mm_node *num_node(struct mm_ctx *c, const char *s, size_t n, bool flt) {
  struct mm_node *x = mm_new(c, MK_NUM, 0);
  if (!x) return NULL;
  char buf[64];
  if (n >= sizeof buf) {
    /* very long digit strings: value only (inf beyond the double range) */
    char *t = mm_strndup(c, s, n);
    if (!t) return NULL;
    x->num = strtod(t, NULL);
  } else {
    memcpy(buf, s, n);
    buf[n] = '\0';
    x->num = strtod(buf, NULL);
  }
  x->flags = flt ? MF_FLOAT : 0;
  x->name = s;
  x->name_len = n;
  /* exact rational for up to 36 significant digits */
  __int128 num = 0, den = 1;
  bool ok = true, frac = false;
  int digits = 0;
  for (size_t k = 0; k < n && ok; k++) {
    char ch = s[k];
    if (ch == '.') {
      frac = true;
    } else if (is_digit(ch)) {
      if (frac) {
        if (++digits > 36)
          ok = false;
        else
          den *= 10;
      }
      if (num == 0 && ch == '0') continue;
      if (!frac && ++digits > 36)
        ok = false;
      else if (ok)
        num = num * 10 + (ch - '0');
    } else {
      ok = false; /* exponent: value only */
    }
  }
  if (ok) {
    x->exact_state = 1;
    x->rn = num;
    x->rd = den;
    __int128 a = num, b = den;
    while (b) {
      __int128 t = a % b;
      a = b;
      b = t;
    }
    if (a > 1) x->rn /= a, x->rd /= a;
  } else {
    x->exact_state = 2;
  }
  return x;
}

static struct mm_node *sym_node(struct mm_ctx *c, const char *s, size_t n) {
  struct mm_node *x = mm_new(c, MK_SYM, 0);
  if (!x) return NULL;
  x->name = s;
  x->name_len = n;
  return x;
}

/* The argument of \frac, \sqrt, ^, _: a braced group or one token (one digit of a number). */
static struct mm_node *parse_arg(struct parser *P, bool one_digit) {
  struct mm_tok *k = peek(P);
  if (is_op(k, '{')) {
    P->i++;
    struct mm_node *x = parse_list(P, MK_LIST);
    if (!x) return NULL;
    if (!accept_op(P, '}')) return syntax(P, "unbalanced braces");
    return x;
  }
  if (k->t == T_NUM && one_digit && k->n > 1 && !k->flt) {
    struct mm_node *x = num_node(P->c, k->s, 1, false);
    k->s++;
    k->n--;
    return x;
  }
  if (k->t == T_NUM || k->t == T_SYM || k->t == T_CONST) {
    P->i++;
    if (k->t == T_NUM) return num_node(P->c, k->s, k->n, k->flt);
    if (k->t == T_SYM) return sym_node(P->c, k->s, k->n);
    struct mm_node *x = mm_new(P->c, MK_CONST, 0);
    if (x) x->op = k->op;
    return x;
  }
  if (is_op(k, '-') || is_op(k, '+')) {
    /* x^-1 */
    P->i++;
    struct mm_node *a = parse_arg(P, one_digit);
    if (!a) return NULL;
    return is_op(k, '-') ? new1(P->c, MK_NEG, a) : a;
  }
  if (k->t == T_FRAC || k->t == T_SQRT || k->t == T_BINOM || is_op(k, '(')) {
    if (!enter(P)) return NULL;
    struct mm_node *x = parse_primary(P);
    P->depth--;
    return x;
  }
  return syntax(P, "missing argument");
}

/* After \sum, \int, \lim: optional _{} and ^{}, then the body (one term). */
static struct mm_node *parse_opaque(struct parser *P, struct mm_tok *k) {
  struct mm_node *lo = NULL, *hi = NULL;
  for (int round = 0; round < 2; round++) {
    if (accept_op(P, '_')) {
      lo = parse_arg(P, false);
      if (!lo) return NULL;
    } else if (accept_op(P, '^')) {
      hi = parse_arg(P, false);
      if (!hi) return NULL;
    }
  }
  struct mm_node *body = parse_mul(P);
  if (!body) return NULL;
  struct mm_node *x = mm_new(P->c, MK_OPAQUE, 3);
  if (!x) return NULL;
  x->name = k->s;
  x->name_len = k->n;
  x->kid[0] = lo ? lo : sym_node(P->c, "", 0);
  x->kid[1] = hi ? hi : sym_node(P->c, "", 0);
  x->kid[2] = body;
  return (x->kid[0] && x->kid[1]) ? x : NULL;
}

/* \sin x, \sin^2(x), \log_2 8, \ln(x): a builtin function application. */
static struct mm_node *parse_func(struct parser *P, struct mm_tok *k) {
  struct mm_node *power = NULL, *base = NULL;
  for (int round = 0; round < 2; round++) {
    if (accept_op(P, '^')) {
      power = parse_arg(P, false);
      if (!power) return NULL;
    } else if (accept_op(P, '_')) {
      base = parse_arg(P, false);
      if (!base) return NULL;
    }
  }
  struct mm_node *x;
  if (is_op(peek(P), '(')) {
    P->i++;
    struct mm_node *args = parse_list(P, MK_LIST);
    if (!args) return NULL;
    if (!accept_op(P, ')')) return syntax(P, "unbalanced parentheses");
    if (args->kind == MK_LIST) {
      x = mm_new(P->c, MK_FUNC, args->n);
      if (!x) return NULL;
      memcpy(x->kid, args->kid, (size_t)args->n * sizeof *x->kid);
    } else {
      x = new1(P->c, MK_FUNC, args);
    }
  } else {
    /* \sin 2x: the argument runs over numbers and letters, not over another function */
    struct mm_node *arg = parse_postfix(P);
    if (!arg) return NULL;
    for (;;) {
      struct mm_tok *q = peek(P);
      if (q->t != T_NUM && q->t != T_SYM && q->t != T_CONST) break;
      struct mm_node *f = parse_postfix(P);
      if (!f) return NULL;
      arg = new2(P->c, MK_MUL, arg, f);
      if (!arg) return NULL;
    }
    x = new1(P->c, MK_FUNC, arg);
  }
  if (!x) return NULL;
  x->op = k->op;
  if (x->n == 0) return syntax(P, "function without argument");
  if (base && (x->op == MF_LOG || x->op == MF_LN) && x->n == 1) {
    struct mm_node *y = new2(P->c, MK_FUNC, x->kid[0], base);
    if (!y) return NULL;
    y->op = MF_LOG;
    x = y;
  }
  if (power) {
    /* \sin^{-1} x is arcsin */
    if (power->kind == MK_NEG && power->kid[0]->kind == MK_NUM && power->kid[0]->num == 1.0 &&
        x->op >= MF_SIN && x->op <= MF_TAN && x->n == 1) {
      x->op = MF_ASIN + (x->op - MF_SIN);
    } else {
      x = new2(P->c, MK_POW, x, power);
    }
  }
  return x;
}

static struct mm_node *parse_matrix(struct parser *P) {
  struct vec cells = {0};
  int rows = 0, cols = -1, col = 0;
  for (;;) {
    struct mm_tok *k = peek(P);
    if (k->t == T_END) return syntax(P, "unterminated matrix");
    if (k->t == T_ENDENV) {
      P->i++;
      break;
    }
    struct mm_node *x = parse_item(P);
    if (!x) return NULL;
    if (!vec_push(P->c, &cells, x)) return NULL;
    col++;
    k = peek(P);
    if (k->t == T_COLSEP) {
      P->i++;
      continue;
    }
    if (k->t == T_ROWSEP || k->t == T_ENDENV) {
      if (k->t == T_ROWSEP) P->i++;
      rows++;
      if (cols < 0)
        cols = col;
      else if (cols != col)
        return syntax(P, "ragged matrix");
      col = 0;
      /* a trailing \\ before \end */
      if (peek(P)->t == T_ENDENV) {
        P->i++;
        break;
      }
      if (k->t == T_ENDENV) {
        P->i++;
        break;
      }
      continue;
    }
    return syntax(P, "bad matrix cell");
  }
  if (rows == 0 || cols <= 0) return syntax(P, "empty matrix");
  if (rows > MM_MAX_MATRIX || cols > MM_MAX_MATRIX) {
    mm_limit(P->c, "matrix too large");
    return NULL;
  }
  struct mm_node *m = from_vec(P->c, MK_MATRIX, &cells);
  if (!m) return NULL;
  m->rows = rows;
  m->cols = cols;
  return m;
}

static bool func_letter(const struct mm_node *x) {
  if (x->kind != MK_SYM || x->name_len != 1) return false;
  return strchr("fghFGHPQW", x->name[0]) != NULL;
}

static struct mm_node *parse_primary(struct parser *P) {
  struct mm_tok *k = peek(P);
  struct mm_node *x;
  switch (k->t) {
  case T_NUM:
    P->i++;
    return num_node(P->c, k->s, k->n, k->flt);
  case T_SYM:
    P->i++;
    return sym_node(P->c, k->s, k->n);
  case T_WORD:
    P->i++;
    x = mm_new(P->c, MK_WORD, 0);
    if (x) x->name = k->s, x->name_len = k->n;
    return x;
  case T_CONST:
    P->i++;
    x = mm_new(P->c, MK_CONST, 0);
    if (x) x->op = k->op;
    return x;
  case T_EMPTY:
    P->i++;
    return mm_new(P->c, MK_SET, 0);
  case T_FRAC: {
    P->i++;
    struct mm_node *a = parse_arg(P, true);
    if (!a) return NULL;
    struct mm_node *b = parse_arg(P, true);
    if (!b) return NULL;
    return new2(P->c, MK_DIV, a, b);
  }
  case T_BINOM: {
    P->i++;
    struct mm_node *a = parse_arg(P, true);
    if (!a) return NULL;
    struct mm_node *b = parse_arg(P, true);
    if (!b) return NULL;
    return new2(P->c, MK_BINOM, a, b);
  }
  case T_SQRT: {
    P->i++;
    struct mm_node *idx = NULL;
    if (accept_op(P, '[')) {
      idx = parse_add(P);
      if (!idx) return NULL;
      if (!accept_op(P, ']')) return syntax(P, "bad root index");
    }
    struct mm_node *a = parse_arg(P, true);
    if (!a) return NULL;
    x = idx ? new2(P->c, MK_FUNC, a, idx) : new1(P->c, MK_FUNC, a);
    if (x) x->op = idx ? MF_ROOT : MF_SQRT;
    return x;
  }
  case T_FUNC:
    P->i++;
    return parse_func(P, k);
  case T_OPAQUE:
    P->i++;
    return parse_opaque(P, k);
  case T_BEGIN:
    P->i++;
    return parse_matrix(P);
  case T_OP:
    break;
  default:
    return syntax(P, "unexpected token");
  }
  int op = k->op;
  P->i++;
  switch (op) {
  case '(':
  case '[': {
    x = parse_list(P, MK_TUPLE);
    if (!x) return NULL;
    struct mm_tok *close = peek(P);
    if (!is_op(close, ')') && !is_op(close, ']')) return syntax(P, "unbalanced brackets");
    P->i++;
    int cl = close->op;
    if (x->kind != MK_TUPLE) {
      if (op == '(' && cl == ')') return x; /* grouping */
      if (op == '[' && cl == ']') return x;
      return syntax(P, "half-open bracket around one value");
    }
    if (x->n == 2 && (op == '[' || cl == ']')) {
      x->kind = MK_INTERVAL;
      x->lopen = op == '(';
      x->ropen = cl == ')';
      return x;
    }
    if (op == '(' && cl == ')')
      x->flags |= MF_PAREN;
    else if (op != '[' || cl != ']')
      return syntax(P, "mismatched brackets");
    return x;
  }
  case '{':
    x = parse_list(P, MK_LIST);
    if (!x) return NULL;
    if (!accept_op(P, '}')) return syntax(P, "unbalanced braces");
    return x;
  case 'S':
    if (accept_op(P, 's')) return mm_new(P->c, MK_SET, 0);
    x = parse_list(P, MK_SET);
    if (!x) return NULL;
    if (!accept_op(P, 's')) return syntax(P, "unbalanced set braces");
    if (x->kind != MK_SET) x = new1(P->c, MK_SET, x);
    return x;
  case '<':
    x = parse_list(P, MK_TUPLE);
    if (!x) return NULL;
    if (!accept_op(P, '>')) return syntax(P, "unbalanced angle brackets");
    if (x->kind != MK_TUPLE) x = new1(P->c, MK_TUPLE, x);
    return x;
  case '|':
    P->abs_depth++;
    x = parse_add(P);
    P->abs_depth--;
    if (!x) return NULL;
    if (!accept_op(P, '|')) return syntax(P, "unbalanced |");
    return new1(P->c, MK_ABS, x);
  case 'F':
  case 'C':
    x = parse_add(P);
    if (!x) return NULL;
    if (!accept_op(P, op == 'F' ? 'f' : 'c')) return syntax(P, "unbalanced floor or ceiling");
    x = new1(P->c, MK_FUNC, x);
    if (x) x->op = op == 'F' ? MF_FLOOR : MF_CEIL;
    return x;
  default:
    return syntax(P, "unexpected operator");
  }
}

/* Does the next token start an operand (implicit multiplication)? */
static bool starts_operand(const struct parser *P) {
  const struct mm_tok *k = &P->t[P->i];
  switch (k->t) {
  case T_NUM:
  case T_SYM:
  case T_CONST:
  case T_FUNC:
  case T_FRAC:
  case T_SQRT:
  case T_BINOM:
  case T_OPAQUE:
  case T_BEGIN:
  case T_WORD:
    return true;
  case T_OP:
    return k->op == '(' || k->op == 'F' || k->op == 'C' || (k->op == '|' && P->abs_depth == 0) ||
           k->op == '{';
  default:
    return false;
  }
}

/* name_{sub}: a subscripted symbol "a_1" when sub is constant text, else an application. */
static struct mm_node *subscript(struct parser *P, struct mm_node *base, struct mm_node *sub) {
  struct mm_ctx *c = P->c;
  if (base->kind == MK_NUM) {
    struct mm_node *x = new2(c, MK_APPLY, base, sub);
    if (x) x->name = "_base", x->name_len = 5;
    return x;
  }
  if (base->kind != MK_SYM) return syntax(P, "subscript on an expression");
  char *ps = mm_print(c, sub);
  if (!ps) return NULL;
  bool simple =
      sub->kind == MK_NUM || (sub->kind == MK_SYM) || (sub->kind == MK_MUL && sub->n <= 8);
  if (sub->kind == MK_MUL)
    for (int k = 0; k < sub->n; k++)
      if (sub->kid[k]->kind != MK_SYM && sub->kid[k]->kind != MK_NUM) simple = false;
  size_t bl = base->name_len, sl = strlen(ps);
  char *name = mm_alloc(c, bl + sl + 2);
  if (!name) return NULL;
  memcpy(name, base->name, bl);
  name[bl] = '_';
  memcpy(name + bl + 1, ps, sl);
  if (simple) {
    base->name = name;
    base->name_len = bl + 1 + sl;
    return base;
  }
  struct mm_node *x = new1(c, MK_APPLY, sub);
  if (x) x->name = name, x->name_len = bl + 1;
  return x;
}

static struct mm_node *parse_postfix(struct parser *P) {
  if (!enter(P)) return NULL;
  struct mm_node *x = parse_primary(P);
  while (x) {
    struct mm_tok *k = peek(P);
    if (is_op(k, '!')) {
      P->i++;
      x = new1(P->c, MK_FACT, x);
    } else if (k->t == T_PCT) {
      P->i++;
      x = new1(P->c, MK_PCT, x);
    } else if (k->t == T_DEG) {
      P->i++;
    } else if (is_op(k, '_')) {
      P->i++;
      struct mm_node *sub = parse_arg(P, false);
      if (!sub) return NULL;
      x = subscript(P, x, sub);
    } else if (is_op(k, '\'')) {
      P->i++;
      if (x->kind != MK_SYM) return syntax(P, "prime on an expression");
      char *name = mm_alloc(P->c, x->name_len + 2);
      if (!name) return NULL;
      memcpy(name, x->name, x->name_len);
      name[x->name_len] = '\'';
      x->name = name;
      x->name_len++;
    } else if (is_op(k, '^')) {
      if (P->t[P->i + 1].t == T_DEG) { /* 90^\circ */
        P->i += 2;
        continue;
      }
      if (is_op(&P->t[P->i + 1], '{') && P->t[P->i + 2].t == T_DEG && is_op(&P->t[P->i + 3], '}')) {
        P->i += 4;
        continue;
      }
      P->i++;
      struct mm_node *e;
      struct mm_tok *q = peek(P);
      if (q->t == T_NUM) { /* 2^10 in plain text */
        P->i++;
        e = num_node(P->c, q->s, q->n, q->flt);
      } else {
        e = parse_arg(P, false);
      }
      if (!e) return NULL;
      /* right associative: 2^3^2 = 2^(3^2) */
      if (is_op(peek(P), '^') && P->t[P->i + 1].t != T_DEG) {
        P->i++;
        if (!enter(P)) return NULL;
        struct mm_node *e2 = parse_arg(P, false);
        P->depth--;
        if (!e2) return NULL;
        e = new2(P->c, MK_POW, e, e2);
        if (!e) return NULL;
      }
      x = new2(P->c, MK_POW, x, e);
    } else if (is_op(k, '(') && func_letter(x)) {
      P->i++;
      struct mm_node *args = parse_list(P, MK_LIST);
      if (!args) return NULL;
      if (!accept_op(P, ')')) return syntax(P, "unbalanced parentheses");
      struct mm_node *f;
      if (args->kind == MK_LIST) {
        f = mm_new(P->c, MK_APPLY, args->n);
        if (f) memcpy(f->kid, args->kid, (size_t)args->n * sizeof *f->kid);
      } else {
        f = new1(P->c, MK_APPLY, args);
      }
      if (f) f->name = x->name, f->name_len = x->name_len;
      x = f;
    } else {
      break;
    }
  }
  P->depth--;
  return x;
}

static struct mm_node *parse_unary(struct parser *P) {
  struct mm_tok *k = peek(P);
  if (is_op(k, '-') || is_op(k, '+')) {
    P->i++;
    if (!enter(P)) return NULL;
    struct mm_node *a = parse_unary(P);
    P->depth--;
    if (!a) return NULL;
    return is_op(k, '-') ? new1(P->c, MK_NEG, a) : a;
  }
  if (is_op(k, 'P') || is_op(k, 'M')) {
    P->i++;
    if (!enter(P)) return NULL;
    struct mm_node *a = parse_unary(P);
    P->depth--;
    if (!a) return NULL;
    struct mm_node *x = new1(P->c, MK_PM, a);
    if (x) x->op = is_op(k, 'P') ? 1 : -1;
    return x;
  }
  return parse_postfix(P);
}

static struct mm_node *parse_mul(struct parser *P) {
  struct mm_node *x = parse_unary(P);
  if (!x) return NULL;
  struct vec fs = {0};
  if (!vec_push(P->c, &fs, x)) return NULL;
  for (;;) {
    struct mm_tok *k = peek(P);
    if (is_op(k, '*')) {
      P->i++;
      x = parse_unary(P);
      if (!x || !vec_push(P->c, &fs, x)) return NULL;
    } else if (is_op(k, '/')) {
      P->i++;
      x = parse_unary(P);
      if (!x) return NULL;
      struct mm_node *prod = fs.n == 1 ? fs.v[0] : from_vec(P->c, MK_MUL, &fs);
      if (!prod) return NULL;
      fs.n = 0;
      x = new2(P->c, MK_DIV, prod, x);
      if (!x || !vec_push(P->c, &fs, x)) return NULL;
    } else if (starts_operand(P)) {
      if (k->t == T_WORD) { /* a trailing word after a quantity is a unit */
        P->i++;
        continue;
      }
      x = parse_postfix(P);
      if (!x || !vec_push(P->c, &fs, x)) return NULL;
    } else {
      break;
    }
  }
  return fs.n == 1 ? fs.v[0] : from_vec(P->c, MK_MUL, &fs);
}

static struct mm_node *parse_add(struct parser *P) {
  if (!enter(P)) return NULL;
  struct mm_node *x = parse_mul(P);
  if (!x) return NULL;
  struct vec ts = {0};
  if (!vec_push(P->c, &ts, x)) return NULL;
  int setop = 0;
  struct vec sets = {0};
  for (;;) {
    struct mm_tok *k = peek(P);
    if (is_op(k, '+') || is_op(k, '-')) {
      P->i++;
      x = parse_mul(P);
      if (!x) return NULL;
      if (is_op(k, '-')) x = new1(P->c, MK_NEG, x);
      if (!x || !vec_push(P->c, &ts, x)) return NULL;
    } else if (is_op(k, 'P') || is_op(k, 'M')) {
      P->i++;
      x = parse_mul(P);
      if (!x) return NULL;
      struct mm_node *sum = ts.n == 1 ? ts.v[0] : from_vec(P->c, MK_ADD, &ts);
      if (!sum) return NULL;
      x = new2(P->c, MK_PM, sum, x);
      if (!x) return NULL;
      x->op = is_op(k, 'P') ? 1 : -1;
      ts.n = 0;
      if (!vec_push(P->c, &ts, x)) return NULL;
    } else if (is_op(k, 'U') || is_op(k, 'N') || is_op(k, 'D')) {
      int op = k->op;
      if (setop && setop != op) return syntax(P, "mixed set operations");
      setop = op;
      P->i++;
      struct mm_node *sum = ts.n == 1 ? ts.v[0] : from_vec(P->c, MK_ADD, &ts);
      if (!sum || !vec_push(P->c, &sets, sum)) return NULL;
      ts.n = 0;
      x = parse_mul(P);
      if (!x || !vec_push(P->c, &ts, x)) return NULL;
    } else {
      break;
    }
  }
  P->depth--;
  struct mm_node *sum = ts.n == 1 ? ts.v[0] : from_vec(P->c, MK_ADD, &ts);
  if (!setop || !sum) return sum;
  if (!vec_push(P->c, &sets, sum)) return NULL;
  if (setop == 'D') {
    if (sets.n != 2) return syntax(P, "chained set difference");
    return new2(P->c, MK_SETMINUS, sets.v[0], sets.v[1]);
  }
  return from_vec(P->c, setop == 'U' ? MK_UNION : MK_INTER, &sets);
}

/* a : b (ratios, times of day) */
static struct mm_node *parse_ratio(struct parser *P) {
  struct mm_node *x = parse_add(P);
  if (!x) return NULL;
  while (is_op(peek(P), ':')) {
    P->i++;
    struct mm_node *y = parse_add(P);
    if (!y) return NULL;
    x = new2(P->c, MK_RATIO, x, y);
    if (!x) return NULL;
  }
  return x;
}

/* A relation chain "a = b < c" or a single expression. */
static struct mm_node *parse_item(struct parser *P) {
  struct mm_node *x = parse_ratio(P);
  if (!x) return NULL;
  if (peek(P)->t != T_REL) return x;
  struct vec vs = {0};
  int *ops = NULL, cap = 0;
  if (!vec_push(P->c, &vs, x)) return NULL;
  while (peek(P)->t == T_REL) {
    if (vs.n >= MM_MAX_ITEMS - 1) {
      mm_limit(P->c, "relation chain too long");
      return NULL;
    }
    if (vs.n > cap) {
      int ncap = cap ? cap * 2 : 4;
      int *nops = mm_alloc(P->c, (size_t)ncap * sizeof *nops);
      if (!nops) return NULL;
      if (cap) memcpy(nops, ops, (size_t)cap * sizeof *nops);
      ops = nops;
      cap = ncap;
    }
    ops[vs.n - 1] = peek(P)->op;
    P->i++;
    x = parse_ratio(P);
    if (!x || !vec_push(P->c, &vs, x)) return NULL;
  }
  struct mm_node *r = from_vec(P->c, MK_REL, &vs);
  if (!r) return NULL;
  r->ops = ops;
  return r;
}

static bool is_sep(const struct mm_tok *k) {
  return k->t == T_SEP || is_op(k, ',') || is_op(k, ';');
}

/* Items separated by , ; "and" "or". One item is returned as is; several become `kind`. */
static struct mm_node *parse_list(struct parser *P, int kind) {
  if (!enter(P)) return NULL;
  struct vec items = {0};
  bool any_sep = false;
  for (;;) {
    while (is_sep(peek(P))) {
      P->i++;
      any_sep = true;
    }
    struct mm_tok *k = peek(P);
    if (k->t == T_END || is_op(k, ')') || is_op(k, ']') || is_op(k, '}') || is_op(k, 's') ||
        is_op(k, '>') || k->t == T_ENDENV || k->t == T_IMPLIES)
      break;
    struct mm_node *x = parse_item(P);
    if (!x || !vec_push(P->c, &items, x)) return NULL;
    if (!is_sep(peek(P))) break;
  }
  P->depth--;
  if (items.n == 0) return syntax(P, "empty expression");
  if (items.n == 1 && !(any_sep && kind == MK_SET)) return items.v[0];
  return from_vec(P->c, kind, &items);
}

/* ---- post-processing ---- */

static int count_pm(const struct mm_node *x, int depth) {
  if (!x || depth > MM_MAX_DEPTH * 4) return 0;
  int k = x->kind == MK_PM ? 1 : 0;
  for (int i = 0; i < x->n && k <= MM_MAX_PM; i++)
    k += count_pm(x->kid[i], depth + 1);
  return k;
}

/* A copy of x with the j-th \pm (pre-order) taking the sign bit j of `bits`. */
static struct mm_node *pick_pm(struct mm_ctx *c, const struct mm_node *x, unsigned bits,
                               int *counter, int depth) {
  if (depth > MM_MAX_DEPTH * 4) {
    mm_limit(c, "nesting too deep");
    return NULL;
  }
  if (x->kind == MK_PM) {
    int j = (*counter)++;
    bool minus = ((bits >> j) & 1u) != (x->op < 0);
    struct mm_node *a = pick_pm(c, x->kid[0], bits, counter, depth + 1);
    struct mm_node *b = x->n == 2 ? pick_pm(c, x->kid[1], bits, counter, depth + 1) : NULL;
    if (!a || (x->n == 2 && !b)) return NULL;
    if (x->n == 1) return minus ? new1(c, MK_NEG, a) : a;
    return new2(c, MK_ADD, a, minus ? new1(c, MK_NEG, b) : b);
  }
  struct mm_node *y = mm_new(c, x->kind, x->n);
  if (!y) return NULL;
  struct mm_node **kids = y->kid;
  *y = *x;
  y->kid = kids;
  for (int i = 0; i < x->n; i++) {
    y->kid[i] = pick_pm(c, x->kid[i], bits, counter, depth + 1);
    if (!y->kid[i]) return NULL;
  }
  return y;
}

/* Cuts a chain at \approx: "x = 1/3 \approx 0.33" keeps "x = 1/3"; "x \approx 11" is "x = 11". */
static struct mm_node *cut_approx(struct mm_node *x) {
  if (x->kind != MK_REL) return x;
  for (int k = 0; k < x->n - 1; k++) {
    if (x->ops[k] != MR_APPROX) continue;
    if (k == 0) {
      x->ops[0] = MR_EQ;
      continue;
    }
    x->n = k + 1;
    if (x->n == 1) return x->kid[0];
    break;
  }
  return x;
}

/* Expands \pm into the list of its variants and flattens nested lists into `out`. */
static bool expand_item(struct mm_ctx *c, struct mm_node *x, struct vec *out) {
  x = cut_approx(x);
  if (x->kind == MK_LIST) {
    for (int k = 0; k < x->n; k++)
      if (!expand_item(c, x->kid[k], out)) return false;
    return true;
  }
  int npm = count_pm(x, 0);
  if (npm == 0) return vec_push(c, out, x);
  if (npm > MM_MAX_PM) {
    mm_limit(c, "too many \\pm");
    return false;
  }
  for (unsigned bits = 0; bits < (1u << npm); bits++) {
    int counter = 0;
    struct mm_node *y = pick_pm(c, x, bits, &counter, 0);
    if (!y || !vec_push(c, out, y)) return false;
  }
  return true;
}

static struct mm_node *finish(struct mm_ctx *c, struct mm_node *x) {
  struct vec out = {0};
  if (!expand_item(c, x, &out)) return NULL;
  if (out.n == 1) return out.v[0];
  return from_vec(c, MK_LIST, &out);
}

/* Top level: the part after the last \Rightarrow; ";" separates groups of ","-lists. */
static struct mm_node *parse_top(struct parser *P) {
  int depth = 0, last_implies = -1, semis = 0;
  for (int k = 0; k < P->nt; k++) {
    const struct mm_tok *t = &P->t[k];
    if (t->t == T_OP && strchr("([{S<", t->op)) depth++;
    if (t->t == T_OP && strchr(")]}s>", t->op)) depth--;
    if (t->t == T_BEGIN) depth++;
    if (t->t == T_ENDENV) depth--;
    if (depth == 0 && t->t == T_IMPLIES) last_implies = k;
    if (depth == 0 && is_op(t, ';')) semis++;
  }
  if (last_implies >= 0) P->i = last_implies + 1;
  struct mm_node *x;
  if (semis == 0) {
    x = parse_list(P, MK_LIST);
  } else {
    /* "p=5,q=2; p=7,q=2": groups are tuples; "-12;-11;-10" is a plain list */
    struct vec groups = {0};
    for (;;) {
      while (is_op(peek(P), ';'))
        P->i++;
      if (peek(P)->t == T_END) break;
      struct vec items = {0};
      for (;;) {
        while (is_op(peek(P), ',') || peek(P)->t == T_SEP)
          P->i++;
        struct mm_tok *k = peek(P);
        if (k->t == T_END || is_op(k, ';')) break;
        struct mm_node *it = parse_item(P);
        if (!it || !vec_push(P->c, &items, it)) return NULL;
        k = peek(P);
        if (!is_op(k, ',') && k->t != T_SEP) break;
      }
      if (items.n == 0) break;
      struct mm_node *g = items.n == 1 ? items.v[0] : from_vec(P->c, MK_TUPLE, &items);
      if (!g || !vec_push(P->c, &groups, g)) return NULL;
      if (!is_op(peek(P), ';')) break;
    }
    if (groups.n == 0) return syntax(P, "empty expression");
    x = groups.n == 1 ? groups.v[0] : from_vec(P->c, MK_LIST, &groups);
  }
  if (!x) return NULL;
  if (peek(P)->t != T_END) return syntax(P, "unexpected trailing input");
  return finish(P->c, x);
}

/* Copies s, dropping $ signs and replacing \boxed{A}...\boxed{B} by "A, B" when present. */
static char *prepare(struct mm_ctx *c, const char *s, size_t n, size_t *out_n) {
  char *buf = mm_alloc(c, n + 1);
  if (!buf) return NULL;
  size_t m = 0;
  bool boxed = false;
  for (size_t i = 0; i + 5 < n; i++) {
    if (s[i] == '\\' && (memcmp(s + i + 1, "boxed", 5) == 0 || memcmp(s + i + 1, "fbox", 4) == 0)) {
      boxed = true;
      break;
    }
  }
  if (boxed) {
    size_t i = 0;
    while (i < n) {
      size_t len = 0;
      if (s[i] == '\\' && i + 6 <= n && memcmp(s + i + 1, "boxed", 5) == 0)
        len = 6;
      else if (s[i] == '\\' && i + 5 <= n && memcmp(s + i + 1, "fbox", 4) == 0)
        len = 5;
      if (!len) {
        i++;
        continue;
      }
      size_t j = i + len, a, b;
      while (j < n && isspace((unsigned char)s[j]))
        j++;
      size_t e = mm_read_group(s, n, j, &a, &b);
      if (!e) { /* unbalanced: to the end */
        if (j < n && s[j] == '{')
          a = j + 1, b = n, e = n;
        else {
          i += len;
          continue;
        }
      }
      if (m) buf[m++] = ',';
      memcpy(buf + m, s + a, b - a);
      m += b - a;
      i = e;
    }
  } else {
    memcpy(buf, s, n);
    m = n;
  }
  buf[m] = '\0';
  *out_n = m;
  return buf;
}

/* Is s a single number with comma thousands separators ("$10,455", "-1,000.5\%")? */
static bool one_number(const char *s, size_t n) {
  size_t i = 0, digits = 0, groups = 0;
  while (i < n && (isspace((unsigned char)s[i]) || s[i] == '$' || s[i] == '\\'))
    i++;
  if (i < n && s[i] == '-') i++;
  while (i < n && is_digit(s[i]))
    i++, digits++;
  if (digits == 0 || digits > 3) return false;
  while (i + 3 < n && s[i] == ',' && is_digit(s[i + 1]) && is_digit(s[i + 2]) &&
         is_digit(s[i + 3]) && (i + 4 >= n || !is_digit(s[i + 4])))
    i += 4, groups++;
  if (i + 1 < n && s[i] == '.' && is_digit(s[i + 1]))
    for (i++; i < n && is_digit(s[i]);)
      i++;
  while (i < n && (isspace((unsigned char)s[i]) || s[i] == '$' || s[i] == '\\' || s[i] == '%'))
    i++;
  return groups > 0 && i == n;
}

struct mm_node *mm_parse(struct mm_ctx *c, const char *s, size_t len) {
  if (len > SRM_MATH_MAX_ANSWER) {
    mm_limit(c, "answer too long");
    return NULL;
  }
  size_t n;
  char *text = prepare(c, s, len, &n);
  if (!text) return NULL;
  struct mm_tok *toks;
  int nt;
  struct mm_node *x = NULL;
  if (mm_lex(c, text, n, one_number(text, n), &toks, &nt)) {
    struct parser P = {.c = c, .t = toks, .nt = nt};
    x = parse_top(&P);
  }
  if (!x && !c->limit) {
    /* like Math-Verify: retry with what follows the last "=" of an equation chain */
    const char *last = NULL;
    int eqs = 0;
    bool commas = false;
    for (size_t i = 0; i < n; i++) {
      if (text[i] == ',' || text[i] == ';') commas = true;
      if (text[i] == '=' && (i == 0 || !strchr("\\<>!", text[i - 1]))) eqs++, last = text + i;
    }
    if (!commas && eqs >= 2 && last) {
      const char *err = c->err;
      c->err = NULL;
      if (mm_lex(c, last + 1, (size_t)(text + n - (last + 1)), false, &toks, &nt)) {
        struct parser P2 = {.c = c, .t = toks, .nt = nt};
        x = parse_top(&P2);
      }
      if (!x && !c->limit) c->err = err;
    }
  }
  return x;
}
