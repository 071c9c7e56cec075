/* placeholder */
#include "srm_cmd.h"
int srm_cmd_run(int argc, char **argv) {
  (void)argc;
  (void)argv;
  return SRM_EXIT_USAGE;
}
int srm_cmd_check(int argc, char **argv) {
  (void)argc;
  (void)argv;
  return SRM_EXIT_USAGE;
}
