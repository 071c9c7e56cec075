/* srm: srm_bench_expand, the C entry point of the benchmark loaders (stdlib/srm/bench/). It runs
** them in a fresh trusted host state, so a caller (srm run --bench) needs no Lua of its own. */
#include "srm_bench.h"
#include "srm_host.h"

#include <lauxlib.h>
#include <stdio.h>
#include <string.h>

/* Protected: E = require "srm.bench.eval"; E.benchmark(spec) must accept the name; then
** E.expand_file(spec, in, out, {seed = seed}). Upvalue-free; arguments: spec, in, out, seed.
** Returns the task count, or raises {usage = true, msg} / a message string. */
static int expand_protected(lua_State *L) {
  lua_getglobal(L, "require");
  lua_pushliteral(L, "srm.bench.eval");
  lua_call(L, 1, 1); /* spec, in, out, seed, E */
  lua_getfield(L, 5, "benchmark");
  lua_pushvalue(L, 1);
  lua_call(L, 1, 2); /* ..., E, mod|nil, opts|why */
  if (lua_isnil(L, -2)) {
    lua_pushboolean(L, 1);
    lua_replace(L, -3); /* ..., E, true, why: the `true` marks a usage error */
    return 2;
  }
  lua_pop(L, 2);
  lua_getfield(L, 5, "expand_file");
  lua_pushvalue(L, 1);
  lua_pushvalue(L, 2);
  lua_pushvalue(L, 3);
  lua_createtable(L, 0, 1);
  lua_pushvalue(L, 4);
  lua_setfield(L, -2, "seed");
  lua_call(L, 4, 1); /* ..., E, n */
  lua_pushnil(L);
  lua_insert(L, -2); /* ..., E, nil, n */
  return 2;
}

int srm_bench_expand(const char *bench, const char *in_path, const char *out_path, uint64_t seed,
                     const char *stdlib_dir, size_t *ntasks, char *err, size_t errlen) {
  struct srm_host h;
  if (srm_host_open(&h, 0, stdlib_dir, err, errlen) != 0) return SRM_BENCH_ERROR;
  lua_State *L = h.L;
  lua_pushcfunction(L, expand_protected);
  lua_pushstring(L, bench);
  lua_pushstring(L, in_path);
  lua_pushstring(L, out_path);
  lua_pushinteger(L, (lua_Integer)seed); /* two's complement: the Lua side sees the same bits */
  int rc = SRM_BENCH_OK;
  if (lua_pcall(L, 4, 2, 0) != LUA_OK) {
    const char *msg = lua_tostring(L, -1);
    snprintf(err, errlen, "%s", msg ? msg : "error object is not a string");
    rc = SRM_BENCH_ERROR;
  } else if (lua_toboolean(L, -2)) { /* usage: true, message */
    snprintf(err, errlen, "%s", lua_tostring(L, -1));
    rc = SRM_BENCH_USAGE;
  } else if (ntasks) {
    *ntasks = (size_t)lua_tointeger(L, -1);
  }
  srm_host_close(&h);
  return rc;
}
