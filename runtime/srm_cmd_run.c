/* srm: `srm run SKILL DATA`, the streaming batch scorer. It reads JSONL records, starts one task
** per record (up to -j in flight per event loop; --workers N loops on N threads), and writes
** exactly one row per non-blank input line, in input order, through the reorder buffer. Exit
** codes are listed in srm_cmd.h and docs/cli.md. */
#include "srm_cmd.h"
#include "srm_exec.h"
#include "srm_bench.h"
#include "srm_jsonl.h"
#include "srm_output.h"
#include "srm_histogram.h"
#include "srm_progress.h"
#include "srm_reload.h"
#include "srm_reorder.h"
#include "srm_run_opts.h"
#include "srm_workers.h"

#include <lauxlib.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

static const char *const STATUSES[] = {
    "ok",          "abstain",     "judge_failed",    "timeout",
    "skill_error", "input_error", "budget_exceeded", "sandbox_error"};
#define NSTATUS (sizeof STATUSES / sizeof STATUSES[0])

struct run {
  struct run_opts *o;
  struct srm_exec e;           /* main-thread executor: all records, or with workers only
                               ** input errors, resume skips and self-tests */
  struct srm_workers *workers; /* NULL unless --workers > 1 */
  struct srm_reloader reloader;
  struct srm_jsonl_reader *reader;
  struct srm_reorder *reorder;
  struct srm_output out;
  struct srm_progress progress;
  uint64_t next_seq;
  uint64_t records_read;
  uint64_t rows;    /* rows produced by this run */
  uint64_t errors;  /* rows whose status is a failure (not ok or abstain) */
  uint64_t skipped; /* records already in OUT (--resume) */
  uint64_t by_status[NSTATUS];
  uint64_t other_status;
  double score_sum;
  uint64_t scored;
  struct srm_histogram hist;
  int input_done;
  int stopped_early;
  int fatal;
  char fatal_msg[700];
};

static volatile sig_atomic_t interrupted = 0;

static void on_sigint(int sig) {
  (void)sig;
  interrupted = 1;
  signal(SIGINT, SIG_DFL); /* a second Ctrl-C ends the process at once */
}

static void set_fatal(struct run *r, const char *msg) {
  if (r->fatal) return;
  r->fatal = 1;
  snprintf(r->fatal_msg, sizeof r->fatal_msg, "%s", msg);
}

static void count_row(struct run *r, const char *status, int has_score, double score) {
  r->rows++;
  size_t i = 0;
  while (i < NSTATUS && strcmp(STATUSES[i], status) != 0)
    i++;
  if (i < NSTATUS)
    r->by_status[i]++;
  else
    r->other_status++;
  if (i != 0 && i != 1) r->errors++;
  if (i == 0 && has_score) {
    r->score_sum += score;
    r->scored++;
    srm_histogram_add(&r->hist, score);
  }
}

/* Every row, from whichever executor, arrives here to be counted and ordered. */
static void on_row(void *ud, uint64_t seq, char *row, size_t len, const char *status, int has_score,
                   double score) {
  struct run *r = ud;
  if (row)
    count_row(r, status ? status : "?", has_score, score);
  else
    r->skipped++;
  if (srm_reorder_put(r->reorder, seq, row, len) != 0)
    set_fatal(r, "internal error: a row was produced twice for one input line");
}

static void emit_row(void *ud, const char *row, size_t len) {
  struct run *r = ud;
  if (srm_output_add(&r->out, row, len) != 0) set_fatal(r, r->out.error);
}

/* Reads and starts one input record. Returns 0 to go on, 1 at the end of the input. */
static int feed_one(struct run *r) {
  if (r->o->limit >= 0 && (int64_t)r->records_read >= r->o->limit) return 1;
  struct srm_jsonl_line line;
  enum srm_line_kind kind = srm_jsonl_next(r->reader, &line);
  if (kind == SRM_LINE_EOF) return 1;
  if (kind == SRM_LINE_IO_ERROR) {
    char msg[600];
    snprintf(msg, sizeof msg, "cannot read %s: %s", r->o->data, srm_jsonl_error(r->reader));
    set_fatal(r, msg);
    return 1;
  }
  /* With --watch, a line read after an edit (perhaps after blocking on a pipe) must start on the
  ** new version: look again now that it is here. */
  if (r->o->watch) srm_reloader_poll(&r->reloader);
  uint64_t seq = r->next_seq++;
  r->records_read++;
  char reason[200];
  if (kind == SRM_LINE_TOO_LONG) {
    snprintf(reason, sizeof reason,
             "the line is longer than --max-line-bytes (%zu bytes); raise the limit to score it",
             r->o->line_cap);
    srm_exec_reject(&r->e, seq, line.lineno, reason);
  } else if (kind == SRM_LINE_BAD_UTF8) {
    snprintf(reason, sizeof reason, "invalid UTF-8 at byte %zu of the line", line.bad_offset + 1);
    srm_exec_reject(&r->e, seq, line.lineno, reason);
  } else if (!r->workers) {
    srm_exec_submit(&r->e, seq, line.data, line.len, line.lineno, 1);
  } else if (!r->o->resume ||
             srm_exec_submit(&r->e, seq, line.data, line.len, line.lineno, 0) == SRM_PREP_RECORD) {
    /* Only --resume needs the id here (to skip rows already written); otherwise the worker
    ** prepares the line itself, input errors included, and the main thread stays light. */
    if (srm_workers_submit(r->workers, seq, line.lineno, line.data, line.len) != 0)
      set_fatal(r, "out of memory handing a record to a worker");
  }
  if (r->e.fatal) set_fatal(r, r->e.fatal_msg);
  return 0;
}

static int prepare_output(struct run *r) {
  struct run_opts *o = r->o;
  int to_file = o->out && strcmp(o->out, "-") != 0;
  if (to_file && !o->resume && !o->overwrite) {
    struct stat st;
    if (stat(o->out, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
      fprintf(stderr,
              "srm run: %s already exists and is not empty; pass --resume to continue that run or "
              "--overwrite to replace it\n",
              o->out);
      return SRM_EXIT_USAGE;
    }
  }
  if (o->resume) {
    char err[300];
    long cut = srm_output_cut_torn_tail(o->out, err, sizeof err);
    if (cut < 0) {
      fprintf(stderr, "srm run: %s\n", err);
      return SRM_EXIT_FAILURE;
    }
    lua_State *L = r->e.h.L;
    srm_skill_push_runner_fn(&r->e.h, &r->e.sk[0], "scan_output");
    lua_pushstring(L, o->out);
    lua_pushboolean(L, o->retry_failed);
    if (srm_host_pcall(L, 2, 2) != LUA_OK) {
      fprintf(stderr, "srm run: cannot read %s to resume: %s\n", o->out, lua_tostring(L, -1));
      lua_pop(L, 1);
      return SRM_EXIT_FAILURE;
    }
    fprintf(stderr, "srm: resuming %s: %lld rows kept", o->out, (long long)lua_tointeger(L, -2));
    if (o->retry_failed)
      fprintf(stderr, ", %lld failed rows to retry", (long long)lua_tointeger(L, -1));
    if (cut > 0) fprintf(stderr, ", a torn last line (%ld bytes) removed", cut);
    fputc('\n', stderr);
    lua_pop(L, 2);
  }
  if (srm_output_open(&r->out, to_file ? o->out : NULL, o->resume) != 0) {
    fprintf(stderr, "srm run: %s\n", r->out.error);
    return SRM_EXIT_FAILURE;
  }
  return SRM_EXIT_OK;
}

static void print_summary(struct run *r, double elapsed) {
  FILE *f = stderr;
  char took[32];
  srm_format_duration(elapsed, took, sizeof took);
  fprintf(f, "srm: %llu rows in %.2f s (%.0f rows/s) -> %s\n", (unsigned long long)r->rows, elapsed,
          elapsed > 0 ? (double)r->rows / elapsed : 0.0,
          r->o->out && strcmp(r->o->out, "-") != 0 ? r->o->out : "stdout");
  fprintf(f, "  by status:");
  int any = 0;
  for (size_t i = 0; i < NSTATUS; i++) {
    if (!r->by_status[i]) continue;
    fprintf(f, "%s %s %llu", any ? "," : "", STATUSES[i], (unsigned long long)r->by_status[i]);
    any = 1;
  }
  if (r->other_status)
    fprintf(f, "%s other %llu", any ? "," : "", (unsigned long long)r->other_status);
  if (!any && !r->other_status) fprintf(f, " none");
  fputc('\n', f);
  if (r->scored)
    fprintf(f, "  mean score %.4f over %llu ok rows\n", r->score_sum / (double)r->scored,
            (unsigned long long)r->scored);
  srm_histogram_print(&r->hist, f);
  if (r->skipped)
    fprintf(f, "  %llu records already in the output were skipped (--resume)\n",
            (unsigned long long)r->skipped);
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  fprintf(f, "  skill %s sha256 %.12s", r->e.sk[0].name, r->e.sk[0].sha256);
  if (r->reloader.reloads || r->reloader.failures)
    fprintf(f, " (generation %ld; %lu reloads, %lu failed)", r->e.generation[0],
            r->reloader.reloads, r->reloader.failures);
  fprintf(f, ", peak RSS %.1f MiB\n", (double)ru.ru_maxrss / 1024.0);
}

static void print_llm_summary(struct run *r, const struct srm_llm_totals *t) {
  if (t->calls <= 0) return;
  fprintf(stderr,
          "  llm: %.0f calls (%.0f cached), %.0f HTTP attempts, %.0f retries, %.0f failed; "
          "tokens: %.0f prompt, %.0f completion; peak %.0f in flight\n",
          t->calls, t->cached, t->attempts, t->retries, t->failed, t->prompt_tokens,
          t->completion_tokens, t->peak);
  (void)r;
}

static double error_rate(const struct run *r) {
  return r->rows ? (double)r->errors / (double)r->rows : 0.0;
}

/* Records in flight: tasks of the main executor, or lines held by the workers. */
static size_t in_flight(const struct run *r) {
  return r->workers ? srm_workers_pending(r->workers) : r->e.inflight;
}

#define HOUSEKEEPING_S 0.05

/* Starts records while there is room: in flight under the cap, and the rows held back for input
** order under a window (a slow record does not let the others run ahead without bound). */
static void feed_while_room(struct run *r) {
  size_t cap = (size_t)r->o->concurrency * (size_t)r->o->workers;
  size_t window = cap * 4 + 1024;
  while (!r->input_done && !r->fatal && !interrupted && !r->stopped_early && in_flight(r) < cap &&
         srm_reorder_held(r->reorder) < window) {
    if (feed_one(r)) r->input_done = 1;
  }
}

/* The scheduler's refill callback (srm_sched_set_refill): a finished record's slot is filled
** at once. Not with --watch, where feeding may reload the skill: that waits for the main loop. */
static void refill(void *ud) {
  struct run *r = ud;
  if (!r->o->watch) feed_while_room(r);
}

static void main_loop(struct run *r) {
  size_t cap = (size_t)r->o->concurrency * (size_t)r->o->workers;
  if (!r->workers) srm_sched_set_refill(r->e.h.sched, refill, r);
  /* The skill-file watch and the output flush cost a system call each: at most every
  ** HOUSEKEEPING_S, not on every turn (a turn can be a single reply). */
  double next_housekeeping = 0;
  for (;;) {
    double now = srm_now();
    int housekeeping = now >= next_housekeeping;
    if (housekeeping) {
      next_housekeeping = now + HOUSEKEEPING_S;
      srm_reloader_poll(&r->reloader);
    }
    feed_while_room(r);
    int can_feed = !r->input_done && !interrupted && !r->stopped_early && in_flight(r) < cap;
    if (r->workers) {
      srm_workers_collect(r->workers, on_row, r, can_feed ? 0.0 : 0.1);
      const char *werr = srm_workers_error(r->workers);
      if (werr) set_fatal(r, werr);
    } else {
      srm_sched_step(r->e.h.sched, can_feed ? 0.0 : 0.1);
      if (r->e.fatal) set_fatal(r, r->e.fatal_msg);
    }
    srm_reorder_release(r->reorder, emit_row, r);
    if (housekeeping && srm_output_flush(&r->out) != 0) set_fatal(r, r->out.error);
    srm_progress_update(&r->progress, r->rows + r->skipped, r->errors, 0);
    if (r->o->max_error_rate >= 0 && r->rows >= 100 && error_rate(r) > r->o->max_error_rate &&
        !r->stopped_early) {
      r->stopped_early = 1;
      srm_progress_clear(&r->progress);
      fprintf(stderr, "srm: error rate %.1f%% exceeds --max-error-rate; not starting new records\n",
              100 * error_rate(r));
    }
    if (r->fatal) break;
    if (in_flight(r) == 0 && (r->input_done || interrupted || r->stopped_early)) break;
  }
}

int srm_cmd_run(int argc, char **argv) {
  struct run_opts o;
  int prc = srm_run_parse(argc, argv, &o);
  if (prc == 1) {
    srm_run_usage(stdout);
    return SRM_EXIT_OK;
  }
  if (prc < 0) return SRM_EXIT_USAGE;

  struct run r;
  memset(&r, 0, sizeof r);
  r.o = &o;
  char err[2048];
  int rc = SRM_EXIT_OK;
  struct srm_llm_totals totals;
  memset(&totals, 0, sizeof totals);

  if (o.bench) {
    size_t ntasks = 0;
    int brc = srm_bench_expand(o.bench, o.data, o.tasks_path, o.seed, o.stdlib_dir, &ntasks, err,
                               sizeof err);
    if (brc != SRM_BENCH_OK) {
      fprintf(stderr, "srm run: --bench %s: %s\n", o.bench, err);
      return brc == SRM_BENCH_USAGE ? SRM_EXIT_USAGE : SRM_EXIT_FAILURE;
    }
    fprintf(stderr, "srm run: %s: %zu judge tasks -> %s\n", o.bench, ntasks, o.tasks_path);
    o.data = o.tasks_path;
  }
  r.reader = srm_jsonl_open(o.data, o.line_cap, err, sizeof err);
  if (!r.reader) {
    fprintf(stderr, "srm run: %s\n", err);
    return SRM_EXIT_USAGE;
  }
  r.reorder = srm_reorder_new(0);
  if (!r.reorder) {
    fprintf(stderr, "srm run: out of memory\n");
    srm_jsonl_close(r.reader);
    return SRM_EXIT_FAILURE;
  }
  rc = srm_exec_open(&r.e, &o, on_row, &r, err, sizeof err);
  if (rc != SRM_EXIT_OK) {
    fprintf(stderr, "srm run: %s\n", err);
    goto done;
  }
  int ntests = 0;
  int failed = srm_skill_self_test(&r.e.h, &r.e.sk[0], &r.e.limits, &ntests);
  if (failed != 0) {
    fprintf(stderr, "srm run: %s: %d of %d self-tests failed; fix the skill (srm check %s)\n",
            o.skill, failed < 0 ? ntests : failed, ntests, o.skill);
    rc = SRM_EXIT_SKILL;
    goto done;
  }
  rc = prepare_output(&r);
  if (rc != SRM_EXIT_OK) goto done;
  if (o.workers > 1) {
    r.workers = srm_workers_start((int)o.workers, &o, err, sizeof err);
    if (!r.workers) {
      fprintf(stderr, "srm run: %s\n", err);
      srm_output_close(&r.out);
      rc = SRM_EXIT_FAILURE;
      goto done;
    }
  }
  /* Counting reads the whole file once more: only worth it for the progress display. */
  int64_t total = o.progress ? srm_jsonl_count_records(o.data) : -1;
  if (total >= 0 && o.limit >= 0 && total > o.limit) total = o.limit;
  srm_progress_init(&r.progress, stderr, o.progress, total, o.log_every);

  if (srm_reloader_init(&r.reloader, &r.e, r.workers, o.watch) != 0) {
    fprintf(stderr, "srm run: out of memory starting the skill watcher\n");
    if (r.workers) srm_workers_stop(r.workers, NULL);
    srm_output_close(&r.out);
    rc = SRM_EXIT_FAILURE;
    goto done;
  }
  double started = srm_now();
  signal(SIGINT, on_sigint);
  main_loop(&r);
  signal(SIGINT, SIG_DFL);
  srm_reloader_free(&r.reloader);
  if (r.workers) {
    srm_workers_stop(r.workers, &totals); /* lets in-flight records finish (fatal path) */
    r.workers = NULL;
  } else {
    srm_sched_drain(r.e.h.sched);
  }
  srm_reorder_release(r.reorder, emit_row, &r);
  struct srm_llm_totals mine;
  srm_exec_llm_totals(&r.e, &mine);
  totals.calls += mine.calls;
  totals.cached += mine.cached;
  totals.attempts += mine.attempts;
  totals.retries += mine.retries;
  totals.failed += mine.failed;
  totals.prompt_tokens += mine.prompt_tokens;
  totals.completion_tokens += mine.completion_tokens;
  totals.peak += mine.peak;
  srm_progress_update(&r.progress, r.rows + r.skipped, r.errors, 1);
  srm_progress_clear(&r.progress);
  if (srm_output_close(&r.out) != 0 && !r.fatal) set_fatal(&r, r.out.error);
  print_summary(&r, srm_now() - started);
  print_llm_summary(&r, &totals);
  if (r.fatal) {
    fprintf(stderr, "srm run: %s\n", r.fatal_msg);
    rc = SRM_EXIT_FAILURE;
  } else if (interrupted) {
    fprintf(stderr, "srm run: interrupted; rerun with --resume to score the remaining records\n");
    rc = 130;
  } else if (o.max_error_rate >= 0 && error_rate(&r) > o.max_error_rate) {
    fprintf(stderr, "srm run: %.1f%% of the rows failed, above --max-error-rate %.1f%%%s\n",
            100 * error_rate(&r), 100 * o.max_error_rate,
            r.stopped_early ? " (stopped early; --resume continues)" : "");
    rc = SRM_EXIT_ERROR_RATE;
  }
done:
  srm_reorder_free(r.reorder);
  srm_exec_close(&r.e);
  srm_jsonl_close(r.reader);
  return rc;
}
