/* srm: internals shared by srm_math*.c (not a public API): the arena, the expression tree, the
** parser entry points and the comparison. Everything here is bounded by the MM_* limits. */
#ifndef SRM_MATH_INT_H
#define SRM_MATH_INT_H

#include "srm_math.h"

#include <stdint.h>

#define MM_TRIALS 4          /* pseudo-random points at which free variables are sampled */
#define MM_MAX_TOKENS 8192   /* tokens in one answer */
#define MM_MAX_NODES 32768   /* tree nodes per call (parse + rewrites) */
#define MM_MAX_DEPTH 100     /* nesting of brackets, fractions, exponents... */
#define MM_MAX_ITEMS 1024    /* elements of one list, set, tuple or relation chain */
#define MM_MAX_MATRIX 40     /* rows and columns of a matrix */
#define MM_MAX_PM 4          /* \pm signs expanded per item (2^4 variants) */
#define MM_MAX_WORK 3000000L /* node evaluations per comparison */
#define MM_MAX_ARENA ((size_t)64 << 20)
#define MM_MAX_ATTEMPTS 200 /* extraction candidates parsed before giving up */

/* A bump allocator; everything of one call lives in it and goes with mm_ctx_free. */
struct mm_block;

struct mm_ctx {
  struct mm_block *blocks;
  size_t arena_total;
  const char *err; /* first error, a static string */
  bool limit;      /* err is a limit, not a syntax error */
  long nodes;
  long work;
  const struct srm_math_opts *opts;
  /* non-strict comparison: the prediction's free symbols renamed to the gold's */
  int n_rename;
  const char **rename_from, **rename_to;
};

void mm_ctx_init(struct mm_ctx *c, const struct srm_math_opts *o);
void mm_ctx_free(struct mm_ctx *c);
void *mm_alloc(struct mm_ctx *c, size_t n); /* zeroed; NULL (and c->err) over the limit */
char *mm_strndup(struct mm_ctx *c, const char *s, size_t n);
void mm_fail(struct mm_ctx *c, const char *msg);  /* syntax error (first one wins) */
void mm_limit(struct mm_ctx *c, const char *msg); /* limit hit */

enum mm_kind {
  MK_NUM,      /* num (and exact rational when it fits), flags MF_FLOAT for decimals */
  MK_SYM,      /* a variable or constant name: "x", "alpha", "a_1", "e", "i" */
  MK_WORD,     /* \text{...} content */
  MK_CONST,    /* op: MC_PI, MC_INF */
  MK_ADD,      /* n kids */
  MK_MUL,      /* n kids */
  MK_DIV,      /* 2 kids */
  MK_POW,      /* 2 kids */
  MK_NEG,      /* 1 kid */
  MK_FUNC,     /* op: MF_* builtin; 1 kid (log: 2, base second; max/min: n) */
  MK_APPLY,    /* undefined function name(kids...), also x_{expr} */
  MK_FACT,     /* 1 kid */
  MK_ABS,      /* 1 kid */
  MK_PCT,      /* 1 kid, a percentage: value kid/100 */
  MK_BINOM,    /* 2 kids */
  MK_OPAQUE,   /* \sum, \int...: compared structurally; name, kids */
  MK_PM,       /* a \pm b (2 kids) or \pm b (1 kid); op +1 pm, -1 mp; expanded after parse */
  MK_LIST,     /* bare comma list or {a, b}: a set, order-free */
  MK_SET,      /* \{a, b\} */
  MK_TUPLE,    /* (a, b), \langle a, b \rangle; MF_PAREN when written with () */
  MK_INTERVAL, /* 2 kids, lopen/ropen */
  MK_MATRIX,   /* rows*cols kids, row-major */
  MK_UNION,    /* n kids */
  MK_INTER,    /* n kids */
  MK_SETMINUS, /* 2 kids */
  MK_REL,      /* chain: n operands, ops[n-1] */
  MK_RATIO,    /* a : b, 2 kids */
};

enum { MC_PI, MC_INF };

enum mm_rel { MR_EQ, MR_LT, MR_LE, MR_GT, MR_GE, MR_NE, MR_APPROX, MR_IN };

enum mm_func {
  MF_SIN,
  MF_COS,
  MF_TAN,
  MF_SEC,
  MF_CSC,
  MF_COT,
  MF_ASIN,
  MF_ACOS,
  MF_ATAN,
  MF_SINH,
  MF_COSH,
  MF_TANH,
  MF_LN,
  MF_LOG,
  MF_EXP,
  MF_SQRT,
  MF_ROOT,
  MF_FLOOR,
  MF_CEIL,
  MF_MAX,
  MF_MIN,
  MF_GCD,
  MF_LCM,
};

#define MF_FLOAT 1u /* a decimal literal ("0.5", "1.0", "2e3") */
#define MF_PAREN 2u /* a tuple written with round brackets */

struct mm_node {
  uint8_t kind;
  uint8_t flags;
  uint8_t lopen, ropen;
  uint8_t exact_state; /* 0 not computed, 1 exact rational known, 2 none */
  int op;
  int n;
  int rows, cols;
  struct mm_node **kid;
  int *ops; /* MK_REL: n - 1 relation operators */
  const char *name;
  size_t name_len;
  double num;
  __int128 rn, rd; /* exact reduced rational (rd > 0) when exact_state == 1 */
};

/* Tokens (srm_math_lex.c). */
enum mm_tt {
  T_END,
  T_NUM,
  T_SYM,
  T_WORD,
  T_CONST,
  T_FUNC,
  T_OP,
  T_REL,
  T_SEP,
  T_FRAC,
  T_SQRT,
  T_BINOM,
  T_OPAQUE,
  T_BEGIN,
  T_ENDENV,
  T_ROWSEP,
  T_COLSEP,
  T_IMPLIES,
  T_PCT,
  T_DEG,
  T_EMPTY,
};

struct mm_tok {
  uint8_t t;
  uint8_t flt; /* T_NUM: decimal literal */
  int op;
  const char *s; /* T_NUM: cleaned digits; T_SYM/T_WORD/T_OPAQUE: name */
  size_t n;
};

/* Tokenizes s[0..n) into an arena array ending with T_END; false with c->err set. */
bool mm_lex(struct mm_ctx *c, const char *s, size_t n, bool plain_commas, struct mm_tok **toks,
            int *ntoks);

/* Reads the braced group at s[i] == '{': content [*a, *b), returns the index after it or 0. */
size_t mm_read_group(const char *s, size_t n, size_t i, size_t *a, size_t *b);

/* Parses one answer (LaTeX or plain). Returns the tree or NULL with c->err set. */
struct mm_node *mm_parse(struct mm_ctx *c, const char *s, size_t len);

/* Prints the normalized form into an arena string. */
char *mm_print(struct mm_ctx *c, const struct mm_node *n);

/* Structural hash; + and * are order-insensitive. */
uint64_t mm_hash(const struct mm_node *n);
uint64_t mm_hash_bytes(const void *p, size_t n, uint64_t seed);

struct mm_node *mm_new(struct mm_ctx *c, int kind, int n);

/* Compares gold with pred; fills r->how / r->why. */
bool mm_compare(struct mm_ctx *c, struct mm_node *gold, struct mm_node *pred,
                struct srm_math_result *r);

/* Writes a short static reason into r->why (truncating). */
void mm_set_str(char *dst, size_t cap, const char *src);

#endif
