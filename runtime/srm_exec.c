/* srm: the record executor (see srm_exec.h). */
#include "srm_exec.h"

#include "srm_cmd.h"
#include "srm_json.h"

#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

struct record_slot {
  struct srm_exec *e;
  struct srm_row_sink *sink; /* NULL: the row goes to e->on_row with seq */
  uint64_t seq;              /* or the sink's index */
  int skill_ref;             /* the skill version the record started on */
  int id_ref;
  int bench_ref; /* the record's `bench` bookkeeping, copied into its row; LUA_NOREF: none */
  double started;
};

static void set_fatal(struct srm_exec *e, const char *msg) {
  if (e->fatal) return;
  e->fatal = 1;
  snprintf(e->fatal_msg, sizeof e->fatal_msg, "%s", msg);
}

static int runner_ref(struct srm_exec *e, const char *name) {
  srm_skill_push_runner_fn(&e->h, &e->sk[0], name);
  return luaL_ref(e->h.L, LUA_REGISTRYINDEX);
}

/* Hands --map to the runner (runner.set_map{dst = src, ...}). */
static int configure_map(struct srm_exec *e, const struct run_opts *o, char *err, size_t errlen) {
  lua_State *L = e->h.L;
  srm_skill_push_runner_fn(&e->h, &e->sk[0], "set_map");
  lua_createtable(L, 0, o->nmaps);
  for (int i = 0; i < o->nmaps; i++) {
    lua_pushstring(L, o->maps[i].value);
    lua_setfield(L, -2, o->maps[i].key);
  }
  if (srm_host_pcall(L, 1, 0) != LUA_OK) {
    snprintf(err, errlen, "--map: %s", lua_tostring(L, -1));
    lua_pop(L, 1);
    return -1;
  }
  return 0;
}

/* --mode group: runner.set_group{strategy, field, seed} (it checks the names). */
static int configure_group(struct srm_exec *e, const struct run_opts *o, char *err, size_t errlen) {
  if (!o->group) return 0;
  lua_State *L = e->h.L;
  srm_skill_push_runner_fn(&e->h, &e->sk[0], "set_group");
  lua_createtable(L, 0, 3);
  if (o->strategy) {
    lua_pushstring(L, o->strategy);
    lua_setfield(L, -2, "strategy");
  }
  if (o->candidates) {
    lua_pushstring(L, o->candidates);
    lua_setfield(L, -2, "field");
  }
  lua_pushinteger(L, (lua_Integer)o->seed);
  lua_setfield(L, -2, "seed");
  if (srm_host_pcall(L, 1, 0) != LUA_OK) {
    snprintf(err, errlen, "%s", lua_tostring(L, -1));
    lua_pop(L, 1);
    return -1;
  }
  return 0;
}

int srm_exec_open(struct srm_exec *e, const struct run_opts *o, srm_row_fn on_row, void *ud,
                  char *err, size_t errlen) {
  memset(e, 0, sizeof *e);
  e->on_row = on_row;
  e->ud = ud;
  e->o = o;
  e->limits.max_instructions = o->max_instructions;
  e->limits.timeout_s = o->timeout_s;
  e->prepare_ref = e->evaluate_ref = e->finish_ref = e->input_error_ref = LUA_NOREF;
  for (int i = 0; i < SRM_MAX_SKILLS; i++)
    e->sk[i].runner_ref = e->sk[i].skill_ref = LUA_NOREF;
  if (srm_host_open(&e->h, o->max_memory, o->stdlib_dir, err, errlen) != 0) return SRM_EXIT_FAILURE;
  if (srm_run_configure_llm(e->h.L, o) != 0) {
    snprintf(err, errlen, "cannot configure model calls");
    return SRM_EXIT_USAGE;
  }
  e->skill_path[0] = o->skill;
  for (int i = 0; i < o->nmore_skills && i + 1 < SRM_MAX_SKILLS; i++)
    e->skill_path[i + 1] = o->more_skills[i];
  e->nskills = 1 + (o->nmore_skills < SRM_MAX_SKILLS - 1 ? o->nmore_skills : SRM_MAX_SKILLS - 1);
  for (int i = 0; i < e->nskills; i++) {
    e->generation[i] = 1;
    enum srm_load_result lr = srm_skill_load(&e->h, e->skill_path[i], o->settings, o->nsettings,
                                             &e->limits, 1, &e->sk[i], err, errlen);
    if (lr != SRM_LOAD_OK) return lr == SRM_LOAD_USAGE ? SRM_EXIT_USAGE : SRM_EXIT_SKILL;
  }
  if (configure_map(e, o, err, errlen) != 0) return SRM_EXIT_USAGE;
  if (configure_group(e, o, err, errlen) != 0) return SRM_EXIT_USAGE;
  e->prepare_ref = runner_ref(e, "prepare");
  e->evaluate_ref = runner_ref(e, "evaluate");
  e->finish_ref = runner_ref(e, "finish");
  e->input_error_ref = runner_ref(e, "input_error");
  return SRM_EXIT_OK;
}

int srm_exec_reload(struct srm_exec *e, int skill, long generation, char *err, size_t errlen) {
  struct srm_loaded_skill fresh;
  enum srm_load_result lr =
      srm_skill_load(&e->h, e->skill_path[skill], e->o->settings, e->o->nsettings, &e->limits,
                     generation, &fresh, err, errlen);
  if (lr != SRM_LOAD_OK) return -1;
  if (strcmp(fresh.sha256, e->sk[skill].sha256) == 0) { /* touched, not changed */
    srm_skill_release(&e->h, &fresh);
    return 1;
  }
  int ntests = 0;
  char why[512];
  int failed = srm_skill_self_test_quiet(&e->h, &fresh, &e->limits, &ntests, why, sizeof why);
  if (failed != 0) {
    if (failed > 0)
      snprintf(err, errlen, "%s: %d of %d self-tests failed: %s", e->skill_path[skill], failed,
               ntests, why);
    else
      snprintf(err, errlen, "%s: the self-tests could not run: %s", e->skill_path[skill], why);
    srm_skill_release(&e->h, &fresh);
    return -1;
  }
  srm_skill_release(&e->h, &e->sk[skill]); /* records in flight hold their own reference */
  e->sk[skill] = fresh;
  e->generation[skill] = generation;
  return 0;
}

void srm_exec_skill_files(struct srm_exec *e, int skill, void (*fn)(void *ud, const char *path),
                          void *ud) {
  lua_State *L = e->h.L;
  lua_rawgeti(L, LUA_REGISTRYINDEX, e->sk[skill].skill_ref);
  lua_getfield(L, -1, "dir");
  const char *dir = lua_tostring(L, -1);
  lua_getfield(L, -2, "files");
  if (dir && lua_istable(L, -1)) {
    lua_Integer n = luaL_len(L, -1);
    for (lua_Integer i = 1; i <= n; i++) {
      lua_rawgeti(L, -1, i);
      const char *rel = lua_tostring(L, -1);
      if (rel) {
        char full[4096];
        snprintf(full, sizeof full, "%s/%s", dir, rel);
        fn(ud, full);
      }
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 3);
}

void srm_exec_close(struct srm_exec *e) {
  srm_host_close(&e->h); /* drains running tasks first */
}

/* Hands the string at the top of the stack (or "no row" for nil) to the record's sink, or to
** on_row; pops it. */
static void deliver_top(struct srm_exec *e, struct srm_row_sink *sink, uint64_t seq,
                        const char *status, int has_score, double score) {
  lua_State *L = e->h.L;
  char *copy = NULL;
  size_t len = 0;
  if (lua_type(L, -1) == LUA_TSTRING) {
    const char *s = lua_tolstring(L, -1, &len);
    copy = malloc(len + 1);
    if (!copy) {
      set_fatal(e, "out of memory storing a row");
      lua_pop(L, 1);
      if (sink) sink->row(sink, (size_t)seq, NULL, 0, "internal_error");
      return;
    }
    memcpy(copy, s, len + 1);
  }
  lua_pop(L, 1);
  if (sink)
    sink->row(sink, (size_t)seq, copy, len, status);
  else
    e->on_row(e->ud, seq, copy, len, copy ? status : NULL, has_score, score);
}

/* Tells srm.llm that a stopped record's in-flight calls have no owner any more. */
static void abandon_calls(struct srm_exec *e, lua_State *co) {
  lua_State *L = e->h.L;
  srm_skill_push_runner_fn(&e->h, &e->sk[0], "abandon");
  lua_pushthread(co);
  lua_xmove(co, L, 1);
  if (srm_host_pcall(L, 1, 0) != LUA_OK) lua_pop(L, 1);
}

static void record_done(struct srm_task *t, enum srm_task_end end, void *ud) {
  struct record_slot *slot = ud;
  struct srm_exec *e = slot->e;
  lua_State *L = e->h.L;
  double latency_ms = (srm_now() - slot->started) * 1000.0;
  lua_rawgeti(L, LUA_REGISTRYINDEX, e->finish_ref);
  lua_rawgeti(L, LUA_REGISTRYINDEX, slot->skill_ref);
  lua_rawgeti(L, LUA_REGISTRYINDEX, slot->id_ref);
  if (end == SRM_TASK_RETURNED) {
    if (lua_gettop(t->co) >= 1) {
      lua_settop(t->co, 1);
      lua_xmove(t->co, L, 1); /* the evaluator's result */
    } else {
      lua_pushnil(L);
    }
    lua_pushnil(L);
    lua_pushnil(L);
  } else if (end == SRM_TASK_KILLED) {
    abandon_calls(e, t->co);
    lua_pushnil(L);
    lua_pushstring(L, srm_kill_name(t->kill));
    lua_pushnil(L);
  } else {
    lua_pushnil(L);
    lua_pushnil(L);
    lua_xmove(t->co, L, 1); /* the error */
  }
  lua_pushnumber(L, latency_ms);
  lua_rawgeti(L, LUA_REGISTRYINDEX, slot->bench_ref); /* nil for LUA_NOREF */
  if (srm_host_pcall(L, 7, 3) != LUA_OK) {            /* row, status, score */
    char msg[600];
    snprintf(msg, sizeof msg, "internal error building a row: %s", lua_tostring(L, -1));
    set_fatal(e, msg);
    lua_pop(L, 1);
  } else {
    char status[32];
    snprintf(status, sizeof status, "%s", lua_tostring(L, -2) ? lua_tostring(L, -2) : "?");
    int has_score = lua_isnumber(L, -1);
    double score = lua_tonumber(L, -1);
    lua_pop(L, 2);
    deliver_top(e, slot->sink, slot->seq, status, has_score, score);
  }
  luaL_unref(L, LUA_REGISTRYINDEX, slot->id_ref);
  luaL_unref(L, LUA_REGISTRYINDEX, slot->bench_ref);
  luaL_unref(L, LUA_REGISTRYINDEX, slot->skill_ref);
  free(slot);
  e->inflight--;
}

void srm_exec_reject(struct srm_exec *e, uint64_t seq, uint64_t lineno, const char *reason) {
  lua_State *L = e->h.L;
  lua_rawgeti(L, LUA_REGISTRYINDEX, e->input_error_ref);
  lua_rawgeti(L, LUA_REGISTRYINDEX, e->sk[0].skill_ref);
  lua_pushinteger(L, (lua_Integer)lineno);
  lua_pushstring(L, reason);
  if (srm_host_pcall(L, 3, 1) != LUA_OK) {
    set_fatal(e, lua_tostring(L, -1));
    lua_pop(L, 1);
    return;
  }
  deliver_top(e, NULL, seq, "input_error", 0, 0);
}

/* Run protected (memory errors): decodes the line where it lies, without a Lua copy of it, and
** calls runner.prepare(skill, record | nil, error | nil, lineno) -> kind, a, b, c. Arguments:
** prepare, skill, line (light userdata), its length, lineno. */
static int prepare_line(lua_State *L) {
  const char *line = lua_touserdata(L, 3);
  size_t len = (size_t)lua_tointeger(L, 4);
  lua_Integer lineno = lua_tointeger(L, 5);
  lua_settop(L, 2); /* prepare, skill */
  luaL_getmetatable(L, "srm.json.array");
  char err[128];
  if (srm_json_decode(L, line, len, 3, SRM_JSON_DEFAULT_DEPTH, err, sizeof err) == 0) {
    lua_remove(L, 3); /* prepare, skill, record */
    lua_pushnil(L);
  } else {
    lua_pop(L, 1);
    lua_pushnil(L);
    lua_pushstring(L, err);
  }
  lua_pushinteger(L, lineno);
  lua_call(L, 4, 4);
  return 4;
}

static enum srm_prep submit(struct srm_exec *e, int skill, struct srm_row_sink *sink, uint64_t seq,
                            const char *line, size_t len, uint64_t lineno, int start) {
  lua_State *L = e->h.L;
  lua_pushcfunction(L, prepare_line);
  lua_rawgeti(L, LUA_REGISTRYINDEX, e->prepare_ref);
  lua_rawgeti(L, LUA_REGISTRYINDEX, e->sk[skill].skill_ref);
  lua_pushlightuserdata(L, (void *)line);
  lua_pushinteger(L, (lua_Integer)len);
  lua_pushinteger(L, (lua_Integer)lineno);
  if (srm_host_pcall(L, 5, 4) != LUA_OK) { /* kind, a, b, c */
    char msg[600];
    snprintf(msg, sizeof msg, "internal error reading line %llu: %s", (unsigned long long)lineno,
             lua_tostring(L, -1));
    set_fatal(e, msg);
    lua_pop(L, 1);
    if (sink) sink->row(sink, (size_t)seq, NULL, 0, "internal_error");
    return SRM_PREP_FAILED;
  }
  const char *kind = lua_tostring(L, -4);
  if (kind && strcmp(kind, "record") == 0) {
    if (!start) {
      lua_pop(L, 4);
      return SRM_PREP_RECORD;
    }
    struct record_slot *slot = malloc(sizeof *slot);
    if (!slot) {
      set_fatal(e, "out of memory starting a record");
      lua_pop(L, 4);
      if (sink) sink->row(sink, (size_t)seq, NULL, 0, "internal_error");
      return SRM_PREP_FAILED;
    }
    slot->e = e;
    slot->sink = sink;
    slot->seq = seq;
    slot->started = srm_now();
    slot->bench_ref = luaL_ref(L, LUA_REGISTRYINDEX); /* kind, record, id (nil: LUA_REFNIL) */
    slot->id_ref = luaL_ref(L, LUA_REGISTRYINDEX);    /* kind, record */
    lua_rawgeti(L, LUA_REGISTRYINDEX, e->sk[skill].skill_ref);
    slot->skill_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_rawgeti(L, LUA_REGISTRYINDEX, e->evaluate_ref);
    lua_rawgeti(L, LUA_REGISTRYINDEX, slot->skill_ref);
    lua_rotate(L, -3, 2); /* kind, evaluate, skill, record */
    e->inflight++;
    if (!srm_task_spawn(e->h.sched, 2, &e->limits, record_done, slot)) {
      luaL_unref(L, LUA_REGISTRYINDEX, slot->id_ref);
      luaL_unref(L, LUA_REGISTRYINDEX, slot->bench_ref);
      luaL_unref(L, LUA_REGISTRYINDEX, slot->skill_ref);
      free(slot);
      e->inflight--;
      set_fatal(e, "out of memory starting a record");
      if (sink) sink->row(sink, (size_t)seq, NULL, 0, "internal_error");
    }
    lua_pop(L, 1);
    return SRM_PREP_RECORD;
  }
  if (kind && strcmp(kind, "row") == 0) {
    lua_pop(L, 2); /* kind, row */
    deliver_top(e, sink, seq, "input_error", 0, 0);
    lua_pop(L, 1);
    return SRM_PREP_ROW;
  }
  lua_pop(L, 4); /* "skip": the id is already in OUT */
  if (sink)
    sink->row(sink, (size_t)seq, NULL, 0, "skip");
  else
    e->on_row(e->ud, seq, NULL, 0, NULL, 0, 0);
  return SRM_PREP_SKIP;
}

enum srm_prep srm_exec_submit(struct srm_exec *e, uint64_t seq, const char *line, size_t len,
                              uint64_t lineno, int start) {
  return submit(e, 0, NULL, seq, line, len, lineno, start);
}

enum srm_prep srm_exec_submit_to(struct srm_exec *e, int skill, struct srm_row_sink *sink,
                                 size_t index, const char *line, size_t len) {
  return submit(e, skill, sink, index, line, len, index + 1, 1);
}

static double field(lua_State *L, const char *k) {
  lua_getfield(L, -1, k);
  double v = lua_tonumber(L, -1);
  lua_pop(L, 1);
  return v;
}

void srm_exec_llm_totals(struct srm_exec *e, struct srm_llm_totals *t) {
  lua_State *L = e->h.L;
  memset(t, 0, sizeof *t);
  srm_skill_push_runner_fn(&e->h, &e->sk[0], "llm_totals");
  if (srm_host_pcall(L, 0, 1) != LUA_OK || !lua_istable(L, -1)) {
    lua_pop(L, 1);
    return;
  }
  t->calls = field(L, "llm_calls");
  t->cached = field(L, "cache_hits");
  t->attempts = field(L, "attempts");
  t->retries = field(L, "retries");
  t->failed = field(L, "failures");
  t->prompt_tokens = field(L, "prompt_tokens");
  t->completion_tokens = field(L, "completion_tokens");
  t->peak = field(L, "peak_inflight");
  lua_pop(L, 1);
}
