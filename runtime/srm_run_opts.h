/* srm: the options of `srm run` (parsed once, read-only afterwards: worker threads share
** them) and the model-call configuration they imply. */
#ifndef SRM_RUN_OPTS_H
#define SRM_RUN_OPTS_H

#include <lua.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "srm_skill.h"

#define MAX_SETTINGS 64
#define MAX_RUN_ENDPOINTS 32

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
  const char *endpoints[MAX_RUN_ENDPOINTS];
  int nendpoints;
  const char *model;
  double llm_timeout;
  long llm_retries;
  long per_endpoint;
  double rpm, tpm;
  int disable_thinking;
  const char *cache; /* NULL: default next to OUT */
  int no_cache;
  long workers;                          /* event-loop threads; 1 = everything on the main thread */
  struct srm_setting maps[MAX_SETTINGS]; /* --map dst=src: the record field dst reads src */
  int nmaps;
  int watch;         /* --watch: hot reload */
  const char *trace; /* --trace FILE: the agent judge's turns, one JSON line each */
  /* srm serve */
  int port;
  const char *host;
  size_t max_body;             /* request bodies larger than this are refused (413) */
  double request_timeout;      /* seconds a request may take before a 504 */
  const char *more_skills[15]; /* srm serve: skills after the first */
  int nmore_skills;
  const char *bench;      /* --bench NAME[:OPTS]: DATA is a benchmark file, expanded first */
  uint64_t seed;          /* --seed: the benchmark expansion's shuffles */
  char tasks_path[4096];  /* with --bench: OUT.tasks.jsonl, the expanded records */
  int group;              /* --mode group: a record is N candidates, best-of-N selection */
  const char *strategy;   /* --strategy (group mode; NULL: argmax) */
  const char *candidates; /* --candidates FIELD (group mode; NULL: responses) */
};

/* Per-record budgets by default (srm run flags; srm check uses the same). */
#define SRM_DEFAULT_MAX_INSTRUCTIONS 500000000L
#define SRM_DEFAULT_TIMEOUT_S 600.0
#define SRM_DEFAULT_MAX_MEMORY ((size_t)2048 << 20)

/* Adds one --set KEY=VALUE (kv is split in place). Returns 0, or -1 after reporting a usage
** error prefixed with cmd ("srm run", "srm check"). */
int srm_run_add_setting(const char *cmd, char *kv, struct srm_setting *settings, int *n);

/* Adds --map DST=SRC[,DST=SRC...] (list is split in place). Returns 0 or -1 (reported). */
int srm_run_add_maps(const char *cmd, char *list, struct srm_setting *maps, int *n);

void srm_run_usage(FILE *f);
/* Returns 0, 1 for --help, or -1 on a usage error (already reported on stderr). */
int srm_run_parse(int argc, char **argv, struct run_opts *o);
/* The same for `srm serve` (serve = 1): SKILL... instead of SKILL DATA, the server options. */
int srm_run_parse_for(int serve, int argc, char **argv, struct run_opts *o);
/* Calls srm.llm's configure in L with the model-call settings: flags first, then SRM_BASE_URLS
** and SRM_MODEL; the key only ever comes from SRM_API_KEY and stays in memory. Returns 0 or -1
** (message on stderr). */
int srm_run_configure_llm(lua_State *L, const struct run_opts *o);

#endif
