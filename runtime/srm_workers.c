/* srm: worker threads for `srm run --workers N` (see srm_workers.h). Hand-off is by mutex-
** protected queues: lines go in (a worker waiting in srm_sched_idle is woken with
** srm_sched_wakeup), rows come out (the main thread waits on a condition variable). */
#include "srm_workers.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct job {
  uint64_t seq, lineno;
  char *line; /* NULL: work is set */
  size_t len;
  struct srm_work *work;
  struct job *next;
};

struct worker;

struct result {
  struct worker *wk; /* who produced it, for the load balance */
  uint64_t seq;
  char *row;
  size_t len;
  char status[32];
  int has_score;
  double score;
  struct result *next;
};

struct worker {
  struct srm_workers *pool;
  pthread_t thread;
  struct srm_exec e;
  struct job *head, *tail;           /* inbox, under pool->lock */
  size_t assigned;                   /* submitted to this worker and not yet collected */
  long reload_tried[SRM_MAX_SKILLS]; /* the last generation this worker tried to load */
  int started, ready, failed;
  int exiting;  /* under pool->lock: its event loop is being freed, never wake it again */
  int new_rows; /* rows queued since the main thread was last signalled (see worker_main) */
  char error[700];
  struct srm_llm_totals totals;
};

struct srm_workers {
  const struct run_opts *o;
  int n;
  struct worker *w;
  pthread_mutex_t lock;
  pthread_cond_t rows_ready; /* results appended, or a worker became ready/failed */
  struct result *out_head, *out_tail;
  size_t pending;
  int stopping;
  long reload_gen[SRM_MAX_SKILLS]; /* the generation each skill should be at (0: as loaded) */
  unsigned next_work;              /* round robin for srm_workers_submit_work */
  char error[700];
};

/* Wakes a worker's event loop. The caller holds pool->lock: a worker sets `exiting` under the
** lock before it frees its loop, so the loop (and its eventfd) is alive for the whole wakeup. */
static void wake_locked(struct worker *wk) {
  if (wk->started && wk->ready && !wk->failed && !wk->exiting) srm_sched_wakeup(wk->e.h.sched);
}

/* Reloads the skills whose wanted generation changed (srm_workers_reload); called by the worker
** between records, so its records in flight keep their version. */
static void reload_if_asked(struct worker *wk) {
  struct srm_workers *p = wk->pool;
  for (int i = 0; i < wk->e.nskills; i++) {
    pthread_mutex_lock(&p->lock);
    long want = p->reload_gen[i];
    pthread_mutex_unlock(&p->lock);
    if (want <= wk->reload_tried[i]) continue;
    wk->reload_tried[i] = want;
    char err[1024];
    if (srm_exec_reload(&wk->e, i, want, err, sizeof err) < 0)
      fprintf(stderr, "srm: worker: reload of %s failed, keeping generation %ld: %s\n",
              wk->e.skill_path[i], wk->e.generation[i], err);
  }
}

static void worker_row(void *ud, uint64_t seq, char *row, size_t len, const char *status,
                       int has_score, double score) {
  struct worker *wk = ud;
  struct srm_workers *p = wk->pool;
  struct result *r = calloc(1, sizeof *r);
  if (!r) { /* the row is lost: make the run fail loudly rather than hang */
    free(row);
    pthread_mutex_lock(&p->lock);
    snprintf(p->error, sizeof p->error, "out of memory passing a row between threads");
    pthread_cond_signal(&p->rows_ready);
    pthread_mutex_unlock(&p->lock);
    return;
  }
  r->wk = wk;
  r->seq = seq;
  r->row = row;
  r->len = len;
  snprintf(r->status, sizeof r->status, "%s", status ? status : "");
  r->has_score = has_score;
  r->score = score;
  pthread_mutex_lock(&p->lock);
  if (p->out_tail)
    p->out_tail->next = r;
  else
    p->out_head = r;
  p->out_tail = r;
  pthread_mutex_unlock(&p->lock);
  wk->new_rows = 1;
}

/* Tells the main thread about the rows queued during this turn of the worker's loop: once per
** turn, not per row. A signal per row had the main thread wake, take one row and hand over one
** line per record, a futex round trip each way (10 us of system time per record, a fifth of
** what a regex-heavy record costs). */
static void signal_rows(struct worker *wk) {
  if (!wk->new_rows) return;
  wk->new_rows = 0;
  pthread_mutex_lock(&wk->pool->lock);
  pthread_cond_signal(&wk->pool->rows_ready);
  pthread_mutex_unlock(&wk->pool->lock);
}

static void *worker_main(void *arg) {
  struct worker *wk = arg;
  struct srm_workers *p = wk->pool;
  char err[600];
  int rc = srm_exec_open(&wk->e, p->o, worker_row, wk, err, sizeof err);
  pthread_mutex_lock(&p->lock);
  wk->ready = 1;
  if (rc != 0) {
    wk->failed = 1;
    snprintf(wk->error, sizeof wk->error, "%s", err);
  }
  pthread_cond_broadcast(&p->rows_ready);
  pthread_mutex_unlock(&p->lock);
  if (rc != 0) return NULL;
  size_t cap = (size_t)p->o->concurrency;
  for (;;) {
    struct job *take = NULL;
    int stop;
    pthread_mutex_lock(&p->lock);
    while (wk->head && wk->e.inflight + (take ? 1 : 0) < cap) {
      struct job *j = wk->head;
      wk->head = j->next;
      if (!wk->head) wk->tail = NULL;
      j->next = take;
      take = j;
      if (wk->e.inflight + 1 >= cap) break;
    }
    stop = p->stopping && !wk->head;
    pthread_mutex_unlock(&p->lock);
    /* take is in reverse order; submission order does not matter (rows carry their seq) */
    reload_if_asked(wk);
    while (take) {
      struct job *j = take;
      take = j->next;
      if (j->work)
        j->work->run(j->work, &wk->e);
      else
        srm_exec_submit(&wk->e, j->seq, j->line, j->len, j->lineno, 1);
      free(j->line);
      free(j);
    }
    if (wk->e.fatal) {
      pthread_mutex_lock(&p->lock);
      snprintf(p->error, sizeof p->error, "%s", wk->e.fatal_msg);
      pthread_cond_signal(&p->rows_ready);
      pthread_mutex_unlock(&p->lock);
    }
    signal_rows(wk); /* before the loop may sleep */
    if (stop && wk->e.inflight == 0) break;
    if (srm_sched_live_tasks(wk->e.h.sched) > 0)
      srm_sched_step(wk->e.h.sched, 0.05);
    else
      srm_sched_idle(wk->e.h.sched, 0.05); /* woken on submit */
    signal_rows(wk);
  }
  pthread_mutex_lock(&p->lock);
  wk->exiting = 1;
  pthread_mutex_unlock(&p->lock);
  srm_exec_llm_totals(&wk->e, &wk->totals);
  srm_exec_close(&wk->e);
  signal_rows(wk);
  return NULL;
}

struct srm_workers *srm_workers_start(int n, const struct run_opts *o, char *err, size_t errlen) {
  struct srm_workers *p = calloc(1, sizeof *p);
  struct worker *w = p ? calloc((size_t)n, sizeof *w) : NULL;
  if (!w) {
    free(p);
    snprintf(err, errlen, "out of memory starting workers");
    return NULL;
  }
  p->o = o;
  p->n = n;
  p->w = w;
  pthread_mutex_init(&p->lock, NULL);
  pthread_cond_init(&p->rows_ready, NULL);
  for (int i = 0; i < n; i++) {
    w[i].pool = p;
    if (pthread_create(&w[i].thread, NULL, worker_main, &w[i]) != 0) {
      snprintf(err, errlen, "cannot start worker thread %d", i + 1);
      pthread_mutex_lock(&p->lock);
      p->stopping = 1;
      for (int k = 0; k < i; k++)
        wake_locked(&w[k]); /* a worker not ready yet sees stopping once it is */
      pthread_mutex_unlock(&p->lock);
      for (int k = 0; k < i; k++)
        pthread_join(w[k].thread, NULL);
      free(w);
      free(p);
      return NULL;
    }
    w[i].started = 1;
  }
  /* Wait until every worker has loaded the skill (or failed to). */
  pthread_mutex_lock(&p->lock);
  for (;;) {
    int ready = 0;
    for (int i = 0; i < n; i++)
      ready += w[i].ready;
    if (ready == n) break;
    pthread_cond_wait(&p->rows_ready, &p->lock);
  }
  int failed = -1;
  for (int i = 0; i < n && failed < 0; i++)
    if (w[i].failed) failed = i;
  pthread_mutex_unlock(&p->lock);
  if (failed >= 0) {
    snprintf(err, errlen, "worker %d: %s", failed + 1, w[failed].error);
    srm_workers_stop(p, NULL);
    return NULL;
  }
  return p;
}

int srm_workers_submit(struct srm_workers *p, uint64_t seq, uint64_t lineno, const char *line,
                       size_t len) {
  struct job *j = malloc(sizeof *j);
  char *copy = j ? malloc(len + 1) : NULL;
  if (!copy) {
    free(j);
    return -1;
  }
  memcpy(copy, line, len);
  copy[len] = '\0';
  j->seq = seq;
  j->lineno = lineno;
  j->line = copy;
  j->len = len;
  j->work = NULL; /* a line job: worker_main tells the two kinds apart by work */
  j->next = NULL;
  pthread_mutex_lock(&p->lock);
  struct worker *best = &p->w[0];
  for (int i = 1; i < p->n; i++)
    if (p->w[i].assigned < best->assigned) best = &p->w[i];
  int was_empty = best->head == NULL;
  if (best->tail)
    best->tail->next = j;
  else
    best->head = j;
  best->tail = j;
  best->assigned++;
  p->pending++;
  /* A worker drains its whole inbox each turn, so only an empty one may have it asleep. */
  if (was_empty) wake_locked(best);
  pthread_mutex_unlock(&p->lock);
  return 0;
}

int srm_workers_submit_work(struct srm_workers *p, struct srm_work *work) {
  struct job *j = calloc(1, sizeof *j);
  if (!j) return -1;
  j->work = work;
  pthread_mutex_lock(&p->lock);
  struct worker *wk = &p->w[p->next_work++ % (unsigned)p->n];
  int was_empty = wk->head == NULL;
  if (wk->tail)
    wk->tail->next = j;
  else
    wk->head = j;
  wk->tail = j;
  if (was_empty) wake_locked(wk);
  pthread_mutex_unlock(&p->lock);
  return 0;
}

void srm_workers_reload(struct srm_workers *p, int skill, long generation) {
  pthread_mutex_lock(&p->lock);
  p->reload_gen[skill] = generation;
  for (int i = 0; i < p->n; i++)
    wake_locked(&p->w[i]);
  pthread_mutex_unlock(&p->lock);
}

size_t srm_workers_collect(struct srm_workers *p, srm_row_fn fn, void *ud, double wait_s) {
  pthread_mutex_lock(&p->lock);
  if (!p->out_head && wait_s > 0 && !p->error[0]) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    long ns = ts.tv_nsec + (long)(wait_s * 1e9);
    ts.tv_sec += ns / 1000000000L;
    ts.tv_nsec = ns % 1000000000L;
    pthread_cond_timedwait(&p->rows_ready, &p->lock, &ts);
  }
  struct result *list = p->out_head;
  p->out_head = p->out_tail = NULL;
  size_t n = 0;
  for (struct result *r = list; r; r = r->next)
    n++;
  p->pending -= n;
  for (struct result *r = list; r; r = r->next)
    r->wk->assigned--;
  pthread_mutex_unlock(&p->lock);
  while (list) {
    struct result *r = list;
    list = r->next;
    fn(ud, r->seq, r->row, r->len, r->row ? r->status : NULL, r->has_score, r->score);
    free(r);
  }
  return n;
}

size_t srm_workers_pending(const struct srm_workers *p) {
  return p->pending;
}

const char *srm_workers_error(struct srm_workers *p) {
  pthread_mutex_lock(&p->lock);
  const char *e = p->error[0] ? p->error : NULL;
  pthread_mutex_unlock(&p->lock);
  return e;
}

void srm_workers_stop(struct srm_workers *p, struct srm_llm_totals *t) {
  pthread_mutex_lock(&p->lock);
  p->stopping = 1;
  for (int i = 0; i < p->n; i++)
    wake_locked(&p->w[i]);
  pthread_mutex_unlock(&p->lock);
  for (int i = 0; i < p->n; i++) {
    if (!p->w[i].started) continue;
    pthread_join(p->w[i].thread, NULL);
    if (t) {
      struct srm_llm_totals *x = &p->w[i].totals;
      t->calls += x->calls;
      t->cached += x->cached;
      t->attempts += x->attempts;
      t->retries += x->retries;
      t->failed += x->failed;
      t->prompt_tokens += x->prompt_tokens;
      t->completion_tokens += x->completion_tokens;
      t->peak += x->peak;
    }
  }
  struct result *r = p->out_head;
  while (r) {
    struct result *next = r->next;
    free(r->row);
    free(r);
    r = next;
  }
  pthread_mutex_destroy(&p->lock);
  pthread_cond_destroy(&p->rows_ready);
  free(p->w);
  free(p);
}
