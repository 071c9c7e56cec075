/* srm: the per-worker event loop. One lua_State, one curl multi handle, a timer heap and a ready
** queue; every record (and every skill load or self-test) runs as a task, i.e. a Lua coroutine.
** C functions that wait (sleep, model calls, child processes) park the task with
** srm_task_wait() and yield; whoever completes the wait pushes results and calls
** srm_task_wake(). Budgets (instructions, wall deadline, memory) end a task with a kill reason
** even when the skill catches errors with pcall: the count hook yields straight out of it. */
#ifndef SRM_SCHED_H
#define SRM_SCHED_H

#include <curl/curl.h>
#include <lua.h>
#include <stddef.h>

#include "srm_clock.h"

struct srm_alloc;
struct srm_sched;
struct srm_task;
struct srm_timer;

enum srm_task_end { SRM_TASK_RETURNED, SRM_TASK_ERROR, SRM_TASK_KILLED };

enum srm_kill {
  SRM_KILL_NONE,
  SRM_KILL_INSTRUCTIONS, /* instruction budget spent */
  SRM_KILL_DEADLINE,     /* wall-clock deadline passed */
  SRM_KILL_MEMORY,       /* the state's memory limit refused an allocation */
};

/* Called once when a task ends. On SRM_TASK_RETURNED the coroutine's stack holds its return
** values; on SRM_TASK_ERROR it holds the error object (already with a traceback when it was a
** string); on SRM_TASK_KILLED read task->kill. The task is freed right after the call. */
typedef void (*srm_task_done_fn)(struct srm_task *t, enum srm_task_end end, void *ud);
/* Called when a waiting task is killed (deadline), to release what the wait holds. */
typedef void (*srm_wait_cancel_fn)(struct srm_task *t, void *wait_data);
typedef void (*srm_timer_fn)(void *ud);

struct srm_task_limits {
  long max_instructions; /* <= 0: unlimited */
  double timeout_s;      /* <= 0: no deadline */
};

struct srm_task {
  struct srm_sched *sched;
  lua_State *co;
  int co_ref;
  int nargs; /* values waiting on co's stack for the next resume */
  int state;
  long instructions;
  long max_instructions;
  double started;
  double deadline;
  enum srm_kill kill;
  srm_wait_cancel_fn cancel;
  void *wait_data;
  struct srm_timer *deadline_timer;
  srm_task_done_fn done;
  void *ud;
  struct srm_task *next_ready;
};

/* Something curl drives for a task; set as CURLOPT_PRIVATE of the easy handle. */
struct srm_transfer {
  void (*done)(struct srm_transfer *xfer, CURLcode result);
};

struct srm_sched *srm_sched_new(lua_State *L, struct srm_alloc *alloc);
void srm_sched_free(struct srm_sched *s);
CURLM *srm_sched_multi(struct srm_sched *s);
size_t srm_sched_live_tasks(struct srm_sched *s);
/* Registers the scheduler in L's extra space so C modules can find it. */
struct srm_sched *srm_sched_of(lua_State *L);

/* Pops a function and nargs arguments from the scheduler's state and queues a task to run
** them. Returns NULL only when out of memory (the function and arguments are popped). */
struct srm_task *srm_task_spawn(struct srm_sched *s, int nargs, const struct srm_task_limits *lim,
                                srm_task_done_fn done, void *ud);
/* The task whose coroutine is co, or NULL when co is not a task (e.g. the main thread). */
struct srm_task *srm_task_current(lua_State *co);
/* Parks the running task; the caller must then `return lua_yield(co, 0)`. */
void srm_task_wait(struct srm_task *t, srm_wait_cancel_fn cancel, void *wait_data);
/* Makes a parked task runnable; nresults values already pushed on t->co are its resume values. */
void srm_task_wake(struct srm_task *t, int nresults);

/* File descriptors the loop waits on besides curl's (child-process pipes, wake-up pipes).
** fn is called from srm_sched_step with the poll revents (POLLIN, POLLOUT, POLLHUP, ...). */
typedef void (*srm_fd_fn)(void *ud, short revents);
struct srm_fdwatch;
struct srm_fdwatch *srm_fd_watch(struct srm_sched *s, int fd, short events, srm_fd_fn fn, void *ud);
/* Stops watching (safe to call from inside a watch callback, including its own). */
void srm_fd_unwatch(struct srm_sched *s, struct srm_fdwatch *w);

struct srm_timer *srm_timer_add(struct srm_sched *s, double when, srm_timer_fn fn, void *ud);
void srm_timer_cancel(struct srm_sched *s, struct srm_timer *timer);

/* Runs ready tasks, then waits up to max_wait_s for I/O or timers and dispatches them.
** Returns the number of tasks still alive. */
size_t srm_sched_step(struct srm_sched *s, double max_wait_s);
/* Runs until no task is alive. */
void srm_sched_drain(struct srm_sched *s);
/* Waits up to max_wait_s for I/O, timers or srm_sched_wakeup, dispatching what comes, even when
** no task is alive (a worker waiting for records). */
void srm_sched_idle(struct srm_sched *s, double max_wait_s);
/* fn(ud) starts new tasks when finished ones have freed room (the caller's record feeder). With
** one set, and while the loop has time to spare (it slept a fifth of the last 50 ms), a reply's
** record is finished, its slot refilled and the new task's requests sent before the next reply
** of the same burst is handled; otherwise a burst is read first and its tasks run together. */
typedef void (*srm_refill_fn)(void *ud);
void srm_sched_set_refill(struct srm_sched *s, srm_refill_fn fn, void *ud);
/* Ends a wait in srm_sched_step or srm_sched_idle early; callable from any thread. */
void srm_sched_wakeup(struct srm_sched *s);

/* Pops a function and nargs arguments, runs them as one task until it ends (running any other
** live tasks meanwhile) and pushes nresults values: the function's results on
** SRM_TASK_RETURNED (padded with nil), or the error message / kill reason string followed by nils
** otherwise. Returns how the task ended. */
enum srm_task_end srm_task_run_sync(struct srm_sched *s, int nargs, int nresults,
                                    const struct srm_task_limits *lim);
/* A short name for a kill reason: "instructions", "deadline", "memory". */
const char *srm_kill_name(enum srm_kill kill);

#endif
