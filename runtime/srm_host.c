/* srm: host lua_State construction (see srm_host.h). */
#include "srm_host.h"

#include "srm_embed.h"
#include "srm_modules.h"
#include "srm_sched.h"

#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <string.h>

/* One module per line, so adding one is a one-line change. */
/* clang-format off */
static const luaL_Reg c_modules[] = {
    {"srm.core", luaopen_srm_core},
    {"srm.re", luaopen_srm_re},
    {"srm.text", luaopen_srm_text},
    {"srm.json", luaopen_srm_json},
    {"srm.math", luaopen_srm_math},
    {"srm.ifeval", luaopen_srm_ifeval},
    {"srm.proc", luaopen_srm_proc},
    {"srm.tok", luaopen_srm_tok},
    {"srm.transport", luaopen_srm_transport},
    {"srm.cache", luaopen_srm_cache},
    {"srm.luabox", luaopen_srm_luabox},
    {"srm.yaml", luaopen_srm_yaml},
    {NULL, NULL},
};
/* clang-format on */

static int traceback_handler(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL) {
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) return 1;
    return 1; /* keep non-string error objects (tables) as they are */
  }
  luaL_traceback(L, L, msg, 1);
  return 1;
}

int srm_host_pcall(lua_State *L, int nargs, int nresults) {
  int base = lua_gettop(L) - nargs;
  lua_pushcfunction(L, traceback_handler);
  lua_insert(L, base);
  int status = lua_pcall(L, nargs, nresults, base);
  lua_remove(L, base);
  return status;
}

int srm_host_require(lua_State *L, const char *module) {
  lua_getglobal(L, "require");
  lua_pushstring(L, module);
  return srm_host_pcall(L, 1, 1);
}

/* package.searchers entry: finds "srm.x" among the embedded stdlib files. */
static int search_embedded(lua_State *L) {
  const char *name = luaL_checkstring(L, 1);
  for (const struct srm_embedded_file *f = srm_embedded_files; f->module; f++) {
    if (strcmp(f->module, name) != 0) continue;
    char chunk[256];
    snprintf(chunk, sizeof chunk, "@%s", f->path);
    if (luaL_loadbufferx(L, f->data, f->size, chunk, "t") != LUA_OK) return lua_error(L);
    lua_pushstring(L, f->path);
    return 2;
  }
  lua_pushfstring(L, "\n\tno embedded stdlib module '%s'", name);
  return 1;
}

/* Replaces package.searchers with {preload, stdlib}: nothing else is ever loaded from disk. */
static void install_searchers(lua_State *L, const char *stdlib_dir) {
  lua_getglobal(L, "package");      /* package */
  lua_getfield(L, -1, "searchers"); /* package, searchers */
  lua_rawgeti(L, -1, 1);            /* package, searchers, preload_searcher */
  lua_rawgeti(L, -2, 2);            /* package, searchers, preload, lua_searcher */
  lua_createtable(L, 2, 0);         /* ..., new */
  lua_insert(L, -3);                /* package, searchers, new, preload, lua */
  if (stdlib_dir) {
    lua_rawseti(L, -3, 2); /* new[2] = file searcher */
    lua_rawseti(L, -2, 1); /* new[1] = preload */
    lua_pushfstring(L, "%s/?.lua", stdlib_dir);
    lua_setfield(L, -4, "path");
  } else {
    lua_pop(L, 1);
    lua_rawseti(L, -2, 1);
    lua_pushcfunction(L, search_embedded);
    lua_rawseti(L, -2, 2);
    lua_pushliteral(L, "");
    lua_setfield(L, -4, "path");
  }
  lua_setfield(L, -3, "searchers"); /* package, searchers */
  lua_pushliteral(L, "");
  lua_setfield(L, -3, "cpath");
  lua_pop(L, 2);
}

static void install_preloads(lua_State *L) {
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  for (const luaL_Reg *m = c_modules; m->name; m++) {
    lua_pushcfunction(L, m->func);
    lua_setfield(L, -2, m->name);
  }
  lua_pop(L, 1);
}

static int open_libs(lua_State *L) {
  const char *stdlib_dir = lua_touserdata(L, 1);
  luaL_openlibs(L);
  install_preloads(L);
  install_searchers(L, stdlib_dir);
  return 0;
}

int srm_host_open(struct srm_host *h, size_t memory_limit, const char *stdlib_dir, char *err,
                  size_t errlen) {
  memset(h, 0, sizeof *h);
  srm_alloc_init(&h->alloc, memory_limit);
  h->L = lua_newstate(srm_alloc_fn, &h->alloc);
  if (!h->L) {
    snprintf(err, errlen, "cannot create a Lua state (out of memory)");
    return -1;
  }
  lua_State *L = h->L;
  /* Collect when the heap reaches 1.5x the live data instead of Lua's default 2x: records make
  ** short-lived garbage (request bodies, replies, rows), and the default let peak RSS with 80
  ** model calls in flight pass 16 MiB; the extra collection work is not measurable. */
  lua_gc(L, LUA_GCINC, 150, 0, 0);
  lua_pushcfunction(L, open_libs);
  lua_pushlightuserdata(L, (void *)stdlib_dir);
  if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
    snprintf(err, errlen, "cannot open the Lua libraries: %s", lua_tostring(L, -1));
    srm_host_close(h);
    return -1;
  }
  h->sched = srm_sched_new(L, &h->alloc);
  if (!h->sched) {
    snprintf(err, errlen, "cannot create the event loop (curl_multi_init failed)");
    srm_host_close(h);
    return -1;
  }
  return 0;
}

void srm_host_close(struct srm_host *h) {
  if (h->sched) {
    srm_sched_drain(h->sched);
    srm_sched_free(h->sched);
  }
  if (h->L) lua_close(h->L);
  h->L = NULL;
  h->sched = NULL;
}

int srm_host_run_main(const char *cmd, const char *module, const char *fn, int argc, char **argv) {
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
    return 1;
  }
  lua_State *L = h.L;
  int rc = 1;
  if (srm_host_require(L, module) != LUA_OK) {
    fprintf(stderr, "%s: %s\n", cmd, lua_tostring(L, -1));
    srm_host_close(&h);
    return 1;
  }
  lua_getfield(L, -1, fn); /* module, fn */
  lua_createtable(L, argc - first, 0);
  for (int k = first; k < argc; k++) {
    lua_pushstring(L, argv[k]);
    lua_rawseti(L, -2, k - first + 1);
  }
  if (srm_host_pcall(L, 1, 1) != LUA_OK)
    fprintf(stderr, "%s: internal error: %s\n", cmd, lua_tostring(L, -1));
  else
    rc = (int)lua_tointeger(L, -1);
  fflush(stdout);
  srm_host_close(&h);
  return rc;
}
