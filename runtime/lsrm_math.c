/* srm: srm.math, final-answer extraction and mathematical equivalence for reference evidence.
** A thin Lua layer over the pure C core in srm_math*.c (see srm_math.h for the semantics):
**
**   math.extract(text [, opts]) -> answer | nil, reason
**   math.equal(gold, pred [, opts]) -> boolean, detail
**   math.parse(answer) -> normalized | nil, message, code
**
** opts (every key optional, an unknown key raises):
**   precision     decimals compared when a side is a float literal (integer 0..15, default 6)
**   strict        variables must match by name (default true; false matches f(x) and f(y))
**   ordered       bare comma lists compare in order, as hendrycks is_equiv does (default false)
**   set_relation  a set/interval gold may match an inequality prediction (default false)
**   targets       what extraction looks for: {"latex", "expr"} (default both)
**
** Every call is bounded in time and memory; inputs over the limits give nil / false with the
** reason, never an error. Wrong argument types and unknown options raise. */
#include "srm_math.h"
#include "srm_modules.h"

#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

/* Reads the options table at index idx (absent or nil: defaults). */
static void check_opts(lua_State *L, int idx, const char *api, struct srm_math_opts *o) {
  srm_math_opts_init(o);
  if (lua_isnoneornil(L, idx)) return;
  luaL_checktype(L, idx, LUA_TTABLE);
  lua_pushnil(L);
  while (lua_next(L, idx)) { /* key, value */
    if (lua_type(L, -2) != LUA_TSTRING) luaL_error(L, "%s: option keys must be strings", api);
    const char *k = lua_tostring(L, -2);
    if (strcmp(k, "precision") == 0) {
      if (!lua_isinteger(L, -1)) luaL_error(L, "%s: option 'precision' must be an integer", api);
      lua_Integer p = lua_tointeger(L, -1);
      if (p < 0 || p > 15) luaL_error(L, "%s: option 'precision' must be in 0..15", api);
      o->precision = (int)p;
    } else if (strcmp(k, "strict") == 0 || strcmp(k, "ordered") == 0 ||
               strcmp(k, "set_relation") == 0) {
      if (!lua_isboolean(L, -1)) luaL_error(L, "%s: option '%s' must be a boolean", api, k);
      bool v = lua_toboolean(L, -1);
      if (k[0] == 's' && k[1] == 't')
        o->strict = v;
      else if (k[0] == 'o')
        o->ordered_lists = v;
      else
        o->set_relation = v;
    } else if (strcmp(k, "targets") == 0) {
      if (!lua_istable(L, -1)) luaL_error(L, "%s: option 'targets' must be a list", api);
      unsigned t = 0;
      lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
      for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, -1, i);
        const char *name = lua_tostring(L, -1);
        if (name && strcmp(name, "latex") == 0)
          t |= SRM_MATH_LATEX;
        else if (name && strcmp(name, "expr") == 0)
          t |= SRM_MATH_EXPR;
        else
          luaL_error(L, "%s: option 'targets' entries must be \"latex\" or \"expr\"", api);
        lua_pop(L, 1);
      }
      if (!t) luaL_error(L, "%s: option 'targets' is empty", api);
      o->targets = t;
    } else {
      luaL_error(L, "%s: unknown option '%s'", api, k);
    }
    lua_pop(L, 1);
  }
}

#define GUARD_MT "srm.math.guard"

/* A userdata that owns one malloc'd result while it is copied into Lua: if that copy raises a
** memory error, __gc frees the block instead of leaking it (tests/lua/test_alloc_sweep.lua). */
static int guard_gc(lua_State *L) {
  void **slot = lua_touserdata(L, 1);
  free(*slot);
  *slot = NULL;
  return 0;
}

static void **push_guard(lua_State *L) {
  void **slot = lua_newuserdatauv(L, sizeof *slot, 0);
  *slot = NULL;
  luaL_setmetatable(L, GUARD_MT);
  return slot;
}

/* Pushes the malloc'd string r (n bytes) and frees it, also when the push raises. */
static void push_owned(lua_State *L, void **guard, char *r, size_t n) {
  *guard = r;
  lua_pushlstring(L, r, n);
  *guard = NULL;
  free(r);
}

/*
** math.extract(text [, opts]) -> answer | nil, reason
** The final answer of a model response (see srm_math_extract); nil with "no answer found" or
** "text too long" when there is none.
*/
static int math_extract(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  struct srm_math_opts o;
  check_opts(L, 2, "math.extract", &o);
  size_t n = 0;
  const char *why = NULL;
  void **guard = push_guard(L);
  char *r = srm_math_extract(s, len, &o, &n, &why);
  if (!r) {
    lua_pushnil(L);
    lua_pushstring(L, why ? why : "no answer found");
    return 2;
  }
  push_owned(L, guard, r, n);
  return 1;
}

/*
** math.equal(gold, pred [, opts]) -> boolean, detail
** detail = {how = "identical"|"exact"|"value"|"numeric"|"rounded"|"percent"|"set"|"tuple"|
** "interval"|"relation"|"matrix"|"symbol"|"ratio"|"text"|"limit", reason = why not (when
** false), limit = true when a size or work limit decided, gold_parsed = false /
** pred_parsed = false when a side was compared as text}.
*/
static int math_equal(lua_State *L) {
  size_t gl, pl;
  const char *g = luaL_checklstring(L, 1, &gl);
  const char *p = luaL_checklstring(L, 2, &pl);
  struct srm_math_opts o;
  check_opts(L, 3, "math.equal", &o);
  struct srm_math_result r;
  bool eq = srm_math_equal(g, gl, p, pl, &o, &r);
  lua_pushboolean(L, eq);
  lua_createtable(L, 0, 4);
  lua_pushstring(L, r.how);
  lua_setfield(L, -2, "how");
  if (!eq && r.why[0]) {
    lua_pushstring(L, r.why);
    lua_setfield(L, -2, "reason");
  }
  if (r.limit) {
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "limit");
  }
  if (r.gold_failed) {
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "gold_parsed");
  }
  if (r.pred_failed) {
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "pred_parsed");
  }
  return 2;
}

/*
** math.parse(answer) -> normalized | nil, message, code
** The normalized form of one answer, for debugging ("\frac{1}{2}" -> "1/2"); code is "PARSE"
** for a syntax error and "LIMIT" when a size limit was hit.
*/
static int math_parse(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  const char *err = NULL;
  bool limit = false;
  void **guard = push_guard(L);
  char *r = srm_math_normalize(s, len, &err, &limit);
  if (!r) {
    lua_pushnil(L);
    lua_pushstring(L, err ? err : "cannot parse");
    lua_pushstring(L, limit ? "LIMIT" : "PARSE");
    return 3;
  }
  push_owned(L, guard, r, strlen(r));
  return 1;
}

static const luaL_Reg math_funcs[] = {
    {"extract", math_extract},
    {"equal", math_equal},
    {"parse", math_parse},
    {NULL, NULL},
};

int luaopen_srm_math(lua_State *L) {
  luaL_newmetatable(L, GUARD_MT);
  lua_pushcfunction(L, guard_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
  luaL_newlib(L, math_funcs);
  return 1;
}
