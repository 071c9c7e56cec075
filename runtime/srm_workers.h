/* srm: --workers N. Each worker thread owns a record executor (its own Lua state, event loop
** and curl multi handle); nothing Lua crosses threads. The main thread reads and prepares lines,
** hands record lines to the least-loaded worker, and collects encoded rows back, which it
** orders and writes as in the single-threaded path. Rows are identical for any N. */
#ifndef SRM_WORKERS_H
#define SRM_WORKERS_H

#include "srm_exec.h"

struct srm_workers;

/* Starts n workers; each loads the skill. Returns NULL with a message on failure. */
struct srm_workers *srm_workers_start(int n, const struct run_opts *o, char *err, size_t errlen);
/* Queues one record line (copied) for a worker. Returns 0, or -1 when out of memory. */
int srm_workers_submit(struct srm_workers *w, uint64_t seq, uint64_t lineno, const char *line,
                       size_t len);
/* Work run on a worker's thread with its executor (srm serve's requests). */
struct srm_work {
  void (*run)(struct srm_work *work, struct srm_exec *e);
};
/* Queues work for the next worker in turn. Returns 0, or -1 when out of memory. */
int srm_workers_submit_work(struct srm_workers *w, struct srm_work *work);
/* Asks every worker to reload skill `skill` as `generation` (srm_exec_reload), between records;
** a worker whose reload fails keeps its version and says so on stderr. */
void srm_workers_reload(struct srm_workers *w, int skill, long generation);
/* Delivers the rows finished so far to fn (on the calling thread), waiting up to wait_s for the
** first one. Returns how many were delivered. */
size_t srm_workers_collect(struct srm_workers *w, srm_row_fn fn, void *ud, double wait_s);
/* Records submitted and not yet collected. */
size_t srm_workers_pending(const struct srm_workers *w);
/* A worker's fatal error (its message), or NULL. */
const char *srm_workers_error(struct srm_workers *w);
/* Lets the workers finish what they hold, joins them, adds their model-call totals to t. */
void srm_workers_stop(struct srm_workers *w, struct srm_llm_totals *t);

#endif
