/* srm: `srm lua SCRIPT [args...]`, a trusted script runner with every srm module loaded. The
** Lua-level tests and developer tools use it; the script runs as a task (so srm.core.sleep and
** later model calls work) with the full standard library and no budgets. */
#include "srm_cmd.h"
#include "srm_host.h"
#include "srm_modules.h"
#include "srm_sched.h"

#include <lauxlib.h>
#include <stdio.h>
#include <string.h>

struct lua_result {
  int failed;
};

static void script_done(struct srm_task *t, enum srm_task_end end, void *ud) {
  struct lua_result *r = ud;
  if (end == SRM_TASK_RETURNED) return;
  r->failed = 1;
  const char *msg = lua_tostring(t->co, -1);
  fprintf(stderr, "srm lua: %s\n", msg ? msg : "error object is not a string");
}

int srm_cmd_lua(int argc, char **argv) {
  const char *stdlib_dir = NULL;
  int i = 1;
  if (i + 1 < argc && strcmp(argv[i], "--stdlib-dir") == 0) {
    stdlib_dir = argv[i + 1];
    i += 2;
  }
  if (i >= argc) {
    fprintf(stderr, "usage: srm lua [--stdlib-dir DIR] SCRIPT [args...]\n");
    return SRM_EXIT_USAGE;
  }
  struct srm_host h;
  char err[512];
  if (srm_host_open(&h, 0, stdlib_dir, err, sizeof err) != 0) {
    fprintf(stderr, "srm lua: %s\n", err);
    return SRM_EXIT_FAILURE;
  }
  lua_State *L = h.L;
  /* Test-only hooks (the allocation-failure sweep): this trusted runner alone offers them. */
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  lua_pushcfunction(L, luaopen_srm_testhook);
  lua_setfield(L, -2, "srm.testhook");
  lua_pop(L, 1);
  lua_createtable(L, argc - i, 1);
  for (int k = i; k < argc; k++) {
    lua_pushstring(L, argv[k]);
    lua_rawseti(L, -2, k - i);
  }
  lua_setglobal(L, "arg");
  struct lua_result result = {0};
  if (luaL_loadfile(L, argv[i]) != LUA_OK) {
    fprintf(stderr, "srm lua: %s\n", lua_tostring(L, -1));
    srm_host_close(&h);
    return SRM_EXIT_FAILURE;
  }
  srm_task_spawn(h.sched, 0, NULL, script_done, &result);
  srm_sched_drain(h.sched);
  srm_host_close(&h);
  return result.failed ? SRM_EXIT_FAILURE : SRM_EXIT_OK;
}
