/* srm: srm.cache, the model-reply cache in SQLite (WAL). Keys are SHA-256 hex digests of the
** request (model, messages, tools, sampling parameters; never the endpoint), values the raw
** reply bodies; errors are never stored. Lookups are microseconds, so they run inline on the
** event loop. Host-only: skills never see this module. */
#include "srm_modules.h"

#include <lauxlib.h>
#include <sqlite3.h>
#include <string.h>

#define CACHE_MT "srm.cache"

struct cache {
  sqlite3 *db;
  sqlite3_stmt *get, *put;
  lua_Integer hits, misses, puts;
};

static struct cache *check_cache(lua_State *L) {
  struct cache *c = luaL_checkudata(L, 1, CACHE_MT);
  if (!c->db) luaL_error(L, "srm.cache: the cache is closed");
  return c;
}

static void close_cache(struct cache *c) {
  sqlite3_finalize(c->get);
  sqlite3_finalize(c->put);
  sqlite3_close(c->db);
  c->get = c->put = NULL;
  c->db = NULL;
}

/*
** cache.open(path) -> cache | nil, errmsg
** Creates the file and its table when missing; WAL journal, synchronous=NORMAL.
*/
static int cache_open(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  struct cache *c = lua_newuserdatauv(L, sizeof *c, 0);
  memset(c, 0, sizeof *c);
  luaL_setmetatable(L, CACHE_MT);
  static const char *const setup =
      "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
      "CREATE TABLE IF NOT EXISTS replies (key TEXT PRIMARY KEY, body BLOB NOT NULL,"
      " created INTEGER NOT NULL DEFAULT (strftime('%s','now')));";
  int rc = sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
  if (rc == SQLITE_OK) rc = sqlite3_busy_timeout(c->db, 5000);
  if (rc == SQLITE_OK) rc = sqlite3_exec(c->db, setup, NULL, NULL, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_prepare_v2(c->db, "SELECT body FROM replies WHERE key = ?1", -1, &c->get, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_prepare_v2(c->db, "INSERT OR REPLACE INTO replies (key, body) VALUES (?1, ?2)", -1,
                            &c->put, NULL);
  if (rc != SQLITE_OK) {
    lua_pushnil(L);
    lua_pushfstring(L, "cannot open the reply cache %s: %s", path,
                    c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
    close_cache(c);
    return 2;
  }
  return 1;
}

/* cache:get(key) -> body | nil */
static int cache_get(lua_State *L) {
  struct cache *c = check_cache(L);
  size_t klen;
  const char *key = luaL_checklstring(L, 2, &klen);
  sqlite3_reset(c->get);
  sqlite3_bind_text(c->get, 1, key, (int)klen, SQLITE_STATIC);
  if (sqlite3_step(c->get) == SQLITE_ROW) {
    const void *body = sqlite3_column_blob(c->get, 0);
    int n = sqlite3_column_bytes(c->get, 0);
    lua_pushlstring(L, body ? body : "", (size_t)n);
    c->hits++;
  } else {
    lua_pushnil(L);
    c->misses++;
  }
  sqlite3_reset(c->get);
  sqlite3_clear_bindings(c->get);
  return 1;
}

/* cache:put(key, body) -> true | nil, errmsg (a full disk must not stop the run) */
static int cache_put(lua_State *L) {
  struct cache *c = check_cache(L);
  size_t klen, blen;
  const char *key = luaL_checklstring(L, 2, &klen);
  const char *body = luaL_checklstring(L, 3, &blen);
  sqlite3_reset(c->put);
  sqlite3_bind_text(c->put, 1, key, (int)klen, SQLITE_STATIC);
  sqlite3_bind_blob(c->put, 2, body, (int)blen, SQLITE_STATIC);
  int rc = sqlite3_step(c->put);
  sqlite3_reset(c->put);
  sqlite3_clear_bindings(c->put);
  if (rc != SQLITE_DONE) {
    lua_pushnil(L);
    lua_pushstring(L, sqlite3_errmsg(c->db));
    return 2;
  }
  c->puts++;
  lua_pushboolean(L, 1);
  return 1;
}

/* cache:stats() -> {hits, misses, puts} */
static int cache_stats(lua_State *L) {
  struct cache *c = luaL_checkudata(L, 1, CACHE_MT);
  lua_createtable(L, 0, 3);
  lua_pushinteger(L, c->hits);
  lua_setfield(L, -2, "hits");
  lua_pushinteger(L, c->misses);
  lua_setfield(L, -2, "misses");
  lua_pushinteger(L, c->puts);
  lua_setfield(L, -2, "puts");
  return 1;
}

/* cache:close(); also __gc and __close, idempotent */
static int cache_close(lua_State *L) {
  struct cache *c = luaL_checkudata(L, 1, CACHE_MT);
  if (c->db) close_cache(c);
  return 0;
}

static const luaL_Reg cache_methods[] = {
    {"get", cache_get},     {"put", cache_put}, {"stats", cache_stats},
    {"close", cache_close}, {NULL, NULL},
};

static const luaL_Reg cache_funcs[] = {
    {"open", cache_open},
    {NULL, NULL},
};

int luaopen_srm_cache(lua_State *L) {
  if (luaL_newmetatable(L, CACHE_MT)) {
    luaL_newlib(L, cache_methods);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, cache_close);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, cache_close);
    lua_setfield(L, -2, "__close");
  }
  lua_pop(L, 1);
  luaL_newlib(L, cache_funcs);
  return 1;
}
