/* srm: skill loading for the commands (see srm_skill.h). */
#include "srm_skill.h"

#include <lauxlib.h>
#include <stdio.h>
#include <string.h>

void srm_skill_push_runner_fn(struct srm_host *h, struct srm_loaded_skill *sk, const char *name) {
  lua_rawgeti(h->L, LUA_REGISTRYINDEX, sk->runner_ref);
  lua_getfield(h->L, -1, name);
  lua_remove(h->L, -2);
}

static void copy_field(lua_State *L, int idx, const char *field, char *dst, size_t dstlen) {
  lua_getfield(L, idx, field);
  const char *s = lua_tostring(L, -1);
  snprintf(dst, dstlen, "%s", s ? s : "?");
  lua_pop(L, 1);
}

enum srm_load_result srm_skill_load(struct srm_host *h, const char *path,
                                    const struct srm_setting *settings, int nsettings,
                                    const struct srm_task_limits *lim, long generation,
                                    struct srm_loaded_skill *out, char *err, size_t errlen) {
  lua_State *L = h->L;
  out->runner_ref = LUA_NOREF;
  out->skill_ref = LUA_NOREF;
  if (srm_host_require(L, "srm.runner") != LUA_OK) {
    snprintf(err, errlen, "cannot load the srm stdlib: %s", lua_tostring(L, -1));
    lua_pop(L, 1);
    return SRM_LOAD_FAILED;
  }
  out->runner_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  srm_skill_push_runner_fn(h, out, "load");
  lua_pushstring(L, path);
  lua_createtable(L, 0, nsettings);
  for (int i = 0; i < nsettings; i++) {
    lua_pushstring(L, settings[i].value);
    lua_setfield(L, -2, settings[i].key);
  }
  lua_pushinteger(L, generation);
  enum srm_task_end end = srm_task_run_sync(h->sched, 3, 3, lim); /* skill|nil, msg, kind */
  if (end == SRM_TASK_RETURNED && lua_istable(L, -3)) {
    lua_pop(L, 2);
    copy_field(L, -1, "name", out->name, sizeof out->name);
    copy_field(L, -1, "sha256", out->sha256, sizeof out->sha256);
    out->skill_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return SRM_LOAD_OK;
  }
  enum srm_load_result rc = SRM_LOAD_FAILED;
  if (end == SRM_TASK_RETURNED) {
    const char *kind = lua_tostring(L, -1);
    if (kind && strcmp(kind, "usage") == 0) rc = SRM_LOAD_USAGE;
    const char *msg = lua_tostring(L, -2);
    snprintf(err, errlen, "%s", msg ? msg : "the skill failed to load");
  } else if (end == SRM_TASK_KILLED) {
    snprintf(err, errlen,
             "%s: loading the skill exceeded its %s budget (an endless loop at the top level?)",
             path, lua_tostring(L, -3));
  } else {
    const char *msg = lua_tostring(L, -3);
    snprintf(err, errlen, "%s", msg ? msg : "the skill failed to load");
  }
  lua_pop(L, 3);
  return rc;
}

/* Runs the self-tests; each failure goes to report (stderr or a buffer). */
static int run_self_tests(struct srm_host *h, struct srm_loaded_skill *sk,
                          const struct srm_task_limits *lim, int *count, char *why, size_t whylen) {
  lua_State *L = h->L;
  srm_skill_push_runner_fn(h, sk, "self_test");
  lua_rawgeti(L, LUA_REGISTRYINDEX, sk->skill_ref);
  enum srm_task_end end = srm_task_run_sync(h->sched, 1, 2, lim); /* failures, count */
  *count = (int)lua_tointeger(L, -1);
  if (end != SRM_TASK_RETURNED || !lua_istable(L, -2)) {
    const char *msg = lua_tostring(L, -2);
    const char *text =
        end == SRM_TASK_KILLED ? "a budget was exceeded" : (msg ? msg : "unknown error");
    if (why)
      snprintf(why, whylen, "%s", text);
    else
      fprintf(stderr, "srm: %s: the self-tests could not run: %s\n", sk->name, text);
    lua_pop(L, 2);
    return -1;
  }
  int failures = (int)luaL_len(L, -2);
  for (int i = 1; i <= failures; i++) {
    lua_rawgeti(L, -2, i);
    if (!why)
      fprintf(stderr, "srm: %s: %s\n", sk->name, lua_tostring(L, -1));
    else if (i == 1)
      snprintf(why, whylen, "%s", lua_tostring(L, -1));
    lua_pop(L, 1);
  }
  lua_pop(L, 2);
  return failures;
}

int srm_skill_self_test(struct srm_host *h, struct srm_loaded_skill *sk,
                        const struct srm_task_limits *lim, int *count) {
  return run_self_tests(h, sk, lim, count, NULL, 0);
}

int srm_skill_self_test_quiet(struct srm_host *h, struct srm_loaded_skill *sk,
                              const struct srm_task_limits *lim, int *count, char *why,
                              size_t whylen) {
  if (whylen) why[0] = '\0';
  return run_self_tests(h, sk, lim, count, why, whylen);
}

void srm_skill_release(struct srm_host *h, struct srm_loaded_skill *sk) {
  luaL_unref(h->L, LUA_REGISTRYINDEX, sk->skill_ref);
  luaL_unref(h->L, LUA_REGISTRYINDEX, sk->runner_ref);
  sk->skill_ref = sk->runner_ref = LUA_NOREF;
}
