/* srm: srm.luabox, model-written Lua run in a fresh, restricted lua_State (the agent judge's
** run_lua tool). Each run gets its own state with its own limiting allocator (a memory cap), an
** instruction budget enforced by a count hook that yields straight out of any pcall, only the
** base (without dofile, loadfile, collectgarbage and bytecode loading), string (without dump),
** table, math, utf8 and coroutine libraries, and a print that writes into a capped buffer. The
** state is closed when the run ends, so nothing survives from one run to the next. The chunk's
** first return value is copied back into the caller's state (bounded in depth and size).
**
** This module is for the host's stdlib (srm.agent); skills cannot require it. */
#include "srm_alloc.h"
#include "srm_modules.h"

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdlib.h>
#include <string.h>

#define BOX_HOOK_EVERY 1000
#define BOX_MAX_DEPTH 16
#define BOX_MAX_ITEMS 10000
#define BOX_MAX_ERROR 2000
#define BOX_MT "srm.luabox"

/* One run's state, reachable from the box state's extra space. */
struct box {
  struct srm_alloc alloc;
  lua_State *B;          /* the box state, NULL once closed */
  long instructions;     /* counted in steps of BOX_HOOK_EVERY */
  long max_instructions; /* the budget */
  int out_of_budget;     /* set once: every later hook call yields again */
  char *out;             /* captured print output */
  size_t out_len, out_cap, out_max;
  int out_truncated;
};

static struct box *box_of(lua_State *L) {
  return *(struct box **)lua_getextraspace(L);
}

/* Count hook: charges the budget; past it, yields (a yield crosses pcall, so the run ends at the
** resume in box_run, whatever the chunk catches). Coroutines the chunk creates inherit the hook. */
static void box_hook(lua_State *L, lua_Debug *ar) {
  (void)ar;
  struct box *b = box_of(L);
  b->instructions += BOX_HOOK_EVERY;
  if (b->instructions > b->max_instructions) b->out_of_budget = 1;
  if (!b->out_of_budget) return;
  /* Inside a callback C cannot yield across (a table.sort comparator, a gsub function): raise
  ** instead; the next count in yieldable code ends the run. */
  if (lua_isyieldable(L))
    lua_yield(L, 0);
  else
    luaL_error(L, "the code exceeded its instruction budget");
}

static void out_append(struct box *b, const char *s, size_t n) {
  if (b->out_truncated) return;
  if (b->out_len + n > b->out_max) {
    n = b->out_max - b->out_len;
    b->out_truncated = 1;
  }
  if (n == 0) return;
  if (b->out_len + n > b->out_cap) {
    size_t cap = b->out_cap ? b->out_cap : 256;
    while (cap < b->out_len + n)
      cap *= 2;
    if (cap > b->out_max) cap = b->out_max;
    char *p = realloc(b->out, cap);
    if (!p) {
      b->out_truncated = 1;
      return;
    }
    b->out = p;
    b->out_cap = cap;
  }
  memcpy(b->out + b->out_len, s, n);
  b->out_len += n;
}

/* print(...) inside the box: tostring'd arguments, tab-separated, into the output buffer. */
static int box_print(lua_State *L) {
  struct box *b = box_of(L);
  int n = lua_gettop(L);
  for (int i = 1; i <= n; i++) {
    size_t len;
    const char *s = luaL_tolstring(L, i, &len);
    if (i > 1) out_append(b, "\t", 1);
    out_append(b, s, len);
    lua_pop(L, 1);
  }
  out_append(b, "\n", 1);
  return 0;
}

/* load(chunk [, name [, mode [, env]]]) inside the box: text chunks (strings) only. */
static int box_load(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  const char *name = luaL_optstring(L, 2, "=(load)");
  const char *mode = luaL_optstring(L, 3, "t");
  if (strcmp(mode, "t") != 0) return luaL_error(L, "load: only text chunks are allowed");
  int has_env = !lua_isnone(L, 4);
  if (luaL_loadbufferx(L, s, len, name, "t") != LUA_OK) {
    luaL_pushfail(L);
    lua_insert(L, -2);
    return 2; /* fail, message */
  }
  if (has_env) {
    lua_pushvalue(L, 4);
    if (!lua_setupvalue(L, -2, 1)) lua_pop(L, 1);
  }
  return 1;
}

static void box_close(struct box *b) {
  if (b->B) {
    b->alloc.enforcing = 0;
    lua_close(b->B);
    b->B = NULL;
  }
  free(b->out);
  b->out = NULL;
  b->out_len = b->out_cap = 0;
}

static const char *const REMOVED_GLOBALS[] = {"dofile", "loadfile", "collectgarbage", "require",
                                              NULL};

/* Opens the allowed libraries in a fresh state (run protected: opening can run out of memory). */
static int box_open(lua_State *L) {
  static const luaL_Reg libs[] = {
      {LUA_GNAME, luaopen_base},
      {LUA_STRLIBNAME, luaopen_string},
      {LUA_TABLIBNAME, luaopen_table},
      {LUA_MATHLIBNAME, luaopen_math},
      {LUA_UTF8LIBNAME, luaopen_utf8},
      {LUA_COLIBNAME, luaopen_coroutine},
      {NULL, NULL},
  };
  for (const luaL_Reg *lib = libs; lib->func; lib++) {
    luaL_requiref(L, lib->name, lib->func, 1);
    lua_pop(L, 1);
  }
  for (const char *const *g = REMOVED_GLOBALS; *g; g++) {
    lua_pushnil(L);
    lua_setglobal(L, *g);
  }
  lua_getglobal(L, LUA_STRLIBNAME); /* string */
  lua_pushnil(L);
  lua_setfield(L, -2, "dump");
  lua_pop(L, 1);
  lua_pushcfunction(L, box_print);
  lua_setglobal(L, "print");
  lua_pushcfunction(L, box_load);
  lua_setglobal(L, "load");
  return 0;
}

/* Copies the value at index idx of `from` onto `to` (strings, numbers, booleans, nil, and tables
** of those, up to BOX_MAX_DEPTH levels and *items values in all). Anything else, or anything past
** a limit, becomes a short string. Never calls metamethods. */
static void copy_value(lua_State *from, int idx, lua_State *to, int depth, long *items) {
  idx = lua_absindex(from, idx);
  luaL_checkstack(to, 4, "srm.luabox: result too deep");
  if (--*items < 0) {
    lua_pushliteral(to, "<too many values>");
    return;
  }
  switch (lua_type(from, idx)) {
  case LUA_TNIL:
    lua_pushnil(to);
    break;
  case LUA_TBOOLEAN:
    lua_pushboolean(to, lua_toboolean(from, idx));
    break;
  case LUA_TNUMBER:
    if (lua_isinteger(from, idx))
      lua_pushinteger(to, lua_tointeger(from, idx));
    else
      lua_pushnumber(to, lua_tonumber(from, idx));
    break;
  case LUA_TSTRING: {
    size_t len;
    const char *s = lua_tolstring(from, idx, &len);
    lua_pushlstring(to, s, len);
    break;
  }
  case LUA_TTABLE:
    if (depth >= BOX_MAX_DEPTH || !lua_checkstack(from, 3)) {
      lua_pushliteral(to, "<table nested too deeply>");
      break;
    }
    lua_newtable(to);
    lua_pushnil(from);
    while (lua_next(from, idx)) { /* from: ..., key, value */
      int kt = lua_type(from, -2);
      if (*items <= 0) {
        lua_pop(from, 2);
        break;
      }
      if (kt == LUA_TSTRING || kt == LUA_TNUMBER || kt == LUA_TBOOLEAN) {
        copy_value(from, -2, to, depth + 1, items); /* to: ..., t, k */
        copy_value(from, -1, to, depth + 1, items); /* to: ..., t, k, v */
        lua_rawset(to, -3);
      }
      lua_pop(from, 1); /* from: ..., key */
    }
    break;
  default:
    lua_pushstring(to, luaL_typename(from, idx));
    break;
  }
}

static void set_str(lua_State *L, const char *key, const char *s, size_t n) {
  lua_pushlstring(L, s, n);
  lua_setfield(L, -2, key);
}

/* The error message of a failed run, capped (any value: a table error becomes its type name). */
static void set_error(lua_State *L, lua_State *co) {
  size_t len = 0;
  const char *msg = lua_type(co, -1) == LUA_TSTRING ? lua_tolstring(co, -1, &len) : NULL;
  if (!msg) {
    msg = lua_type(co, -1) == LUA_TNUMBER ? "(a number)" : luaL_typename(co, -1);
    len = strlen(msg);
  }
  if (len > BOX_MAX_ERROR) len = BOX_MAX_ERROR;
  set_str(L, "error", msg, len);
}

static long opt_long_field(lua_State *L, int t, const char *key, long dflt, long lo, long hi) {
  long v = dflt;
  if (lua_getfield(L, t, key) != LUA_TNIL) {
    int isnum = 0;
    lua_Integer x = lua_tointegerx(L, -1, &isnum);
    if (!isnum || lua_type(L, -1) != LUA_TNUMBER)
      luaL_error(L, "srm.luabox.run: option '%s' must be an integer", key);
    if (x < lo || x > hi)
      luaL_error(L, "srm.luabox.run: option '%s' must be between %I and %I", key, (lua_Integer)lo,
                 (lua_Integer)hi);
    v = (long)x;
  }
  lua_pop(L, 1);
  return v;
}

/*
** luabox.run(code [, {instructions = 1000000, memory = 16777216, output = 65536,
**                     name = "=run_lua"}]) -> result
** result = {status = "ok" | "error" | "syntax_error" | "instructions" | "memory",
**           result = <the chunk's first return value, copied>, output = <print output>,
**           output_truncated = bool, error = <message> | nil, instructions = <used, rounded up
**           to 1000>}
** Raises only on bad arguments (an unknown option included) or when the box cannot be created.
*/
static int luabox_run(lua_State *L) {
  size_t code_len;
  const char *code = luaL_checklstring(L, 1, &code_len);
  long max_instr = 1000000, mem = 16L << 20, out_max = 64L << 10;
  const char *name = "=run_lua";
  if (!lua_isnoneornil(L, 2)) {
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_pushnil(L);
    while (lua_next(L, 2)) {
      const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
      if (!k || (strcmp(k, "instructions") && strcmp(k, "memory") && strcmp(k, "output") &&
                 strcmp(k, "name")))
        return luaL_error(L, "srm.luabox.run: unknown option '%s'", k ? k : "?");
      lua_pop(L, 1);
    }
    max_instr = opt_long_field(L, 2, "instructions", max_instr, 1000, 1000000000L);
    mem = opt_long_field(L, 2, "memory", mem, 64L << 10, 1L << 30);
    out_max = opt_long_field(L, 2, "output", out_max, 0, 64L << 20);
    if (lua_getfield(L, 2, "name") != LUA_TNIL) name = luaL_checkstring(L, -1);
    lua_pop(L, 1); /* name stays valid: it is a string held by the options table */
  }
  struct box *b = lua_newuserdatauv(L, sizeof *b, 0); /* ..., box */
  memset(b, 0, sizeof *b);
  luaL_setmetatable(L, BOX_MT); /* from here on __gc closes the box, even if L raises */
  srm_alloc_init(&b->alloc, (size_t)mem);
  b->max_instructions = max_instr;
  b->out_max = (size_t)out_max;
  lua_State *B = b->B = lua_newstate(srm_alloc_fn, &b->alloc);
  if (!B) return luaL_error(L, "srm.luabox.run: cannot create a Lua state");
  *(struct box **)lua_getextraspace(B) = b;
  lua_pushcfunction(B, box_open);
  int st = lua_pcall(B, 0, 0, 0);
  /* The thread is made before enforcement starts: lua_newthread is not protected. */
  lua_State *co = st == LUA_OK && lua_checkstack(B, 2) ? lua_newthread(B) : NULL; /* B: co */
  b->alloc.enforcing = 1;
  lua_newtable(L); /* ..., box, result */
  const char *status = "ok";
  if (!co) {
    status = "memory";
    set_str(L, "error", "cannot open the libraries", 25);
  } else if (luaL_loadbufferx(co, code, code_len, name, "t") != LUA_OK) { /* co: fn | msg */
    status = srm_alloc_exhausted(&b->alloc) ? "memory" : "syntax_error";
    set_error(L, co);
  } else {
    lua_sethook(co, box_hook, LUA_MASKCOUNT, BOX_HOOK_EVERY);
    int nres = 0;
    st = lua_resume(co, B, 0, &nres);
    b->alloc.enforcing = 0; /* reading the outcome may allocate in B (lua_next) */
    if (st == LUA_YIELD || (st == LUA_OK && b->out_of_budget)) {
      /* A budget hit inside a coroutine the chunk made can end in a normal return: still out. */
      status = b->out_of_budget ? "instructions" : "error";
      const char *m = b->out_of_budget ? "the code exceeded its instruction budget"
                                       : "the code yielded outside a coroutine";
      set_str(L, "error", m, strlen(m));
    } else if (st != LUA_OK) {
      status = b->out_of_budget                                     ? "instructions"
               : st == LUA_ERRMEM || srm_alloc_exhausted(&b->alloc) ? "memory"
                                                                    : "error";
      set_error(L, co);
    } else if (nres > 0) {
      long items = BOX_MAX_ITEMS;
      copy_value(co, -nres, L, 0, &items); /* ..., box, result, value */
      lua_setfield(L, -2, "result");
    }
  }
  lua_pushstring(L, status);
  lua_setfield(L, -2, "status");
  set_str(L, "output", b->out ? b->out : "", b->out_len);
  lua_pushboolean(L, b->out_truncated);
  lua_setfield(L, -2, "output_truncated");
  lua_pushinteger(L, b->instructions);
  lua_setfield(L, -2, "instructions");
  box_close(b);
  return 1;
}

/* __gc of a run's box: closes the state if the run raised before closing it. Idempotent. */
static int box_gc(lua_State *L) {
  box_close(luaL_checkudata(L, 1, BOX_MT));
  return 0;
}

static const luaL_Reg luabox_funcs[] = {
    {"run", luabox_run},
    {NULL, NULL},
};

int luaopen_srm_luabox(lua_State *L) {
  luaL_newmetatable(L, BOX_MT);
  lua_pushcfunction(L, box_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
  luaL_newlib(L, luabox_funcs);
  return 1;
}
