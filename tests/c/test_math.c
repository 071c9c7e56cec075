/* srm: Check tests of the math core (runtime/srm_math*.c): extraction, equivalence, the
** normalized printer, limits, and a fuzz run of 10,000 random and adversarial LaTeX strings in
** which every call must return within its time budget. */
#include "srm_math.h"

#include "check_main.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__SANITIZE_ADDRESS__)
#define CALL_BUDGET_MS 400.0 /* sanitizers slow everything down several times */
#else
#define CALL_BUDGET_MS 50.0
#endif

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static char *extract(const char *text, const struct srm_math_opts *o) {
  size_t n = 0;
  return srm_math_extract(text, strlen(text), o, &n, NULL);
}

static bool eq(const char *g, const char *p, const struct srm_math_opts *o) {
  struct srm_math_result r;
  return srm_math_equal(g, strlen(g), p, strlen(p), o, &r);
}

/* ---- extraction ---- */

struct xcase {
  const char *text, *want; /* want NULL: nothing */
};

static const struct xcase extract_cases[] = {
    {"The answer is $\\boxed{\\frac{1}{2}}$.", "\\frac{1}{2}"},
    {"first \\boxed{3}, then we fix it: so the result is \\boxed{4}", "4"},
    {"nested \\boxed{\\frac{\\sqrt{2}}{2}} done", "\\frac{\\sqrt{2}}{2}"},
    {"\\fbox{7}", "7"},
    {"$\\boxed{1}$ and $\\boxed{2}$", "1, 2"},
    {"\\boxed{1} no no no no no \\boxed{2}", "2"},
    {"unbalanced \\boxed{\\frac{1}{2}", "\\frac{1}{2}"},
    {"Final Answer: The final answer is $28 \\%$. I hope it is correct.", "28 \\%"},
    {"Final Answer: The largest $n$ is 34.", "34"},
    {"16 - 3 - 4 = 9 eggs, 9 * 2 = 18\n#### 18", "18"},
    {"She makes 9 * 2 = 18 dollars\nA: 1,800", "1800"},
    {"Answer: (C)", "C"},
    {"The answer is B.", "B"},
    {"the answer is 1,000.5 dollars", "1000.5"},
    {"$\\frac{1}{2}$", "\\frac{1}{2}"},
    {"0.5", "0.5"},
    {"x^2 + 1", "x^2 + 1"},
    {"\\left( 3, \\frac{\\pi}{2} \\right)", "\\left( 3, \\frac{\\pi}{2} \\right)"},
    {"so the number is 10 which is 1,000.99m\xc2\xb2", "1000.99"},
    {"I am not sure.", NULL},
    {"", NULL},
    {"Answer $ \n 9 \n $", "9"},
    {"It is $x = 5$ and then $y = 7$.", "y = 7"},
    {"probability is 2/3. <|im_start|>user", "2/3"},
    {"increases by 100%.", "100%"},
    {"\\begin{pmatrix} -2 \\\\ -14 \\end{pmatrix}", "\\begin{pmatrix} -2 \\\\ -14 \\end{pmatrix}"},
};

START_TEST(test_extract_table) {
  for (size_t k = 0; k < sizeof extract_cases / sizeof extract_cases[0]; k++) {
    const struct xcase *c = &extract_cases[k];
    char *got = extract(c->text, NULL);
    if (c->want == NULL) {
      ck_assert_msg(got == NULL, "case %zu: expected nothing, got '%s'", k, got ? got : "");
    } else {
      ck_assert_msg(got != NULL, "case %zu: nothing extracted from '%s'", k, c->text);
      ck_assert_msg(strcmp(got, c->want) == 0, "case %zu: got '%s', want '%s'", k, got, c->want);
    }
    free(got);
  }
}
END_TEST

START_TEST(test_extract_targets) {
  struct srm_math_opts o;
  srm_math_opts_init(&o);
  o.targets = SRM_MATH_LATEX;
  char *got = extract("Answer $ \n 9 \n $", &o);
  ck_assert_ptr_null(got); /* inline $ cannot span lines; no plain numbers in latex mode */
  o.targets = SRM_MATH_EXPR;
  got = extract("AZYUK2A", &o);
  ck_assert_ptr_null(got);
  got = extract("Soucis : 2,74 $ a..", &o);
  ck_assert_str_eq(got, "2.74");
  free(got);
}
END_TEST

/* ---- equivalence ---- */

struct ecase {
  const char *gold, *pred;
  int want;
};

static const struct ecase equal_cases[] = {
    /* numbers */
    {"1/2", "0.5", 1},
    {"\\frac{1}{2}", "\\dfrac12", 1},
    {"7425000", "7,425,000", 1},
    {"1000", "1000.0", 1},
    {"0.4", ".4", 1},
    {"\\frac{1}{3}", "0.333333", 1},
    {"\\frac{1}{3}", "0.33", 0},
    {"2", "3", 0},
    {"2.5e3", "2500", 1},
    {"1.5 \\times 10^{3}", "1500", 1},
    {"10^{20}", "100000000000000000000", 1},
    {"10^{20} + 1", "10^{20}", 0},
    {"123456789012345678", "123456789012345679", 0},
    {"-5", "-5", 1},
    {"\\$10", "10", 1},
    {"28\\%", "28", 1},
    {"28\\%", "0.28", 1},
    {"0.28", "28", 0},
    {"10\\text{ units}", "10", 1},
    {"15\\mbox{ cm}^2", "15", 1},
    {"90^\\circ", "90", 1},
    {"204_5", "54", 1},
    /* radicals, pi, algebra */
    {"\\sqrt{8}", "2\\sqrt{2}", 1},
    {"\\sqrt{2}+\\sqrt{5}", "\\sqrt 2+\\sqrt 5", 1},
    {"4", "4\\sqrt{2}", 0},
    {"\\frac{9}{4}\\pi", "\\frac94\\pi", 1},
    {"2\\pi", "6.283185", 1},
    {"(x-2)(x+2)", "x^2-4", 1},
    {"x^2+2x+1", "(x+1)^2", 1},
    {"x+2n+1", "x+1", 0},
    {"\\tan^2(y)+1", "\\sec^2(y)", 1},
    {"\\frac{x+2}{7}", "\\frac{x}{7}+\\frac{2}{7}", 1},
    {"\\frac34i", "\\frac{3}{4}i", 1},
    {"i^2", "-1", 1},
    {"e^{i\\pi}", "-1", 1},
    /* intervals, sets, tuples */
    {"[0,1)", "[0,1)", 1},
    {"(0,9)", "[0,9)", 0},
    {"(1, +\\infty)", "(1,\\infty)", 1},
    {"(-\\infty, -3] \\cup [2, \\infty)", "[2,\\infty)\\cup(-\\infty,-3]", 1},
    {"\\{1,2,3\\}", "\\{3,2,1\\}", 1},
    {"1,2,3", "3, 1, 2", 1},
    {"1,2", "1,2,3", 0},
    {"2", "1,2", 0},
    {"(1,3)", "(3,1)", 0},
    {"(1,3)", "\\{1,3\\}", 1},
    {"\\pm 2021", "\\{-2021, 2021\\}", 1},
    {"\\pm 2021", "2021", 0},
    {"1 \\pm \\sqrt{19}", "1+\\sqrt{19}, 1-\\sqrt{19}", 1},
    /* matrices */
    {"\\begin{pmatrix}1 & 0 \\\\ 0 & 1\\end{pmatrix}", "\\begin{bmatrix}1&0\\\\0&1\\end{bmatrix}",
     1},
    {"\\begin{pmatrix}6 & 8 \\\\ 10 & 12\\end{pmatrix}",
     "\\begin{pmatrix}1 & 2 \\\\ 3 & 4\\end{pmatrix} + \\begin{pmatrix}5 & 6 \\\\ 7 & "
     "8\\end{pmatrix}",
     1},
    {"\\begin{pmatrix}1 & 2 \\\\ 3 & 4\\end{pmatrix}",
     "\\begin{pmatrix}1 & 2 \\\\ 3 & 5\\end{pmatrix}", 0},
    /* relations */
    {"x = 5", "5", 1},
    {"5", "x=5", 1},
    {"x=1", "y=1", 0},
    {"7 = 11a+c", "11a+c", 0},
    {"x \\leq 5", "5 \\geq x", 1},
    {"x < 1", "-x > -1", 1},
    {"x < 1", "x > -1", 0},
    {"2x+4y-3=0", "y=-\\frac{1}{2}x+\\frac{3}{4}", 1},
    {"x^2/4 + y^2/3 = 1", "x^2/16 + y^2/12 = 1/4", 1},
    {"-2 \\le x \\le 7", "x \\in [-2,7]", 1},
    {"k \\ge 2", "[2, \\infty)", 1},
    {"x = 5+5+1 = 7 = 11", "x = 11", 1},
    {"x \\approx 11", "11", 1},
    /* symbols and text */
    {"\\text{Evelyn}", "\\text{Evelyn}", 1},
    {"\\text{odd}", "odd", 1},
    {"\\text{E}", "E", 1},
    {"d", "\\text{E}", 0},
    {"\\text{(C)}", "C", 1},
    {"f(x)", "f(y)", 0},
    {"\\sum_{k=0}^{n-1} F_k F_{n-k-1}", "\\sum_{k=0}^{n-1} F_{n-k-1} F_k", 1},
    {"\\sum_{k=0}^{n-1} F_k F_{n-k-1}", "\\sum_{k=0}^{n-2} F_k F_{n-k-2}", 0},
    /* unparsable sides compare as text */
    {"\\frac{", "\\frac{", 1},
    {"\\frac{", "\\frac{1}", 0},
};

START_TEST(test_equal_table) {
  for (size_t k = 0; k < sizeof equal_cases / sizeof equal_cases[0]; k++) {
    const struct ecase *c = &equal_cases[k];
    struct srm_math_result r;
    bool got = srm_math_equal(c->gold, strlen(c->gold), c->pred, strlen(c->pred), NULL, &r);
    ck_assert_msg(got == (c->want == 1), "case %zu: '%s' vs '%s': got %d (%s: %s)", k, c->gold,
                  c->pred, got, r.how, r.why);
  }
}
END_TEST

START_TEST(test_equal_options) {
  struct srm_math_opts o;
  srm_math_opts_init(&o);
  o.strict = false;
  ck_assert(eq("f(x)", "f(y)", &o));
  srm_math_opts_init(&o);
  o.ordered_lists = true;
  ck_assert(!eq("10, 4, -2", "4, 10, -2", &o));
  ck_assert(eq("10, 4, -2", "10, 4, -2", &o));
  srm_math_opts_init(&o);
  o.precision = 2;
  ck_assert(eq("(\\frac{3}{5},\\frac{8}{3}]", "(0.6,2.6667]", &o));
  o.precision = 6;
  ck_assert(!eq("(\\frac{3}{5},\\frac{8}{3}]", "(0.6,2.6667]", &o));
  srm_math_opts_init(&o);
  ck_assert(!eq("x \\in [-2,7]", "-2 \\le x \\le 7", &o));
  o.set_relation = true;
  ck_assert(eq("x \\in [-2,7]", "-2 \\le x \\le 7", &o));
}
END_TEST

START_TEST(test_equal_detail) {
  struct srm_math_result r;
  ck_assert(srm_math_equal("1/2", 3, "0.5", 3, NULL, &r));
  ck_assert_str_eq(r.how, "rounded");
  ck_assert(!srm_math_equal("[0,1)", 5, "(0,1)", 5, NULL, &r));
  ck_assert_str_eq(r.how, "interval");
  ck_assert_str_eq(r.why, "not equal (interval comparison)");
  ck_assert(!r.limit);
  ck_assert(!srm_math_equal("\\frac{", 6, "2", 1, NULL, &r));
  ck_assert(r.gold_failed);
  ck_assert(!r.pred_failed);
  ck_assert_str_eq(r.how, "text");
}
END_TEST

/* ---- normalized form ---- */

struct ncase {
  const char *in, *out;
};

static const struct ncase norm_cases[] = {
    {"\\frac{1}{2}", "1/2"},
    {"\\left( 3, \\frac{\\pi}{2} \\right)", "(3, pi/2)"},
    {"1 \\pm \\sqrt{19}", "1 + sqrt(19), 1 - sqrt(19)"},
    {"[0,1)", "[0, 1)"},
    {"\\{1,2\\}", "{1, 2}"},
    {"10{,}455", "10455"},
    {"14 {, }916", "14916"},
    {"11,\\! 111,\\! 111,\\! 100", "11111111100"},
    {"32, 349", "32, 349"},
    {"\\$10,455", "10455"},
    {"x \\ge 2", "x >= 2"},
    {"\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}", "[1, 2; 3, 4]"},
    {"\\\\frac{1}{2}", "1/2"},
    {"a_{37}", "a_37"},
    {"28 percent", "28%"},
};

START_TEST(test_normalize) {
  for (size_t k = 0; k < sizeof norm_cases / sizeof norm_cases[0]; k++) {
    const char *err = NULL;
    char *got = srm_math_normalize(norm_cases[k].in, strlen(norm_cases[k].in), &err, NULL);
    ck_assert_msg(got != NULL, "case %zu: %s", k, err);
    ck_assert_msg(strcmp(got, norm_cases[k].out) == 0, "case %zu: got '%s', want '%s'", k, got,
                  norm_cases[k].out);
    free(got);
  }
  const char *err = NULL;
  bool limit = true;
  ck_assert_ptr_null(srm_math_normalize("\\frac{1}{", 9, &err, &limit));
  ck_assert(!limit);
  ck_assert_str_eq(err, "empty expression");
  ck_assert_ptr_null(srm_math_normalize("\\frac{1}{2", 10, &err, &limit));
  ck_assert_str_eq(err, "unbalanced braces");
  ck_assert_ptr_null(srm_math_normalize("\\zzz", 4, &err, &limit));
  ck_assert_str_eq(err, "unknown LaTeX command");
  ck_assert_ptr_null(srm_math_normalize("1 \xff 2", 5, &err, &limit));
  ck_assert_str_eq(err, "invalid UTF-8");
}
END_TEST

/* ---- limits ---- */

static char *repeat(const char *unit, size_t times, const char *middle, const char *closing) {
  size_t u = strlen(unit), m = strlen(middle), c = strlen(closing);
  char *s = malloc(times * (u + c) + m + 1);
  size_t k = 0;
  for (size_t i = 0; i < times; i++)
    memcpy(s + k, unit, u), k += u;
  memcpy(s + k, middle, m), k += m;
  for (size_t i = 0; i < times; i++)
    memcpy(s + k, closing, c), k += c;
  s[k] = '\0';
  return s;
}

START_TEST(test_limits) {
  struct srm_math_result r;
  /* deep nesting: a limit, not a crash */
  char *deep = repeat("(", 2000, "1", ")");
  const char *err = NULL;
  bool limit = false;
  ck_assert_ptr_null(srm_math_normalize(deep, strlen(deep), &err, &limit));
  ck_assert(limit);
  ck_assert_str_eq(err, "nesting too deep");
  ck_assert(!srm_math_equal(deep, strlen(deep), "1", 1, NULL, &r));
  ck_assert(r.limit);
  ck_assert(srm_math_equal(deep, strlen(deep), deep, strlen(deep), NULL, &r)); /* identical */
  free(deep);
  deep = repeat("(", 5000, "1", ")");
  ck_assert_ptr_null(srm_math_normalize(deep, strlen(deep), &err, &limit));
  ck_assert(limit);
  ck_assert_str_eq(err, "too many tokens");
  free(deep);
  char *fracs = repeat("\\frac{1}{", 3000, "2", "}");
  ck_assert(!srm_math_equal(fracs, strlen(fracs), "0", 1, NULL, &r));
  ck_assert(r.limit);
  free(fracs);
  /* huge exponents compare without hanging, and differ */
  ck_assert(!eq("10^{10^{10}}", "10^{10^{11}}", NULL));
  ck_assert(eq("10^{10^{10}}", "10^{10^{10}}", NULL));
  ck_assert(!eq("2^{2^{2^{2^{2^{2^{2}}}}}}", "3", NULL));
  ck_assert(!eq("1000000!", "999999!", NULL));
  /* an answer longer than the limit */
  size_t big = SRM_MATH_MAX_ANSWER + 10;
  char *long_sum = malloc(big + 1);
  for (size_t i = 0; i < big; i++)
    long_sum[i] = (i % 2) ? '+' : '1';
  long_sum[big - 1] = '1';
  long_sum[big] = '\0';
  ck_assert(!srm_math_equal(long_sum, big, "5", 1, NULL, &r));
  ck_assert(r.limit);
  ck_assert_str_eq(r.why, "gold not parsed: answer too long");
  free(long_sum);
  /* a list over the element limit */
  char *list = repeat("1,", 3000, "1", "");
  ck_assert(!srm_math_equal(list, strlen(list), "1", 1, NULL, &r));
  ck_assert(r.limit);
  free(list);
}
END_TEST

/* ---- fuzz ---- */

static uint64_t rng = 0x2545F4914F6CDD1DULL;

static uint64_t rnd(void) {
  uint64_t z = (rng += UINT64_C(0x9E3779B97F4A7C15));
  z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
  return z ^ (z >> 31);
}

static const char *const atoms[] = {
    "\\frac",
    "\\dfrac",
    "{",
    "}",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    "\\{",
    "\\}",
    "\\left(",
    "\\right)",
    "\\sqrt",
    "^",
    "_",
    "x",
    "y",
    "2",
    "10",
    "3.5",
    "1,000",
    "\\pi",
    "e",
    "i",
    "+",
    "-",
    "\\cdot",
    "/",
    "=",
    "<",
    "\\le",
    ",",
    ";",
    " and ",
    "\\pm",
    "\\cup",
    "\\infty",
    "\\text{cm}",
    "\\%",
    "$",
    "$$",
    "\\boxed{",
    "\\[",
    "\\]",
    "\\(",
    "\\)",
    "&",
    "\\\\",
    "\\begin{pmatrix}",
    "\\end{pmatrix}",
    "\\sin",
    "\\log_",
    "!",
    "|",
    "\\sum_{k=1}^{n}",
    "The answer is ",
    "final answer is ",
    "####",
    "A: ",
    "\xc3\x97",
    "\xff",
    "\xe2\x88",
    "0.",
    "e5",
    "\\zzz",
    "'",
    "\\mathrm{e}",
    "\\quad",
    "\\,",
    "{,}",
    ":",
    "\n",
    " ",
};

/* A random string of n atoms. */
static char *random_latex(size_t n) {
  size_t cap = n * 24 + 1, k = 0;
  char *s = malloc(cap);
  for (size_t i = 0; i < n; i++) {
    const char *a = atoms[rnd() % (sizeof atoms / sizeof atoms[0])];
    size_t m = strlen(a);
    memcpy(s + k, a, m);
    k += m;
  }
  s[k] = '\0';
  return s;
}

/* Adversarial shapes: deep nesting, huge exponents, long runs, unbalanced braces, 1 MB. */
static char *adversarial(int kind, size_t scale) {
  switch (kind) {
  case 0:
    return repeat("{", scale, "1", "}");
  case 1:
    return repeat("\\frac{1}{", scale, "x", "}");
  case 2:
    return repeat("10^{", scale, "10", "}");
  case 3:
    return repeat("\\boxed{", scale, "", "");
  case 4:
    return repeat("\\sqrt{", scale, "2", "");
  case 5:
    return repeat("1 + ", scale, "1", "");
  case 6:
    return repeat("$", scale, "", "");
  case 7:
    return repeat("\\[ ", scale, "x", "");
  case 8:
    return repeat("answer ", scale, "1", "");
  case 9:
    return repeat("1 ", scale, "2+2+2a", "");
  case 10:
    return repeat("(", scale, "", "]");
  case 11:
    return repeat("\\pm 1", scale, "", "");
  default:
    return repeat("-", scale, "1", "");
  }
}

struct fuzz_stats {
  double worst, total;
  long calls;
  size_t worst_len;
  int worst_call;
  char worst_head[40];
};

static void timed_calls(const char *a, const char *b, struct fuzz_stats *st) {
  struct srm_math_result r;
  size_t na = strlen(a), nb = strlen(b), n;
  double t0 = now_ms();
  char *x = srm_math_extract(a, na, NULL, &n, NULL);
  double t1 = now_ms();
  srm_math_equal(a, na, b, nb, NULL, &r);
  double t2 = now_ms();
  char *y = srm_math_normalize(a, na, NULL, NULL);
  double t3 = now_ms();
  if (x) {
    srm_math_equal(x, strlen(x), b, nb, NULL, &r);
    free(x);
  }
  double t4 = now_ms();
  free(y);
  double d[4] = {t1 - t0, t2 - t1, t3 - t2, t4 - t3};
  for (int k = 0; k < 4; k++) {
    if (d[k] > st->worst) {
      st->worst = d[k];
      st->worst_len = na;
      st->worst_call = k;
      snprintf(st->worst_head, sizeof st->worst_head, "%.30s", a);
    }
    ck_assert_msg(d[k] < CALL_BUDGET_MS, "call %d took %.1f ms on input of %zu bytes: %.60s", k,
                  d[k], na, a);
  }
  st->total += t4 - t0;
  st->calls += 4;
}

START_TEST(test_fuzz) {
  struct fuzz_stats st = {0};
  double t0 = now_ms();
  for (int i = 0; i < 10000; i++) {
    char *a, *b;
    if (i % 50 == 0) {
      int kind = (i / 50) % 13;
      size_t scale = (size_t)(i % 1000 == 0 ? 200000 : 2000 + rnd() % 20000);
      a = adversarial(kind, scale);
      b = random_latex(8);
    } else {
      a = random_latex(1 + rnd() % 40);
      b = random_latex(1 + rnd() % 40);
    }
    timed_calls(a, b, &st);
    free(a);
    free(b);
  }
  /* 1 MB inputs */
  for (int kind = 0; kind < 13; kind++) {
    char *a = adversarial(kind, (size_t)1 << 20 >> 2);
    timed_calls(a, "1", &st);
    free(a);
  }
  char *mb = random_latex((size_t)1 << 17);
  timed_calls(mb, mb, &st);
  free(mb);
  double total = now_ms() - t0;
  fprintf(stderr, "fuzz: %ld calls in %.0f ms, worst call %.2f ms (call %d, %zu bytes: %s)\n",
          st.calls, total, st.worst, st.worst_call, st.worst_len, st.worst_head);
  ck_assert_msg(total < 60000.0, "fuzz took %.0f ms", total);
}
END_TEST

static Suite *math_suite(void) {
  Suite *s = suite_create("math");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 600);
  tcase_add_test(tc, test_extract_table);
  tcase_add_test(tc, test_extract_targets);
  tcase_add_test(tc, test_equal_table);
  tcase_add_test(tc, test_equal_options);
  tcase_add_test(tc, test_equal_detail);
  tcase_add_test(tc, test_normalize);
  tcase_add_test(tc, test_limits);
  tcase_add_test(tc, test_fuzz);
  suite_add_tcase(s, tc);
  return s;
}

SRM_CHECK_MAIN(math_suite)
