/* srm: `srm run SKILL DATA`, the streaming batch scorer. It reads JSONL records, starts one task
** per record (up to -j in flight), and writes exactly one row per non-blank input line, in input
** order, through the reorder buffer. Exit codes are listed in srm_cmd.h and docs/cli.md. */
#include "srm_cmd.h"
#include "srm_host.h"
#include "srm_jsonl.h"
#include "srm_output.h"
#include "srm_progress.h"
#include "srm_reorder.h"
#include "srm_skill.h"

#include <errno.h>
#include <getopt.h>
#include <lauxlib.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#define MAX_SETTINGS 64
#define MAX_ENDPOINTS 32

struct run_opts {
  const char *skill;
  const char *data;
  const char *out;
  const char *stdlib_dir;
  int resume;
  int retry_failed;
  int overwrite;
  int progress;
  int64_t limit;
  struct srm_setting settings[MAX_SETTINGS];
  int nsettings;
  double max_error_rate; /* < 0: no limit */
  long concurrency;
  double timeout_s;
  long max_instructions;
  size_t max_memory;
  size_t line_cap;
  double log_every;
  /* model calls */
  const char *endpoints[MAX_ENDPOINTS];
  int nendpoints;
  const char *model;
  double llm_timeout;
  long llm_retries;
  long per_endpoint;
  double rpm, tpm;
  int disable_thinking;
  const char *cache; /* NULL: default next to OUT */
  int no_cache;
};

static const char *const STATUSES[] = {
    "ok",          "abstain",     "judge_failed",    "timeout",
    "skill_error", "input_error", "budget_exceeded", "sandbox_error"};
#define NSTATUS (sizeof STATUSES / sizeof STATUSES[0])

struct run {
  struct run_opts *o;
  struct srm_host h;
  struct srm_loaded_skill sk;
  struct srm_jsonl_reader *reader;
  struct srm_reorder *reorder;
  struct srm_output out;
  struct srm_progress progress;
  struct srm_task_limits limits;
  int prepare_ref, evaluate_ref, finish_ref, input_error_ref;
  uint64_t next_seq;
  uint64_t records_read;
  size_t inflight;
  uint64_t rows;    /* rows produced by this run */
  uint64_t errors;  /* rows whose status is a failure (not ok or abstain) */
  uint64_t skipped; /* records already in OUT (--resume) */
  uint64_t by_status[NSTATUS];
  uint64_t other_status;
  double score_sum;
  uint64_t scored;
  int input_done;
  int stopped_early;
  int fatal;
  char fatal_msg[600];
};

struct record_slot {
  struct run *run;
  uint64_t seq;
  int id_ref;
  double started;
};

static volatile sig_atomic_t interrupted = 0;

static void on_sigint(int sig) {
  (void)sig;
  interrupted = 1;
  signal(SIGINT, SIG_DFL); /* a second Ctrl-C ends the process at once */
}

/* ---- command line ---- */

static void run_usage(FILE *f) {
  fputs(
      "usage: srm run SKILL DATA [-o OUT] [options]\n"
      "\n"
      "Scores every record of DATA (JSONL, '-' for stdin) with SKILL and writes one row per\n"
      "non-blank input line, in input order, to OUT (default: stdout).\n"
      "\n"
      "  -o, --output OUT          write rows to OUT\n"
      "      --resume              continue an interrupted run: keep OUT's rows, skip their ids\n"
      "      --retry-failed        with --resume, re-run rows whose status is "
      "judge_failed/timeout\n"
      "      --overwrite           replace an existing non-empty OUT\n"
      "      --limit N             score only the first N records\n"
      "      --set KEY=VALUE       override a setting the skill declares (repeatable)\n"
      "      --max-error-rate R    exit 4 (and stop early) when more than R (0..1) of the rows "
      "fail\n"
      "  -j, --concurrency N       records in flight at once (default 256)\n"
      "      --timeout S           wall-clock deadline per record in seconds (default 600)\n"
      "      --max-instructions N  Lua instruction budget per record (default 500000000)\n"
      "      --max-memory MB       memory limit of the skill state in MiB (default 2048)\n"
      "      --max-line-bytes N    longest accepted input line (default 67108864 = 64 MiB)\n"
      "      --no-progress         no progress bar or progress log on stderr\n"
      "      --log-every S         seconds between progress lines when stderr is not a TTY (10)\n"
      "      --stdlib-dir DIR      load the Lua stdlib from DIR instead of the binary\n"
      "\n"
      "Model calls (srm.llm): endpoints come from --endpoint or SRM_BASE_URLS (comma-separated),\n"
      "the default model from --model or SRM_MODEL, the API key from SRM_API_KEY only.\n"
      "      --endpoint URL        an OpenAI-compatible base URL, e.g. http://host:8000/v1\n"
      "                            (repeatable; each record sticks to one, failing over)\n"
      "      --model NAME          default model for calls that name none\n"
      "      --llm-timeout S       per-attempt timeout of a model call (default 120)\n"
      "      --llm-retries N       retries per call after the first attempt (default 3)\n"
      "      --per-endpoint N      in-flight cap per endpoint (default: -j)\n"
      "      --rpm N, --tpm N      request / token rate limits per minute (default: none)\n"
      "      --disable-thinking    send chat_template_kwargs {enable_thinking: false}\n"
      "      --cache PATH          reply cache (SQLite); default: srm-cache.sqlite next to OUT\n"
      "      --no-cache            neither read nor write the reply cache\n",
      f);
}

static int parse_int(const char *opt, const char *s, long long min, long long *out) {
  char *end;
  errno = 0;
  double d = strtod(s, &end); /* accepts 1e6 as well as 1000000 */
  if (errno || end == s || *end || d < (double)min || d > 9e18 || d != (double)(long long)d) {
    fprintf(stderr, "srm run: %s expects an integer >= %lld, got '%s'\n", opt, min, s);
    return -1;
  }
  *out = (long long)d;
  return 0;
}

static int parse_double(const char *opt, const char *s, double min, double max, double *out) {
  char *end;
  errno = 0;
  double d = strtod(s, &end);
  if (errno || end == s || *end || d < min || d > max) {
    fprintf(stderr, "srm run: %s expects a number in [%g, %g], got '%s'\n", opt, min, max, s);
    return -1;
  }
  *out = d;
  return 0;
}

enum {
  OPT_RESUME = 256,
  OPT_RETRY_FAILED,
  OPT_OVERWRITE,
  OPT_LIMIT,
  OPT_SET,
  OPT_MAX_ERROR_RATE,
  OPT_TIMEOUT,
  OPT_MAX_INSTRUCTIONS,
  OPT_MAX_MEMORY,
  OPT_MAX_LINE,
  OPT_NO_PROGRESS,
  OPT_LOG_EVERY,
  OPT_STDLIB_DIR,
  OPT_ENDPOINT,
  OPT_MODEL,
  OPT_LLM_TIMEOUT,
  OPT_LLM_RETRIES,
  OPT_PER_ENDPOINT,
  OPT_RPM,
  OPT_TPM,
  OPT_DISABLE_THINKING,
  OPT_CACHE,
  OPT_NO_CACHE,
};

static const struct option long_opts[] = {
    {"output", required_argument, 0, 'o'},
    {"concurrency", required_argument, 0, 'j'},
    {"help", no_argument, 0, 'h'},
    {"resume", no_argument, 0, OPT_RESUME},
    {"retry-failed", no_argument, 0, OPT_RETRY_FAILED},
    {"overwrite", no_argument, 0, OPT_OVERWRITE},
    {"limit", required_argument, 0, OPT_LIMIT},
    {"set", required_argument, 0, OPT_SET},
    {"max-error-rate", required_argument, 0, OPT_MAX_ERROR_RATE},
    {"timeout", required_argument, 0, OPT_TIMEOUT},
    {"max-instructions", required_argument, 0, OPT_MAX_INSTRUCTIONS},
    {"max-memory", required_argument, 0, OPT_MAX_MEMORY},
    {"max-line-bytes", required_argument, 0, OPT_MAX_LINE},
    {"no-progress", no_argument, 0, OPT_NO_PROGRESS},
    {"log-every", required_argument, 0, OPT_LOG_EVERY},
    {"stdlib-dir", required_argument, 0, OPT_STDLIB_DIR},
    {"endpoint", required_argument, 0, OPT_ENDPOINT},
    {"model", required_argument, 0, OPT_MODEL},
    {"llm-timeout", required_argument, 0, OPT_LLM_TIMEOUT},
    {"llm-retries", required_argument, 0, OPT_LLM_RETRIES},
    {"per-endpoint", required_argument, 0, OPT_PER_ENDPOINT},
    {"rpm", required_argument, 0, OPT_RPM},
    {"tpm", required_argument, 0, OPT_TPM},
    {"disable-thinking", no_argument, 0, OPT_DISABLE_THINKING},
    {"cache", required_argument, 0, OPT_CACHE},
    {"no-cache", no_argument, 0, OPT_NO_CACHE},
    {0, 0, 0, 0},
};

/* Returns 0, 1 for --help, or -1 on a usage error (already reported). */
static int parse_run_opts(int argc, char **argv, struct run_opts *o) {
  memset(o, 0, sizeof *o);
  o->progress = 1;
  o->limit = -1;
  o->max_error_rate = -1;
  o->concurrency = 256;
  o->timeout_s = 600;
  o->max_instructions = 500000000L;
  o->max_memory = (size_t)2048 << 20;
  o->line_cap = (size_t)64 << 20;
  o->log_every = 10;
  o->llm_timeout = 120;
  o->llm_retries = 3;
  optind = 1;
  opterr = 0;
  int c;
  long long n;
  while ((c = getopt_long(argc, argv, ":o:j:h", long_opts, NULL)) != -1) {
    switch (c) {
    case 'o':
      o->out = optarg;
      break;
    case 'j':
      if (parse_int("-j", optarg, 1, &n) || n > 1000000) return -1;
      o->concurrency = (long)n;
      break;
    case 'h':
      return 1;
    case OPT_RESUME:
      o->resume = 1;
      break;
    case OPT_RETRY_FAILED:
      o->retry_failed = 1;
      break;
    case OPT_OVERWRITE:
      o->overwrite = 1;
      break;
    case OPT_LIMIT:
      if (parse_int("--limit", optarg, 0, &n)) return -1;
      o->limit = n;
      break;
    case OPT_SET: {
      char *eq = strchr(optarg, '=');
      if (!eq || eq == optarg) {
        fprintf(stderr, "srm run: --set expects KEY=VALUE, got '%s'\n", optarg);
        return -1;
      }
      if (o->nsettings == MAX_SETTINGS) {
        fprintf(stderr, "srm run: at most %d --set options\n", MAX_SETTINGS);
        return -1;
      }
      *eq = '\0';
      o->settings[o->nsettings].key = optarg;
      o->settings[o->nsettings].value = eq + 1;
      o->nsettings++;
      break;
    }
    case OPT_MAX_ERROR_RATE:
      if (parse_double("--max-error-rate", optarg, 0, 1, &o->max_error_rate)) return -1;
      break;
    case OPT_TIMEOUT:
      if (parse_double("--timeout", optarg, 0.001, 1e9, &o->timeout_s)) return -1;
      break;
    case OPT_MAX_INSTRUCTIONS:
      if (parse_int("--max-instructions", optarg, 1000, &n)) return -1;
      o->max_instructions = (long)n;
      break;
    case OPT_MAX_MEMORY:
      if (parse_int("--max-memory", optarg, 16, &n) || n > (1LL << 30)) return -1;
      o->max_memory = (size_t)n << 20;
      break;
    case OPT_MAX_LINE:
      if (parse_int("--max-line-bytes", optarg, 1024, &n) || n > (1LL << 34)) return -1;
      o->line_cap = (size_t)n;
      break;
    case OPT_NO_PROGRESS:
      o->progress = 0;
      break;
    case OPT_LOG_EVERY:
      if (parse_double("--log-every", optarg, 0.01, 1e9, &o->log_every)) return -1;
      break;
    case OPT_STDLIB_DIR:
      o->stdlib_dir = optarg;
      break;
    case OPT_ENDPOINT:
      if (o->nendpoints == MAX_ENDPOINTS) {
        fprintf(stderr, "srm run: at most %d --endpoint options\n", MAX_ENDPOINTS);
        return -1;
      }
      o->endpoints[o->nendpoints++] = optarg;
      break;
    case OPT_MODEL:
      o->model = optarg;
      break;
    case OPT_LLM_TIMEOUT:
      if (parse_double("--llm-timeout", optarg, 0.001, 1e6, &o->llm_timeout)) return -1;
      break;
    case OPT_LLM_RETRIES:
      if (parse_int("--llm-retries", optarg, 0, &n) || n > 100) return -1;
      o->llm_retries = (long)n;
      break;
    case OPT_PER_ENDPOINT:
      if (parse_int("--per-endpoint", optarg, 1, &n) || n > 1000000) return -1;
      o->per_endpoint = (long)n;
      break;
    case OPT_RPM:
      if (parse_double("--rpm", optarg, 0, 1e9, &o->rpm)) return -1;
      break;
    case OPT_TPM:
      if (parse_double("--tpm", optarg, 0, 1e12, &o->tpm)) return -1;
      break;
    case OPT_DISABLE_THINKING:
      o->disable_thinking = 1;
      break;
    case OPT_CACHE:
      o->cache = optarg;
      break;
    case OPT_NO_CACHE:
      o->no_cache = 1;
      break;
    case ':':
      fprintf(stderr, "srm run: option %s needs a value\n", argv[optind - 1]);
      return -1;
    default:
      fprintf(stderr, "srm run: unknown option '%s' (see srm run --help)\n", argv[optind - 1]);
      return -1;
    }
  }
  if (argc - optind != 2) {
    fprintf(stderr, "srm run: expected SKILL and DATA, got %d argument(s) (see srm run --help)\n",
            argc - optind);
    return -1;
  }
  o->skill = argv[optind];
  o->data = argv[optind + 1];
  if ((o->resume || o->retry_failed) && (!o->out || strcmp(o->out, "-") == 0)) {
    fprintf(stderr, "srm run: --resume and --retry-failed need an output file (-o OUT)\n");
    return -1;
  }
  if (o->retry_failed) o->resume = 1;
  if (o->resume && o->overwrite) {
    fprintf(stderr, "srm run: --resume and --overwrite contradict each other\n");
    return -1;
  }
  return 0;
}

/* ---- rows ---- */

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
  }
}

/* Stores the row string at the top of the host stack (or nothing, for nil) under seq. */
static void put_row_from_stack(struct run *r, uint64_t seq) {
  lua_State *L = r->h.L;
  char *copy = NULL;
  size_t len = 0;
  if (lua_type(L, -1) == LUA_TSTRING) {
    const char *s = lua_tolstring(L, -1, &len);
    copy = malloc(len + 1);
    if (!copy) {
      set_fatal(r, "out of memory storing a row");
      return;
    }
    memcpy(copy, s, len + 1);
  }
  if (srm_reorder_put(r->reorder, seq, copy, len) != 0)
    set_fatal(r, "internal error: a row was produced twice for one input line");
}

static void emit_row(void *ud, const char *row, size_t len) {
  struct run *r = ud;
  if (srm_output_add(&r->out, row, len) != 0) set_fatal(r, r->out.error);
}

/* Tells srm.llm that a stopped record's in-flight calls have no owner any more. */
static void abandon_calls(struct run *r, lua_State *co) {
  lua_State *L = r->h.L;
  srm_skill_push_runner_fn(&r->h, &r->sk, "abandon");
  lua_pushthread(co);
  lua_xmove(co, L, 1);
  if (srm_host_pcall(L, 1, 0) != LUA_OK) lua_pop(L, 1);
}

static void record_done(struct srm_task *t, enum srm_task_end end, void *ud) {
  struct record_slot *slot = ud;
  struct run *r = slot->run;
  lua_State *L = r->h.L;
  double latency_ms = (srm_now() - slot->started) * 1000.0;
  lua_rawgeti(L, LUA_REGISTRYINDEX, r->finish_ref);
  lua_rawgeti(L, LUA_REGISTRYINDEX, r->sk.skill_ref);
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
    abandon_calls(r, t->co);
    lua_pushnil(L);
    lua_pushstring(L, srm_kill_name(t->kill));
    lua_pushnil(L);
  } else {
    lua_pushnil(L);
    lua_pushnil(L);
    lua_xmove(t->co, L, 1); /* the error */
  }
  lua_pushnumber(L, latency_ms);
  if (srm_host_pcall(L, 6, 3) != LUA_OK) { /* row, status, score */
    char msg[600];
    snprintf(msg, sizeof msg, "internal error building a row: %s", lua_tostring(L, -1));
    set_fatal(r, msg);
    lua_pop(L, 1);
  } else {
    const char *status = lua_tostring(L, -2);
    count_row(r, status ? status : "?", lua_isnumber(L, -1), lua_tonumber(L, -1));
    lua_pop(L, 2);
    put_row_from_stack(r, slot->seq);
    lua_pop(L, 1);
  }
  luaL_unref(L, LUA_REGISTRYINDEX, slot->id_ref);
  free(slot);
  r->inflight--;
}

/* Produces an input_error row for a line the reader rejected. */
static void reject_line(struct run *r, uint64_t seq, uint64_t lineno, const char *reason) {
  lua_State *L = r->h.L;
  lua_rawgeti(L, LUA_REGISTRYINDEX, r->input_error_ref);
  lua_rawgeti(L, LUA_REGISTRYINDEX, r->sk.skill_ref);
  lua_pushinteger(L, (lua_Integer)lineno);
  lua_pushstring(L, reason);
  if (srm_host_pcall(L, 3, 1) != LUA_OK) {
    set_fatal(r, lua_tostring(L, -1));
    lua_pop(L, 1);
    return;
  }
  if (lua_isstring(L, -1))
    count_row(r, "input_error", 0, 0);
  else
    r->skipped++;
  put_row_from_stack(r, seq);
  lua_pop(L, 1);
}

static void start_record(struct run *r, uint64_t seq, const struct srm_jsonl_line *line) {
  lua_State *L = r->h.L;
  lua_rawgeti(L, LUA_REGISTRYINDEX, r->prepare_ref);
  lua_rawgeti(L, LUA_REGISTRYINDEX, r->sk.skill_ref);
  lua_pushlstring(L, line->data, line->len);
  lua_pushinteger(L, (lua_Integer)line->lineno);
  if (srm_host_pcall(L, 3, 3) != LUA_OK) { /* kind, a, b */
    char msg[600];
    snprintf(msg, sizeof msg, "internal error reading line %llu: %s",
             (unsigned long long)line->lineno, lua_tostring(L, -1));
    set_fatal(r, msg);
    lua_pop(L, 1);
    return;
  }
  const char *kind = lua_tostring(L, -3);
  if (kind && strcmp(kind, "record") == 0) {
    struct record_slot *slot = malloc(sizeof *slot);
    if (!slot) {
      set_fatal(r, "out of memory starting a record");
      lua_pop(L, 3);
      return;
    }
    slot->run = r;
    slot->seq = seq;
    slot->started = srm_now();
    slot->id_ref = luaL_ref(L, LUA_REGISTRYINDEX); /* kind, record */
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->evaluate_ref);
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->sk.skill_ref);
    lua_rotate(L, -3, 2); /* kind, evaluate, skill, record */
    r->inflight++;
    if (!srm_task_spawn(r->h.sched, 2, &r->limits, record_done, slot)) {
      luaL_unref(L, LUA_REGISTRYINDEX, slot->id_ref);
      free(slot);
      r->inflight--;
      set_fatal(r, "out of memory starting a record");
    }
    lua_pop(L, 1);
    return;
  }
  if (kind && strcmp(kind, "row") == 0) {
    lua_pop(L, 1); /* kind, row */
    count_row(r, "input_error", 0, 0);
    put_row_from_stack(r, seq);
    lua_pop(L, 2);
    return;
  }
  r->skipped++; /* "skip": the id is already in OUT */
  lua_pop(L, 3);
  if (srm_reorder_put(r->reorder, seq, NULL, 0) != 0)
    set_fatal(r, "internal error: a row was produced twice for one input line");
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
  uint64_t seq = r->next_seq++;
  r->records_read++;
  char reason[200];
  switch (kind) {
  case SRM_LINE_TOO_LONG:
    snprintf(reason, sizeof reason,
             "the line is longer than --max-line-bytes (%zu bytes); raise the limit to score it",
             r->o->line_cap);
    reject_line(r, seq, line.lineno, reason);
    break;
  case SRM_LINE_BAD_UTF8:
    snprintf(reason, sizeof reason, "invalid UTF-8 at byte %zu of the line", line.bad_offset + 1);
    reject_line(r, seq, line.lineno, reason);
    break;
  default:
    start_record(r, seq, &line);
    break;
  }
  return 0;
}

/* ---- the run ---- */

static int get_runner_fn(struct run *r, const char *name) {
  srm_skill_push_runner_fn(&r->h, &r->sk, name);
  return luaL_ref(r->h.L, LUA_REGISTRYINDEX);
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
    lua_State *L = r->h.L;
    srm_skill_push_runner_fn(&r->h, &r->sk, "scan_output");
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
  if (r->skipped)
    fprintf(f, "  %llu records already in the output were skipped (--resume)\n",
            (unsigned long long)r->skipped);
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  fprintf(f, "  skill %s sha256 %.12s, peak RSS %.1f MiB\n", r->sk.name, r->sk.sha256,
          (double)ru.ru_maxrss / 1024.0);
}

/* Hands the model-call settings to srm.llm: flags first, then SRM_BASE_URLS / SRM_MODEL; the
** key only ever comes from SRM_API_KEY and stays in memory. */
static int configure_llm(struct run *r) {
  lua_State *L = r->h.L;
  struct run_opts *o = r->o;
  if (srm_host_require(L, "srm.runner") != LUA_OK) {
    fprintf(stderr, "srm run: %s\n", lua_tostring(L, -1));
    lua_pop(L, 1);
    return -1;
  }
  lua_getfield(L, -1, "configure_llm");
  lua_remove(L, -2);
  lua_createtable(L, 0, 12);
  lua_newtable(L);
  int n = 0;
  for (int i = 0; i < o->nendpoints; i++) {
    lua_pushstring(L, o->endpoints[i]);
    lua_rawseti(L, -2, ++n);
  }
  const char *env_urls = getenv("SRM_BASE_URLS");
  if (n == 0 && env_urls) {
    const char *p = env_urls;
    while (*p) {
      const char *comma = strchr(p, ',');
      size_t len = comma ? (size_t)(comma - p) : strlen(p);
      while (len > 0 && (*p == ' '))
        p++, len--;
      while (len > 0 && p[len - 1] == ' ')
        len--;
      if (len > 0 && n < MAX_ENDPOINTS) {
        lua_pushlstring(L, p, len);
        lua_rawseti(L, -2, ++n);
      }
      if (!comma) break;
      p = comma + 1;
    }
  }
  lua_setfield(L, -2, "endpoints");
  const char *model = o->model ? o->model : getenv("SRM_MODEL");
  if (model && *model) {
    lua_pushstring(L, model);
    lua_setfield(L, -2, "model");
  }
  const char *key = getenv("SRM_API_KEY");
  if (key && *key) {
    lua_pushstring(L, key);
    lua_setfield(L, -2, "api_key");
  }
  lua_pushinteger(L, o->concurrency);
  lua_setfield(L, -2, "max_inflight");
  lua_pushinteger(L, o->per_endpoint > 0 ? o->per_endpoint : o->concurrency);
  lua_setfield(L, -2, "per_endpoint");
  lua_pushnumber(L, o->llm_timeout);
  lua_setfield(L, -2, "timeout");
  lua_pushinteger(L, o->llm_retries);
  lua_setfield(L, -2, "retries");
  if (o->rpm > 0) {
    lua_pushnumber(L, o->rpm);
    lua_setfield(L, -2, "rpm");
  }
  if (o->tpm > 0) {
    lua_pushnumber(L, o->tpm);
    lua_setfield(L, -2, "tpm");
  }
  if (!o->no_cache && (o->cache || (o->out && strcmp(o->out, "-") != 0))) {
    const char *slash = o->cache ? NULL : strrchr(o->out, '/');
    if (o->cache)
      lua_pushstring(L, o->cache);
    else if (slash) /* next to the output file */
    {
      lua_pushlstring(L, o->out, (size_t)(slash - o->out));
      lua_pushliteral(L, "/srm-cache.sqlite");
      lua_concat(L, 2);
    } else
      lua_pushliteral(L, "srm-cache.sqlite");
    lua_setfield(L, -2, "cache");
  }
  if (o->disable_thinking) {
    lua_createtable(L, 0, 1);
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "enable_thinking");
    lua_setfield(L, -2, "chat_template_kwargs");
  }
  if (srm_host_pcall(L, 1, 0) != LUA_OK) {
    fprintf(stderr, "srm run: %s\n", lua_tostring(L, -1));
    lua_pop(L, 1);
    return -1;
  }
  return 0;
}

static void print_llm_summary(struct run *r) {
  lua_State *L = r->h.L;
  srm_skill_push_runner_fn(&r->h, &r->sk, "llm_summary");
  if (srm_host_pcall(L, 0, 1) == LUA_OK && lua_isstring(L, -1))
    fprintf(stderr, "  %s\n", lua_tostring(L, -1));
  lua_pop(L, 1);
}

static double error_rate(const struct run *r) {
  return r->rows ? (double)r->errors / (double)r->rows : 0.0;
}

static void main_loop(struct run *r) {
  size_t window = (size_t)r->o->concurrency * 4 + 1024;
  for (;;) {
    while (!r->input_done && !r->fatal && !interrupted && !r->stopped_early &&
           r->inflight < (size_t)r->o->concurrency && srm_reorder_held(r->reorder) < window) {
      if (feed_one(r)) r->input_done = 1;
    }
    int can_feed = !r->input_done && !interrupted && !r->stopped_early &&
                   r->inflight < (size_t)r->o->concurrency;
    size_t live = srm_sched_step(r->h.sched, can_feed ? 0.0 : 0.1);
    srm_reorder_release(r->reorder, emit_row, r);
    if (srm_output_flush(&r->out) != 0) set_fatal(r, r->out.error);
    srm_progress_update(&r->progress, r->rows + r->skipped, r->errors, 0);
    if (r->o->max_error_rate >= 0 && r->rows >= 100 && error_rate(r) > r->o->max_error_rate &&
        !r->stopped_early) {
      r->stopped_early = 1;
      srm_progress_clear(&r->progress);
      fprintf(stderr, "srm: error rate %.1f%% exceeds --max-error-rate; not starting new records\n",
              100 * error_rate(r));
    }
    if (r->fatal) {
      srm_sched_drain(r->h.sched);
      srm_reorder_release(r->reorder, emit_row, r);
      break;
    }
    if (live == 0 && (r->input_done || interrupted || r->stopped_early)) break;
  }
}

int srm_cmd_run(int argc, char **argv) {
  struct run_opts o;
  int prc = parse_run_opts(argc, argv, &o);
  if (prc == 1) {
    run_usage(stdout);
    return SRM_EXIT_OK;
  }
  if (prc < 0) return SRM_EXIT_USAGE;

  struct run r;
  memset(&r, 0, sizeof r);
  r.o = &o;
  r.limits.max_instructions = o.max_instructions;
  r.limits.timeout_s = o.timeout_s;
  char err[2048];
  int rc = SRM_EXIT_OK;

  r.reader = srm_jsonl_open(o.data, o.line_cap, err, sizeof err);
  if (!r.reader) {
    fprintf(stderr, "srm run: %s\n", err);
    return SRM_EXIT_USAGE;
  }
  if (srm_host_open(&r.h, o.max_memory, o.stdlib_dir, err, sizeof err) != 0) {
    fprintf(stderr, "srm run: %s\n", err);
    srm_jsonl_close(r.reader);
    return SRM_EXIT_FAILURE;
  }
  if (configure_llm(&r) != 0) {
    rc = SRM_EXIT_USAGE;
    goto done;
  }
  enum srm_load_result lr =
      srm_skill_load(&r.h, o.skill, o.settings, o.nsettings, &r.limits, &r.sk, err, sizeof err);
  if (lr != SRM_LOAD_OK) {
    fprintf(stderr, "srm run: %s\n", err);
    rc = lr == SRM_LOAD_USAGE ? SRM_EXIT_USAGE : SRM_EXIT_SKILL;
    goto done;
  }
  int ntests = 0;
  int failed = srm_skill_self_test(&r.h, &r.sk, &r.limits, &ntests);
  if (failed != 0) {
    fprintf(stderr, "srm run: %s: %d of %d self-tests failed; fix the skill (srm check %s)\n",
            o.skill, failed < 0 ? ntests : failed, ntests, o.skill);
    rc = SRM_EXIT_SKILL;
    goto done;
  }
  r.prepare_ref = get_runner_fn(&r, "prepare");
  r.evaluate_ref = get_runner_fn(&r, "evaluate");
  r.finish_ref = get_runner_fn(&r, "finish");
  r.input_error_ref = get_runner_fn(&r, "input_error");
  rc = prepare_output(&r);
  if (rc != SRM_EXIT_OK) goto done;
  r.reorder = srm_reorder_new(0);
  if (!r.reorder) {
    fprintf(stderr, "srm run: out of memory\n");
    rc = SRM_EXIT_FAILURE;
    goto done;
  }
  int64_t total = srm_jsonl_count_records(o.data);
  if (total >= 0 && o.limit >= 0 && total > o.limit) total = o.limit;
  srm_progress_init(&r.progress, stderr, o.progress, total, o.log_every);

  double started = srm_now();
  signal(SIGINT, on_sigint);
  main_loop(&r);
  signal(SIGINT, SIG_DFL);
  srm_progress_update(&r.progress, r.rows + r.skipped, r.errors, 1);
  srm_progress_clear(&r.progress);
  if (srm_output_close(&r.out) != 0 && !r.fatal) set_fatal(&r, r.out.error);
  print_summary(&r, srm_now() - started);
  print_llm_summary(&r);
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
  if (r.reorder) srm_reorder_free(r.reorder);
  srm_host_close(&r.h);
  srm_jsonl_close(r.reader);
  return rc;
}
