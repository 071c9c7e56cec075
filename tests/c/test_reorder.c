/* srm: Check tests of the reorder buffer (runtime/srm_reorder.c): rows put out of order come
** out in seq order exactly once; NULL rows, duplicates, accounting and ring growth. */
#include "srm_reorder.h"

#include "check_main.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ---- */

static uint64_t rng_state;

static uint64_t rnd(void) { /* splitmix64 */
  uint64_t z = (rng_state += UINT64_C(0x9E3779B97F4A7C15));
  z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
  return z ^ (z >> 31);
}

/* A malloc'ed row "row <seq>" (its length through *len). */
static char *make_row(uint64_t seq, size_t *len) {
  char tmp[64];
  int n = snprintf(tmp, sizeof tmp, "row %llu", (unsigned long long)seq);
  ck_assert_int_gt(n, 0);
  char *row = malloc((size_t)n);
  ck_assert_ptr_nonnull(row);
  memcpy(row, tmp, (size_t)n); /* no terminator: emit must honour len */
  *len = (size_t)n;
  return row;
}

static int put_row(struct srm_reorder *r, uint64_t seq) {
  size_t len;
  char *row = make_row(seq, &len);
  return srm_reorder_put(r, seq, row, len);
}

/* Records what emit saw: each row must be "row <expected next>". */
struct sink {
  uint64_t expect; /* next seq expected to be emitted */
  size_t emitted;
  uint64_t *skip; /* seqs whose row is NULL (sorted), or NULL */
  size_t nskip, skip_at;
};

static void sink_emit(void *ud, const char *row, size_t len) {
  struct sink *k = ud;
  while (k->skip_at < k->nskip && k->skip[k->skip_at] == k->expect) {
    k->skip_at++;
    k->expect++;
  }
  char want[64];
  int n = snprintf(want, sizeof want, "row %llu", (unsigned long long)k->expect);
  ck_assert_uint_eq(len, (size_t)n);
  ck_assert(memcmp(row, want, len) == 0);
  k->expect++;
  k->emitted++;
}

/* ---- tests ---- */

START_TEST(in_order) {
  struct srm_reorder *r = srm_reorder_new(0);
  struct sink k = {0};
  for (uint64_t s = 0; s < 1000; s++) {
    ck_assert_int_eq(put_row(r, s), 0);
    ck_assert_uint_eq(srm_reorder_held(r), 1);
    ck_assert_uint_eq(srm_reorder_release(r, sink_emit, &k), 1);
    ck_assert_uint_eq(srm_reorder_next(r), s + 1);
    ck_assert_uint_eq(srm_reorder_held(r), 0);
  }
  ck_assert_uint_eq(k.emitted, 1000);
  ck_assert_uint_eq(srm_reorder_release(r, sink_emit, &k), 0);
  srm_reorder_free(r);
}
END_TEST

START_TEST(reverse_order) {
  const uint64_t first = 1000, n = 5000;
  struct srm_reorder *r = srm_reorder_new(first);
  struct sink k = {.expect = first};
  ck_assert_uint_eq(srm_reorder_next(r), first);
  for (uint64_t i = n; i-- > 1;) {
    ck_assert_int_eq(put_row(r, first + i), 0);
    ck_assert_uint_eq(srm_reorder_release(r, sink_emit, &k), 0);
    ck_assert_uint_eq(srm_reorder_held(r), n - i);
    ck_assert_uint_eq(srm_reorder_next(r), first);
  }
  ck_assert_uint_eq(k.emitted, 0);
  ck_assert_int_eq(put_row(r, first), 0);
  ck_assert_uint_eq(srm_reorder_held(r), n);
  ck_assert_uint_eq(srm_reorder_release(r, sink_emit, &k), n);
  ck_assert_uint_eq(k.emitted, n);
  ck_assert_uint_eq(k.expect, first + n);
  ck_assert_uint_eq(srm_reorder_next(r), first + n);
  ck_assert_uint_eq(srm_reorder_held(r), 0);
  srm_reorder_free(r);
}
END_TEST

START_TEST(random_permutation) {
  enum { N = 100000 };
  uint64_t *perm = malloc(N * sizeof *perm);
  ck_assert_ptr_nonnull(perm);
  for (uint64_t i = 0; i < N; i++)
    perm[i] = i;
  rng_state = 99;
  for (size_t i = N - 1; i > 0; i--) { /* Fisher-Yates */
    size_t j = (size_t)(rnd() % (i + 1));
    uint64_t t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  const uint64_t first = UINT64_C(1) << 40;
  struct srm_reorder *r = srm_reorder_new(first);
  struct sink k = {.expect = first};
  size_t released = 0, puts = 0;
  for (size_t i = 0; i < N; i++) {
    ck_assert_int_eq(put_row(r, first + perm[i]), 0);
    puts++;
    if (rnd() % 4 == 0) released += srm_reorder_release(r, sink_emit, &k);
    ck_assert_uint_eq(srm_reorder_held(r), puts - released);
    ck_assert_uint_eq(srm_reorder_next(r), first + released);
  }
  released += srm_reorder_release(r, sink_emit, &k);
  ck_assert_uint_eq(released, N);
  ck_assert_uint_eq(k.emitted, N);
  ck_assert_uint_eq(k.expect, first + N);
  ck_assert_uint_eq(srm_reorder_held(r), 0);
  srm_reorder_free(r);
  free(perm);
}
END_TEST

START_TEST(null_rows_skipped) {
  struct srm_reorder *r = srm_reorder_new(10);
  uint64_t skip[] = {10, 12, 13, 17};
  struct sink k = {.expect = 10, .skip = skip, .nskip = 4};
  for (uint64_t s = 19; s >= 10; s--) {
    int is_null = s == 10 || s == 12 || s == 13 || s == 17;
    if (is_null)
      ck_assert_int_eq(srm_reorder_put(r, s, NULL, 0), 0);
    else
      ck_assert_int_eq(put_row(r, s), 0);
  }
  ck_assert_uint_eq(srm_reorder_held(r), 10);
  ck_assert_uint_eq(srm_reorder_release(r, sink_emit, &k), 10); /* NULL seqs count as released */
  ck_assert_uint_eq(k.emitted, 6);
  ck_assert_uint_eq(k.expect, 20);
  ck_assert_uint_eq(srm_reorder_next(r), 20);
  /* a trailing NULL run is released too */
  ck_assert_int_eq(srm_reorder_put(r, 20, NULL, 0), 0);
  ck_assert_int_eq(srm_reorder_put(r, 21, NULL, 0), 0);
  ck_assert_uint_eq(srm_reorder_release(r, sink_emit, &k), 2);
  ck_assert_uint_eq(k.emitted, 6);
  ck_assert_uint_eq(srm_reorder_next(r), 22);
  srm_reorder_free(r);
}
END_TEST

START_TEST(duplicates_rejected) {
  struct srm_reorder *r = srm_reorder_new(5);
  struct sink k = {.expect = 5};
  ck_assert_int_eq(put_row(r, 7), 0);
  ck_assert_int_eq(put_row(r, 7), -1); /* already stored (the row is freed: ASan checks) */
  ck_assert_int_eq(srm_reorder_put(r, 7, NULL, 0), -1);
  ck_assert_uint_eq(srm_reorder_held(r), 1);
  ck_assert_int_eq(put_row(r, 5), 0);
  ck_assert_int_eq(put_row(r, 6), 0);
  ck_assert_uint_eq(srm_reorder_release(r, sink_emit, &k), 3);
  ck_assert_int_eq(put_row(r, 6), -1); /* already released */
  ck_assert_int_eq(put_row(r, 4), -1); /* before first_seq */
  ck_assert_int_eq(srm_reorder_put(r, 0, NULL, 0), -1);
  ck_assert_uint_eq(srm_reorder_held(r), 0);
  ck_assert_uint_eq(srm_reorder_next(r), 8);
  ck_assert_uint_eq(k.emitted, 3);
  ck_assert_int_eq(put_row(r, 8), 0); /* the next one is still welcome */
  ck_assert_uint_eq(srm_reorder_release(r, sink_emit, &k), 1);
  ck_assert_uint_eq(k.emitted, 4);
  srm_reorder_free(r);
}
END_TEST

START_TEST(held_and_next_accounting) {
  struct srm_reorder *r = srm_reorder_new(0);
  struct sink k = {0};
  ck_assert_uint_eq(srm_reorder_held(r), 0);
  ck_assert_uint_eq(srm_reorder_next(r), 0);
  ck_assert_uint_eq(srm_reorder_release(r, sink_emit, &k), 0);
  ck_assert_int_eq(put_row(r, 2), 0);
  ck_assert_int_eq(put_row(r, 4), 0);
  ck_assert_uint_eq(srm_reorder_held(r), 2);
  ck_assert_uint_eq(srm_reorder_release(r, sink_emit, &k), 0);
  ck_assert_int_eq(put_row(r, 0), 0);
  ck_assert_uint_eq(srm_reorder_release(r, sink_emit, &k), 1); /* 0; 1 is missing */
  ck_assert_uint_eq(srm_reorder_next(r), 1);
  ck_assert_uint_eq(srm_reorder_held(r), 2);
  ck_assert_int_eq(put_row(r, 1), 0);
  ck_assert_uint_eq(srm_reorder_release(r, sink_emit, &k), 2); /* 1, 2; 3 is missing */
  ck_assert_uint_eq(srm_reorder_next(r), 3);
  ck_assert_uint_eq(srm_reorder_held(r), 1);
  ck_assert_int_eq(put_row(r, 3), 0);
  ck_assert_uint_eq(srm_reorder_release(r, sink_emit, &k), 2);
  ck_assert_uint_eq(srm_reorder_next(r), 5);
  ck_assert_uint_eq(srm_reorder_held(r), 0);
  ck_assert_uint_eq(k.emitted, 5);
  /* rows still held are freed by srm_reorder_free (LeakSanitizer checks) */
  ck_assert_int_eq(put_row(r, 6), 0);
  ck_assert_int_eq(put_row(r, 1000), 0);
  ck_assert_uint_eq(srm_reorder_held(r), 2);
  srm_reorder_free(r);
  srm_reorder_free(NULL);
}
END_TEST

/* With next in the middle of the ring, held rows wrap around its end; puts far ahead force
** several doublings, and every held row must survive the rehoming. */
START_TEST(growth_across_ring_boundary) {
  struct srm_reorder *r = srm_reorder_new(0);
  struct sink k = {0};
  for (uint64_t s = 0; s < 40; s++)
    ck_assert_int_eq(put_row(r, s), 0);
  ck_assert_uint_eq(srm_reorder_release(r, sink_emit, &k), 40);
  /* 41..100 wrap past slot 63 of the initial 64-slot ring; 40 stays missing */
  for (uint64_t s = 41; s <= 100; s++)
    ck_assert_int_eq(put_row(r, s), 0);
  ck_assert_uint_eq(srm_reorder_held(r), 60);
  /* far ahead: grows to cover 40 + 5000 */
  ck_assert_int_eq(put_row(r, 5040), 0);
  for (uint64_t s = 101; s < 5040; s += 3)
    ck_assert_int_eq(put_row(r, s), 0);
  ck_assert_int_eq(put_row(r, 77), -1); /* still a duplicate after growth */
  ck_assert_uint_eq(srm_reorder_release(r, sink_emit, &k), 0);
  ck_assert_int_eq(put_row(r, 40), 0);
  ck_assert_uint_eq(srm_reorder_release(r, sink_emit, &k), 62); /* 40..101 */
  ck_assert_uint_eq(srm_reorder_next(r), 102);
  for (uint64_t s = 102; s < 5040; s++)
    if ((s - 101) % 3 != 0) ck_assert_int_eq(put_row(r, s), 0);
  ck_assert_uint_eq(srm_reorder_release(r, sink_emit, &k), 5041 - 102);
  ck_assert_uint_eq(k.emitted, 5041);
  ck_assert_uint_eq(k.expect, 5041);
  ck_assert_uint_eq(srm_reorder_held(r), 0);
  /* and the grown ring keeps working across its own boundary */
  for (uint64_t round = 0; round < 4; round++) {
    uint64_t base = srm_reorder_next(r);
    for (uint64_t s = 3000; s-- > 0;)
      ck_assert_int_eq(put_row(r, base + s), 0);
    ck_assert_uint_eq(srm_reorder_release(r, sink_emit, &k), 3000);
  }
  ck_assert_uint_eq(k.emitted, 5041 + 12000);
  srm_reorder_free(r);
}
END_TEST

/* A put exactly one ring length ahead lands on next's own slot: the ring must grow. */
START_TEST(put_exactly_one_ring_ahead) {
  struct srm_reorder *r = srm_reorder_new(0);
  struct sink k = {0};
  ck_assert_int_eq(put_row(r, 0), 0);
  ck_assert_int_eq(put_row(r, 64), 0);
  ck_assert_int_eq(put_row(r, 128), 0);
  ck_assert_int_eq(put_row(r, 256), 0);
  ck_assert_uint_eq(srm_reorder_held(r), 4);
  ck_assert_uint_eq(srm_reorder_release(r, sink_emit, &k), 1);
  for (uint64_t s = 1; s < 256; s++)
    if (s != 64 && s != 128) ck_assert_int_eq(put_row(r, s), 0);
  ck_assert_uint_eq(srm_reorder_release(r, sink_emit, &k), 256);
  ck_assert_uint_eq(k.emitted, 257);
  ck_assert_uint_eq(srm_reorder_next(r), 257);
  srm_reorder_free(r);
}
END_TEST

/* emit may put more rows (e.g. a writer that completes the next seq); they are released in the
** same call. */
struct reentrant {
  struct srm_reorder *r;
  struct sink k;
};

static void reentrant_emit(void *ud, const char *row, size_t len) {
  struct reentrant *re = ud;
  uint64_t seq = re->k.expect;
  sink_emit(&re->k, row, len);
  if (seq < 200) ck_assert_int_eq(put_row(re->r, seq + 1), 0);
}

START_TEST(emit_may_put) {
  struct reentrant re = {.r = srm_reorder_new(0)};
  ck_assert_int_eq(put_row(re.r, 0), 0);
  ck_assert_uint_eq(srm_reorder_release(re.r, reentrant_emit, &re), 201);
  ck_assert_uint_eq(re.k.emitted, 201);
  ck_assert_uint_eq(srm_reorder_next(re.r), 201);
  srm_reorder_free(re.r);
}
END_TEST

static Suite *reorder_suite(void) {
  Suite *s = suite_create("reorder");
  TCase *tc = tcase_create("reorder");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, in_order);
  tcase_add_test(tc, reverse_order);
  tcase_add_test(tc, random_permutation);
  tcase_add_test(tc, null_rows_skipped);
  tcase_add_test(tc, duplicates_rejected);
  tcase_add_test(tc, held_and_next_accounting);
  tcase_add_test(tc, growth_across_ring_boundary);
  tcase_add_test(tc, put_exactly_one_ring_ahead);
  tcase_add_test(tc, emit_may_put);
  suite_add_tcase(s, tc);
  return s;
}

SRM_CHECK_MAIN(reorder_suite)
