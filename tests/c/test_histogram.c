/* srm: Check tests of the `srm run` summary's score histogram (runtime/srm_histogram.c): bin
** edges, out-of-range and NaN scores, bar scaling and the exact text. */
#include "srm_histogram.h"

#include "check_main.h"

#include <check.h>
#include <math.h>
#include <string.h>

START_TEST(test_bins) {
  ck_assert_int_eq(srm_histogram_bin(0.0), 0);
  ck_assert_int_eq(srm_histogram_bin(0.0999), 0);
  ck_assert_int_eq(srm_histogram_bin(0.1), 1);
  ck_assert_int_eq(srm_histogram_bin(0.5), 5);
  ck_assert_int_eq(srm_histogram_bin(0.95), 9);
  ck_assert_int_eq(srm_histogram_bin(1.0), 9);
  ck_assert_int_eq(srm_histogram_bin(-0.0), 0);
  ck_assert_int_eq(srm_histogram_bin(-1e-12), -1);
  ck_assert_int_eq(srm_histogram_bin(1.0000001), SRM_HISTOGRAM_BINS);
  ck_assert_int_eq(srm_histogram_bin(INFINITY), SRM_HISTOGRAM_BINS);
  ck_assert_int_eq(srm_histogram_bin(-INFINITY), -1);
  ck_assert_int_eq(srm_histogram_bin(NAN), -2);
}
END_TEST

START_TEST(test_add_and_total) {
  struct srm_histogram h = {0};
  const double scores[] = {0, 0.05, 0.5, 1, 1, -0.2, 3, NAN};
  for (size_t i = 0; i < sizeof scores / sizeof scores[0]; i++)
    srm_histogram_add(&h, scores[i]);
  ck_assert_uint_eq(h.bins[0], 2);
  ck_assert_uint_eq(h.bins[5], 1);
  ck_assert_uint_eq(h.bins[9], 2);
  ck_assert_uint_eq(h.below, 1);
  ck_assert_uint_eq(h.above, 1);
  ck_assert_uint_eq(srm_histogram_total(&h), 7);
}
END_TEST

START_TEST(test_empty) {
  struct srm_histogram h = {0};
  char buf[16] = "x";
  ck_assert_uint_eq(srm_histogram_format(&h, buf, sizeof buf), 0);
  ck_assert_str_eq(buf, "");
}
END_TEST

static const char *const EXPECTED = "  score histogram of the ok rows:\n"
                                    "    0.0-0.1   ##############################  40  40.0%\n"
                                    "    0.1-0.2                                    0   0.0%\n"
                                    "    0.2-0.3                                    0   0.0%\n"
                                    "    0.3-0.4                                    0   0.0%\n"
                                    "    0.4-0.5                                    0   0.0%\n"
                                    "    0.5-0.6   ###############                 20  20.0%\n"
                                    "    0.6-0.7                                    0   0.0%\n"
                                    "    0.7-0.8   #                                1   1.0%\n"
                                    "    0.8-0.9                                    0   0.0%\n"
                                    "    0.9-1.0   ##########################      35  35.0%\n"
                                    "    > 1       ###                              4   4.0%\n";

static void fill(struct srm_histogram *h) {
  for (int i = 0; i < 40; i++)
    srm_histogram_add(h, 0.0);
  for (int i = 0; i < 20; i++)
    srm_histogram_add(h, 0.55);
  srm_histogram_add(h, 0.75);
  for (int i = 0; i < 35; i++)
    srm_histogram_add(h, 1.0);
  for (int i = 0; i < 4; i++)
    srm_histogram_add(h, 2.0);
}

START_TEST(test_format_exact) {
  struct srm_histogram h = {0};
  fill(&h);
  char buf[2048];
  size_t n = srm_histogram_format(&h, buf, sizeof buf);
  ck_assert_str_eq(buf, EXPECTED);
  ck_assert_uint_eq(n, strlen(EXPECTED));
}
END_TEST

START_TEST(test_format_truncates) {
  struct srm_histogram h = {0};
  fill(&h);
  char small[20];
  size_t n = srm_histogram_format(&h, small, sizeof small);
  ck_assert_uint_eq(n, strlen(EXPECTED)); /* the length the whole text needs */
  ck_assert_uint_eq(strlen(small), sizeof small - 1);
  ck_assert_int_eq(strncmp(small, EXPECTED, sizeof small - 1), 0);
  ck_assert_uint_eq(srm_histogram_format(&h, NULL, 0), strlen(EXPECTED));
}
END_TEST

START_TEST(test_below_and_large_counts) {
  struct srm_histogram h = {0};
  h.below = 1;
  h.bins[3] = 9999999;
  char buf[2048];
  srm_histogram_format(&h, buf, sizeof buf);
  const char *below = strstr(buf, "    < 0       #                                     1   0.0%\n");
  ck_assert_ptr_nonnull(below);
  ck_assert_ptr_nonnull(
      strstr(buf, "    0.3-0.4   ##############################  9999999 100.0%\n"));
  ck_assert_ptr_null(strstr(buf, "> 1"));
  ck_assert_ptr_eq(strchr(buf, '\n') + 1, below); /* "< 0" comes first */
}
END_TEST

static Suite *make_suite(void) {
  Suite *s = suite_create("histogram");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, test_bins);
  tcase_add_test(tc, test_add_and_total);
  tcase_add_test(tc, test_empty);
  tcase_add_test(tc, test_format_exact);
  tcase_add_test(tc, test_format_truncates);
  tcase_add_test(tc, test_below_and_large_counts);
  suite_add_tcase(s, tc);
  return s;
}

SRM_CHECK_MAIN(make_suite)
