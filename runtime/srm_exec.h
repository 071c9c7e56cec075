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

#define SRM_MAX_SKILLS 16

/* Where the rows of records submitted with srm_exec_submit_to go (srm serve's requests): called
** on the executor's thread with the index given at submission; row is malloc'ed and passes to
** the callee (NULL only when out of memory). */
struct srm_row_sink {
  void (*row)(struct srm_row_sink *sink, size_t index, char *row, size_t len, const char *status);
};

struct srm_exec {
  struct srm_host h;
  struct srm_loaded_skill sk[SRM_MAX_SKILLS]; /* sk[0]: the default skill */
  const char *skill_path[SRM_MAX_SKILLS];
  long generation[SRM_MAX_SKILLS];
  int nskills;
  const struct run_opts *o;
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
/* As srm_exec_submit (start = 1) with skill sk[skill], the row going to sink with index. */
enum srm_prep srm_exec_submit_to(struct srm_exec *e, int skill, struct srm_row_sink *sink,
                                 size_t index, const char *line, size_t len);
/* Loads sk[skill] again from its file as generation `generation`, runs its self-tests and swaps
** it in; records in flight finish on the version they started with. On failure the old version
** stays and err says why (file:line where there is one). Returns 0, 1 when the new version has
** the same sha256 stamp (nothing swapped, the generation stays), or -1. */
int srm_exec_reload(struct srm_exec *e, int skill, long generation, char *err, size_t errlen);
/* The files sk[skill] read while loading (its directory-relative paths, then the directory):
** calls fn for each absolute path; for the hot-reload watcher. */
void srm_exec_skill_files(struct srm_exec *e, int skill, void (*fn)(void *ud, const char *path),
                          void *ud);
/* Delivers an input_error row for a line the reader rejected (too long, invalid UTF-8). */
void srm_exec_reject(struct srm_exec *e, uint64_t seq, uint64_t lineno, const char *reason);

void srm_exec_llm_totals(struct srm_exec *e, struct srm_llm_totals *t);

#endif
