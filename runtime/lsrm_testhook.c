/* srm: srm.testhook, test-only hooks into the running state. Only `srm lua` (the trusted test
** runner) registers this module: it is not in srm_host.c's module table, so neither a skill
** state nor the sandbox's allow list can ever reach it.
**
** It drives the allocation-failure sweep (tests/lua/test_alloc_sweep.lua): a call is repeated
** with the state's allocator (runtime/srm_alloc.c) refusing the 1st, 2nd, 3rd... growth request
** until one run needs no refusal; every run before that must end in a clean error. */
#include "srm_alloc.h"
#include "srm_modules.h"

#include <lauxlib.h>
#include <lua.h>

static struct srm_alloc *state_alloc(lua_State *L) {
  void *ud = NULL;
  lua_Alloc f = lua_getallocf(L, &ud);
  if (f != srm_alloc_fn || ud == NULL)
    luaL_error(L, "srm.testhook: this state does not use srm's allocator");
  return ud;
}

/*
** testhook.fail_after(n) -> refusals
** n >= 0: grant n more growth allocations, then refuse all; n < 0: off. Returns the refusals
** made since the hook was last set.
*/
static int testhook_fail_after(lua_State *L) {
  lua_Integer n = luaL_checkinteger(L, 1);
  struct srm_alloc *a = state_alloc(L);
  lua_pushinteger(L, srm_alloc_fail_after(a, (long)n));
  return 1;
}

/*
** testhook.sweep(fn, check [, max_steps]) -> steps
** For n = 0, 1, 2, ...: calls fn() with the allocator refusing every growth request after the
** first n, then, with the hook off, check(n, refused, ok, ...) where refused says whether the
** hook refused anything, ok is pcall's status and ... fn's results or its error object. Stops
** after the first run without a refusal and returns its n (the allocations fn needs). Raises
** when max_steps (default 1000000) runs all saw refusals. fn must not yield.
*/
static int testhook_sweep(lua_State *L) {
  luaL_checktype(L, 1, LUA_TFUNCTION);
  luaL_checktype(L, 2, LUA_TFUNCTION);
  lua_Integer max_steps = luaL_optinteger(L, 3, 1000000);
  struct srm_alloc *a = state_alloc(L);
  lua_settop(L, 2); /* fn, check */
  for (lua_Integer n = 0; n < max_steps; n++) {
    luaL_checkstack(L, 8, "srm.testhook.sweep");
    lua_pushvalue(L, 2);   /* fn, check, check */
    lua_pushinteger(L, n); /* fn, check, check, n */
    lua_pushnil(L);        /* fn, check, check, n, refused (set below) */
    lua_pushnil(L);        /* fn, check, check, n, refused, ok (set below) */
    int base = lua_gettop(L);
    lua_pushvalue(L, 1); /* ..., fn */
    /* Start every run from the same heap shape: a collection in the middle of fn would make
    ** the n-th request a different one from run to run. */
    lua_gc(L, LUA_GCCOLLECT);
    srm_alloc_fail_after(a, (long)n);
    int status = lua_pcall(L, 0, LUA_MULTRET, 0);
    long refusals = srm_alloc_fail_after(a, -1);
    int nres = lua_gettop(L) - base;
    lua_pushboolean(L, refusals > 0);
    lua_replace(L, base - 1);
    lua_pushboolean(L, status == LUA_OK);
    lua_replace(L, base);
    lua_call(L, 3 + nres, 0); /* fn, check */
    if (refusals == 0) {
      lua_gc(L, LUA_GCCOLLECT);
      lua_pushinteger(L, n);
      return 1;
    }
  }
  return luaL_error(L, "srm.testhook.sweep: still refused after %d steps", (int)max_steps);
}

/* testhook.used() -> bytes the state's allocator currently holds */
static int testhook_used(lua_State *L) {
  struct srm_alloc *a = state_alloc(L);
  lua_pushinteger(L, (lua_Integer)a->used);
  return 1;
}

static const luaL_Reg testhook_funcs[] = {
    {"fail_after", testhook_fail_after},
    {"sweep", testhook_sweep},
    {"used", testhook_used},
    {NULL, NULL},
};

int luaopen_srm_testhook(lua_State *L) {
  luaL_newlib(L, testhook_funcs);
  return 1;
}
