/* srm tests: the limiting allocator (runtime/srm_alloc.c): refusals past the limit, Lua's
** emergency-collection retry forgiven, a real refusal reported once through on_exceeded. */
#include "check_main.h"
#include "srm_alloc.h"

static int exceeded_calls;
static void count_exceeded(void *ud) {
  (void)ud;
  exceeded_calls++;
}

static void setup_alloc(struct srm_alloc *a, size_t limit) {
  srm_alloc_init(a, limit);
  a->enforcing = 1;
  a->on_exceeded = count_exceeded;
  a->on_exceeded_ud = a;
  exceeded_calls = 0;
}

START_TEST(within_the_limit) {
  struct srm_alloc a;
  setup_alloc(&a, 1000);
  void *p = srm_alloc_fn(&a, NULL, 0, 600);
  ck_assert_ptr_nonnull(p);
  ck_assert_uint_eq(a.used, 600);
  p = srm_alloc_fn(&a, p, 600, 900);
  ck_assert_ptr_nonnull(p);
  ck_assert_uint_eq(a.used, 900);
  ck_assert_int_eq(srm_alloc_exhausted(&a), 0);
  ck_assert_ptr_null(srm_alloc_fn(&a, p, 900, 0));
  ck_assert_uint_eq(a.used, 0);
  ck_assert_int_eq(exceeded_calls, 0);
}
END_TEST

START_TEST(retry_after_collection_is_forgiven) {
  struct srm_alloc a;
  setup_alloc(&a, 1000);
  void *big = srm_alloc_fn(&a, NULL, 0, 800);
  ck_assert_ptr_null(srm_alloc_fn(&a, NULL, 5, 400)); /* refused: pending */
  ck_assert_int_eq(srm_alloc_exhausted(&a), 1);
  srm_alloc_fn(&a, big, 800, 0);            /* the emergency collection frees garbage */
  void *p = srm_alloc_fn(&a, NULL, 5, 400); /* Lua's identical retry */
  ck_assert_ptr_nonnull(p);
  ck_assert_int_eq(srm_alloc_exhausted(&a), 0);
  ck_assert_int_eq(exceeded_calls, 0);
  srm_alloc_fn(&a, p, 400, 0);
}
END_TEST

START_TEST(real_refusal_reported_once) {
  struct srm_alloc a;
  setup_alloc(&a, 1000);
  void *big = srm_alloc_fn(&a, NULL, 0, 800);
  ck_assert_ptr_null(srm_alloc_fn(&a, NULL, 5, 400));
  ck_assert_int_eq(exceeded_calls, 0);                /* not yet: it may be a false alarm */
  ck_assert_ptr_null(srm_alloc_fn(&a, NULL, 5, 400)); /* the retry is refused too */
  ck_assert_int_eq(exceeded_calls, 1);
  ck_assert_int_eq(srm_alloc_exhausted(&a), 1);
  /* From now on a reserve (1 MiB here, limit / 16 for large limits) is granted so that Lua can
  ** grow the stack to call the budget hook; beyond it everything is refused. */
  void *small = srm_alloc_fn(&a, NULL, 5, 400);
  ck_assert_ptr_nonnull(small);
  ck_assert_ptr_null(srm_alloc_fn(&a, NULL, 4, (size_t)1 << 20));
  ck_assert_int_eq(exceeded_calls, 1); /* reported once until the flags are cleared */
  srm_alloc_fn(&a, small, 400, 0);
  srm_alloc_clear(&a);
  ck_assert_ptr_null(srm_alloc_fn(&a, NULL, 5, 400)); /* no reserve after clearing */
  ck_assert_ptr_null(srm_alloc_fn(&a, NULL, 6, 500)); /* a different request comes first */
  ck_assert_int_eq(exceeded_calls, 2);
  srm_alloc_fn(&a, big, 800, 0);
}
END_TEST

START_TEST(reserve_scales_with_the_limit) {
  struct srm_alloc a;
  size_t limit = (size_t)64 << 20;
  setup_alloc(&a, limit);
  a.used = limit; /* pretend the state is full */
  ck_assert_ptr_null(srm_alloc_fn(&a, NULL, 5, 100));
  ck_assert_ptr_null(srm_alloc_fn(&a, NULL, 5, 100));
  ck_assert_int_eq(exceeded_calls, 1);
  void *p = srm_alloc_fn(&a, NULL, 5, (size_t)3 << 20); /* within limit / 16 = 4 MiB */
  ck_assert_ptr_nonnull(p);
  ck_assert_ptr_null(srm_alloc_fn(&a, NULL, 5, (size_t)2 << 20)); /* 5 MiB over: refused */
  srm_alloc_fn(&a, p, (size_t)3 << 20, 0);
}
END_TEST

START_TEST(not_enforcing_never_refuses) {
  struct srm_alloc a;
  setup_alloc(&a, 100);
  a.enforcing = 0;
  void *p = srm_alloc_fn(&a, NULL, 0, 5000);
  ck_assert_ptr_nonnull(p);
  ck_assert_int_eq(exceeded_calls, 0);
  srm_alloc_fn(&a, p, 5000, 0);
}
END_TEST

static Suite *alloc_suite(void) {
  Suite *s = suite_create("alloc");
  TCase *tc = tcase_create("alloc");
  tcase_add_test(tc, within_the_limit);
  tcase_add_test(tc, retry_after_collection_is_forgiven);
  tcase_add_test(tc, real_refusal_reported_once);
  tcase_add_test(tc, reserve_scales_with_the_limit);
  tcase_add_test(tc, not_enforcing_never_refuses);
  suite_add_tcase(s, tc);
  return s;
}

SRM_CHECK_MAIN(alloc_suite)
