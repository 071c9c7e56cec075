/* srm fuzzing: math answer extraction, normalization and equivalence (runtime/srm_math*.c)
** on arbitrary text. Input: byte 0 sets the options (bits 0-1 targets, 2 strict, 3
** ordered_lists, 4 set_relation, 5-7 precision 0..7 as 2^k - 1 capped), the rest is
** "gold\0pred" (without a NUL the whole rest is both the model text and the prediction).
** Properties: every call returns (bounded work; libFuzzer's -timeout catches a hang), results
** are NUL-terminated at the returned length, and an extracted answer compares equal to
** itself unless a limit was hit. */
#include "srm_math.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, const char *a, size_t alen) {
  fprintf(stderr, "fuzz_math: %s: \"%.*s\"\n", what, (int)(alen > 200 ? 200 : alen), a);
  abort();
}

static void normalize(const char *s, size_t len) {
  const char *err = NULL;
  bool limit = false;
  char *out = srm_math_normalize(s, len, &err, &limit);
  if (out) {
    free(out);
  } else if (!err) {
    fail("normalize failed without a message", s, len);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  struct srm_math_opts o;
  srm_math_opts_init(&o);
  unsigned b = data[0];
  o.targets = (b & 3u) ? (b & 3u) : (SRM_MATH_LATEX | SRM_MATH_EXPR);
  o.strict = (b >> 2) & 1u;
  o.ordered_lists = (b >> 3) & 1u;
  o.set_relation = (b >> 4) & 1u;
  o.precision = (1 << (b >> 5)) - 1;
  const char *text = (const char *)data + 1;
  size_t len = size - 1;
  const char *nul = memchr(text, '\0', len);
  const char *gold = text, *pred = text;
  size_t glen = len, plen = len;
  if (nul) {
    glen = (size_t)(nul - text);
    pred = nul + 1;
    plen = len - glen - 1;
  }

  size_t alen = 0;
  const char *why = NULL;
  char *answer = srm_math_extract(pred, plen, &o, &alen, &why);
  if (answer) {
    if (answer[alen] != '\0') fail("extract: the answer is not NUL-terminated", answer, alen);
  } else if (!why) {
    fail("extract failed without a reason", pred, plen);
  }

  struct srm_math_result r;
  memset(&r, 0xA5, sizeof r);
  bool eq = srm_math_equal(gold, glen, answer ? answer : pred, answer ? alen : plen, &o, &r);
  if (eq != r.equal) fail("equal: return value differs from r.equal", gold, glen);
  if (!memchr(r.how, '\0', sizeof r.how) || !memchr(r.why, '\0', sizeof r.why))
    fail("equal: how/why not NUL-terminated", gold, glen);

  normalize(gold, glen);
  if (answer) normalize(answer, alen);

  /* a parsable answer equals itself */
  if (answer) {
    struct srm_math_result self;
    if (!srm_math_equal(answer, alen, answer, alen, &o, &self) && !self.limit)
      fail(self.why, answer, alen);
    free(answer);
  }
  return 0;
}
