/* srm: `srm eval BENCH PREDICTIONS` (official benchmark metrics from srm rows) and `srm bench
** expand|list` (benchmark files to judge tasks). Both run stdlib/srm/bench/eval.lua in a trusted
** host state; see docs/eval.md. */
#include "srm_cmd.h"
#include "srm_host.h"

#include <lauxlib.h>
#include <stdio.h>
#include <string.h>

/* Calls srm.bench.eval[fn](argv[first..argc-1]) and returns its exit code. */
static int run_lua_main(const char *cmd, const char *fn, int argc, char **argv) {
  const char *stdlib_dir = NULL;
  int first = 1;
  if (first + 1 < argc && strcmp(argv[first], "--stdlib-dir") == 0) {
    stdlib_dir = argv[first + 1];
    first += 2;
  }
  struct srm_host h;
  char err[512];
  if (srm_host_open(&h, 0, stdlib_dir, err, sizeof err) != 0) {
    fprintf(stderr, "%s: %s\n", cmd, err);
    return SRM_EXIT_FAILURE;
  }
  lua_State *L = h.L;
  int rc = SRM_EXIT_FAILURE;
  if (srm_host_require(L, "srm.bench.eval") != LUA_OK) {
    fprintf(stderr, "%s: %s\n", cmd, lua_tostring(L, -1));
    srm_host_close(&h);
    return SRM_EXIT_FAILURE;
  }
  lua_getfield(L, -1, fn); /* E, main */
  lua_createtable(L, argc - first, 0);
  for (int k = first; k < argc; k++) {
    lua_pushstring(L, argv[k]);
    lua_rawseti(L, -2, k - first + 1);
  }
  if (srm_host_pcall(L, 1, 1) != LUA_OK) {
    fprintf(stderr, "%s: internal error: %s\n", cmd, lua_tostring(L, -1));
  } else {
    rc = (int)lua_tointeger(L, -1);
  }
  fflush(stdout);
  srm_host_close(&h);
  return rc;
}

int srm_cmd_eval(int argc, char **argv) {
  return run_lua_main("srm eval", "main", argc, argv);
}

int srm_cmd_bench(int argc, char **argv) {
  return run_lua_main("srm bench", "expand_main", argc, argv);
}
