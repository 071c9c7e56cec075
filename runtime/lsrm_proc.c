/* srm: srm.proc, the Lua binding of the process sandbox (runtime/srm_proc.c). A call parks the
** record's task while its children run: their pipes and pidfds join the event loop, a timer
** enforces the wall timeout, and the results are built in a continuation once every child has
** been reaped, so thousands of runs overlap with each other and with model calls. If the record
** is killed (deadline) its children are killed at once and reaped in the background.
** Skills do not see this module; they use stdlib/srm/code.lua (srm.code), which wraps it. */
#include "srm_modules.h"
#include "srm_proc.h"
#include "srm_sched.h"

#include <lauxlib.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#define BATCH_MT "srm.proc.batch"
#define MAX_BATCH 256

struct batch;
struct orphans;

struct stream_ref {
  struct run *run;
  int stream; /* SRM_PROC_STDOUT.., or -1 for the pidfd */
};

struct run {
  struct srm_proc proc;
  struct srm_proc_result result;
  struct srm_sched *sched;
  struct batch *batch; /* NULL once orphaned: the task went away, the run cleans up alone */
  struct orphans *orphans;
  struct srm_fdwatch *watch[SRM_PROC_NSTREAMS + 1]; /* streams, then the pidfd */
  struct stream_ref refs[SRM_PROC_NSTREAMS + 1];
  struct srm_timer *timeout;
  struct srm_timer *poll; /* reaping without a pidfd */
  int done;
  struct run *prev_orphan, *next_orphan;
};

/* A Lua userdata on the calling coroutine's stack: it owns the runs until the continuation has
** built the results; its __gc releases whatever is left (a task killed before resuming). */
struct orphans {
  struct run *head;
};

struct batch {
  struct srm_task *task;
  struct orphans *orphans; /* this state's list (each worker thread has its own state) */
  int n, pending, single;
  struct run *runs[MAX_BATCH];
};

#define ORPHANS_KEY "srm.proc.orphans"

static void run_unwatch(struct run *r) {
  for (int i = 0; i <= SRM_PROC_NSTREAMS; i++) {
    if (r->watch[i]) srm_fd_unwatch(r->sched, r->watch[i]);
    r->watch[i] = NULL;
  }
  if (r->timeout) srm_timer_cancel(r->sched, r->timeout);
  if (r->poll) srm_timer_cancel(r->sched, r->poll);
  r->timeout = r->poll = NULL;
}

static void run_free(struct run *r) {
  srm_proc_release(&r->proc);
  free(r);
}

static void orphan_remove(struct run *r) {
  if (r->prev_orphan)
    r->prev_orphan->next_orphan = r->next_orphan;
  else if (r->orphans->head == r)
    r->orphans->head = r->next_orphan;
  if (r->next_orphan) r->next_orphan->prev_orphan = r->prev_orphan;
  r->prev_orphan = r->next_orphan = NULL;
}

static void run_complete(struct run *r) {
  if (r->done) return;
  r->done = 1;
  run_unwatch(r);
  srm_proc_finish(&r->proc, &r->result);
  struct batch *b = r->batch;
  if (!b) {
    orphan_remove(r);
    run_free(r);
    return;
  }
  if (--b->pending == 0) srm_task_wake(b->task, 0);
}

static void poll_reap(void *ud);

static void start_poll_timer(struct run *r) {
  if (!r->poll) r->poll = srm_timer_add(r->sched, srm_now() + 0.005, poll_reap, r);
}

static void poll_reap(void *ud) {
  struct run *r = ud;
  r->poll = NULL;
  if (srm_proc_reap(&r->proc))
    run_complete(r);
  else
    start_poll_timer(r);
}

static void on_fd(void *ud, short revents) {
  (void)revents;
  struct stream_ref *ref = ud;
  struct run *r = ref->run;
  if (ref->stream < 0) {
    if (srm_proc_reap(&r->proc)) run_complete(r);
    return;
  }
  if (srm_proc_pump(&r->proc, ref->stream)) {
    srm_fd_unwatch(r->sched, r->watch[ref->stream]);
    r->watch[ref->stream] = NULL;
    if (r->proc.pidfd < 0 && r->proc.fd[SRM_PROC_STDOUT] < 0 && r->proc.fd[SRM_PROC_STDERR] < 0)
      start_poll_timer(r);
  }
}

static void on_timeout(void *ud) {
  struct run *r = ud;
  r->timeout = NULL;
  srm_proc_kill(&r->proc, 1);
  if (r->proc.pidfd < 0) start_poll_timer(r);
}

/* Starts one run; on failure the run is complete with a spawn_failed result. */
static void run_start(struct run *r, const struct srm_proc_spec *spec) {
  char err[200];
  if (srm_proc_spawn(&r->proc, spec, err, sizeof err) != 0) {
    memset(&r->result, 0, sizeof r->result);
    r->result.reason = SRM_PROC_SPAWN_FAILED;
    r->result.exit_code = -1;
    r->result.out = r->result.err = "";
    snprintf(r->result.message, sizeof r->result.message, "cannot start the sandbox: %s", err);
    r->done = 1;
    return;
  }
  for (int i = 0; i <= SRM_PROC_NSTREAMS; i++) {
    int fd = i < SRM_PROC_NSTREAMS ? r->proc.fd[i] : r->proc.pidfd;
    r->refs[i].run = r;
    r->refs[i].stream = i < SRM_PROC_NSTREAMS ? i : -1;
    if (fd >= 0) r->watch[i] = srm_fd_watch(r->sched, fd, POLLIN, on_fd, &r->refs[i]);
  }
  if (spec->timeout_s > 0)
    r->timeout = srm_timer_add(r->sched, r->proc.started + spec->timeout_s, on_timeout, r);
  if (!r->watch[SRM_PROC_NSTREAMS]) start_poll_timer(r); /* no pidfd: poll for the exit */
}

/* The task was killed while its children ran: kill them, let them be reaped in the background. */
static void batch_cancel(struct srm_task *t, void *wait_data) {
  (void)t;
  struct batch *b = wait_data;
  for (int i = 0; i < b->n; i++) {
    struct run *r = b->runs[i];
    b->runs[i] = NULL;
    if (r->done) {
      run_free(r);
      continue;
    }
    r->batch = NULL;
    r->orphans = b->orphans;
    srm_proc_kill(&r->proc, 0);
    r->next_orphan = b->orphans->head;
    if (r->next_orphan) r->next_orphan->prev_orphan = r;
    b->orphans->head = r;
  }
  b->n = 0;
  b->pending = 0;
}

static int batch_gc(lua_State *L) {
  struct batch *b = luaL_checkudata(L, 1, BATCH_MT);
  for (int i = 0; i < b->n; i++) {
    struct run *r = b->runs[i];
    if (!r) continue;
    if (!r->done) run_unwatch(r); /* only reachable while the loop still exists */
    run_free(r);
    b->runs[i] = NULL;
  }
  b->n = 0;
  return 0;
}

/* At lua_close (the scheduler is gone by then): kill, reap and clean up orphans. */
static int orphans_gc(lua_State *L) {
  struct orphans *o = lua_touserdata(L, 1);
  while (o && o->head) {
    struct run *r = o->head;
    o->head = r->next_orphan;
    run_free(r);
  }
  return 0;
}

static struct orphans *state_orphans(lua_State *L) {
  lua_getfield(L, LUA_REGISTRYINDEX, ORPHANS_KEY);
  struct orphans *o = lua_touserdata(L, -1);
  lua_pop(L, 1);
  if (!o) luaL_error(L, "srm.proc: module not initialised");
  return o;
}

/* ---- building a spec from a Lua table ---- */

static const char *const spec_keys[] = {
    "cmd",    "files",      "stdin",   "timeout",    "cpu_s",    "memory_mb",  "nproc", "file_mb",
    "nofile", "max_output", "disk_mb", "read_paths", "tmp_root", "namespaces", NULL,
};

static void check_keys(lua_State *L, int idx, const char *api) {
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TSTRING) luaL_error(L, "%s: option keys must be strings", api);
    const char *k = lua_tostring(L, -1);
    int known = 0;
    for (const char *const *p = spec_keys; *p; p++)
      known |= strcmp(*p, k) == 0;
    if (!known) luaL_error(L, "%s: unknown option '%s'", api, k);
  }
}

static double opt_number(lua_State *L, int idx, const char *key, double def, double lo, double hi,
                         int integer, const char *api) {
  lua_getfield(L, idx, key);
  double v = def;
  if (!lua_isnil(L, -1)) {
    int isnum = 0;
    v = lua_tonumberx(L, -1, &isnum);
    if (!isnum || v != v) luaL_error(L, "%s: option '%s' must be a number", api, key);
    if (integer && v != floor(v)) luaL_error(L, "%s: option '%s' must be an integer", api, key);
    if (v < lo || v > hi)
      luaL_error(L, "%s: option '%s' must be between %f and %f, got %f", api, key, lo, hi, v);
  }
  lua_pop(L, 1);
  return v;
}

/* Scratch memory owned by a userdata left on the stack (freed by the GC, also on errors). */
static void *scratch(lua_State *L, size_t size) {
  return lua_newuserdatauv(L, size ? size : 1, 0);
}

/* Fills spec from the table at idx. Pointers refer to strings held by that table (and scratch
** userdata pushed on the stack), valid for this call: the child is forked before it returns. */
static void parse_spec(lua_State *L, int idx, struct srm_proc_spec *spec, const char *api) {
  luaL_checkstack(L, 24, api);
  luaL_checktype(L, idx, LUA_TTABLE);
  check_keys(L, idx, api);
  srm_proc_spec_defaults(spec);

  lua_getfield(L, idx, "cmd");
  if (lua_type(L, -1) != LUA_TTABLE)
    luaL_error(L, "%s: option 'cmd' must be a table of strings", api);
  lua_Integer argc = luaL_len(L, -1);
  if (argc < 1 || argc > 1024) luaL_error(L, "%s: option 'cmd' must hold 1 to 1024 strings", api);
  int cmd = lua_gettop(L);
  const char **argv = scratch(L, ((size_t)argc + 1) * sizeof *argv);
  for (lua_Integer i = 1; i <= argc; i++) {
    lua_rawgeti(L, cmd, i);
    size_t len;
    const char *s = lua_tolstring(L, -1, &len);
    if (lua_type(L, -1) != LUA_TSTRING || strlen(s) != len || (i == 1 && len == 0))
      luaL_error(L, "%s: cmd[%d] must be a non-empty string without NUL bytes", api, (int)i);
    argv[i - 1] = s; /* the string stays referenced by the cmd table */
    lua_pop(L, 1);
  }
  argv[argc] = NULL;
  spec->argv = argv;

  lua_getfield(L, idx, "files");
  if (!lua_isnil(L, -1)) {
    if (!lua_istable(L, -1)) luaL_error(L, "%s: option 'files' must be a table", api);
    int files = lua_gettop(L);
    size_t n = 0;
    lua_pushnil(L);
    while (lua_next(L, files) != 0) {
      n++;
      lua_pop(L, 1);
    }
    if (n > 1024) luaL_error(L, "%s: at most 1024 files", api);
    struct srm_proc_file *f = scratch(L, n * sizeof *f);
    size_t k = 0;
    lua_pushnil(L);
    while (lua_next(L, files) != 0) {
      if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
        luaL_error(L, "%s: 'files' maps names to contents (strings)", api);
      const char *name = lua_tostring(L, -2);
      if (!srm_proc_valid_name(name))
        luaL_error(L, "%s: bad file name '%s' (letters, digits, '.', '_', '-' only)", api, name);
      f[k].name = name;
      f[k].data = lua_tolstring(L, -1, &f[k].len);
      k++;
      lua_pop(L, 1);
    }
    spec->files = f;
    spec->nfiles = k;
  }

  lua_getfield(L, idx, "stdin");
  if (!lua_isnil(L, -1)) {
    if (lua_type(L, -1) != LUA_TSTRING) luaL_error(L, "%s: option 'stdin' must be a string", api);
    spec->stdin_data = lua_tolstring(L, -1, &spec->stdin_len);
  }

  lua_getfield(L, idx, "read_paths");
  if (!lua_isnil(L, -1)) {
    if (!lua_istable(L, -1)) luaL_error(L, "%s: option 'read_paths' must be a table", api);
    int paths = lua_gettop(L);
    lua_Integer n = luaL_len(L, paths);
    if (n < 0 || n > 64) luaL_error(L, "%s: at most 64 read_paths", api);
    const char **rp = scratch(L, ((size_t)n + 1) * sizeof *rp);
    for (lua_Integer i = 1; i <= n; i++) {
      lua_rawgeti(L, paths, i);
      const char *s = lua_tostring(L, -1);
      if (lua_type(L, -1) != LUA_TSTRING || s[0] != '/')
        luaL_error(L, "%s: read_paths[%d] must be an absolute path", api, (int)i);
      rp[i - 1] = s;
      lua_pop(L, 1);
    }
    rp[n] = NULL;
    spec->read_paths = rp;
  }

  lua_getfield(L, idx, "tmp_root");
  if (!lua_isnil(L, -1)) {
    const char *s = lua_tostring(L, -1);
    if (lua_type(L, -1) != LUA_TSTRING || s[0] != '/')
      luaL_error(L, "%s: option 'tmp_root' must be an absolute path", api);
    spec->tmp_root = s;
  }

  lua_getfield(L, idx, "namespaces");
  if (!lua_isnil(L, -1)) {
    if (!lua_isboolean(L, -1)) luaL_error(L, "%s: option 'namespaces' must be a boolean", api);
    spec->no_namespaces = !lua_toboolean(L, -1);
  }
  lua_pop(L, 1);

  spec->timeout_s = opt_number(L, idx, "timeout", SRM_PROC_DEFAULT_TIMEOUT_S, 0.001, 86400, 0, api);
  double cpu_def = ceil(spec->timeout_s);
  spec->cpu_s = (long)opt_number(L, idx, "cpu_s", cpu_def < 1 ? 1 : cpu_def, 1, 86400, 1, api);
  spec->memory_mb =
      (long)opt_number(L, idx, "memory_mb", SRM_PROC_DEFAULT_MEMORY_MB, 16, 1 << 20, 1, api);
  spec->nproc = (long)opt_number(L, idx, "nproc", SRM_PROC_DEFAULT_NPROC, 1, 4096, 1, api);
  spec->file_mb = (long)opt_number(L, idx, "file_mb", SRM_PROC_DEFAULT_FILE_MB, 0, 1 << 20, 1, api);
  spec->nofile = (long)opt_number(L, idx, "nofile", SRM_PROC_DEFAULT_NOFILE, 16, 65536, 1, api);
  spec->disk_mb = (long)opt_number(L, idx, "disk_mb", SRM_PROC_DEFAULT_DISK_MB, 1, 1 << 20, 1, api);
  spec->max_output = (size_t)opt_number(L, idx, "max_output", SRM_PROC_DEFAULT_MAX_OUTPUT, 0,
                                        (double)(1 << 30), 1, api);
}

/* ---- results ---- */

static void set_int(lua_State *L, const char *k, lua_Integer v) {
  lua_pushinteger(L, v);
  lua_setfield(L, -2, k);
}

static void push_result(lua_State *L, const struct srm_proc_result *r) {
  lua_createtable(L, 0, 14);
  int ok = r->reason == SRM_PROC_OK;
  lua_pushstring(L, ok ? "ok" : "sandbox_error");
  lua_setfield(L, -2, "status");
  if (!ok) {
    lua_pushstring(L, srm_proc_reason_name(r->reason));
    lua_setfield(L, -2, "reason");
  }
  lua_pushstring(L, r->message);
  lua_setfield(L, -2, "message");
  if (r->exit_code >= 0) set_int(L, "exit_code", r->exit_code);
  if (r->signal > 0) set_int(L, "signal", r->signal);
  lua_pushlstring(L, r->out ? r->out : "", r->out_len);
  lua_setfield(L, -2, "stdout");
  lua_pushlstring(L, r->err ? r->err : "", r->err_len);
  lua_setfield(L, -2, "stderr");
  lua_pushboolean(L, r->timed_out);
  lua_setfield(L, -2, "timed_out");
  lua_pushboolean(L, r->truncated);
  lua_setfield(L, -2, "output_truncated");
  lua_pushnumber(L, floor(r->wall_ms * 10 + 0.5) / 10);
  lua_setfield(L, -2, "wall_ms");
  lua_pushnumber(L, floor(r->cpu_ms * 10 + 0.5) / 10);
  lua_setfield(L, -2, "cpu_ms");
  set_int(L, "max_rss_kb", r->max_rss_kb);
  static const char *const names[] = {"userns",   "netns",   "pidns", "tmpfs",
                                      "landlock", "seccomp", "uid"};
  lua_createtable(L, 7, 0);
  int k = 0;
  for (int i = 0; i < 7; i++) {
    if (r->isolation & (1u << i)) {
      lua_pushstring(L, names[i]);
      lua_rawseti(L, -2, ++k);
    }
  }
  lua_setfield(L, -2, "isolation");
}

/* Builds the results (inside the resumed coroutine, so an allocation error is an ordinary
** error), then releases the runs. */
static int run_finish(lua_State *L, int status, lua_KContext ctx) {
  (void)status;
  struct batch *b = (struct batch *)ctx;
  if (b->single) {
    push_result(L, &b->runs[0]->result);
  } else {
    lua_createtable(L, b->n, 0);
    for (int i = 0; i < b->n; i++) {
      push_result(L, &b->runs[i]->result);
      lua_rawseti(L, -2, i + 1);
    }
  }
  for (int i = 0; i < b->n; i++) {
    run_free(b->runs[i]);
    b->runs[i] = NULL;
  }
  b->n = 0;
  return 1;
}

static int start_batch(lua_State *L, int first, int count, int single, const char *api) {
  struct srm_task *t = srm_task_current(L);
  if (!t) return luaL_error(L, "%s: only a task (a record's evaluation) can run programs", api);
  struct srm_proc_spec specs[MAX_BATCH];
  for (int i = 0; i < count; i++) {
    if (single)
      parse_spec(L, first, &specs[i], api);
    else {
      lua_rawgeti(L, first, i + 1); /* kept on the stack: the spec points into it */
      if (!lua_istable(L, -1)) luaL_error(L, "%s: spec #%d must be a table", api, i + 1);
      parse_spec(L, lua_gettop(L), &specs[i], api);
    }
  }
  struct batch *b = lua_newuserdatauv(L, sizeof *b, 0);
  memset(b, 0, sizeof *b);
  luaL_setmetatable(L, BATCH_MT);
  b->task = t;
  b->orphans = state_orphans(L);
  b->single = single;
  for (int i = 0; i < count; i++) {
    struct run *r = calloc(1, sizeof *r);
    if (!r) return luaL_error(L, "%s: out of memory", api);
    r->sched = t->sched;
    r->batch = b;
    r->proc.pid = -1;
    r->proc.pidfd = -1;
    r->proc.uid_slot = -1;
    for (int k = 0; k < SRM_PROC_NSTREAMS; k++)
      r->proc.fd[k] = -1;
    b->runs[b->n++] = r;
    run_start(r, &specs[i]);
    if (!r->done) b->pending++;
  }
  if (b->pending == 0) return run_finish(L, LUA_OK, (lua_KContext)b);
  srm_task_wait(t, batch_cancel, b);
  return lua_yieldk(L, 0, (lua_KContext)b, run_finish);
}

/*
** proc.run{cmd = {...}, files =, stdin =, timeout =, cpu_s =, memory_mb =, nproc =, file_mb =,
**          nofile =, disk_mb =, max_output =, read_paths =, tmp_root =, namespaces =} -> result
** result = {status = "ok" | "sandbox_error", reason =, message =, exit_code =, signal =,
**           stdout =, stderr =, timed_out =, output_truncated =, wall_ms =, cpu_ms =,
**           max_rss_kb =, isolation = {...}}
** Raises on bad arguments or outside a task; yields the calling task while the program runs.
*/
static int proc_run(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  return start_batch(L, 1, 1, 1, "srm.code.run");
}

/*
** proc.run_many{spec, spec, ...} -> {result, result, ...}
** Runs up to 256 specs at once; returns when all have ended.
*/
static int proc_run_many(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  lua_Integer n = luaL_len(L, 1);
  if (n < 0 || n > MAX_BATCH) return luaL_error(L, "srm.code.run_many: 0 to %d specs", MAX_BATCH);
  if (n == 0) {
    lua_newtable(L);
    return 1;
  }
  return start_batch(L, 1, (int)n, 0, "srm.code.run_many");
}

/* proc.nonce() -> 32 random hex digits (getrandom) */
static int proc_nonce(lua_State *L) {
  unsigned char raw[16];
  if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
    return luaL_error(L, "srm.proc.nonce: getrandom failed");
  char hex[33];
  for (int i = 0; i < 16; i++)
    snprintf(hex + 2 * i, 3, "%02x", raw[i]);
  lua_pushlstring(L, hex, 32);
  return 1;
}

/* proc.orphans() -> number of killed runs still being reaped (for tests) */
static int proc_orphans(lua_State *L) {
  lua_Integer n = 0;
  for (struct run *r = state_orphans(L)->head; r; r = r->next_orphan)
    n++;
  lua_pushinteger(L, n);
  return 1;
}

static const luaL_Reg proc_funcs[] = {
    {"run", proc_run},     {"run_many", proc_run_many},
    {"nonce", proc_nonce}, {"orphans", proc_orphans},
    {NULL, NULL},
};

int luaopen_srm_proc(lua_State *L) {
  if (luaL_newmetatable(L, BATCH_MT)) {
    lua_pushcfunction(L, batch_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushliteral(L, "locked");
    lua_setfield(L, -2, "__metatable");
  }
  lua_pop(L, 1);
  /* This state's orphan list; its __gc (at lua_close) cleans up what is left. */
  lua_getfield(L, LUA_REGISTRYINDEX, ORPHANS_KEY);
  int have = lua_touserdata(L, -1) != NULL;
  lua_pop(L, 1);
  if (!have) {
    struct orphans *o = lua_newuserdatauv(L, sizeof *o, 0);
    o->head = NULL;
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, orphans_gc);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, -2);
    lua_setfield(L, LUA_REGISTRYINDEX, ORPHANS_KEY);
  }
  luaL_newlib(L, proc_funcs);
  return 1;
}
