/* srm: srm.core, the host services the stdlib builds on: a yielding sleep (the simplest
** wait, and the template for model calls), a monotonic clock, SHA-256 for skill stamps, file
** reads for rubrics and references (the stdlib checks paths before calling it), and stderr. */
#include "srm_modules.h"
#include "srm_sched.h"

#include <errno.h>
#include <lauxlib.h>
#include <stdlib.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct sleep_wait {
  struct srm_task *task;
  struct srm_timer *timer;
};

static void sleep_done(void *ud) {
  struct srm_task *t = ud;
  lua_pushboolean(t->co, 1);
  srm_task_wake(t, 1);
}

static void sleep_cancel(struct srm_task *t, void *wait_data) {
  srm_timer_cancel(t->sched, wait_data);
}

/*
** core.sleep(seconds) -> true
** Yields the calling task; raises when called outside a task.
*/
static int core_sleep(lua_State *L) {
  double secs = luaL_checknumber(L, 1);
  struct srm_task *t = srm_task_current(L);
  if (!t) return luaL_error(L, "srm.sleep: only a record's evaluation can sleep");
  if (secs < 0) secs = 0;
  struct srm_timer *timer = srm_timer_add(t->sched, srm_now() + secs, sleep_done, t);
  if (!timer) return luaL_error(L, "srm.sleep: out of memory");
  srm_task_wait(t, sleep_cancel, timer);
  return lua_yield(L, 0);
}

/* ---- events: one task waits until another signals (single-flight model calls) ---- */

#define EVENT_MT "srm.event"

struct event_waiter {
  struct srm_task *task;
  struct event_waiter *next;
};

struct event {
  int signaled;
  int value_ref; /* the signaled value, in the registry */
  struct event_waiter *waiters;
};

static void event_unlink(struct event *ev, struct srm_task *t) {
  for (struct event_waiter **p = &ev->waiters; *p; p = &(*p)->next) {
    if ((*p)->task == t) {
      struct event_waiter *w = *p;
      *p = w->next;
      free(w);
      return;
    }
  }
}

static void event_cancel(struct srm_task *t, void *data) {
  event_unlink(data, t);
}

/* core.event() -> event: a one-shot event (signal once, any number of waiters) */
static int core_event(lua_State *L) {
  struct event *ev = lua_newuserdatauv(L, sizeof *ev, 0);
  memset(ev, 0, sizeof *ev);
  ev->value_ref = LUA_NOREF;
  luaL_setmetatable(L, EVENT_MT);
  return 1;
}

/*
** core.wait(event) -> value
** Returns the signaled value at once, or parks the calling task until core.signal.
*/
static int core_wait(lua_State *L) {
  struct event *ev = luaL_checkudata(L, 1, EVENT_MT);
  if (ev->signaled) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, ev->value_ref);
    return 1;
  }
  struct srm_task *t = srm_task_current(L);
  if (!t) return luaL_error(L, "srm.core.wait: only a task can wait");
  struct event_waiter *w = malloc(sizeof *w);
  if (!w) return luaL_error(L, "srm.core.wait: out of memory");
  w->task = t;
  w->next = ev->waiters;
  ev->waiters = w;
  srm_task_wait(t, event_cancel, ev);
  return lua_yield(L, 0);
}

/* core.signal(event, value): wakes every waiter with value; later waits return it at once */
static int core_signal(lua_State *L) {
  struct event *ev = luaL_checkudata(L, 1, EVENT_MT);
  luaL_checkany(L, 2);
  if (ev->signaled) return luaL_error(L, "srm.core.signal: the event was already signaled");
  ev->signaled = 1;
  lua_pushvalue(L, 2);
  ev->value_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  while (ev->waiters) {
    struct event_waiter *w = ev->waiters;
    ev->waiters = w->next;
    lua_pushvalue(L, 2);
    lua_xmove(L, w->task->co, 1);
    srm_task_wake(w->task, 1);
    free(w);
  }
  return 0;
}

static int event_gc(lua_State *L) {
  struct event *ev = luaL_checkudata(L, 1, EVENT_MT);
  luaL_unref(L, LUA_REGISTRYINDEX, ev->value_ref);
  ev->value_ref = LUA_NOREF;
  while (ev->waiters) { /* cannot happen while a waiter's cancel holds a pointer, but be safe */
    struct event_waiter *w = ev->waiters;
    ev->waiters = w->next;
    free(w);
  }
  return 0;
}

/* core.now() -> seconds on a monotonic clock */
static int core_now(lua_State *L) {
  lua_pushnumber(L, srm_now());
  return 1;
}

/* core.sha256(s) -> lowercase hex digest */
static int core_sha256(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;
  if (!EVP_Digest(s, len, md, &mdlen, EVP_sha256(), NULL))
    return luaL_error(L, "sha256: digest failed");
  char hex[2 * EVP_MAX_MD_SIZE + 1];
  for (unsigned int i = 0; i < mdlen; i++)
    snprintf(hex + 2 * i, 3, "%02x", md[i]);
  lua_pushlstring(L, hex, 2 * (size_t)mdlen);
  return 1;
}

/*
** core.read_file(path [, max_bytes]) -> contents | nil, errmsg
** No path policy here: srm.read in stdlib/srm/files.lua decides what a skill may read.
*/
static int core_read_file(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  lua_Integer max = luaL_optinteger(L, 2, 64 << 20);
  FILE *f = fopen(path, "rb");
  if (!f) {
    lua_pushnil(L);
    lua_pushfstring(L, "%s: %s", path, strerror(errno));
    return 2;
  }
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  size_t total = 0;
  for (;;) {
    char *p = luaL_prepbuffer(&b);
    size_t n = fread(p, 1, LUAL_BUFFERSIZE, f);
    luaL_addsize(&b, n);
    total += n;
    if ((lua_Integer)total > max) {
      fclose(f);
      lua_pushnil(L);
      lua_pushfstring(L, "%s: larger than %I bytes", path, max);
      return 2;
    }
    if (n < LUAL_BUFFERSIZE) break;
  }
  int failed = ferror(f);
  fclose(f);
  if (failed) {
    lua_pushnil(L);
    lua_pushfstring(L, "%s: read error", path);
    return 2;
  }
  luaL_pushresult(&b);
  return 1;
}

/* core.stderr(s): writes s to standard error unbuffered (skill print, diagnostics) */
static int core_stderr(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  fwrite(s, 1, len, stderr);
  fflush(stderr);
  return 0;
}

static const luaL_Reg core_funcs[] = {
    {"sleep", core_sleep},         {"now", core_now},       {"sha256", core_sha256},
    {"read_file", core_read_file}, {"stderr", core_stderr}, {"event", core_event},
    {"wait", core_wait},           {"signal", core_signal}, {NULL, NULL},
};

int luaopen_srm_core(lua_State *L) {
  if (luaL_newmetatable(L, EVENT_MT)) {
    lua_pushcfunction(L, event_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushliteral(L, EVENT_MT);
    lua_setfield(L, -2, "__metatable");
  }
  lua_pop(L, 1);
  luaL_newlib(L, core_funcs);
  lua_pushliteral(L, SRM_VERSION);
  lua_setfield(L, -2, "version");
  return 1;
}
