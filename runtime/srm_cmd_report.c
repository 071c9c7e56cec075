/* srm: `srm report OUT.jsonl` (one self-contained HTML page about a run) and `srm diff A B`
** (rows joined by id: what changed between two runs). Both run stdlib/srm/report/main.lua in a
** trusted host state; the report modules are host code and never reachable from skills. See
** docs/report.md. */
#include "srm_cmd.h"
#include "srm_host.h"

#include <lauxlib.h>
#include <stdio.h>
#include <string.h>

/* Calls srm.report.main[fn](argv[first..argc-1]) and returns its exit code. */
static int report_lua_main(const char *cmd, const char *fn, int argc, char **argv) {
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
  if (srm_host_require(L, "srm.report.main") != LUA_OK) {
    fprintf(stderr, "%s: %s\n", cmd, lua_tostring(L, -1));
    srm_host_close(&h);
    return SRM_EXIT_FAILURE;
  }
  lua_getfield(L, -1, fn); /* main_module, fn */
  lua_createtable(L, argc - first, 0);
  for (int k = first; k < argc; k++) {
    lua_pushstring(L, argv[k]);
    lua_rawseti(L, -2, k - first + 1);
  }
  /* main_module, fn, argv */
  if (srm_host_pcall(L, 1, 1) != LUA_OK)
    fprintf(stderr, "%s: internal error: %s\n", cmd, lua_tostring(L, -1));
  else
    rc = (int)lua_tointeger(L, -1);
  fflush(stdout);
  srm_host_close(&h);
  return rc;
}

int srm_cmd_report(int argc, char **argv) {
  return report_lua_main("srm report", "report_main", argc, argv);
}

int srm_cmd_diff(int argc, char **argv) {
  return report_lua_main("srm diff", "diff_main", argc, argv);
}
