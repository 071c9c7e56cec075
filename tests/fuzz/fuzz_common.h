/* srm fuzzing: helpers shared by the fuzz targets (tests/fuzz/fuzz_*.c). Each target defines
** LLVMFuzzerTestOneInput; it is linked either with libFuzzer (cmake -DSRM_FUZZ=ON, clang) or with
** tests/fuzz/replay.c, a plain main that feeds it the files of the committed corpora and
** regression inputs (the fuzz.replay_* ctests of the normal build).
**
** The Lua-driven targets share one trusted host state per process, built as `srm lua` builds
** it (srm_host_open: every srm module, the embedded stdlib), and run a driver chunk written in
** Lua: the chunk returns a function of the input bytes, which raises only when a property the
** code under test promises is broken. Such an error, or a Lua error escaping the driver, aborts
** the process so that libFuzzer records the input. */
#ifndef SRM_FUZZ_COMMON_H
#define SRM_FUZZ_COMMON_H

#include "srm_host.h"

#include <lauxlib.h>
#include <lua.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reports a broken property and aborts (libFuzzer saves the input as a crash). */
static void fuzz_fail(const char *what, const char *detail) {
  fprintf(stderr, "fuzz: %s: %s\n", what, detail ? detail : "(no detail)");
  abort();
}

/* ---- Lua coverage for libFuzzer ----
** libFuzzer sees the edges of instrumented C only; the Lua interpreter is Debian's and is not
** instrumented, so the branches of stdlib code under test (judge.lua, llm.lua) would be
** invisible. A line hook turns each (previous line, line) pair of Lua code into a hit on an extra
** counter in libFuzzer's __libfuzzer_extra_counters section, so inputs that reach new Lua lines
** are kept. The hook is set only when libFuzzer is linked in (LLVMFuzzerMutate exists), not in
** the replay build. */
extern size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size) __attribute__((weak));

#define FUZZ_LUA_COUNTERS (1u << 16)
__attribute__((section("__libfuzzer_extra_counters"),
               used)) static uint8_t fuzz_lua_counters[FUZZ_LUA_COUNTERS];
static uint32_t fuzz_lua_prev;

static void fuzz_lua_line_hook(lua_State *L, lua_Debug *ar) {
  if (!lua_getinfo(L, "S", ar)) return;
  uint32_t cur = (uint32_t)ar->currentline * 2654435761u ^ (uint32_t)ar->linedefined * 40503u ^
                 (uint32_t)(uintptr_t)ar->source;
  uint8_t *c = &fuzz_lua_counters[(cur ^ fuzz_lua_prev) & (FUZZ_LUA_COUNTERS - 1)];
  *c = (uint8_t)(*c + 1);
  fuzz_lua_prev = cur >> 1;
}

struct fuzz_lua {
  struct srm_host host;
  int fn_ref; /* the driver function in the registry */
  int ready;
};

/* Builds the host state once and compiles the driver chunk (which must return a function). */
static lua_State *fuzz_lua_init(struct fuzz_lua *f, const char *name, const char *driver) {
  if (f->ready) return f->host.L;
  char err[512];
  if (srm_host_open(&f->host, 0, NULL, err, sizeof err) != 0) fuzz_fail("srm_host_open", err);
  lua_State *L = f->host.L;
  if (luaL_loadbufferx(L, driver, strlen(driver), name, "t") != LUA_OK)
    fuzz_fail("driver chunk", lua_tostring(L, -1));
  if (srm_host_pcall(L, 0, 1) != LUA_OK) fuzz_fail("driver chunk", lua_tostring(L, -1));
  if (lua_type(L, -1) != LUA_TFUNCTION) fuzz_fail("driver chunk", "did not return a function");
  f->fn_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  if (LLVMFuzzerMutate) lua_sethook(L, fuzz_lua_line_hook, LUA_MASKLINE, 0);
  f->ready = 1;
  return L;
}

/* Calls the driver with the input as one Lua string; aborts when it raises. */
static void fuzz_lua_run(struct fuzz_lua *f, const uint8_t *data, size_t size) {
  lua_State *L = f->host.L;
  int top = lua_gettop(L);
  lua_rawgeti(L, LUA_REGISTRYINDEX, f->fn_ref);
  lua_pushlstring(L, (const char *)data, size);
  if (srm_host_pcall(L, 1, 0) != LUA_OK) {
    const char *msg = lua_tostring(L, -1);
    fuzz_fail("Lua driver raised", msg ? msg : "(a non-string error object)");
  }
  lua_settop(L, top);
  /* Give back what the input allocated, so that libFuzzer's per-input leak check (which runs
  ** LeakSanitizer whenever an input leaves more mallocs than frees) rarely has work to do. */
  lua_gc(L, LUA_GCCOLLECT);
}

#endif
