/* srm: srm.tok, exact byte-level BPE token counts for skills (tiktoken encodings and Hugging
** Face tokenizer.json files; the tokenizer core is runtime/srm_tok.c). tok.load gives a
** tokenizer userdata with encode/decode/count. The tokenizer data is loaded once per process and
** shared read-only; each Lua state keeps its own handle per file (a per-state cache, so loading
** inside a record costs a table lookup) with its own session: regex match data, JIT stack and a
** cache of recent pieces. */
#include "srm_modules.h"
#include "srm_tok.h"

#include <lauxlib.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define TOK_MT "srm.tok"
#define TOK_CACHE_KEY "srm.tok.cache" /* registry: real path -> tokenizer userdata */
#define TOK_KEEP_IDS (1u << 20)       /* id buffer kept between calls, entries */

/* The "srm.tok" userdata; user value 1 is the name it was loaded under. */
struct ltok {
  struct srm_tok_session *s;
  struct srm_tok_ids ids; /* reused by encode */
};

static struct ltok *check_tok(lua_State *L, const char *api) {
  struct ltok *t = luaL_testudata(L, 1, TOK_MT);
  if (t == NULL) luaL_error(L, "%s: expected a tokenizer as self (use tok:%s(...))", api, api + 8);
  if (t->s == NULL) luaL_error(L, "%s: the tokenizer is closed", api);
  return t;
}

/* opts at index idx: {special = "allow" | "text" | "error"}; unknown keys raise. */
static enum srm_tok_special check_opts(lua_State *L, int idx, const char *api) {
  enum srm_tok_special mode = SRM_TOK_SPECIAL_ALLOW;
  if (lua_isnoneornil(L, idx)) return mode;
  luaL_checktype(L, idx, LUA_TTABLE);
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    if (lua_type(L, -2) != LUA_TSTRING || strcmp(lua_tostring(L, -2), "special") != 0) {
      lua_pop(L, 1);
      luaL_error(L, "%s: unknown option '%s' (expected special)", api,
                 lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : luaL_typename(L, -1));
    }
    lua_pop(L, 1);
  }
  if (lua_getfield(L, idx, "special") != LUA_TNIL) {
    const char *v = lua_tostring(L, -1);
    if (lua_type(L, -1) != LUA_TSTRING) v = NULL;
    if (v && strcmp(v, "allow") == 0)
      mode = SRM_TOK_SPECIAL_ALLOW;
    else if (v && strcmp(v, "text") == 0)
      mode = SRM_TOK_SPECIAL_TEXT;
    else if (v && strcmp(v, "error") == 0)
      mode = SRM_TOK_SPECIAL_ERROR;
    else
      luaL_error(L, "%s: option 'special' must be \"allow\", \"text\" or \"error\"", api);
  }
  lua_pop(L, 1);
  return mode;
}

/* Runs the encoder; on an expected failure pushes nil, msg, code and returns -1. Raises on
** out of memory. */
static int run_encode(lua_State *L, struct ltok *t, const char *api, int want_ids, size_t *count) {
  size_t len;
  const char *s = luaL_checklstring(L, 2, &len);
  enum srm_tok_special mode = check_opts(L, 3, api);
  char err[200];
  t->ids.n = 0;
  int rc = srm_tok_encode(t->s, s, len, mode, want_ids ? &t->ids : NULL, count, err, sizeof err);
  if (rc == SRM_TOK_OK) return 0;
  if (rc == SRM_TOK_E_NOMEM) luaL_error(L, "%s: not enough memory", api);
  lua_pushnil(L);
  lua_pushfstring(L, "%s: %s", api, err);
  lua_pushstring(L, srm_tok_status_code(rc));
  return -1;
}

/*
** tok:encode(s [, {special = "allow" | "text" | "error"}]) -> {id, ...} | nil, msg, code
** Raises on bad arguments. code "SPECIAL_TOKEN" (special = "error" and s holds one) or
** "REGEX_LIMIT".
*/
static int tok_encode(lua_State *L) {
  struct ltok *t = check_tok(L, "srm.tok.encode");
  size_t count;
  if (run_encode(L, t, "srm.tok.encode", 1, &count) != 0) return 3;
  if (t->ids.n > INT_MAX) return luaL_error(L, "srm.tok.encode: too many tokens");
  lua_createtable(L, (int)t->ids.n, 0);
  for (size_t i = 0; i < t->ids.n; i++) {
    lua_pushinteger(L, (lua_Integer)t->ids.v[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  if (t->ids.cap > TOK_KEEP_IDS) srm_tok_ids_free(&t->ids);
  return 1;
}

/*
** tok:count(s [, opts]) -> integer | nil, msg, code
** Same as #tok:encode(s, opts) without building the array.
*/
static int tok_count(lua_State *L) {
  struct ltok *t = check_tok(L, "srm.tok.count");
  size_t count;
  if (run_encode(L, t, "srm.tok.count", 0, &count) != 0) return 3;
  lua_pushinteger(L, (lua_Integer)count);
  return 1;
}

/*
** tok:decode({id, ...}) -> string
** Raises on a non-integer or unknown id. Special and added tokens give their text.
*/
static int tok_decode(lua_State *L) {
  struct ltok *t = check_tok(L, "srm.tok.decode");
  luaL_checktype(L, 2, LUA_TTABLE);
  const struct srm_tok *tk = srm_tok_session_tok(t->s);
  lua_Integer n = luaL_len(L, 2);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (lua_Integer i = 1; i <= n; i++) {
    int isnum;
    lua_rawgeti(L, 2, i);
    lua_Integer id = lua_tointegerx(L, -1, &isnum);
    lua_pop(L, 1);
    size_t len;
    const char *bytes = NULL;
    if (isnum && id >= 0 && id <= (lua_Integer)UINT32_MAX)
      bytes = srm_tok_token_bytes(tk, (uint32_t)id, &len);
    if (bytes == NULL) {
      lua_rawgeti(L, 2, i);
      return luaL_error(L, "srm.tok.decode: entry %I is not a token id of %s (got %s)", i,
                        srm_tok_name(tk), luaL_tolstring(L, -1, NULL));
    }
    luaL_addlstring(&b, bytes, len);
  }
  luaL_pushresult(&b);
  return 1;
}

static int tok_gc(lua_State *L) {
  struct ltok *t = luaL_checkudata(L, 1, TOK_MT);
  srm_tok_session_free(t->s);
  t->s = NULL;
  srm_tok_ids_free(&t->ids);
  return 0;
}

static int tok_tostring(lua_State *L) {
  struct ltok *t = luaL_checkudata(L, 1, TOK_MT);
  lua_getiuservalue(L, 1, 1);
  lua_pushfstring(L, "srm.tok (%s)%s", lua_tostring(L, -1), t->s ? "" : " closed");
  return 1;
}

/* __index: methods (upvalue 1), then the fields name and vocab_size. */
static int tok_index(lua_State *L) {
  struct ltok *t = luaL_checkudata(L, 1, TOK_MT);
  const char *key = lua_tostring(L, 2);
  if (key && strcmp(key, "name") == 0) {
    lua_getiuservalue(L, 1, 1);
    return 1;
  }
  if (key && strcmp(key, "vocab_size") == 0 && t->s) {
    lua_pushinteger(L, (lua_Integer)srm_tok_vocab_size(srm_tok_session_tok(t->s)));
    return 1;
  }
  lua_pushvalue(L, 2);
  lua_rawget(L, lua_upvalueindex(1));
  return 1;
}

/*
** tok.load(name_or_path) -> tokenizer | nil, msg, code
** Names ("cl100k_base", "o200k_base", "qwen3", "llama3", ...) are looked up in $SRM_TOKENIZERS
** and .cache/tokenizers (srm_tok_resolve). Codes: NOT_FOUND, BAD_FILE, UNSUPPORTED. One handle
** per file and Lua state: loading the same file again returns the same tokenizer.
*/
static int tok_load(lua_State *L) {
  const char *name = luaL_checkstring(L, 1);
  char path[4096], real[PATH_MAX], err[512];
  int rc = srm_tok_resolve(name, path, sizeof path, err, sizeof err);
  if (rc == SRM_TOK_OK && realpath(path, real) == NULL) {
    rc = SRM_TOK_E_NOT_FOUND;
    snprintf(err, sizeof err, "%.400s: no such file", path);
  }
  if (rc != SRM_TOK_OK) {
    lua_pushnil(L);
    lua_pushfstring(L, "srm.tok.load: %s", err);
    lua_pushstring(L, srm_tok_status_code(rc));
    return 3;
  }
  lua_getfield(L, LUA_REGISTRYINDEX, TOK_CACHE_KEY); /* cache */
  if (lua_getfield(L, -1, real) == LUA_TUSERDATA) return 1;
  lua_pop(L, 1);
  struct ltok *t = lua_newuserdatauv(L, sizeof *t, 1); /* cache, ud */
  memset(t, 0, sizeof *t);
  luaL_setmetatable(L, TOK_MT);
  lua_pushstring(L, name);
  lua_setiuservalue(L, -2, 1);
  struct srm_tok *tk = srm_tok_open(real, &rc, err, sizeof err);
  if (tk == NULL) {
    if (rc == SRM_TOK_E_NOMEM) return luaL_error(L, "srm.tok.load: not enough memory");
    lua_pushnil(L);
    lua_pushfstring(L, "srm.tok.load: %s", err);
    lua_pushstring(L, srm_tok_status_code(rc));
    return 3;
  }
  t->s = srm_tok_session_new(tk);
  srm_tok_close(tk); /* the session holds its own reference */
  if (t->s == NULL) return luaL_error(L, "srm.tok.load: not enough memory");
  lua_pushvalue(L, -1);
  lua_setfield(L, -3, real); /* cache, ud */
  return 1;
}

static const luaL_Reg tok_methods[] = {
    {"encode", tok_encode},
    {"decode", tok_decode},
    {"count", tok_count},
    {NULL, NULL},
};

static const luaL_Reg tok_meta[] = {
    {"__gc", tok_gc},
    {"__tostring", tok_tostring},
    {NULL, NULL},
};

static const luaL_Reg tok_funcs[] = {
    {"load", tok_load},
    {NULL, NULL},
};

int luaopen_srm_tok(lua_State *L) {
  if (lua_getfield(L, LUA_REGISTRYINDEX, TOK_CACHE_KEY) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, TOK_CACHE_KEY);
  } else {
    lua_pop(L, 1);
  }
  luaL_newmetatable(L, TOK_MT);
  luaL_setfuncs(L, tok_meta, 0);
  lua_pushliteral(L, TOK_MT);
  lua_setfield(L, -2, "__metatable"); /* skills cannot reach or change it */
  luaL_newlib(L, tok_methods);
  lua_pushcclosure(L, tok_index, 1);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  luaL_newlib(L, tok_funcs);
  return 1;
}
