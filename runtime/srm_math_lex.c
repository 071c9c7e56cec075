/* srm: the LaTeX-aware lexer of srm.math: spacing and \left/\right dropped, \text{} words,
** units and percent words after a quantity, thousands separators ({,}  ,\!  and plain commas
** when the whole answer is one number), doubled backslashes, UTF-8 operators. Produces the
** token array the parser (srm_math_parse.c) reads; every token and byte is bounded. */
#include "srm_math_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct lex {
  struct mm_ctx *c;
  const char *s;
  size_t n, i;
  struct mm_tok *t;
  int nt, cap;
  bool after_unit;   /* a unit was dropped: a following ^2 goes too */
  bool plain_commas; /* the whole answer is one number: "10,455" has thousands commas */
};

/* ---- the command table ---- */

enum cmd_kind {
  C_SKIP,
  C_SKIPARG,
  C_TEXT,
  C_STYLE,
  C_ROMAN,
  C_TOK,
  C_BEGIN,
  C_END,
  C_LEFT,
  C_COLORARG,
};

struct cmd {
  const char *name;
  uint8_t kind;
  uint8_t tt; /* C_TOK: token type */
  int op;
};

/* clang-format off */
static const struct cmd commands[] = {
  {"left", C_LEFT, 0, 0}, {"right", C_LEFT, 0, 0}, {"big", C_SKIP, 0, 0}, {"Big", C_SKIP, 0, 0},
  {"bigg", C_SKIP, 0, 0}, {"Bigg", C_SKIP, 0, 0}, {"bigl", C_SKIP, 0, 0}, {"bigr", C_SKIP, 0, 0},
  {"Bigl", C_SKIP, 0, 0}, {"Bigr", C_SKIP, 0, 0}, {"biggl", C_SKIP, 0, 0},
  {"biggr", C_SKIP, 0, 0}, {"Biggl", C_SKIP, 0, 0}, {"Biggr", C_SKIP, 0, 0},
  {"middle", C_SKIP, 0, 0}, {"displaystyle", C_SKIP, 0, 0}, {"textstyle", C_SKIP, 0, 0},
  {"scriptstyle", C_SKIP, 0, 0}, {"limits", C_SKIP, 0, 0}, {"nolimits", C_SKIP, 0, 0},
  {"quad", C_SKIP, 0, 0}, {"qquad", C_SKIP, 0, 0}, {"hfill", C_SKIP, 0, 0},
  {"nonumber", C_SKIP, 0, 0}, {"boxed", C_SKIP, 0, 0}, {"fbox", C_SKIP, 0, 0},
  {"not", C_SKIP, 0, 0}, {"bmod", C_SKIP, 0, 0}, {"mod", C_SKIP, 0, 0}, {"enspace", C_SKIP, 0, 0},
  {"thinspace", C_SKIP, 0, 0}, {"negthinspace", C_SKIP, 0, 0}, {"cr", C_SKIP, 0, 0},
  {"mathbf", C_STYLE, 0, 0}, {"mathit", C_STYLE, 0, 0}, {"mathsf", C_STYLE, 0, 0},
  {"mathtt", C_STYLE, 0, 0}, {"mathbb", C_STYLE, 0, 0}, {"mathcal", C_STYLE, 0, 0},
  {"mathfrak", C_STYLE, 0, 0}, {"boldsymbol", C_STYLE, 0, 0}, {"bm", C_STYLE, 0, 0},
  {"vec", C_STYLE, 0, 0}, {"overline", C_STYLE, 0, 0}, {"overrightarrow", C_STYLE, 0, 0},
  {"overleftarrow", C_STYLE, 0, 0}, {"hat", C_STYLE, 0, 0}, {"bar", C_STYLE, 0, 0},
  {"widehat", C_STYLE, 0, 0}, {"widetilde", C_STYLE, 0, 0}, {"tilde", C_STYLE, 0, 0},
  {"underline", C_STYLE, 0, 0}, {"dot", C_STYLE, 0, 0}, {"ddot", C_STYLE, 0, 0},
  {"cancel", C_STYLE, 0, 0}, {"mathrm", C_ROMAN, 0, 0}, {"operatorname", C_ROMAN, 0, 0},
  {"text", C_TEXT, 0, 0}, {"textbf", C_TEXT, 0, 0}, {"textit", C_TEXT, 0, 0},
  {"textrm", C_TEXT, 0, 0}, {"textsf", C_TEXT, 0, 0}, {"texttt", C_TEXT, 0, 0},
  {"textnormal", C_TEXT, 0, 0}, {"textup", C_TEXT, 0, 0}, {"mbox", C_TEXT, 0, 0},
  {"hbox", C_TEXT, 0, 0}, {"emph", C_TEXT, 0, 0},
  {"color", C_SKIPARG, 0, 0}, {"label", C_SKIPARG, 0, 0}, {"tag", C_SKIPARG, 0, 0},
  {"pmod", C_SKIPARG, 0, 0}, {"hspace", C_SKIPARG, 0, 0}, {"vspace", C_SKIPARG, 0, 0},
  {"phantom", C_SKIPARG, 0, 0}, {"textcolor", C_COLORARG, 0, 0},
  {"begin", C_BEGIN, 0, 0}, {"end", C_END, 0, 0},
  {"frac", C_TOK, T_FRAC, 0}, {"dfrac", C_TOK, T_FRAC, 0}, {"tfrac", C_TOK, T_FRAC, 0},
  {"cfrac", C_TOK, T_FRAC, 0}, {"sqrt", C_TOK, T_SQRT, 0}, {"binom", C_TOK, T_BINOM, 0},
  {"dbinom", C_TOK, T_BINOM, 0}, {"tbinom", C_TOK, T_BINOM, 0},
  {"sin", C_TOK, T_FUNC, MF_SIN}, {"cos", C_TOK, T_FUNC, MF_COS}, {"tan", C_TOK, T_FUNC, MF_TAN},
  {"sec", C_TOK, T_FUNC, MF_SEC}, {"csc", C_TOK, T_FUNC, MF_CSC}, {"cot", C_TOK, T_FUNC, MF_COT},
  {"arcsin", C_TOK, T_FUNC, MF_ASIN}, {"arccos", C_TOK, T_FUNC, MF_ACOS},
  {"arctan", C_TOK, T_FUNC, MF_ATAN}, {"sinh", C_TOK, T_FUNC, MF_SINH},
  {"cosh", C_TOK, T_FUNC, MF_COSH}, {"tanh", C_TOK, T_FUNC, MF_TANH},
  {"ln", C_TOK, T_FUNC, MF_LN}, {"log", C_TOK, T_FUNC, MF_LOG}, {"lg", C_TOK, T_FUNC, MF_LOG},
  {"exp", C_TOK, T_FUNC, MF_EXP}, {"max", C_TOK, T_FUNC, MF_MAX}, {"min", C_TOK, T_FUNC, MF_MIN},
  {"gcd", C_TOK, T_FUNC, MF_GCD}, {"lcm", C_TOK, T_FUNC, MF_LCM},
  {"pi", C_TOK, T_CONST, MC_PI}, {"infty", C_TOK, T_CONST, MC_INF},
  {"infin", C_TOK, T_CONST, MC_INF}, {"emptyset", C_TOK, T_EMPTY, 0},
  {"varnothing", C_TOK, T_EMPTY, 0},
  {"cdot", C_TOK, T_OP, '*'}, {"times", C_TOK, T_OP, '*'}, {"ast", C_TOK, T_OP, '*'},
  {"cdotp", C_TOK, T_OP, '*'}, {"div", C_TOK, T_OP, '/'}, {"pm", C_TOK, T_OP, 'P'},
  {"mp", C_TOK, T_OP, 'M'}, {"cup", C_TOK, T_OP, 'U'}, {"cap", C_TOK, T_OP, 'N'},
  {"setminus", C_TOK, T_OP, 'D'}, {"backslash", C_TOK, T_OP, 'D'}, {"colon", C_TOK, T_OP, ':'},
  {"lbrace", C_TOK, T_OP, 'S'}, {"rbrace", C_TOK, T_OP, 's'}, {"langle", C_TOK, T_OP, '<'},
  {"rangle", C_TOK, T_OP, '>'}, {"lfloor", C_TOK, T_OP, 'F'}, {"rfloor", C_TOK, T_OP, 'f'},
  {"lceil", C_TOK, T_OP, 'C'}, {"rceil", C_TOK, T_OP, 'c'}, {"vert", C_TOK, T_OP, '|'},
  {"lvert", C_TOK, T_OP, '|'}, {"rvert", C_TOK, T_OP, '|'}, {"mid", C_TOK, T_OP, '|'},
  {"lbrack", C_TOK, T_OP, '['}, {"rbrack", C_TOK, T_OP, ']'}, {"prime", C_TOK, T_OP, '\''},
  {"le", C_TOK, T_REL, MR_LE}, {"leq", C_TOK, T_REL, MR_LE}, {"leqslant", C_TOK, T_REL, MR_LE},
  {"leqq", C_TOK, T_REL, MR_LE}, {"ge", C_TOK, T_REL, MR_GE}, {"geq", C_TOK, T_REL, MR_GE},
  {"geqslant", C_TOK, T_REL, MR_GE}, {"geqq", C_TOK, T_REL, MR_GE},
  {"lt", C_TOK, T_REL, MR_LT}, {"gt", C_TOK, T_REL, MR_GT}, {"ne", C_TOK, T_REL, MR_NE},
  {"neq", C_TOK, T_REL, MR_NE}, {"approx", C_TOK, T_REL, MR_APPROX},
  {"simeq", C_TOK, T_REL, MR_APPROX}, {"sim", C_TOK, T_REL, MR_APPROX},
  {"thickapprox", C_TOK, T_REL, MR_APPROX}, {"cong", C_TOK, T_REL, MR_APPROX},
  {"equiv", C_TOK, T_REL, MR_EQ}, {"to", C_TOK, T_REL, MR_EQ},
  {"rightarrow", C_TOK, T_REL, MR_EQ}, {"in", C_TOK, T_REL, MR_IN},
  {"Rightarrow", C_TOK, T_IMPLIES, 0}, {"implies", C_TOK, T_IMPLIES, 0},
  {"Longrightarrow", C_TOK, T_IMPLIES, 0}, {"therefore", C_TOK, T_IMPLIES, 0},
  {"iff", C_TOK, T_IMPLIES, 0},
  {"circ", C_TOK, T_DEG, 0}, {"degree", C_TOK, T_DEG, 0},
  {"sum", C_TOK, T_OPAQUE, 0}, {"prod", C_TOK, T_OPAQUE, 0}, {"int", C_TOK, T_OPAQUE, 0},
  {"iint", C_TOK, T_OPAQUE, 0}, {"oint", C_TOK, T_OPAQUE, 0}, {"lim", C_TOK, T_OPAQUE, 0},
  {"limsup", C_TOK, T_OPAQUE, 0}, {"liminf", C_TOK, T_OPAQUE, 0},
  {"bigcup", C_TOK, T_OPAQUE, 0}, {"bigcap", C_TOK, T_OPAQUE, 0},
  {"dots", C_TOK, T_SYM, 0}, {"ldots", C_TOK, T_SYM, 0}, {"cdots", C_TOK, T_SYM, 0},
  {"vdots", C_TOK, T_SYM, 0}, {"ddots", C_TOK, T_SYM, 0}, {"dotsc", C_TOK, T_SYM, 0},
  {"dotsm", C_TOK, T_SYM, 0}, {"imath", C_TOK, T_SYM, 0}, {"partial", C_TOK, T_SYM, 0},
  {"nabla", C_TOK, T_SYM, 0}, {"hbar", C_TOK, T_SYM, 0}, {"ell", C_TOK, T_SYM, 0},
};
/* clang-format on */
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static const char *const greek[] = {
    "alpha",   "beta",     "gamma",  "delta",   "epsilon",  "varepsilon", "zeta",    "eta",
    "theta",   "vartheta", "iota",   "kappa",   "lambda",   "mu",         "nu",      "xi",
    "omicron", "rho",      "varrho", "sigma",   "varsigma", "tau",        "upsilon", "phi",
    "varphi",  "chi",      "psi",    "omega",   "Gamma",    "Delta",      "Theta",   "Lambda",
    "Xi",      "Pi",       "Sigma",  "Upsilon", "Phi",      "Psi",        "Omega",
};

/* Unit words dropped after a quantity ("5 cm", "10 dollars"). */
static const char *const units[] = {
    "cm",      "mm",      "km",      "kg",      "mg",     "ml",      "meters", "meter",
    "metres",  "metre",   "inches",  "inch",    "feet",   "foot",    "ft",     "yards",
    "yard",    "miles",   "mile",    "units",   "unit",   "dollars", "dollar", "cents",
    "cent",    "degrees", "degree",  "deg",     "hours",  "hour",    "hrs",    "hr",
    "minutes", "minute",  "mins",    "seconds", "second", "secs",    "days",   "day",
    "weeks",   "week",    "months",  "month",   "years",  "year",    "yuan",   "pounds",
    "pound",   "lbs",     "lb",      "ounces",  "ounce",  "oz",      "liters", "liter",
    "litres",  "litre",   "gallons", "gallon",  "mph",    "sq",      "square", "cubic",
};

static bool word_in(const char *w, size_t n, const char *const *list, size_t count) {
  for (size_t k = 0; k < count; k++)
    if (strlen(list[k]) == n && memcmp(list[k], w, n) == 0) return true;
  return false;
}

static bool word_ieq(const char *w, size_t n, const char *lit) {
  size_t m = strlen(lit);
  if (m != n) return false;
  for (size_t k = 0; k < n; k++)
    if (tolower((unsigned char)w[k]) != lit[k]) return false;
  return true;
}

/* ---- lexer ---- */

static struct mm_tok *push(struct lex *L, int t, int op, const char *s, size_t n) {
  if (L->nt + 1 >= L->cap) {
    if (L->cap >= MM_MAX_TOKENS) {
      mm_limit(L->c, "too many tokens");
      return NULL;
    }
    int ncap = L->cap ? L->cap * 2 : 64;
    if (ncap > MM_MAX_TOKENS) ncap = MM_MAX_TOKENS;
    struct mm_tok *nt = mm_alloc(L->c, (size_t)ncap * sizeof *nt);
    if (!nt) return NULL;
    if (L->nt) memcpy(nt, L->t, (size_t)L->nt * sizeof *nt);
    L->t = nt;
    L->cap = ncap;
  }
  struct mm_tok *k = &L->t[L->nt++];
  k->t = (uint8_t)t;
  k->flt = 0;
  k->op = op;
  k->s = s;
  k->n = n;
  return k;
}

/* Does the last token end an operand (so a following unit or percent attaches to it)? */
static bool ends_operand(const struct lex *L) {
  if (L->nt == 0) return false;
  const struct mm_tok *k = &L->t[L->nt - 1];
  switch (k->t) {
  case T_NUM:
  case T_SYM:
  case T_CONST:
  case T_PCT:
  case T_DEG:
  case T_WORD:
    return true;
  case T_OP:
    return k->op == ')' || k->op == ']' || k->op == '}' || k->op == 's' || k->op == '!' ||
           k->op == '>' || k->op == 'f' || k->op == 'c';
  default:
    return false;
  }
}

static bool is_digit(int ch) {
  return ch >= '0' && ch <= '9';
}

static bool is_alpha(int ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static size_t skip_spaces(const char *s, size_t n, size_t i) {
  while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r' || s[i] == '~'))
    i++;
  return i;
}

/* Reads a braced group starting at s[i] == '{'; sets [*a, *b) to its content and returns the
** index after the closing brace, or 0 when unbalanced. */
size_t mm_read_group(const char *s, size_t n, size_t i, size_t *a, size_t *b) {
  if (i >= n || s[i] != '{') return 0;
  int depth = 0;
  for (size_t j = i; j < n; j++) {
    if (s[j] == '\\' && j + 1 < n) {
      j++;
      continue;
    }
    if (s[j] == '{') depth++;
    if (s[j] == '}' && --depth == 0) {
      *a = i + 1;
      *b = j;
      return j + 1;
    }
  }
  return 0;
}

/* Thousands group after position i: ",ddd", "{,}ddd", ",\!ddd", "\,ddd" or " ddd" (3 digits not
** followed by a digit). Returns the index of the first of the 3 digits, or 0. */
static size_t thousands_at(const char *s, size_t n, size_t i, bool plain) {
  size_t j = i;
  if (j < n && s[j] == ',') {
    bool explicit_sep = j + 2 < n && s[j + 1] == '\\' && s[j + 2] == '!';
    if (!plain && !explicit_sep) return 0;
    j++;
    if (j + 1 < n && s[j] == '\\' && s[j + 1] == '!') j += 2;
    if (j < n && s[j] == ' ' && j > i + 1) j = skip_spaces(s, n, j);
  } else if (j + 1 < n && s[j] == '\\' && (s[j + 1] == ',' || s[j + 1] == ' ')) {
    j += 2;
  } else {
    size_t k = skip_spaces(s, n, j);
    if (k < n && s[k] == '{') {
      k = skip_spaces(s, n, k + 1);
      if (k >= n || s[k] != ',') return 0;
      k = skip_spaces(s, n, k + 1);
      if (k >= n || s[k] != '}') return 0;
      j = k + 1;
      if (j + 1 < n && s[j] == '\\' && s[j + 1] == '!') j += 2;
      j = skip_spaces(s, n, j);
    } else if (j < n && s[j] == ' ' && j + 1 < n && is_digit(s[j + 1])) {
      j++;
    } else {
      return 0;
    }
  }
  if (j + 3 > n || !is_digit(s[j]) || !is_digit(s[j + 1]) || !is_digit(s[j + 2])) return 0;
  if (j + 3 < n && is_digit(s[j + 3])) return 0;
  return j;
}

/* A growable arena buffer for the cleaned digits of one number. */
struct nbuf {
  struct mm_ctx *c;
  char *p;
  size_t n, cap;
};

static bool nb_put(struct nbuf *b, const char *s, size_t n) {
  if (b->n + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->n + n + 1)
      cap *= 2;
    char *p = mm_alloc(b->c, cap);
    if (!p) return false;
    if (b->n) memcpy(p, b->p, b->n);
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->n, s, n);
  b->n += n;
  b->p[b->n] = '\0';
  return true;
}

static bool lex_number(struct lex *L) {
  const char *s = L->s;
  size_t n = L->n, i = L->i;
  struct nbuf buf = {.c = L->c};
  bool flt = false;
  size_t int_start = i;
  while (i < n && is_digit(s[i]))
    i++;
  if (i > int_start && !nb_put(&buf, s + int_start, i - int_start)) return false;
  if (i - int_start >= 1 && i - int_start <= 3 && s[int_start] != '0') {
    size_t g;
    while ((g = thousands_at(s, n, i, L->plain_commas)) != 0) {
      if (!nb_put(&buf, s + g, 3)) return false;
      i = g + 3;
    }
  }
  if (i + 1 < n && s[i] == '.' && is_digit(s[i + 1])) {
    size_t f = i;
    for (i++; i < n && is_digit(s[i]);)
      i++;
    if (!nb_put(&buf, s + f, i - f)) return false;
    flt = true;
  }
  if (buf.n == 0) return false;
  /* scientific notation written without spaces: 2e5, 1.5E-3 */
  if (i + 1 < n && (s[i] == 'e' || s[i] == 'E')) {
    size_t j = i + 1;
    if (j < n && (s[j] == '+' || s[j] == '-')) j++;
    if (j < n && is_digit(s[j])) {
      size_t k = j;
      while (k < n && is_digit(s[k]))
        k++;
      if (k >= n || !is_alpha(s[k])) {
        if (!nb_put(&buf, "e", 1) || !nb_put(&buf, s + i + 1, k - i - 1)) return false;
        i = k;
        flt = true;
      }
    }
  }
  struct mm_tok *k = push(L, T_NUM, 0, buf.p, buf.n);
  if (!k) return false;
  k->flt = flt;
  L->i = i;
  return true;
}

/* \text{...} and friends: a separator ("and"), a dropped unit, a letter or a word. */
static bool lex_text(struct lex *L, size_t a, size_t b) {
  const char *s = L->s;
  while (a < b && isspace((unsigned char)s[a]))
    a++;
  while (b > a && isspace((unsigned char)s[b - 1]))
    b--;
  if (a == b) return true;
  const char *w = s + a;
  size_t n = b - a;
  if (word_ieq(w, n, "and") || word_ieq(w, n, "or") || word_ieq(w, n, ", and") ||
      word_ieq(w, n, ",") || word_ieq(w, n, "and/or"))
    return push(L, T_SEP, 0, NULL, 0) != NULL;
  if (word_ieq(w, n, "percent") || word_ieq(w, n, "pct") || word_ieq(w, n, "percentage") ||
      (n == 1 && w[0] == '%'))
    return ends_operand(L) ? push(L, T_PCT, 0, NULL, 0) != NULL : true;
  if (ends_operand(L) && L->t[L->nt - 1].t != T_WORD) {
    L->after_unit = true; /* a unit: "10\text{ cm}", "\mbox{ cm}^2" */
    return true;
  }
  /* "(C)", "C", "C." */
  size_t p = 0, q = n;
  if (q - p >= 3 && w[p] == '(' && w[q - 1] == ')') p++, q--;
  if (q - p == 2 && w[q - 1] == '.') q--;
  if (q - p == 1 && is_alpha(w[p])) return push(L, T_SYM, 0, w + p, 1) != NULL;
  return push(L, T_WORD, 0, w, n) != NULL;
}

static const struct cmd *find_command(const char *name, size_t n) {
  for (size_t k = 0; k < N_COMMANDS; k++)
    if (strlen(commands[k].name) == n && memcmp(commands[k].name, name, n) == 0)
      return &commands[k];
  return NULL;
}

static bool lex_command(struct lex *L) {
  const char *s = L->s;
  size_t n = L->n, i = L->i + 1; /* after the backslash */
  if (i >= n) {
    L->i = i;
    return true;
  }
  if (!is_alpha(s[i])) {
    char ch = s[i];
    L->i = i + 1;
    switch (ch) {
    case '\\':
      /* "\\" then a letter is a doubled escape ("\\frac"); otherwise a row break */
      if (L->i < n && is_alpha(s[L->i])) {
        L->i = i; /* at the second backslash */
        return lex_command(L);
      }
      return push(L, T_ROWSEP, 0, NULL, 0) != NULL;
    case '{':
      return push(L, T_OP, 'S', NULL, 0) != NULL;
    case '}':
      return push(L, T_OP, 's', NULL, 0) != NULL;
    case '|':
      return push(L, T_OP, '|', NULL, 0) != NULL;
    case '%':
      return ends_operand(L) ? push(L, T_PCT, 0, NULL, 0) != NULL : true;
    default: /* \, \; \: \! \  \$ \# \& \_ and other spacing or escapes */
      return true;
    }
  }
  size_t j = i;
  while (j < n && is_alpha(s[j]))
    j++;
  const char *name = s + i;
  size_t len = j - i;
  L->i = j;
  /* \quadx: spacing glued to the next letter */
  if (len > 5 && memcmp(name, "qquad", 5) == 0) {
    L->i = i + 5;
    return true;
  }
  if (len > 4 && memcmp(name, "quad", 4) == 0 && !find_command(name, len)) {
    L->i = i + 4;
    return true;
  }
  if (word_in(name, len, greek, sizeof greek / sizeof greek[0]))
    return push(L, T_SYM, 0, name, len) != NULL;
  const struct cmd *cm = find_command(name, len);
  if (!cm) {
    mm_fail(L->c, "unknown LaTeX command");
    return false;
  }
  size_t a, b, e;
  switch (cm->kind) {
  case C_SKIP:
  case C_STYLE:
    return true;
  case C_LEFT:
    if (L->i < n && s[L->i] == '.') L->i++;
    return true;
  case C_SKIPARG:
  case C_COLORARG:
    e = mm_read_group(s, n, skip_spaces(s, n, L->i), &a, &b);
    if (e) L->i = e;
    return true;
  case C_ROMAN:
  case C_TEXT:
    e = mm_read_group(s, n, skip_spaces(s, n, L->i), &a, &b);
    if (!e) return cm->kind == C_ROMAN; /* \mathrm x: transparent */
    if (cm->kind == C_ROMAN) {
      /* \mathrm{e}, \mathrm{d}: transparent; \operatorname{lcm}: a function or a word */
      size_t letters = 0;
      for (size_t q = a; q < b; q++)
        letters += is_alpha(s[q]) ? 1u : 0u;
      if (letters <= 1) return true;
      const struct cmd *f = find_command(s + a, b - a);
      if (f && f->tt == T_FUNC) {
        L->i = e;
        return push(L, T_FUNC, f->op, NULL, 0) != NULL;
      }
    }
    L->i = e;
    return lex_text(L, a, b);
  case C_BEGIN:
  case C_END:
    e = mm_read_group(s, n, skip_spaces(s, n, L->i), &a, &b);
    if (!e) {
      mm_fail(L->c, "malformed \\begin or \\end");
      return false;
    }
    L->i = e;
    {
      const char *env = s + a;
      size_t el = b - a;
      bool matrix = (el >= 6 && memcmp(env + el - 6, "matrix", 6) == 0) ||
                    (el == 5 && memcmp(env, "array", 5) == 0);
      if (!matrix) return true; /* align, aligned, cases, equation...: transparent */
      if (cm->kind == C_END) return push(L, T_ENDENV, 0, NULL, 0) != NULL;
      if (el == 5) { /* \begin{array}{cc}: skip the column spec */
        size_t e2 = mm_read_group(s, n, skip_spaces(s, n, L->i), &a, &b);
        if (e2) L->i = e2;
      }
      return push(L, T_BEGIN, 0, NULL, 0) != NULL;
    }
  default:
    break;
  }
  if (cm->tt == T_SYM) {
    if (len == 5 && memcmp(name, "imath", 5) == 0) return push(L, T_SYM, 0, "i", 1) != NULL;
    if (len >= 4 && memcmp(name + len - 4, "dots", 4) == 0)
      return push(L, T_SYM, 0, "...", 3) != NULL;
    return push(L, T_SYM, 0, name, len) != NULL;
  }
  if (cm->tt == T_OPAQUE) return push(L, T_OPAQUE, 0, name, len) != NULL;
  return push(L, cm->tt, cm->op, NULL, 0) != NULL;
}

/* A run of ASCII letters: "and"/"or" separators, units, percent words, plain function names,
** otherwise one symbol per letter. */
static bool lex_letters(struct lex *L) {
  const char *s = L->s;
  size_t n = L->n, i = L->i, j = i;
  while (j < n && is_alpha(s[j]))
    j++;
  const char *w = s + i;
  size_t len = j - i;
  bool next_paren = j < n && s[j] == '(';
  L->i = j;
  if (word_ieq(w, len, "and") || word_ieq(w, len, "or")) return push(L, T_SEP, 0, NULL, 0) != NULL;
  if (len >= 2 && ends_operand(L)) {
    if (word_ieq(w, len, "percent") || word_ieq(w, len, "pct") || word_ieq(w, len, "percentage"))
      return push(L, T_PCT, 0, NULL, 0) != NULL;
    if (word_in(w, len, units, sizeof units / sizeof units[0]) && !next_paren) {
      L->after_unit = true;
      return true;
    }
  }
  if (next_paren && len >= 2) {
    if (len == 4 && memcmp(w, "sqrt", 4) == 0) return push(L, T_SQRT, 0, NULL, 0) != NULL;
    const struct cmd *cm = find_command(w, len);
    if (cm && cm->tt == T_FUNC) return push(L, T_FUNC, cm->op, NULL, 0) != NULL;
  }
  if (len == 2 && memcmp(w, "pi", 2) == 0) return push(L, T_CONST, MC_PI, NULL, 0) != NULL;
  for (size_t k = 0; k < len; k++)
    if (!push(L, T_SYM, 0, w + k, 1)) return false;
  return true;
}

/* Decodes one UTF-8 sequence at s[i]; returns its length (0 when invalid) and *cp. */
static size_t utf8_at(const char *s, size_t n, size_t i, uint32_t *cp) {
  unsigned char c0 = (unsigned char)s[i];
  size_t len;
  uint32_t v;
  if (c0 < 0x80) {
    *cp = c0;
    return 1;
  } else if (c0 >= 0xC2 && c0 <= 0xDF) {
    len = 2, v = c0 & 0x1Fu;
  } else if (c0 >= 0xE0 && c0 <= 0xEF) {
    len = 3, v = c0 & 0x0Fu;
  } else if (c0 >= 0xF0 && c0 <= 0xF4) {
    len = 4, v = c0 & 0x07u;
  } else {
    return 0;
  }
  if (i + len > n) return 0;
  for (size_t k = 1; k < len; k++) {
    unsigned char ck = (unsigned char)s[i + k];
    if ((ck & 0xC0) != 0x80) return 0;
    v = (v << 6) | (ck & 0x3Fu);
  }
  if ((len == 3 && v < 0x800) || (len == 4 && (v < 0x10000 || v > 0x10FFFF)) ||
      (v >= 0xD800 && v <= 0xDFFF))
    return 0;
  *cp = v;
  return len;
}

static bool lex_unicode(struct lex *L) {
  uint32_t cp;
  size_t len = utf8_at(L->s, L->n, L->i, &cp);
  if (len == 0) {
    mm_fail(L->c, "invalid UTF-8");
    return false;
  }
  L->i += len;
  switch (cp) {
  case 0x00D7: /* × */
  case 0x00B7: /* · */
  case 0x22C5: /* ⋅ */
    return push(L, T_OP, '*', NULL, 0) != NULL;
  case 0x00F7: /* ÷ */
    return push(L, T_OP, '/', NULL, 0) != NULL;
  case 0x2212: /* − */
  case 0x2013: /* – */
    return push(L, T_OP, '-', NULL, 0) != NULL;
  case 0x00B1: /* ± */
    return push(L, T_OP, 'P', NULL, 0) != NULL;
  case 0x2264:
    return push(L, T_REL, MR_LE, NULL, 0) != NULL;
  case 0x2265:
    return push(L, T_REL, MR_GE, NULL, 0) != NULL;
  case 0x2260:
    return push(L, T_REL, MR_NE, NULL, 0) != NULL;
  case 0x2248:
    return push(L, T_REL, MR_APPROX, NULL, 0) != NULL;
  case 0x2208:
    return push(L, T_REL, MR_IN, NULL, 0) != NULL;
  case 0x03C0: /* π */
    return push(L, T_CONST, MC_PI, NULL, 0) != NULL;
  case 0x221E:
    return push(L, T_CONST, MC_INF, NULL, 0) != NULL;
  case 0x221A: /* √ */
    return push(L, T_SQRT, 0, NULL, 0) != NULL;
  case 0x222A:
    return push(L, T_OP, 'U', NULL, 0) != NULL;
  case 0x2229:
    return push(L, T_OP, 'N', NULL, 0) != NULL;
  case 0x00B0: /* ° */
    return push(L, T_DEG, 0, NULL, 0) != NULL;
  case 0x00B2: /* ² ³ after a dropped unit go with it */
  case 0x00B3:
    if (L->after_unit) return true;
    if (!push(L, T_OP, '^', NULL, 0)) return false;
    return push(L, T_NUM, 0, cp == 0x00B2 ? "2" : "3", 1) != NULL;
  case 0x00A0: /* no-break space and currency signs */
  case 0x20AC:
  case 0x00A3:
  case 0x00A5:
  case 0x20B9:
    return true;
  default:
    return push(L, T_SYM, 0, L->s + L->i - len, len) != NULL;
  }
}

static bool lex_all(struct lex *L) {
  const char *s = L->s;
  size_t n = L->n;
  while (L->i < n && !L->c->err) {
    unsigned char ch = (unsigned char)s[L->i];
    bool unit = L->after_unit;
    L->after_unit = false;
    if (unit && ch == '^') {
      /* the exponent of a dropped unit: cm^2, cm^{2} */
      size_t j = L->i + 1, a, b;
      if (j < n && is_digit(s[j])) {
        L->i = j + 1;
        continue;
      }
      size_t e = mm_read_group(s, n, j, &a, &b);
      if (e) {
        L->i = e;
        continue;
      }
    }
    if (isspace(ch) || ch == '~' || ch == '$' || ch == '"' || ch == '`') {
      L->after_unit = unit && isspace(ch);
      L->i++;
      continue;
    }
    if (is_digit(ch) || (ch == '.' && L->i + 1 < n && is_digit(s[L->i + 1]))) {
      if (!lex_number(L)) return false;
      continue;
    }
    if (is_alpha(ch)) {
      if (!lex_letters(L)) return false;
      continue;
    }
    if (ch == '\\') {
      if (!lex_command(L)) return false;
      continue;
    }
    if (ch >= 0x80) {
      if (!lex_unicode(L)) return false;
      continue;
    }
    L->i++;
    switch (ch) {
    case '<':
    case '>':
      if (L->i < n && s[L->i] == '=') {
        L->i++;
        if (!push(L, T_REL, ch == '<' ? MR_LE : MR_GE, NULL, 0)) return false;
      } else if (!push(L, T_REL, ch == '<' ? MR_LT : MR_GT, NULL, 0)) {
        return false;
      }
      break;
    case '=':
      if (L->i < n && s[L->i] == '=') L->i++;
      if (!push(L, T_REL, MR_EQ, NULL, 0)) return false;
      break;
    case '!':
      if (L->i < n && s[L->i] == '=') {
        L->i++;
        if (!push(L, T_REL, MR_NE, NULL, 0)) return false;
      } else if (!push(L, T_OP, '!', NULL, 0)) {
        return false;
      }
      break;
    case '%':
      if (ends_operand(L) && !push(L, T_PCT, 0, NULL, 0)) return false;
      break;
    case '&':
      if (!push(L, T_COLSEP, 0, NULL, 0)) return false;
      break;
    case '*':
      if (L->i < n && s[L->i] == '*') { /* ** is a power in plain text */
        L->i++;
        if (!push(L, T_OP, '^', NULL, 0)) return false;
      } else if (!push(L, T_OP, '*', NULL, 0)) {
        return false;
      }
      break;
    case '+':
    case '-':
    case '/':
    case '^':
    case '_':
    case '(':
    case ')':
    case '[':
    case ']':
    case '{':
    case '}':
    case '|':
    case ',':
    case ';':
    case ':':
    case '\'':
      if (!push(L, T_OP, ch, NULL, 0)) return false;
      break;
    case '.': /* a stray full stop: "x = 5." */
      break;
    default:
      mm_fail(L->c, "unexpected character");
      return false;
    }
  }
  if (L->c->err) return false;
  return push(L, T_END, 0, NULL, 0) != NULL;
}

bool mm_lex(struct mm_ctx *c, const char *s, size_t n, bool plain_commas, struct mm_tok **toks,
            int *ntoks) {
  struct lex L = {.c = c, .s = s, .n = n, .plain_commas = plain_commas};
  if (!lex_all(&L)) return false;
  *toks = L.t;
  *ntoks = L.nt;
  return true;
}
