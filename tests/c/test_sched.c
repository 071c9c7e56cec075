/* Check tests of the event loop: fd watches, timers, task results and the budget kills. */
#include "srm_host.h"
#include "srm_sched.h"

#include "check_main.h"

#include <check.h>
#include <lauxlib.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct outcome {
  int done;
  enum srm_task_end end;
  enum srm_kill kill;
  char text[256];
};

static void record_outcome(struct srm_task *t, enum srm_task_end end, void *ud) {
  struct outcome *o = ud;
  o->done = 1;
  o->end = end;
  o->kill = t->kill;
  const char *s = lua_gettop(t->co) > 0 ? lua_tostring(t->co, -1) : NULL;
  snprintf(o->text, sizeof o->text, "%s", s ? s : "");
}

static void open_host(struct srm_host *h, size_t memory_limit) {
  char err[256];
  ck_assert_msg(srm_host_open(h, memory_limit, NULL, err, sizeof err) == 0, "%s", err);
}

/* Spawns `code` (a Lua chunk) as a task with the given limits. */
static void spawn(struct srm_host *h, const char *code, const struct srm_task_limits *lim,
                  struct outcome *o) {
  ck_assert_int_eq(luaL_loadstring(h->L, code), LUA_OK);
  ck_assert_ptr_nonnull(srm_task_spawn(h->sched, 0, lim, record_outcome, o));
}

static void run_until_done(struct srm_host *h, struct outcome *o, double max_s) {
  double until = srm_now() + max_s;
  while (!o->done && srm_now() < until)
    srm_sched_step(h->sched, 0.05);
  ck_assert_msg(o->done, "the task did not finish within %.1f s", max_s);
}

struct fd_hit {
  int calls;
  short revents;
  struct srm_sched *s;
  struct srm_fdwatch *w;
};

static void on_readable(void *ud, short revents) {
  struct fd_hit *h = ud;
  h->calls++;
  h->revents = revents;
  srm_fd_unwatch(h->s, h->w); /* unwatching inside its own callback is allowed */
}

START_TEST(fd_watch_fires_when_readable_then_unwatches) {
  struct srm_host h;
  open_host(&h, 0);
  int p[2];
  ck_assert_int_eq(pipe(p), 0);
  struct fd_hit hit = {0, 0, h.sched, NULL};
  hit.w = srm_fd_watch(h.sched, p[0], POLLIN, on_readable, &hit);
  ck_assert_ptr_nonnull(hit.w);
  struct outcome o = {0};
  spawn(&h, "require('srm.core').sleep(0.2)", NULL, &o); /* keeps the loop polling */
  srm_sched_step(h.sched, 0.02);
  ck_assert_int_eq(hit.calls, 0); /* nothing to read yet */
  ck_assert_int_eq(write(p[1], "x", 1), 1);
  srm_sched_step(h.sched, 0.05);
  ck_assert_int_eq(hit.calls, 1);
  ck_assert(hit.revents & POLLIN);
  ck_assert_int_eq(write(p[1], "y", 1), 1);
  srm_sched_step(h.sched, 0.02);
  ck_assert_int_eq(hit.calls, 1); /* unwatched: no second call */
  run_until_done(&h, &o, 2);
  ck_assert_int_eq(o.end, SRM_TASK_RETURNED);
  close(p[0]);
  close(p[1]);
  srm_host_close(&h);
}
END_TEST

START_TEST(sleeping_tasks_wake_in_deadline_order) {
  struct srm_host h;
  open_host(&h, 0);
  struct outcome a = {0}, b = {0};
  spawn(&h, "require('srm.core').sleep(0.15) return 'a'", NULL, &a);
  spawn(&h, "require('srm.core').sleep(0.05) return 'b'", NULL, &b);
  run_until_done(&h, &b, 2);
  ck_assert_int_eq(a.done, 0);
  ck_assert_str_eq(b.text, "b");
  run_until_done(&h, &a, 2);
  ck_assert_str_eq(a.text, "a");
  ck_assert_uint_eq(srm_sched_live_tasks(h.sched), 0);
  srm_host_close(&h);
}
END_TEST

START_TEST(instruction_budget_kills_a_loop_inside_pcall) {
  struct srm_host h;
  open_host(&h, 0);
  struct srm_task_limits lim = {1000000, 0};
  struct outcome o = {0};
  spawn(&h, "while true do pcall(function() while true do end end) end", &lim, &o);
  run_until_done(&h, &o, 10);
  ck_assert_int_eq(o.end, SRM_TASK_KILLED);
  ck_assert_int_eq(o.kill, SRM_KILL_INSTRUCTIONS);
  /* The loop goes on serving tasks afterwards. */
  struct outcome next = {0};
  spawn(&h, "return 'fine'", &lim, &next);
  run_until_done(&h, &next, 2);
  ck_assert_int_eq(next.end, SRM_TASK_RETURNED);
  srm_host_close(&h);
}
END_TEST

START_TEST(deadline_kills_a_waiting_task) {
  struct srm_host h;
  open_host(&h, 0);
  struct srm_task_limits lim = {0, 0.05};
  struct outcome o = {0};
  double t0 = srm_now();
  spawn(&h, "require('srm.core').sleep(30)", &lim, &o);
  run_until_done(&h, &o, 5);
  ck_assert_int_eq(o.end, SRM_TASK_KILLED);
  ck_assert_int_eq(o.kill, SRM_KILL_DEADLINE);
  ck_assert(srm_now() - t0 < 2.0);
  srm_host_close(&h);
}
END_TEST

START_TEST(memory_limit_kills_the_task_that_hits_it) {
  struct srm_host h;
  open_host(&h, (size_t)64 << 20);
  struct srm_task_limits lim = {0, 0};
  struct outcome o = {0};
  spawn(&h, "local ok = pcall(string.rep, 'x', 256 << 20) return 'survived'", &lim, &o);
  run_until_done(&h, &o, 5);
  ck_assert_int_eq(o.end, SRM_TASK_KILLED);
  ck_assert_int_eq(o.kill, SRM_KILL_MEMORY);
  struct outcome next = {0};
  spawn(&h, "return #string.rep('x', 1 << 20)", &lim, &next);
  run_until_done(&h, &next, 2);
  ck_assert_int_eq(next.end, SRM_TASK_RETURNED);
  srm_host_close(&h);
}
END_TEST

START_TEST(run_sync_returns_results_and_errors) {
  struct srm_host h;
  open_host(&h, 0);
  ck_assert_int_eq(luaL_loadstring(h.L, "return 1, 'two'"), LUA_OK);
  ck_assert_int_eq(srm_task_run_sync(h.sched, 0, 3, NULL), SRM_TASK_RETURNED);
  ck_assert_int_eq(lua_tointeger(h.L, -3), 1);
  ck_assert_str_eq(lua_tostring(h.L, -2), "two");
  ck_assert(lua_isnil(h.L, -1));
  lua_pop(h.L, 3);
  ck_assert_int_eq(luaL_loadstring(h.L, "error('boom')"), LUA_OK);
  ck_assert_int_eq(srm_task_run_sync(h.sched, 0, 1, NULL), SRM_TASK_ERROR);
  ck_assert_ptr_nonnull(strstr(lua_tostring(h.L, -1), "boom"));
  lua_pop(h.L, 1);
  srm_host_close(&h);
}
END_TEST

int main(void) {
  Suite *s = suite_create("sched");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, fd_watch_fires_when_readable_then_unwatches);
  tcase_add_test(tc, sleeping_tasks_wake_in_deadline_order);
  tcase_add_test(tc, instruction_budget_kills_a_loop_inside_pcall);
  tcase_add_test(tc, deadline_kills_a_waiting_task);
  tcase_add_test(tc, memory_limit_kills_the_task_that_hits_it);
  tcase_add_test(tc, run_sync_returns_results_and_errors);
  suite_add_tcase(s, tc);
  return srm_check_run(s);
}
