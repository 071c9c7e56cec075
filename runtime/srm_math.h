/* srm: the math answer core behind srm.math. Pure C (no Lua): final-answer extraction from
** model text and equivalence of a gold answer with a predicted one.
**
** Answers are LaTeX or plain text ("\frac{1}{2}", "0.5", "x \in [0, 1)", "(3, \frac{\pi}{2})").
** They are parsed into an expression tree (numbers, symbols, + - * / ^, radicals, functions,
** sets, tuples, intervals, matrices, relations) and compared structurally, exactly for rationals,
** and numerically (also at pseudo-random points for free variables). The semantics follow
** Math-Verify: sets are order-free, tuples ordered, interval brackets matter, `x = 5` matches `5`,
** units and \text{} are dropped, a float literal compares to `precision` decimals.
**
** Every call is bounded: input length, token and node counts, nesting depth, list and matrix
** sizes, and the evaluation work have fixed limits. Exceeding one makes parsing fail (and the
** comparison "not equal") with the reason in the result; nothing recurses without a bound. */
#ifndef SRM_MATH_H
#define SRM_MATH_H

#include <stdbool.h>
#include <stddef.h>

#define SRM_MATH_MAX_TEXT ((size_t)16 << 20)   /* longest text srm_math_extract scans */
#define SRM_MATH_MAX_ANSWER ((size_t)16 << 10) /* longest answer that is parsed */

/* What extraction looks for (bits of srm_math_opts.targets). */
#define SRM_MATH_LATEX 1u /* \boxed{}, $...$, \[...\], \(...\) and LaTeX answers */
#define SRM_MATH_EXPR 2u  /* plain numbers and arithmetic ("1,000.5", "2/3", "28%") */

struct srm_math_opts {
  int precision;      /* decimals compared when one side is a float literal; default 6 */
  bool strict;        /* variables must match by name (f(x) != f(y)); default true */
  bool ordered_lists; /* bare comma lists compare in order (hendrycks is_equiv); default false */
  bool set_relation;  /* a set gold may match an inequality prediction; default false */
  unsigned targets;   /* SRM_MATH_LATEX | SRM_MATH_EXPR by default */
};

/* Fills the defaults above. */
void srm_math_opts_init(struct srm_math_opts *o);

/* The outcome of a comparison: equal or not, how it was decided (a short fixed word such as
** "identical", "exact", "numeric", "set", "interval", "relation") or why not. */
struct srm_math_result {
  bool equal;
  bool limit;       /* a size or work limit was hit (the verdict is then "not equal") */
  bool gold_failed; /* the gold answer could not be parsed (compared as text instead) */
  bool pred_failed; /* same for the prediction */
  char how[48];
  char why[160];
};

/*
** Extracts the final answer of text[0..len): the last \boxed{}/\fbox{} (adjacent boxes joined
** by "and"/","), "final answer is ...", "#### N", "answer: ...", "Answer: (C)", the last LaTeX
** span or the last number, in Math-Verify's priority order; a text that is nothing but an answer
** is taken whole. Returns a malloc'd NUL-terminated answer (length in *out_len) or NULL when
** there is none; *why (may be NULL) then says why ("no answer found", "text too long").
*/
char *srm_math_extract(const char *text, size_t len, const struct srm_math_opts *o, size_t *out_len,
                       const char **why);

/*
** Compares a gold answer with a predicted answer (both already extracted, see above; $...$,
** \boxed{} wrappers and units are stripped). Never fails: an unparsable side is compared as
** normalized text, and limits give "not equal" with r->limit set. Returns r->equal.
*/
bool srm_math_equal(const char *gold, size_t glen, const char *pred, size_t plen,
                    const struct srm_math_opts *o, struct srm_math_result *r);

/*
** Parses one answer and prints its normalized form ("1/2 + sqrt(3)", "{1, 2}", "[0, 1)").
** Returns a malloc'd string, or NULL with a static message in *err (syntax error, limit).
** *is_limit (may be NULL) tells a limit apart from a syntax error.
*/
char *srm_math_normalize(const char *s, size_t len, const char **err, bool *is_limit);

#endif
