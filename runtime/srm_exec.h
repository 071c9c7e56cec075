/* srm: a record executor: one host Lua state with the skill loaded, turning input lines into
** rows. `srm run` uses one on the main thread; with --workers N each worker thread owns one.
** Rows (or "no row" for records already in OUT) are handed to a callback with their sequence
** number, so the caller can order them. */
#ifndef SRM_EXEC_H
#define SRM_EXEC_H

#include "srm_host.h"
#include "srm_run_opts.h"
#include "srm_sched.h"
#include "srm_skill.h"

#include <stdint.h>

/* row: malloc'ed, ownership passes to the callee; NULL = this seq yields no row (resume). */
typedef void (*srm_row_fn)(void *ud, uint64_t seq, char *row, size_t len, const char *status,
                           int has_score, double score);

struct srm_exec {
  struct srm_host h;
  struct srm_loaded_skill sk;
  struct srm_task_limits limits;
  int prepare_ref, evaluate_ref, finish_ref, input_error_ref;
  size_t inflight; /* record tasks running */
  srm_row_fn on_row;
  void *ud;
  int fatal;
  char fatal_msg[600];
};

/* Model-call totals of one executor (summed over workers for the summary). */
struct srm_llm_totals {
  double calls, cached, attempts, retries, failed, prompt_tokens, completion_tokens, peak;
};

/* Opens the state, configures model calls and loads the skill (self-tests are the caller's
** choice). Returns an SRM_EXIT_* code: 0, 2 (bad --set), 3 (skill failed), 1; message in err. */
int srm_exec_open(struct srm_exec *e, const struct run_opts *o, srm_row_fn on_row, void *ud,
                  char *err, size_t errlen);
void srm_exec_close(struct srm_exec *e);

enum srm_prep { SRM_PREP_RECORD, SRM_PREP_ROW, SRM_PREP_SKIP, SRM_PREP_FAILED };

/* Prepares one input line (JSON decode, id, resume skip). For a record, start = 1 spawns its
** task (the row arrives later through on_row); start = 0 only reports SRM_PREP_RECORD (the line
** goes to a worker). Input errors and skips are delivered through on_row at once. */
enum srm_prep srm_exec_submit(struct srm_exec *e, uint64_t seq, const char *line, size_t len,
                              uint64_t lineno, int start);
/* Delivers an input_error row for a line the reader rejected (too long, invalid UTF-8). */
void srm_exec_reject(struct srm_exec *e, uint64_t seq, uint64_t lineno, const char *reason);

void srm_exec_llm_totals(struct srm_exec *e, struct srm_llm_totals *t);

#endif
