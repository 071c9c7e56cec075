/* srm: the per-worker event loop (see srm_sched.h). Tasks are coroutines of one lua_State;
** the loop resumes ready tasks, waits on curl's sockets and the timer heap, and ends tasks whose
** budgets ran out. Status mapping after lua_resume follows HAProxy's hlua_ctx_resume. */
#include "srm_sched.h"

#include "srm_alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <lauxlib.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* How many VM instructions run between budget checks. */
#define HOOK_EVERY 1000

/* A Lua count hook slows every VM instruction (the interpreter traps each one while any hook is
** set), and almost every record finishes in microseconds. So a budgeted task runs without a
** hook until a watchdog sees it running through two consecutive ticks of a WATCHDOG_TICK_S
** timer; the timer's signal then installs the count hook, as lua.c's SIGINT handler does.
** Instruction counting therefore starts after a record's first 1-2 ms; the budgets still end
** any runaway record. The timer is armed when the loop resumes tasks and disarmed only when
** the loop is about to sleep: at thousands of turns a second, two timer_settime calls per turn
** cost more than the ticks they save. */
#define WATCHDOG_TICK_S 0.001
#define WATCHDOG_SIGNAL (SIGRTMIN + 3)

/* What this thread is running right now, for the watchdog's signal handler. */
static _Thread_local lua_State *volatile running_co;
static _Thread_local volatile unsigned long resume_count;

enum { TASK_READY, TASK_RUNNING, TASK_WAITING, TASK_DONE };

/* Events one epoll_wait hands back at most; more stay pending for the next turn. */
#define IO_BATCH 64
/* See update_idle: the loop pipelines while it slept at least this share of the last window. */
#define IDLE_WINDOW_S 0.05
#define PIPELINE_MIN_IDLE 0.2

/* What an epoll registration stands for; epoll's data pointer points at one of these, the first
** member of each kind of registration. */
enum io_kind { IO_CURL, IO_WATCH, IO_WAKE };

/* A socket curl asked us to watch (CURLMOPT_SOCKETFUNCTION), tagged with curl_multi_assign. */
struct curl_sock {
  enum io_kind kind;
  curl_socket_t fd;
  int dead; /* removed during dispatch; freed afterwards */
  struct curl_sock *next_dead;
};

struct srm_fdwatch {
  enum io_kind kind;
  int fd;
  srm_fd_fn fn;
  void *ud;
  int dead;                        /* unwatched during dispatch; freed afterwards */
  struct srm_fdwatch *prev, *next; /* the live watches (freed with the loop) */
  struct srm_fdwatch *next_dead;
};

struct srm_timer {
  double when;
  size_t heap_index;
  srm_timer_fn fn;
  void *ud;
};

struct srm_sched {
  lua_State *L;
  timer_t watchdog;
  int has_watchdog;
  int watchdog_armed;
  srm_refill_fn refill; /* see srm_sched_set_refill */
  void *refill_ud;
  int pipelining;      /* replies are handled one at a time (see update_idle) */
  double window_start; /* the idle share's measuring window (see update_idle) */
  double window_slept;
  struct srm_alloc *alloc;
  struct srm_task *resuming; /* the task inside lua_resume, for on_alloc_exceeded */
  CURLM *multi;
  struct srm_timer **heap;
  size_t heap_len, heap_cap;
  struct srm_task *ready_head, *ready_tail;
  size_t live;
  /* Coroutines whose function returned normally, kept (registry refs) for the next tasks:
  ** starting a record then costs no thread allocation and no garbage. */
  int pool[256];
  int pool_len;
  /* I/O: one epoll set holds curl's sockets (multi_socket API: curl is told only about the
  ** sockets that are ready, instead of walking every transfer each turn), the watched
  ** descriptors and the wake-up eventfd. */
  int epfd;
  int wakefd;
  enum io_kind wake_tag;
  double curl_due; /* when curl wants CURL_SOCKET_TIMEOUT; < 0: not wanted */
  int dispatching; /* inside the I/O callbacks: removals only mark */
  struct srm_fdwatch *live_watches;
  struct srm_fdwatch *dead_watches;
  struct curl_sock *dead_socks;
};

static const char SCHED_KEY[] = "srm.sched";

double srm_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- timer heap (min-heap on `when`) ---- */

static void heap_swap(struct srm_sched *s, size_t i, size_t j) {
  struct srm_timer *t = s->heap[i];
  s->heap[i] = s->heap[j];
  s->heap[j] = t;
  s->heap[i]->heap_index = i;
  s->heap[j]->heap_index = j;
}

static void heap_up(struct srm_sched *s, size_t i) {
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (s->heap[parent]->when <= s->heap[i]->when) break;
    heap_swap(s, i, parent);
    i = parent;
  }
}

static void heap_down(struct srm_sched *s, size_t i) {
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < s->heap_len && s->heap[l]->when < s->heap[m]->when) m = l;
    if (r < s->heap_len && s->heap[r]->when < s->heap[m]->when) m = r;
    if (m == i) break;
    heap_swap(s, i, m);
    i = m;
  }
}

struct srm_timer *srm_timer_add(struct srm_sched *s, double when, srm_timer_fn fn, void *ud) {
  if (s->heap_len == s->heap_cap) {
    size_t cap = s->heap_cap ? s->heap_cap * 2 : 64;
    struct srm_timer **h = realloc(s->heap, cap * sizeof *h);
    if (!h) return NULL;
    s->heap = h;
    s->heap_cap = cap;
  }
  struct srm_timer *t = malloc(sizeof *t);
  if (!t) return NULL;
  t->when = when;
  t->fn = fn;
  t->ud = ud;
  t->heap_index = s->heap_len;
  s->heap[s->heap_len++] = t;
  heap_up(s, t->heap_index);
  return t;
}

void srm_timer_cancel(struct srm_sched *s, struct srm_timer *t) {
  if (!t) return;
  size_t i = t->heap_index;
  s->heap_len--;
  if (i != s->heap_len) {
    s->heap[i] = s->heap[s->heap_len];
    s->heap[i]->heap_index = i;
    heap_down(s, i);
    heap_up(s, i);
  }
  free(t);
}

static void fire_due_timers(struct srm_sched *s) {
  double now = srm_now();
  while (s->heap_len > 0 && s->heap[0]->when <= now) {
    struct srm_timer *t = s->heap[0];
    srm_timer_fn fn = t->fn;
    void *ud = t->ud;
    srm_timer_cancel(s, t);
    fn(ud);
  }
}

/* ---- tasks ---- */

struct srm_task *srm_task_current(lua_State *co) {
  return *(struct srm_task **)lua_getextraspace(co);
}

struct srm_sched *srm_sched_of(lua_State *L) {
  lua_getfield(L, LUA_REGISTRYINDEX, SCHED_KEY);
  struct srm_sched *s = lua_touserdata(L, -1);
  lua_pop(L, 1);
  return s;
}

static void make_ready(struct srm_sched *s, struct srm_task *t) {
  t->state = TASK_READY;
  t->next_ready = NULL;
  if (s->ready_tail)
    s->ready_tail->next_ready = t;
  else
    s->ready_head = t;
  s->ready_tail = t;
}

static void finish_task(struct srm_task *t, enum srm_task_end end) {
  struct srm_sched *s = t->sched;
  t->state = TASK_DONE;
  srm_timer_cancel(s, t->deadline_timer);
  t->deadline_timer = NULL;
  t->done(t, end, t->ud);
  *(struct srm_task **)lua_getextraspace(t->co) = NULL;
  if (end == SRM_TASK_RETURNED && s->pool_len < (int)(sizeof s->pool / sizeof s->pool[0])) {
    /* A coroutine that returned is back at its base and can run another function. */
    lua_settop(t->co, 0);
    lua_sethook(t->co, NULL, 0, 0);
    s->pool[s->pool_len++] = t->co_ref;
  } else {
    /* No lua_resetthread on killed or failed ones: it would run the skill's __close handlers
    ** outside any budget. The unreferenced coroutine is simply collected. */
    luaL_unref(s->L, LUA_REGISTRYINDEX, t->co_ref);
  }
  s->live--;
  free(t);
}

static void kill_waiting(struct srm_task *t, enum srm_kill why) {
  if (t->cancel) t->cancel(t, t->wait_data);
  t->cancel = NULL;
  t->kill = why;
  finish_task(t, SRM_TASK_KILLED);
}

static void on_deadline(void *ud) {
  struct srm_task *t = ud;
  t->deadline_timer = NULL; /* the heap already released it */
  if (t->state == TASK_WAITING) {
    kill_waiting(t, SRM_KILL_DEADLINE);
  } else if (t->state == TASK_READY) {
    /* Woken but not yet resumed: mark it; the resume path ends it. */
    t->kill = SRM_KILL_DEADLINE;
  }
}

/* Checks the budgets every HOOK_EVERY instructions. A spent budget marks the task and yields out
** of it; where yielding is impossible (inside a C call) it raises instead, and the sticky mark
** makes the next tick try again, so pcall cannot keep a runaway record alive. */
static void count_hook(lua_State *co, lua_Debug *ar) {
  (void)ar;
  struct srm_task *t = srm_task_current(co);
  if (!t) return;
  if (t->kill == SRM_KILL_NONE) {
    t->instructions += HOOK_EVERY;
    if (t->max_instructions > 0 && t->instructions > t->max_instructions)
      t->kill = SRM_KILL_INSTRUCTIONS;
    else if (t->deadline > 0 && srm_now() > t->deadline)
      t->kill = SRM_KILL_DEADLINE;
    else if (t->sched->alloc && srm_alloc_exhausted(t->sched->alloc))
      t->kill = SRM_KILL_MEMORY;
  }
  if (t->kill == SRM_KILL_NONE) return;
  if (lua_isyieldable(co)) {
    lua_yield(co, 0);
    return;
  }
  luaL_error(co, "record budget exhausted");
}

/* The state's allocator refused memory for real while a task ran: check the budgets at the
** next instruction (count 1), so the task ends there instead of up to HOOK_EVERY instructions
** later, each of which could be a refused allocation costing Lua an emergency full collection. */
static void on_alloc_exceeded(void *ud) {
  struct srm_sched *s = ud;
  if (s->resuming) lua_sethook(s->resuming->co, count_hook, LUA_MASKCOUNT, 1);
}

static void on_watchdog(int sig) {
  (void)sig;
  static _Thread_local lua_State *last_co;
  static _Thread_local unsigned long last_count;
  lua_State *co = running_co;
  unsigned long count = resume_count;
  /* The same resume was already running at the previous tick: it has run for a whole tick. */
  if (co && co == last_co && count == last_count)
    lua_sethook(co, count_hook, LUA_MASKCOUNT, HOOK_EVERY);
  last_co = co;
  last_count = count;
}

/* Starts (secs > 0) or stops (secs = 0) the periodic watchdog tick. */
static void watchdog_set(struct srm_sched *s, double secs) {
  if (!s->has_watchdog || s->watchdog_armed == (secs > 0)) return;
  s->watchdog_armed = secs > 0;
  struct itimerspec its;
  memset(&its, 0, sizeof its);
  its.it_value.tv_sec = (time_t)secs;
  its.it_value.tv_nsec = (long)((secs - (double)(time_t)secs) * 1e9);
  its.it_interval = its.it_value;
  timer_settime(s->watchdog, 0, &its, NULL);
}

/* A per-thread timer whose signal goes to this thread only. Without one (an exotic platform),
** budgeted tasks get the hook from their first instruction instead. */
static void watchdog_init(struct srm_sched *s) {
  static int handler_installed = 0;
  if (!handler_installed) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_watchdog;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(WATCHDOG_SIGNAL, &sa, NULL) != 0) return;
    handler_installed = 1;
  }
  struct sigevent sev;
  memset(&sev, 0, sizeof sev);
  sev.sigev_notify = SIGEV_THREAD_ID;
  sev.sigev_signo = WATCHDOG_SIGNAL;
  sev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
  if (timer_create(CLOCK_MONOTONIC, &sev, &s->watchdog) == 0) s->has_watchdog = 1;
}

static int has_budget(const struct srm_task *t) {
  return t->max_instructions > 0 || t->deadline > 0 || (t->sched->alloc && t->sched->alloc->limit);
}

struct srm_task *srm_task_spawn(struct srm_sched *s, int nargs, const struct srm_task_limits *lim,
                                srm_task_done_fn done, void *ud) {
  lua_State *L = s->L;
  struct srm_task *t = calloc(1, sizeof *t);
  if (!t) {
    lua_pop(L, nargs + 1);
    return NULL;
  }
  lua_State *co;
  if (s->pool_len > 0) {
    t->co_ref = s->pool[--s->pool_len];
    lua_rawgeti(L, LUA_REGISTRYINDEX, t->co_ref);
    co = lua_tothread(L, -1);
    lua_pop(L, 1);
  } else {
    co = lua_newthread(L);                      /* fn, args..., co */
    t->co_ref = luaL_ref(L, LUA_REGISTRYINDEX); /* fn, args... */
  }
  lua_xmove(L, co, nargs + 1);
  *(struct srm_task **)lua_getextraspace(co) = t;
  t->sched = s;
  t->co = co;
  t->nargs = nargs;
  t->done = done;
  t->ud = ud;
  t->max_instructions = lim ? lim->max_instructions : 0;
  t->started = srm_now();
  if (lim && lim->timeout_s > 0) {
    t->deadline = t->started + lim->timeout_s;
    t->deadline_timer = srm_timer_add(s, t->deadline, on_deadline, t);
  }
  /* Trusted tasks without budgets never get a hook; budgeted ones get it from the watchdog. */
  if (has_budget(t) && !s->has_watchdog) lua_sethook(co, count_hook, LUA_MASKCOUNT, HOOK_EVERY);
  s->live++;
  make_ready(s, t);
  return t;
}

void srm_task_wait(struct srm_task *t, srm_wait_cancel_fn cancel, void *wait_data) {
  t->state = TASK_WAITING;
  t->cancel = cancel;
  t->wait_data = wait_data;
}

void srm_task_wake(struct srm_task *t, int nresults) {
  t->cancel = NULL;
  t->wait_data = NULL;
  t->nargs = nresults;
  make_ready(t->sched, t);
}

static void resume_task(struct srm_sched *s, struct srm_task *t) {
  if (t->kill != SRM_KILL_NONE) {
    finish_task(t, SRM_TASK_KILLED);
    return;
  }
  t->state = TASK_RUNNING;
  int nres = 0;
  if (s->alloc && s->alloc->limit && s->alloc->used > s->alloc->limit / 2) {
    /* Collect before the task runs, so garbage left by earlier records is not what fills
    ** this record's memory budget (lauxlib buffers do not retry a refused allocation). */
    lua_gc(s->L, LUA_GCCOLLECT);
  }
  if (s->alloc) {
    srm_alloc_clear(s->alloc);
    s->alloc->enforcing = 1;
  }
  int watch = s->has_watchdog && lua_gethook(t->co) == NULL && has_budget(t);
  if (watch) {
    resume_count++;
    running_co = t->co;
  }
  s->resuming = t;
  int status = lua_resume(t->co, s->L, t->nargs, &nres);
  s->resuming = NULL;
  running_co = NULL;
  if (s->alloc) {
    s->alloc->enforcing = 0;
    if (srm_alloc_exhausted(s->alloc) && t->kill == SRM_KILL_NONE) t->kill = SRM_KILL_MEMORY;
  }
  t->nargs = 0;
  if (t->kill != SRM_KILL_NONE) {
    if (t->state == TASK_WAITING && t->cancel) t->cancel(t, t->wait_data);
    t->cancel = NULL;
    finish_task(t, SRM_TASK_KILLED);
    return;
  }
  if (status == LUA_YIELD) {
    lua_pop(t->co, nres);
    /* READY: the wait completed before the yield (e.g. a request that failed at once). */
    if (t->state != TASK_WAITING && t->state != TASK_READY) {
      lua_pushstring(t->co, "a skill may not yield (coroutine.yield outside a host call)");
      finish_task(t, SRM_TASK_ERROR);
    }
    return;
  }
  if (status == LUA_OK) {
    finish_task(t, SRM_TASK_RETURNED);
    return;
  }
  if (lua_type(t->co, -1) == LUA_TSTRING) {
    luaL_traceback(t->co, t->co, lua_tostring(t->co, -1), 0);
    lua_remove(t->co, -2);
  }
  finish_task(t, SRM_TASK_ERROR);
}

static void run_ready(struct srm_sched *s) {
  if (!s->ready_head) return;
  watchdog_set(s, WATCHDOG_TICK_S);
  while (s->ready_head) {
    struct srm_task *t = s->ready_head;
    s->ready_head = t->next_ready;
    if (!s->ready_head) s->ready_tail = NULL;
    resume_task(s, t);
  }
}

/* Hands finished transfers to their owners. */
static void read_curl_messages(struct srm_sched *s) {
  int left = 0;
  CURLMsg *msg;
  while ((msg = curl_multi_info_read(s->multi, &left))) {
    if (msg->msg != CURLMSG_DONE) continue;
    struct srm_transfer *x = NULL;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
    CURLcode rc = msg->data.result;
    if (x && x->done) x->done(x, rc);
  }
}

static void curl_action(struct srm_sched *s, curl_socket_t fd, int mask) {
  int running = 0;
  curl_multi_socket_action(s->multi, fd, mask, &running);
}

/* CURLMOPT_SOCKETFUNCTION: curl says which events it wants on a socket, or that it is done. */
static int on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp) {
  (void)easy;
  struct srm_sched *s = userp;
  struct curl_sock *cs = socketp;
  if (what == CURL_POLL_REMOVE) {
    if (cs) {
      epoll_ctl(s->epfd, EPOLL_CTL_DEL, fd, NULL); /* curl has not closed it yet */
      curl_multi_assign(s->multi, fd, NULL);
      cs->dead = 1;
      cs->next_dead = s->dead_socks; /* an event for it may still sit in this turn's batch */
      s->dead_socks = cs;
    }
    return 0;
  }
  struct epoll_event ev = {0};
  ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0u) | (what & CURL_POLL_OUT ? EPOLLOUT : 0u);
  if (!cs) {
    cs = calloc(1, sizeof *cs);
    if (!cs) return -1; /* curl fails the transfer */
    cs->kind = IO_CURL;
    cs->fd = fd;
    ev.data.ptr = cs;
    if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) != 0 &&
        (errno != EEXIST || epoll_ctl(s->epfd, EPOLL_CTL_MOD, fd, &ev) != 0)) {
      free(cs);
      return -1;
    }
    curl_multi_assign(s->multi, fd, cs);
    return 0;
  }
  ev.data.ptr = cs;
  return epoll_ctl(s->epfd, EPOLL_CTL_MOD, fd, &ev) == 0 ? 0 : -1;
}

/* CURLMOPT_TIMERFUNCTION: when curl next wants CURL_SOCKET_TIMEOUT (-1: never). */
static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp) {
  (void)multi;
  struct srm_sched *s = userp;
  s->curl_due = timeout_ms < 0 ? -1 : srm_now() + (double)timeout_ms / 1000.0;
  return 0;
}

struct srm_fdwatch *srm_fd_watch(struct srm_sched *s, int fd, short events, srm_fd_fn fn,
                                 void *ud) {
  struct srm_fdwatch *w = calloc(1, sizeof *w);
  if (!w) return NULL;
  /* The loop watches its own duplicate of fd: the caller may close fd before it unwatches (the
  ** process sandbox closes a pipe at EOF), and an epoll registration outlives a close while
  ** another process still holds the pipe; with a descriptor of our own, srm_fd_unwatch can
  ** always remove the registration, so no event ever names a freed watch. */
  int own = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (own < 0) {
    free(w);
    return NULL;
  }
  w->kind = IO_WATCH;
  w->fd = own;
  w->fn = fn;
  w->ud = ud;
  struct epoll_event ev = {0};
  ev.events = (events & POLLIN ? EPOLLIN : 0u) | (events & POLLOUT ? EPOLLOUT : 0u);
  ev.data.ptr = w;
  if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, own, &ev) != 0) {
    close(own);
    free(w);
    return NULL;
  }
  w->next = s->live_watches;
  if (w->next) w->next->prev = w;
  s->live_watches = w;
  return w;
}

static void free_dead(struct srm_sched *s) {
  while (s->dead_watches) {
    struct srm_fdwatch *w = s->dead_watches;
    s->dead_watches = w->next_dead;
    free(w);
  }
  while (s->dead_socks) {
    struct curl_sock *cs = s->dead_socks;
    s->dead_socks = cs->next_dead;
    free(cs);
  }
}

void srm_fd_unwatch(struct srm_sched *s, struct srm_fdwatch *w) {
  if (!w || w->dead) return;
  epoll_ctl(s->epfd, EPOLL_CTL_DEL, w->fd, NULL);
  close(w->fd);
  if (w->prev)
    w->prev->next = w->next;
  else
    s->live_watches = w->next;
  if (w->next) w->next->prev = w->prev;
  w->dead = 1;
  w->next_dead = s->dead_watches;
  s->dead_watches = w;
  if (!s->dispatching) free_dead(s);
}

void srm_sched_wakeup(struct srm_sched *s) {
  uint64_t one = 1;
  ssize_t n = write(s->wakefd, &one, sizeof one); /* a full counter already means "wake" */
  (void)n;
}

static short poll_events(uint32_t ev) {
  return (short)((ev & EPOLLIN ? POLLIN : 0) | (ev & EPOLLOUT ? POLLOUT : 0) |
                 (ev & EPOLLERR ? POLLERR : 0) | (ev & EPOLLHUP ? POLLHUP : 0));
}

/* Sends what curl has due: requests added since its last call, timeouts, retries' backoff. */
static void curl_due_action(struct srm_sched *s) {
  if (s->curl_due < 0 || srm_now() < s->curl_due) return;
  s->curl_due = -1; /* curl sets the next one from inside the call */
  curl_action(s, CURL_SOCKET_TIMEOUT, 0);
}

/* Pipelining (see pipeline) costs CPU: each reply's work runs apart from the rest of its burst,
** with colder caches (+30% per request against a 0 ms server). It pays where the endpoint's
** latency sets the pace: each slot's cycle is the latency plus the wait for its next request to
** leave. So it is on while the loop has time to spare, judged by the share of the last window
** it spent asleep in epoll_wait; a loop that never sleeps takes each burst together. */
static void update_idle(struct srm_sched *s, double now, double slept) {
  s->window_slept += slept;
  if (s->window_start == 0) s->window_start = now;
  double span = now - s->window_start;
  if (span < IDLE_WINDOW_S) return;
  s->pipelining = s->refill && s->window_slept > span * PIPELINE_MIN_IDLE;
  s->window_start = now;
  s->window_slept = 0;
}

/* A reply (or failure) woke tasks: with a refill callback, finish them, let the feeder start
** new ones and send their requests now, before the next event of this batch. Each slot's next
** request then leaves as soon as its own record is done, not after the whole burst, so the
** slots of one burst do not stay in lock-step; no extra system call is made. */
static void pipeline(struct srm_sched *s) {
  if (!s->pipelining || !s->ready_head) return;
  run_ready(s);
  s->refill(s->refill_ud);
  run_ready(s);
  curl_due_action(s);
  read_curl_messages(s);
}

/* Waits up to `wait` seconds for I/O, then dispatches it: ready curl sockets to curl, watched
** descriptors to their callbacks, then curl's due timeout. */
static void poll_io(struct srm_sched *s, double wait) {
  struct epoll_event evs[IO_BATCH];
  int ms = wait <= 0 ? 0 : (int)(wait * 1000.0 + 0.999); /* round up: no early wake-up spin */
  double now = srm_now();
  if (ms > 0) watchdog_set(s, 0);
  int n = epoll_wait(s->epfd, evs, IO_BATCH, ms);
  update_idle(s, now, ms > 0 ? srm_now() - now : 0);
  s->dispatching = 1;
  for (int i = 0; i < n; i++) {
    enum io_kind *kind = evs[i].data.ptr;
    uint32_t ev = evs[i].events;
    if (*kind == IO_CURL) {
      struct curl_sock *cs = (struct curl_sock *)kind;
      if (cs->dead) continue;
      int mask = (ev & (EPOLLIN | EPOLLHUP) ? CURL_CSELECT_IN : 0) |
                 (ev & EPOLLOUT ? CURL_CSELECT_OUT : 0) | (ev & EPOLLERR ? CURL_CSELECT_ERR : 0);
      curl_action(s, cs->fd, mask);
      read_curl_messages(s);
      pipeline(s);
    } else if (*kind == IO_WATCH) {
      struct srm_fdwatch *w = (struct srm_fdwatch *)kind;
      if (!w->dead) w->fn(w->ud, poll_events(ev));
    } else {
      uint64_t count;
      ssize_t r = read(s->wakefd, &count, sizeof count);
      (void)r;
    }
  }
  curl_due_action(s);
  s->dispatching = 0;
  free_dead(s);
  read_curl_messages(s);
}

void srm_sched_set_refill(struct srm_sched *s, srm_refill_fn fn, void *ud) {
  s->refill = fn;
  s->refill_ud = ud;
}

static double next_wait(struct srm_sched *s, double max_wait_s) {
  double wait = max_wait_s, now = srm_now();
  if (s->heap_len > 0 && s->heap[0]->when - now < wait) wait = s->heap[0]->when - now;
  if (s->curl_due >= 0 && s->curl_due - now < wait) wait = s->curl_due - now;
  return wait < 0 ? 0 : wait;
}

void srm_sched_idle(struct srm_sched *s, double max_wait_s) {
  poll_io(s, next_wait(s, max_wait_s));
  fire_due_timers(s);
  run_ready(s);
}

size_t srm_sched_step(struct srm_sched *s, double max_wait_s) {
  run_ready(s);
  if (s->live == 0) {
    watchdog_set(s, 0); /* the caller may block elsewhere now */
    return 0;
  }
  srm_sched_idle(s, max_wait_s);
  return s->live;
}

void srm_sched_drain(struct srm_sched *s) {
  while (srm_sched_step(s, 1.0) > 0) {
  }
}

struct srm_sched *srm_sched_new(lua_State *L, struct srm_alloc *alloc) {
  struct srm_sched *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->epfd = epoll_create1(EPOLL_CLOEXEC);
  s->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  s->multi = curl_multi_init();
  s->wake_tag = IO_WAKE;
  s->curl_due = -1;
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &s->wake_tag};
  if (s->epfd < 0 || s->wakefd < 0 || !s->multi ||
      epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->wakefd, &ev) != 0) {
    if (s->multi) curl_multi_cleanup(s->multi);
    if (s->epfd >= 0) close(s->epfd);
    if (s->wakefd >= 0) close(s->wakefd);
    free(s);
    return NULL;
  }
  curl_multi_setopt(s->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
  curl_multi_setopt(s->multi, CURLMOPT_SOCKETDATA, s);
  curl_multi_setopt(s->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
  curl_multi_setopt(s->multi, CURLMOPT_TIMERDATA, s);
  s->L = L;
  s->alloc = alloc;
  if (alloc) {
    alloc->on_exceeded = on_alloc_exceeded;
    alloc->on_exceeded_ud = s;
  }
  watchdog_init(s);
  lua_pushlightuserdata(L, s);
  lua_setfield(L, LUA_REGISTRYINDEX, SCHED_KEY);
  return s;
}

void srm_sched_free(struct srm_sched *s) {
  if (!s) return;
  if (s->alloc && s->alloc->on_exceeded_ud == s) s->alloc->on_exceeded = NULL;
  while (s->heap_len > 0)
    srm_timer_cancel(s, s->heap[0]);
  while (s->pool_len > 0)
    luaL_unref(s->L, LUA_REGISTRYINDEX, s->pool[--s->pool_len]);
  free(s->heap);
  if (s->has_watchdog) timer_delete(s->watchdog);
  curl_multi_cleanup(s->multi); /* removes its sockets through on_curl_socket */
  while (s->live_watches)       /* watches of runs that outlived their tasks */
    srm_fd_unwatch(s, s->live_watches);
  free_dead(s);
  close(s->epfd);
  close(s->wakefd);
  lua_pushnil(s->L);
  lua_setfield(s->L, LUA_REGISTRYINDEX, SCHED_KEY);
  free(s);
}

CURLM *srm_sched_multi(struct srm_sched *s) {
  return s->multi;
}

size_t srm_sched_live_tasks(struct srm_sched *s) {
  return s->live;
}

const char *srm_kill_name(enum srm_kill kill) {
  switch (kill) {
  case SRM_KILL_INSTRUCTIONS:
    return "instructions";
  case SRM_KILL_DEADLINE:
    return "deadline";
  case SRM_KILL_MEMORY:
    return "memory";
  default:
    return "none";
  }
}

struct sync_call {
  int finished;
  int nresults;
  enum srm_task_end end;
  int results_ref; /* a table holding the pushed values, in the registry */
};

static void sync_done(struct srm_task *t, enum srm_task_end end, void *ud) {
  struct sync_call *c = ud;
  lua_State *L = t->sched->L;
  c->finished = 1;
  c->end = end;
  int n = lua_gettop(t->co);
  lua_createtable(L, c->nresults, 0);
  if (end == SRM_TASK_RETURNED) {
    int keep = n < c->nresults ? n : c->nresults;
    lua_xmove(t->co, L, keep);
    for (int i = keep; i >= 1; i--)
      lua_rawseti(L, -(i + 1), i); /* table[i] = v_i */
  } else if (end == SRM_TASK_ERROR) {
    lua_xmove(t->co, L, 1);
    lua_rawseti(L, -2, 1);
  } else {
    lua_pushstring(L, srm_kill_name(t->kill));
    lua_rawseti(L, -2, 1);
  }
  c->results_ref = luaL_ref(L, LUA_REGISTRYINDEX);
}

enum srm_task_end srm_task_run_sync(struct srm_sched *s, int nargs, int nresults,
                                    const struct srm_task_limits *lim) {
  struct sync_call c = {0, nresults, SRM_TASK_ERROR, LUA_NOREF};
  if (!srm_task_spawn(s, nargs, lim, sync_done, &c)) {
    lua_pushliteral(s->L, "out of memory");
    for (int i = 1; i < nresults; i++)
      lua_pushnil(s->L);
    return SRM_TASK_ERROR;
  }
  while (!c.finished)
    srm_sched_step(s, 1.0);
  lua_rawgeti(s->L, LUA_REGISTRYINDEX, c.results_ref);
  luaL_unref(s->L, LUA_REGISTRYINDEX, c.results_ref);
  for (int i = 1; i <= nresults; i++)
    lua_rawgeti(s->L, -i, i);
  lua_remove(s->L, -nresults - 1);
  return c.end;
}
