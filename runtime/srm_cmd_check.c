/* srm: `srm check SKILL`, loads a skill, runs its self-tests and prints its evidence plan. */
#include "srm_cmd.h"
#include "srm_run_opts.h"
#include "srm_skill.h"

#include <lauxlib.h>
#include <stdio.h>
#include <string.h>

int srm_cmd_check(int argc, char **argv) {
  const char *skill = NULL, *stdlib_dir = NULL;
  struct srm_setting settings[MAX_SETTINGS];
  int nsettings = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--stdlib-dir") == 0 && i + 1 < argc) {
      stdlib_dir = argv[++i];
    } else if (strcmp(argv[i], "--set") == 0 && i + 1 < argc) {
      if (srm_run_add_setting("srm check", argv[++i], settings, &nsettings)) return SRM_EXIT_USAGE;
    } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
      puts("usage: srm check SKILL [--set KEY=VALUE]... [--stdlib-dir DIR]\n"
           "Loads SKILL, runs its self-tests and prints its evidence plan. Exit 3 on failure.");
      return SRM_EXIT_OK;
    } else if (argv[i][0] == '-' || skill) {
      fprintf(stderr, "srm check: unexpected argument '%s' (see srm check --help)\n", argv[i]);
      return SRM_EXIT_USAGE;
    } else {
      skill = argv[i];
    }
  }
  if (!skill) {
    fprintf(stderr, "usage: srm check SKILL [--set KEY=VALUE]...\n");
    return SRM_EXIT_USAGE;
  }
  struct srm_host h;
  char err[2048];
  if (srm_host_open(&h, SRM_DEFAULT_MAX_MEMORY, stdlib_dir, err, sizeof err) != 0) {
    fprintf(stderr, "srm check: %s\n", err);
    return SRM_EXIT_FAILURE;
  }
  struct srm_task_limits lim = {SRM_DEFAULT_MAX_INSTRUCTIONS, SRM_DEFAULT_TIMEOUT_S};
  struct srm_loaded_skill sk;
  int rc = SRM_EXIT_OK;
  enum srm_load_result lr =
      srm_skill_load(&h, skill, settings, nsettings, &lim, 1, &sk, err, sizeof err);
  if (lr != SRM_LOAD_OK) {
    fprintf(stderr, "srm check: %s\n", err);
    srm_host_close(&h);
    return lr == SRM_LOAD_USAGE ? SRM_EXIT_USAGE : SRM_EXIT_SKILL;
  }
  lua_State *L = h.L;
  srm_skill_push_runner_fn(&h, &sk, "plan");
  lua_rawgeti(L, LUA_REGISTRYINDEX, sk.skill_ref);
  if (srm_host_pcall(L, 1, 1) == LUA_OK)
    printf("%s\n", lua_tostring(L, -1));
  else
    fprintf(stderr, "srm check: cannot describe the plan: %s\n", lua_tostring(L, -1));
  lua_pop(L, 1);
  int ntests = 0;
  int failed = srm_skill_self_test(&h, &sk, &lim, &ntests);
  if (failed == 0) {
    printf("self-tests: %d passed\n", ntests);
  } else {
    printf("self-tests: %d of %d failed\n", failed < 0 ? ntests : failed, ntests);
    rc = SRM_EXIT_SKILL;
  }
  srm_skill_release(&h, &sk);
  srm_host_close(&h);
  return rc;
}
