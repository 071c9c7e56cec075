/* srm tests: the shared main() of the Check test programs. A test file defines
** `static Suite *make_suite(void)` and then writes SRM_CHECK_MAIN(make_suite). */
#ifndef SRM_CHECK_MAIN_H
#define SRM_CHECK_MAIN_H

#include <check.h>
#include <stdlib.h>

static inline int srm_check_run(Suite *suite) {
  SRunner *sr = srunner_create(suite);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#define SRM_CHECK_MAIN(make_suite)                                                                 \
  int main(void) {                                                                                 \
    return srm_check_run(make_suite());                                                            \
  }

#endif
