/* srm: srm.re, PCRE2 regular expressions for skills. re.compile gives a regex userdata
** (JIT-compiled when PCRE2 has a JIT) with find/match/test/exec/gmatch/gsub/split, using 1-based
** byte positions like the string library; module-level helpers compile through a bounded
** per-state cache. Subjects are untrusted: every match runs under the state's match, depth and
** heap limits (and one JIT stack per state), and a limit hit or invalid UTF-8 in the subject
** returns nil, message, code instead of raising. Patterns are UTF-8 with Unicode properties. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "srm_modules.h"

#include <lauxlib.h>
#include <pcre2.h>
#include <stdint.h>
#include <string.h>

#define RE_MT "srm.re"
#define RE_STATE_MT "srm.re.state"
#define RE_STATE_KEY "srm.re.state.instance" /* registry key of this state's re_state */
#define RE_CACHE_MAX 256 /* compiled patterns kept by the module-level functions */
#define RE_OV_SMALL 16   /* ovector pairs copied on the C stack; more go to a userdata */
#define RE_JIT_STACK_START (32 * 1024)
#define RE_JIT_STACK_MAX (8 * 1024 * 1024)
#define RE_DEFAULT_MATCH_LIMIT 10000000u
#define RE_DEFAULT_DEPTH_LIMIT 100000u
#define RE_DEFAULT_HEAP_KIB (64u * 1024u)
#define RE_PATTERN_SHOWN 60 /* bytes of the pattern quoted in a compile error */

/* One per lua_State, in the registry (also the first upvalue of every function here).
** User values: 1 = cache map (key -> regex), 2 = cache ring (slot -> key, FIFO eviction). */
struct re_state {
  pcre2_match_context *mctx;
  pcre2_jit_stack *jit_stack;
  uint32_t match_limit, depth_limit, heap_kib;
  int cache_count, cache_next;
};

/* The "srm.re" userdata; user value 1 is the pattern string. rx->md is shared by all calls on
** this regex: every match copies its ovector out before anything can run Lua code (a gsub
** callback, or a finalizer during an allocation) that could match with the same regex again. */
struct regex {
  pcre2_code *code;
  pcre2_match_data *md;
  uint32_t ncap;
  uint32_t name_count, name_entry_size;
  PCRE2_SPTR name_table;
};

enum find_mode { MODE_FIND, MODE_MATCH, MODE_TEST, MODE_EXEC };

/* gmatch iterator state bits */
#define GM_CHECKED 1 /* the subject passed PCRE2's UTF-8 check */
#define GM_AFTER 2   /* a match ended at pos: no empty match there */
#define GM_DONE 4

/* ---- state and regex lifetime ---- */

static int state_gc(lua_State *L) {
  struct re_state *st = luaL_checkudata(L, 1, RE_STATE_MT);
  if (st->mctx) pcre2_match_context_free(st->mctx);
  if (st->jit_stack) pcre2_jit_stack_free(st->jit_stack);
  st->mctx = NULL;
  st->jit_stack = NULL;
  return 0;
}

static void apply_limits(struct re_state *st) {
  pcre2_set_match_limit(st->mctx, st->match_limit);
  pcre2_set_depth_limit(st->mctx, st->depth_limit);
  pcre2_set_heap_limit(st->mctx, st->heap_kib);
}

/* Pushes this state's re_state, creating it on first use. */
static struct re_state *push_state(lua_State *L) {
  if (lua_getfield(L, LUA_REGISTRYINDEX, RE_STATE_KEY) == LUA_TUSERDATA)
    return lua_touserdata(L, -1);
  lua_pop(L, 1);
  struct re_state *st = lua_newuserdatauv(L, sizeof *st, 2);
  memset(st, 0, sizeof *st);
  if (luaL_newmetatable(L, RE_STATE_MT)) {
    lua_pushcfunction(L, state_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  lua_newtable(L);
  lua_setiuservalue(L, -2, 1);
  lua_newtable(L);
  lua_setiuservalue(L, -2, 2);
  st->mctx = pcre2_match_context_create(NULL);
  if (!st->mctx) luaL_error(L, "srm.re: out of memory");
  /* NULL without JIT support: then nothing runs JIT code and the stack is never needed */
  st->jit_stack = pcre2_jit_stack_create(RE_JIT_STACK_START, RE_JIT_STACK_MAX, NULL);
  if (st->jit_stack) pcre2_jit_stack_assign(st->mctx, NULL, st->jit_stack);
  st->match_limit = RE_DEFAULT_MATCH_LIMIT;
  st->depth_limit = RE_DEFAULT_DEPTH_LIMIT;
  st->heap_kib = RE_DEFAULT_HEAP_KIB;
  apply_limits(st);
  lua_pushvalue(L, -1);
  lua_setfield(L, LUA_REGISTRYINDEX, RE_STATE_KEY); /* only once fully set up */
  return st;
}

static struct re_state *upstate(lua_State *L) {
  return lua_touserdata(L, lua_upvalueindex(1));
}

static int regex_gc(lua_State *L) {
  struct regex *rx = luaL_checkudata(L, 1, RE_MT);
  if (rx->md) pcre2_match_data_free(rx->md);
  if (rx->code) pcre2_code_free(rx->code);
  rx->md = NULL;
  rx->code = NULL;
  rx->name_table = NULL;
  rx->name_count = 0;
  return 0;
}

static struct regex *check_regex(lua_State *L, int idx) {
  struct regex *rx = luaL_checkudata(L, idx, RE_MT);
  if (!rx->code) luaL_error(L, "srm.re: attempt to use a closed regex");
  return rx;
}

static uint32_t parse_flags(lua_State *L, int idx) {
  size_t n;
  const char *f = luaL_optlstring(L, idx, "", &n);
  /* \C could leave an offset inside a character, which PCRE2_NO_UTF_CHECK must never see */
  uint32_t opts = PCRE2_UTF | PCRE2_UCP | PCRE2_NEVER_BACKSLASH_C;
  int ascii = 0;
  for (size_t i = 0; i < n; i++) {
    switch (f[i]) {
    case 'i':
      opts |= PCRE2_CASELESS;
      break;
    case 'm':
      opts |= PCRE2_MULTILINE;
      break;
    case 's':
      opts |= PCRE2_DOTALL;
      break;
    case 'x':
      opts |= PCRE2_EXTENDED;
      break;
    case 'A':
      opts |= PCRE2_ANCHORED;
      break;
    case 'a':
      ascii = 1;
      break;
    default:
      luaL_argerror(L, idx,
                    lua_pushfstring(L, "unknown flag '%c' (expected i, m, s, x, A, a)",
                                    (int)(unsigned char)f[i]));
    }
  }
  if (ascii) opts &= ~(uint32_t)PCRE2_UCP;
  return opts;
}

static int compile_error(lua_State *L, int err, PCRE2_SIZE off, const char *p, size_t plen) {
  PCRE2_UCHAR msg[256];
  if (pcre2_get_error_message(err, msg, sizeof msg) == PCRE2_ERROR_BADDATA)
    strcpy((char *)msg, "unknown error");
  size_t cut = plen;
  if (cut > RE_PATTERN_SHOWN) {
    cut = RE_PATTERN_SHOWN;
    while (cut > 0 && ((unsigned char)p[cut] & 0xC0) == 0x80)
      cut--; /* whole characters */
  }
  luaL_where(L, 1);
  lua_pushfstring(L, "srm.re: %s at offset %I in pattern \"", (const char *)msg, (lua_Integer)off);
  lua_pushlstring(L, p, cut);
  lua_pushstring(L, cut < plen ? "...\"" : "\"");
  lua_concat(L, 4);
  return lua_error(L);
}

/* Compiles the pattern at pidx and pushes the new regex. Raises on a bad pattern. */
static struct regex *new_regex(lua_State *L, int pidx, uint32_t opts) {
  pidx = lua_absindex(L, pidx);
  size_t plen;
  const char *p = lua_tolstring(L, pidx, &plen);
  struct regex *rx = lua_newuserdatauv(L, sizeof *rx, 1);
  memset(rx, 0, sizeof *rx);
  luaL_setmetatable(L, RE_MT);
  lua_pushvalue(L, pidx);
  lua_setiuservalue(L, -2, 1); /* ..., rx */
  int err;
  PCRE2_SIZE off;
  rx->code = pcre2_compile((PCRE2_SPTR)p, plen, opts, &err, &off, NULL);
  if (!rx->code) compile_error(L, err, off, p, plen);
  (void)pcre2_jit_compile(rx->code, PCRE2_JIT_COMPLETE); /* on failure the interpreter runs */
  pcre2_pattern_info(rx->code, PCRE2_INFO_CAPTURECOUNT, &rx->ncap);
  pcre2_pattern_info(rx->code, PCRE2_INFO_NAMECOUNT, &rx->name_count);
  pcre2_pattern_info(rx->code, PCRE2_INFO_NAMEENTRYSIZE, &rx->name_entry_size);
  pcre2_pattern_info(rx->code, PCRE2_INFO_NAMETABLE, &rx->name_table);
  rx->md = pcre2_match_data_create_from_pattern(rx->code, NULL);
  if (!rx->md) luaL_error(L, "srm.re: out of memory");
  return rx;
}

/* Pushes the cached regex for (pattern at pidx, flags at fidx), compiling it on a miss. The
** regex stays on the stack, so an eviction by a callback cannot collect it mid-call. */
static struct regex *cached_regex(lua_State *L, int pidx, int fidx) {
  luaL_checkstring(L, pidx);
  uint32_t opts = parse_flags(L, fidx);
  struct re_state *st = upstate(L);
  lua_getiuservalue(L, lua_upvalueindex(1), 1); /* map */
  lua_pushfstring(L, "%d:", (int)opts);
  lua_pushvalue(L, pidx);
  lua_concat(L, 2); /* map, key */
  lua_pushvalue(L, -1);
  if (lua_rawget(L, -3) == LUA_TUSERDATA) { /* map, key, rx */
    lua_replace(L, -3);
    lua_pop(L, 1); /* rx */
    return check_regex(L, -1);
  }
  lua_pop(L, 1); /* map, key */
  struct regex *rx = new_regex(L, pidx, opts);
  /* ring first: a memory error midway leaves at worst a ring key missing from the map */
  lua_getiuservalue(L, lua_upvalueindex(1), 2); /* map, key, rx, ring */
  int full = st->cache_count >= RE_CACHE_MAX;
  int slot = full ? st->cache_next + 1 : st->cache_count + 1;
  if (full && lua_rawgeti(L, -1, slot) != LUA_TNIL) { /* map, key, rx, ring, oldkey */
    lua_pushnil(L);
    lua_rawset(L, -6); /* map[oldkey] = nil */
  } else if (full) {
    lua_pop(L, 1);
  }
  lua_pushvalue(L, -3);
  lua_rawseti(L, -2, slot); /* ring[slot] = key */
  if (full)
    st->cache_next = (st->cache_next + 1) % RE_CACHE_MAX;
  else
    st->cache_count++;
  lua_pop(L, 1); /* map, key, rx */
  lua_pushvalue(L, -2);
  lua_pushvalue(L, -2);
  lua_rawset(L, -5); /* map[key] = rx */
  lua_replace(L, -3);
  lua_pop(L, 1); /* rx */
  return rx;
}

/* ---- matching ---- */

/* Where the ovector is copied: the C stack for small patterns, else a userdata pushed here. */
static PCRE2_SIZE *ov_buffer(lua_State *L, struct regex *rx, PCRE2_SIZE *small) {
  size_t pairs = (size_t)rx->ncap + 1;
  luaL_checkstack(L, (int)rx->ncap + 4, "srm.re: too many captures");
  if (pairs <= RE_OV_SMALL) return small;
  return lua_newuserdatauv(L, 2 * pairs * sizeof(PCRE2_SIZE), 0);
}

/* One pcre2_match at byte offset off. Returns > 0 on a match with the ovector copied to ov
** (unset groups as PCRE2_UNSET), 0 on no match, or a negative PCRE2 error with the offending
** byte offset in ov[0]. Raises only when the regex or the module state has been closed. */
static int run_match(lua_State *L, struct re_state *st, struct regex *rx, const char *s, size_t len,
                     size_t off, uint32_t opts, PCRE2_SIZE *ov) {
  if (!rx->code) luaL_error(L, "srm.re: attempt to use a closed regex");
  if (!st->mctx) luaL_error(L, "srm.re: the module state is closed");
  if (!rx->md) {
    rx->md = pcre2_match_data_create_from_pattern(rx->code, NULL);
    if (!rx->md) luaL_error(L, "srm.re: out of memory");
  }
  int rc = pcre2_match(rx->code, (PCRE2_SPTR)s, len, off, opts, rx->md, st->mctx);
  if (rc == PCRE2_ERROR_NOMATCH || rc == PCRE2_ERROR_PARTIAL) return 0;
  if (rc < 0) {
    ov[0] = pcre2_get_startchar(rx->md);
    if (rc == PCRE2_ERROR_HEAPLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
        rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_NOMEMORY) {
      /* the interpreter keeps its grown frame vector in the match data: release it */
      pcre2_match_data_free(rx->md);
      rx->md = NULL;
    }
    return rc;
  }
  uint32_t pairs = rx->ncap + 1;
  if (rc == 0) rc = (int)pairs; /* cannot happen: the match data is sized from the pattern */
  const PCRE2_SIZE *v = pcre2_get_ovector_pointer(rx->md);
  for (uint32_t i = 0; i < pairs; i++) {
    int set = i < (uint32_t)rc;
    ov[2 * i] = set ? v[2 * i] : PCRE2_UNSET;
    ov[2 * i + 1] = set ? v[2 * i + 1] : PCRE2_UNSET;
  }
  return rc;
}

/* nil, message, code for a PCRE2 match error */
static int push_match_error(lua_State *L, int rc, PCRE2_SIZE at) {
  PCRE2_UCHAR msg[256];
  if (pcre2_get_error_message(rc, msg, sizeof msg) == PCRE2_ERROR_BADDATA)
    strcpy((char *)msg, "unknown error");
  const char *code = "MATCH_ERROR";
  switch (rc) {
  case PCRE2_ERROR_MATCHLIMIT:
    code = "MATCH_LIMIT";
    break;
  case PCRE2_ERROR_DEPTHLIMIT:
    code = "DEPTH_LIMIT";
    break;
  case PCRE2_ERROR_JIT_STACKLIMIT:
    code = "DEPTH_LIMIT";
    break; /* JIT's recursion bound */
  case PCRE2_ERROR_HEAPLIMIT:
    code = "HEAP_LIMIT";
    break;
  case PCRE2_ERROR_BADUTFOFFSET:
    code = "BAD_UTF8";
    break;
  default:
    if (rc <= PCRE2_ERROR_UTF8_ERR1 && rc >= PCRE2_ERROR_UTF8_ERR21) code = "BAD_UTF8";
  }
  lua_pushnil(L);
  if (rc <= PCRE2_ERROR_UTF8_ERR1 && rc >= PCRE2_ERROR_UTF8_ERR21)
    lua_pushfstring(L, "srm.re: subject %s at byte %I", (const char *)msg, (lua_Integer)at + 1);
  else if (rc == PCRE2_ERROR_BADUTFOFFSET)
    lua_pushliteral(L, "srm.re: init is not at the start of a UTF-8 character");
  else
    lua_pushfstring(L, "srm.re: %s", (const char *)msg);
  lua_pushstring(L, code);
  return 3;
}

static void push_capture(lua_State *L, const char *s, size_t len, const PCRE2_SIZE *ov,
                         uint32_t i) {
  PCRE2_SIZE a = ov[2 * i], b = ov[2 * i + 1];
  if (a == PCRE2_UNSET || b == PCRE2_UNSET)
    lua_pushboolean(L, 0);
  else if (a > b || b > len)
    lua_pushliteral(L, ""); /* defensive: PCRE2 forbids \K in lookarounds by default */
  else
    lua_pushlstring(L, s + a, b - a);
}

/* Pushes the captures, or the whole match when the pattern has none; returns how many. */
static int push_captures(lua_State *L, const char *s, size_t len, const PCRE2_SIZE *ov,
                         uint32_t ncap) {
  if (ncap == 0) {
    push_capture(L, s, len, ov, 0);
    return 1;
  }
  for (uint32_t i = 1; i <= ncap; i++)
    push_capture(L, s, len, ov, i);
  return (int)ncap;
}

/* Lua's string.find init: 1-based, negative from the end. 0 when past the end (no match). */
static int get_init(lua_State *L, int idx, size_t len, size_t *off) {
  lua_Integer i = luaL_optinteger(L, idx, 1);
  if (i == 0 || (i < 0 && i < -(lua_Integer)len))
    i = 1;
  else if (i < 0)
    i = (lua_Integer)len + i + 1;
  if ((lua_Unsigned)i - 1 > (lua_Unsigned)len) return 0;
  *off = (size_t)(i - 1);
  return 1;
}

static void push_exec_table(lua_State *L, struct regex *rx, const char *s, size_t len,
                            const PCRE2_SIZE *ov) {
  lua_createtable(L, (int)rx->ncap, (int)rx->name_count + 2);
  for (uint32_t i = 1; i <= rx->ncap; i++) {
    push_capture(L, s, len, ov, i);
    lua_rawseti(L, -2, (lua_Integer)i);
  }
  for (uint32_t k = 0; k < rx->name_count; k++) {
    PCRE2_SPTR e = rx->name_table + (size_t)k * rx->name_entry_size;
    uint32_t group = ((uint32_t)e[0] << 8) | e[1];
    const char *name = (const char *)e + 2;
    if (group > rx->ncap) continue;
    lua_pushstring(L, name); /* t, name */
    if (ov[2 * group] != PCRE2_UNSET) {
      push_capture(L, s, len, ov, group);
      lua_rawset(L, -3);
    } else {
      /* duplicate names ((?J)): keep a set group over an unset one */
      lua_pushvalue(L, -1);
      if (lua_rawget(L, -3) == LUA_TNIL) {
        lua_pop(L, 1);
        lua_pushboolean(L, 0);
        lua_rawset(L, -3);
      } else {
        lua_pop(L, 2);
      }
    }
  }
  lua_pushinteger(L, (lua_Integer)ov[0] + 1);
  lua_setfield(L, -2, "start");
  lua_pushinteger(L, (lua_Integer)ov[1]);
  lua_setfield(L, -2, "finish");
}

static int find_aux(lua_State *L, struct regex *rx, int si, int ii, enum find_mode mode) {
  size_t len, off;
  const char *s = luaL_checklstring(L, si, &len);
  int found = get_init(L, ii, len, &off);
  PCRE2_SIZE small[2 * RE_OV_SMALL];
  PCRE2_SIZE *ov = ov_buffer(L, rx, small);
  int rc = found ? run_match(L, upstate(L), rx, s, len, off, 0, ov) : 0;
  if (rc < 0) return push_match_error(L, rc, ov[0]);
  if (rc == 0) {
    if (mode == MODE_TEST)
      lua_pushboolean(L, 0);
    else
      lua_pushnil(L);
    return 1;
  }
  switch (mode) {
  case MODE_FIND:
    lua_pushinteger(L, (lua_Integer)ov[0] + 1);
    lua_pushinteger(L, (lua_Integer)ov[1]);
    for (uint32_t i = 1; i <= rx->ncap; i++)
      push_capture(L, s, len, ov, i);
    return (int)rx->ncap + 2;
  case MODE_MATCH:
    return push_captures(L, s, len, ov, rx->ncap);
  case MODE_TEST:
    lua_pushboolean(L, 1);
    return 1;
  case MODE_EXEC:
    push_exec_table(L, rx, s, len, ov);
    return 1;
  }
  return 0;
}

static int gmatch_iter(lua_State *L) {
  struct regex *rx = lua_touserdata(L, lua_upvalueindex(1));
  size_t len;
  const char *s = lua_tolstring(L, lua_upvalueindex(2), &len);
  struct re_state *st = lua_touserdata(L, lua_upvalueindex(3));
  lua_Integer pos = lua_tointeger(L, lua_upvalueindex(4));
  lua_Integer bits = lua_tointeger(L, lua_upvalueindex(5));
  if (bits & GM_DONE) return 0;
  uint32_t opts = ((bits & GM_CHECKED) ? PCRE2_NO_UTF_CHECK : 0) |
                  ((bits & GM_AFTER) ? PCRE2_NOTEMPTY_ATSTART : 0);
  PCRE2_SIZE small[2 * RE_OV_SMALL];
  PCRE2_SIZE *ov = ov_buffer(L, rx, small);
  int rc = run_match(L, st, rx, s, len, (size_t)pos, opts, ov);
  if (rc <= 0) {
    lua_pushinteger(L, GM_DONE);
    lua_replace(L, lua_upvalueindex(5));
    return rc < 0 ? push_match_error(L, rc, ov[0]) : 0;
  }
  lua_pushinteger(L, (lua_Integer)ov[1]);
  lua_replace(L, lua_upvalueindex(4));
  lua_pushinteger(L, GM_CHECKED | GM_AFTER);
  lua_replace(L, lua_upvalueindex(5));
  return push_captures(L, s, len, ov, rx->ncap);
}

static int gmatch_aux(lua_State *L, int ri, int si, int ii) {
  size_t len, off;
  luaL_checklstring(L, si, &len);
  int bits = get_init(L, ii, len, &off) ? 0 : GM_DONE;
  lua_pushvalue(L, ri);
  lua_pushvalue(L, si);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_pushinteger(L, (bits & GM_DONE) ? 0 : (lua_Integer)off);
  lua_pushinteger(L, bits);
  lua_pushcclosure(L, gmatch_iter, 5);
  return 1;
}

/* Appends a string replacement with %0-%9 and %% expanded, as string.gsub does. */
static void add_repl_string(lua_State *L, luaL_Buffer *b, const char *r, size_t rl, const char *s,
                            size_t len, const PCRE2_SIZE *ov, uint32_t ncap) {
  const char *end = r + rl;
  while (r < end) {
    const char *p = memchr(r, '%', (size_t)(end - r));
    if (!p) {
      luaL_addlstring(b, r, (size_t)(end - r));
      return;
    }
    luaL_addlstring(b, r, (size_t)(p - r));
    p++;
    if (p == end || (*p != '%' && (*p < '0' || *p > '9')))
      luaL_error(L, "srm.re.gsub: invalid use of '%%' in replacement string");
    if (*p == '%') {
      luaL_addchar(b, '%');
    } else {
      uint32_t d = (uint32_t)(*p - '0');
      if (d == 1 && ncap == 0) d = 0; /* %1 is the whole match when there are no groups */
      if (d > ncap) luaL_error(L, "srm.re.gsub: invalid capture index %%%d in replacement", (int)d);
      PCRE2_SIZE a = ov[2 * d], e = ov[2 * d + 1];
      if (a != PCRE2_UNSET && e != PCRE2_UNSET && a <= e && e <= len)
        luaL_addlstring(b, s + a, e - a);
    }
    r = p + 1;
  }
}

/* Appends the replacement for one match (function or table repl: false/nil keeps it). */
static void add_repl_value(lua_State *L, luaL_Buffer *b, int ri, const char *s, size_t len,
                           const PCRE2_SIZE *ov, uint32_t ncap) {
  if (lua_type(L, ri) == LUA_TFUNCTION) {
    lua_pushvalue(L, ri);
    int n = push_captures(L, s, len, ov, ncap);
    lua_call(L, n, 1);
  } else {
    push_capture(L, s, len, ov, ncap == 0 ? 0 : 1);
    lua_gettable(L, ri);
  }
  if (!lua_toboolean(L, -1)) {
    lua_pop(L, 1);
    luaL_addlstring(b, s + ov[0], ov[1] - ov[0]);
  } else if (!lua_isstring(L, -1)) {
    luaL_error(L, "srm.re.gsub: invalid replacement value (a %s)", luaL_typename(L, -1));
  } else {
    luaL_addvalue(b);
  }
}

static int gsub_aux(lua_State *L, struct regex *rx, int si, int ri, int ni) {
  size_t len, rl = 0;
  const char *s = luaL_checklstring(L, si, &len);
  int tr = lua_type(L, ri);
  luaL_argexpected(
      L, tr == LUA_TNUMBER || tr == LUA_TSTRING || tr == LUA_TFUNCTION || tr == LUA_TTABLE, ri,
      "string/function/table");
  lua_Integer max_n = luaL_optinteger(L, ni, LUA_MAXINTEGER);
  const char *r = (tr == LUA_TNUMBER || tr == LUA_TSTRING) ? lua_tolstring(L, ri, &rl) : NULL;
  struct re_state *st = upstate(L);
  uint32_t ncap = rx->ncap;
  PCRE2_SIZE small[2 * RE_OV_SMALL];
  PCRE2_SIZE *ov = ov_buffer(L, rx, small);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  size_t pos = 0, copied = 0;
  uint32_t opts = 0;
  lua_Integer n = 0;
  while (n < max_n) {
    int rc = run_match(L, st, rx, s, len, pos, opts, ov);
    if (rc == 0) break;
    if (rc < 0) return push_match_error(L, rc, ov[0]);
    if (ov[0] < copied || ov[1] < ov[0] || ov[1] > len)
      return push_match_error(L, PCRE2_ERROR_INTERNAL, 0);
    luaL_addlstring(&b, s + copied, ov[0] - copied);
    n++;
    if (r)
      add_repl_string(L, &b, r, rl, s, len, ov, ncap);
    else
      add_repl_value(L, &b, ri, s, len, ov, ncap);
    copied = pos = ov[1];
    /* the subject is valid UTF-8 from here on; no empty match where the last one ended */
    opts = PCRE2_NO_UTF_CHECK | PCRE2_NOTEMPTY_ATSTART;
  }
  luaL_addlstring(&b, s + copied, len - copied);
  luaL_pushresult(&b);
  lua_pushinteger(L, n);
  return 2;
}

static int split_aux(lua_State *L, struct regex *rx, int si, int mi) {
  size_t len;
  const char *s = luaL_checklstring(L, si, &len);
  lua_Integer max = luaL_optinteger(L, mi, LUA_MAXINTEGER);
  luaL_argcheck(L, max >= 1, mi, "max must be at least 1");
  struct re_state *st = upstate(L);
  PCRE2_SIZE small[2 * RE_OV_SMALL];
  PCRE2_SIZE *ov = ov_buffer(L, rx, small);
  lua_newtable(L);
  lua_Integer count = 0;
  size_t pos = 0, piece = 0;
  uint32_t opts = 0;
  while (count < max - 1) {
    int rc = run_match(L, st, rx, s, len, pos, opts, ov);
    if (rc == 0) break;
    if (rc < 0) return push_match_error(L, rc, ov[0]);
    if (ov[0] < piece || ov[1] < ov[0] || ov[1] > len)
      return push_match_error(L, PCRE2_ERROR_INTERNAL, 0);
    opts = PCRE2_NO_UTF_CHECK | PCRE2_NOTEMPTY_ATSTART;
    if (ov[0] == ov[1] && (ov[0] == 0 || ov[0] == len)) {
      if (ov[0] == len) break; /* an empty match at either end splits nothing */
      continue;                /* retry at 0, now without the empty match */
    }
    lua_pushlstring(L, s + piece, ov[0] - piece);
    lua_rawseti(L, -2, ++count);
    piece = pos = ov[1];
  }
  lua_pushlstring(L, s + piece, len - piece);
  lua_rawseti(L, -2, ++count);
  return 1;
}

/* ---- regex methods ---- */

/*
** regex:find(s [, init]) -> start, end, cap1, ... | nil | nil, errmsg, code
** Positions are 1-based bytes; unset groups are false. code: MATCH_LIMIT, DEPTH_LIMIT,
** HEAP_LIMIT, BAD_UTF8, MATCH_ERROR.
*/
static int regex_find(lua_State *L) {
  return find_aux(L, check_regex(L, 1), 2, 3, MODE_FIND);
}

/* regex:match(s [, init]) -> cap1, ... (the whole match without groups) | nil | nil, err, code */
static int regex_match(lua_State *L) {
  return find_aux(L, check_regex(L, 1), 2, 3, MODE_MATCH);
}

/* regex:test(s [, init]) -> boolean | nil, errmsg, code */
static int regex_test(lua_State *L) {
  return find_aux(L, check_regex(L, 1), 2, 3, MODE_TEST);
}

/*
** regex:exec(s [, init]) -> {start=, finish=, [i]=capture, name=capture} | nil | nil, err, code
** start/finish win over groups named "start" or "finish" (still reachable by index).
*/
static int regex_exec(lua_State *L) {
  return find_aux(L, check_regex(L, 1), 2, 3, MODE_EXEC);
}

/*
** regex:gmatch(s [, init]) -> iterator yielding the captures (or the whole match)
** An empty match is not allowed where the previous match ended (Lua 5.4 rule), so the scan
** always advances. On a limit or bad UTF-8 the iterator returns nil, errmsg, code once.
*/
static int regex_gmatch(lua_State *L) {
  check_regex(L, 1);
  return gmatch_aux(L, 1, 2, 3);
}

/*
** regex:gsub(s, repl [, n]) -> string, count | nil, errmsg, code
** repl: string with %0-%9 and %%, table indexed by the first capture (or whole match), or
** function called with the captures; false/nil keeps the match. n caps the replacements.
*/
static int regex_gsub(lua_State *L) {
  return gsub_aux(L, check_regex(L, 1), 2, 3, 4);
}

/*
** regex:split(s [, max]) -> {piece1, ...} | nil, errmsg, code
** At most max pieces (the last holds the rest); empty matches at either end split nothing.
*/
static int regex_split(lua_State *L) {
  return split_aux(L, check_regex(L, 1), 2, 3);
}

static int regex_tostring(lua_State *L) {
  struct regex *rx = luaL_checkudata(L, 1, RE_MT);
  if (!rx->code) {
    lua_pushliteral(L, "srm.re (closed)");
    return 1;
  }
  lua_pushliteral(L, "srm.re(");
  lua_getiuservalue(L, 1, 1);
  lua_pushliteral(L, ")");
  lua_concat(L, 3);
  return 1;
}

/* __index: regex.pattern, else the method table (upvalue 1) */
static int regex_index(lua_State *L) {
  luaL_checkudata(L, 1, RE_MT);
  if (lua_type(L, 2) == LUA_TSTRING && strcmp(lua_tostring(L, 2), "pattern") == 0) {
    lua_getiuservalue(L, 1, 1);
    return 1;
  }
  lua_pushvalue(L, 2);
  lua_rawget(L, lua_upvalueindex(1));
  return 1;
}

/* ---- module functions ---- */

/*
** re.compile(pattern [, flags]) -> regex
** flags: i caseless, m multiline, s dotall, x extended, A anchored, a ASCII classes (no UCP).
** Raises on an unknown flag or a bad pattern (message names the offset).
*/
static int re_compile(lua_State *L) {
  luaL_checkstring(L, 1);
  new_regex(L, 1, parse_flags(L, 2));
  return 1;
}

/* re.find(s, pattern [, flags [, init]]) -> as regex:find (cached compile) */
static int re_find(lua_State *L) {
  lua_settop(L, 4); /* the cached regex goes above the arguments */
  return find_aux(L, cached_regex(L, 2, 3), 1, 4, MODE_FIND);
}

/* re.match(s, pattern [, flags [, init]]) -> as regex:match */
static int re_match(lua_State *L) {
  lua_settop(L, 4); /* the cached regex goes above the arguments */
  return find_aux(L, cached_regex(L, 2, 3), 1, 4, MODE_MATCH);
}

/* re.test(s, pattern [, flags [, init]]) -> as regex:test */
static int re_test(lua_State *L) {
  lua_settop(L, 4); /* the cached regex goes above the arguments */
  return find_aux(L, cached_regex(L, 2, 3), 1, 4, MODE_TEST);
}

/* re.exec(s, pattern [, flags [, init]]) -> as regex:exec */
static int re_exec(lua_State *L) {
  lua_settop(L, 4); /* the cached regex goes above the arguments */
  return find_aux(L, cached_regex(L, 2, 3), 1, 4, MODE_EXEC);
}

/* re.gmatch(s, pattern [, flags [, init]]) -> as regex:gmatch */
static int re_gmatch(lua_State *L) {
  lua_settop(L, 4); /* the cached regex goes above the arguments */
  cached_regex(L, 2, 3);
  return gmatch_aux(L, lua_gettop(L), 1, 4);
}

/* re.gsub(s, pattern, repl [, flags [, n]]) -> as regex:gsub */
static int re_gsub(lua_State *L) {
  lua_settop(L, 5); /* the cached regex goes above the arguments */
  return gsub_aux(L, cached_regex(L, 2, 4), 1, 3, 5);
}

/* re.split(s, pattern [, flags [, max]]) -> as regex:split */
static int re_split(lua_State *L) {
  lua_settop(L, 4); /* the cached regex goes above the arguments */
  return split_aux(L, cached_regex(L, 2, 3), 1, 4);
}

/* re.escape(s) -> pattern matching s literally (also under the x flag) */
static int re_escape(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        c == '_') {
      luaL_addchar(&b, (char)c);
    } else if (c < 0x20 || c == 0x7f) {
      static const char hex[] = "0123456789abcdef";
      luaL_addstring(&b, "\\x");
      luaL_addchar(&b, hex[c >> 4]);
      luaL_addchar(&b, hex[c & 15]);
    } else {
      luaL_addchar(&b, '\\');
      luaL_addchar(&b, (char)c);
    }
  }
  luaL_pushresult(&b);
  return 1;
}

static void push_limits(lua_State *L, const struct re_state *st) {
  lua_createtable(L, 0, 3);
  lua_pushinteger(L, st->match_limit);
  lua_setfield(L, -2, "match");
  lua_pushinteger(L, st->depth_limit);
  lua_setfield(L, -2, "depth");
  lua_pushinteger(L, st->heap_kib);
  lua_setfield(L, -2, "heap_kib");
}

/*
** re.set_limits{match=, depth=, heap_kib=} -> previous limits {match=, depth=, heap_kib=}
** For every match in this state. Omitted keys keep their value; unknown keys and values
** outside 1..2^32-1 raise (nothing is changed then). The JIT honours only the match limit
** (its own bound, the 8 MiB JIT stack, reports DEPTH_LIMIT).
*/
static int re_set_limits(lua_State *L) {
  struct re_state *st = upstate(L);
  luaL_checktype(L, 1, LUA_TTABLE);
  uint32_t v[3] = {st->match_limit, st->depth_limit, st->heap_kib};
  static const char *const keys[] = {"match", "depth", "heap_kib"};
  lua_pushnil(L);
  while (lua_next(L, 1)) { /* t, key, value */
    int k = -1;
    if (lua_type(L, -2) == LUA_TSTRING) {
      const char *name = lua_tostring(L, -2);
      for (int i = 0; i < 3; i++)
        if (strcmp(name, keys[i]) == 0) k = i;
    }
    if (k < 0) {
      lua_pushvalue(L, -2);
      return luaL_error(L, "srm.re.set_limits: unknown option '%s'", luaL_tolstring(L, -1, NULL));
    }
    int isnum;
    lua_Integer n = lua_tointegerx(L, -1, &isnum);
    if (!isnum || n < 1 || n > (lua_Integer)UINT32_MAX)
      return luaL_error(L, "srm.re.set_limits: '%s' must be an integer in 1..4294967295", keys[k]);
    v[k] = (uint32_t)n;
    lua_pop(L, 1);
  }
  if (!st->mctx) return luaL_error(L, "srm.re: the module state is closed");
  push_limits(L, st);
  st->match_limit = v[0];
  st->depth_limit = v[1];
  st->heap_kib = v[2];
  apply_limits(st);
  return 1;
}

static const luaL_Reg regex_methods[] = {
    {"find", regex_find},     {"match", regex_match}, {"test", regex_test},   {"exec", regex_exec},
    {"gmatch", regex_gmatch}, {"gsub", regex_gsub},   {"split", regex_split}, {NULL, NULL},
};

static const luaL_Reg regex_meta[] = {
    {"__gc", regex_gc},
    {"__tostring", regex_tostring},
    {NULL, NULL},
};

static const luaL_Reg re_funcs[] = {
    {"compile", re_compile},
    {"find", re_find},
    {"match", re_match},
    {"test", re_test},
    {"exec", re_exec},
    {"gmatch", re_gmatch},
    {"gsub", re_gsub},
    {"split", re_split},
    {"escape", re_escape},
    {"set_limits", re_set_limits},
    {NULL, NULL},
};

int luaopen_srm_re(lua_State *L) {
  push_state(L); /* st */
  luaL_newmetatable(L, RE_MT);
  luaL_setfuncs(L, regex_meta, 0);
  lua_pushliteral(L, RE_MT);
  lua_setfield(L, -2, "__metatable"); /* skills cannot reach or change it */
  lua_newtable(L);
  lua_pushvalue(L, -3);
  luaL_setfuncs(L, regex_methods, 1); /* st, mt, methods */
  lua_pushcclosure(L, regex_index, 1);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1); /* st */
  luaL_newlibtable(L, re_funcs);
  lua_pushvalue(L, -2);
  luaL_setfuncs(L, re_funcs, 1); /* st, re */
  uint32_t jit = 0;
  pcre2_config(PCRE2_CONFIG_JIT, &jit);
  lua_pushboolean(L, jit != 0);
  lua_setfield(L, -2, "jit");
  return 1;
}
