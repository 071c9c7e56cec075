/* srm: `srm run` option parsing and the model-call configuration (see srm_run_opts.h). */
#include "srm_run_opts.h"

#include "srm_host.h"

#include <errno.h>
#include <getopt.h>
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

/* One KEY=VALUE of option opt (split in place). */
static int add_pair(const char *cmd, const char *opt, char *kv, struct srm_setting *pairs, int *n) {
  char *eq = strchr(kv, '=');
  if (!eq || eq == kv) {
    fprintf(stderr, "%s: %s expects KEY=VALUE, got '%s'\n", cmd, opt, kv);
    return -1;
  }
  if (*n == MAX_SETTINGS) {
    fprintf(stderr, "%s: at most %d %s options\n", cmd, MAX_SETTINGS, opt);
    return -1;
  }
  *eq = '\0';
  pairs[*n].key = kv;
  pairs[*n].value = eq + 1;
  (*n)++;
  return 0;
}

int srm_run_add_setting(const char *cmd, char *kv, struct srm_setting *settings, int *n) {
  return add_pair(cmd, "--set", kv, settings, n);
}

int srm_run_add_maps(const char *cmd, char *list, struct srm_setting *maps, int *n) {
  for (char *save = NULL, *kv = strtok_r(list, ",", &save); kv; kv = strtok_r(NULL, ",", &save))
    if (add_pair(cmd, "--map", kv, maps, n) != 0) return -1;
  return 0;
}

void srm_run_usage(FILE *f) {
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
      "  -j, --concurrency N       records in flight at once, per worker (default 256)\n"
      "      --workers N           event-loop threads for CPU-heavy skills (default 1)\n"
      "      --timeout S           wall-clock deadline per record in seconds (default 600)\n"
      "      --max-instructions N  Lua instruction budget per record (default 500000000)\n"
      "      --max-memory MB       memory limit of the skill state in MiB (default 2048)\n"
      "      --max-line-bytes N    longest accepted input line (default 67108864 = 64 MiB)\n"
      "      --no-progress         no progress bar or progress log on stderr\n"
      "      --log-every S         seconds between progress lines when stderr is not a TTY (10)\n"
      "      --stdlib-dir DIR      load the Lua stdlib from DIR instead of the binary\n"
      "      --map DST=SRC[,...]   the skill reads record field SRC under the name DST\n"
      "      --setting NAME        agent judge preset: baseline, skill_fair, skill_operational,\n"
      "                            flat_prompt or tool_only (= --set setting=NAME)\n"
      "      --trace FILE          append the agent judge's turns (messages, tool calls and\n"
      "                            results, finalization, readout) to FILE, one JSON line each\n"
      "      --watch               hot reload: reload the skill when its files change (also on\n"
      "                            SIGHUP); rows carry skill.sha256 and skill.generation\n"
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
      "      --no-cache            neither read nor write the reply cache\n"
      "\n"
      "Benchmarks (docs/eval.md): DATA is the benchmark's own file, expanded into judge tasks in\n"
      "OUT.tasks.jsonl first; rows carry each task's bookkeeping for `srm eval`.\n"
      "      --bench NAME[:OPTS]   judgebench, rewardbench2, rmbench, ifrewardbench, jetts,\n"
      "                            bestofn\n"
      "      --seed N              seed of the expansion's shuffles (default 0)\n"
      "\n"
      "Best-of-N (docs/cli.md): each record is a prompt with N candidate completions.\n"
      "      --mode group          pick one candidate per record; the row names it\n"
      "      --strategy S          argmax (default), knockout, tournament, majority, random\n"
      "      --candidates FIELD    the array of candidates (default: responses)\n",
      f);
}

/* The command whose options are being parsed, for messages ("srm run", "srm serve"). */
static const char *cmd_name = "srm run";

static int parse_int(const char *opt, const char *s, long long min, long long *out) {
  char *end;
  errno = 0;
  double d = strtod(s, &end); /* accepts 1e6 as well as 1000000 */
  if (errno || end == s || *end || d < (double)min || d > 9e18 || d != (double)(long long)d) {
    fprintf(stderr, "%s: %s expects an integer >= %lld, got '%s'\n", cmd_name, opt, min, s);
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
    fprintf(stderr, "%s: %s expects a number in [%g, %g], got '%s'\n", cmd_name, opt, min, max, s);
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
  OPT_WORKERS,
  OPT_BENCH,
  OPT_SEED,
  OPT_MAP,
  OPT_WATCH,
  OPT_PORT,
  OPT_HOST,
  OPT_MAX_BODY,
  OPT_REQUEST_TIMEOUT,
  OPT_TRACE,
  OPT_SETTING,
  OPT_MODE,
  OPT_STRATEGY,
  OPT_CANDIDATES,
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
    {"workers", required_argument, 0, OPT_WORKERS},
    {"bench", required_argument, 0, OPT_BENCH},
    {"seed", required_argument, 0, OPT_SEED},
    {"map", required_argument, 0, OPT_MAP},
    {"watch", no_argument, 0, OPT_WATCH},
    {"port", required_argument, 0, OPT_PORT},
    {"host", required_argument, 0, OPT_HOST},
    {"max-body-bytes", required_argument, 0, OPT_MAX_BODY},
    {"request-timeout", required_argument, 0, OPT_REQUEST_TIMEOUT},
    {"trace", required_argument, 0, OPT_TRACE},
    {"setting", required_argument, 0, OPT_SETTING},
    {"mode", required_argument, 0, OPT_MODE},
    {"strategy", required_argument, 0, OPT_STRATEGY},
    {"candidates", required_argument, 0, OPT_CANDIDATES},
    {0, 0, 0, 0},
};

/* Returns 0, 1 for --help, or -1 on a usage error (already reported). */
int srm_run_parse(int argc, char **argv, struct run_opts *o) {
  cmd_name = "srm run";
  return srm_run_parse_for(0, argc, argv, o);
}

int srm_run_parse_for(int serve, int argc, char **argv, struct run_opts *o) {
  if (serve) cmd_name = "srm serve";
  memset(o, 0, sizeof *o);
  o->progress = 1;
  o->limit = -1;
  o->max_error_rate = -1;
  o->concurrency = 256;
  o->timeout_s = SRM_DEFAULT_TIMEOUT_S;
  o->max_instructions = SRM_DEFAULT_MAX_INSTRUCTIONS;
  o->max_memory = SRM_DEFAULT_MAX_MEMORY;
  o->line_cap = (size_t)64 << 20;
  o->log_every = 10;
  o->llm_timeout = 120;
  o->llm_retries = 3;
  o->workers = 1;
  o->port = 8000;
  o->host = "127.0.0.1";
  o->max_body = (size_t)64 << 20;
  o->request_timeout = SRM_DEFAULT_TIMEOUT_S;
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
    case OPT_SET:
      if (srm_run_add_setting(cmd_name, optarg, o->settings, &o->nsettings)) return -1;
      break;
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
      if (o->nendpoints == MAX_RUN_ENDPOINTS) {
        fprintf(stderr, "%s: at most %d --endpoint options\n", cmd_name, MAX_RUN_ENDPOINTS);
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
    case OPT_WORKERS:
      if (parse_int("--workers", optarg, 1, &n) || n > 256) return -1;
      o->workers = (long)n;
      break;
    case OPT_BENCH:
      o->bench = optarg;
      break;
    case OPT_MAP:
      if (srm_run_add_maps(cmd_name, optarg, o->maps, &o->nmaps) != 0) return -1;
      break;
    case OPT_WATCH:
      o->watch = 1;
      break;
    case OPT_PORT:
      if (parse_int("--port", optarg, 0, &n) || n > 65535) return -1;
      o->port = (int)n;
      break;
    case OPT_TRACE:
      o->trace = optarg;
      break;
    case OPT_SETTING: { /* the agent judge's presets: --set setting=NAME, names checked here */
      static const char *const presets[] = {"baseline",    "skill_fair", "skill_operational",
                                            "flat_prompt", "tool_only",  NULL};
      int known = 0;
      for (int k = 0; presets[k]; k++)
        known |= strcmp(optarg, presets[k]) == 0;
      if (!known) {
        fprintf(stderr,
                "%s: --setting %s: expected baseline, skill_fair, skill_operational, "
                "flat_prompt or tool_only\n",
                cmd_name, optarg);
        return -1;
      }
      static char kv[64];
      snprintf(kv, sizeof kv, "setting=%s", optarg);
      if (srm_run_add_setting(cmd_name, kv, o->settings, &o->nsettings)) return -1;
      break;
    }
    case OPT_HOST:
      o->host = optarg;
      break;
    case OPT_MAX_BODY:
      if (parse_int("--max-body-bytes", optarg, 1, &n)) return -1;
      o->max_body = (size_t)n;
      break;
    case OPT_REQUEST_TIMEOUT:
      if (parse_double("--request-timeout", optarg, 0.001, 1e7, &o->request_timeout)) return -1;
      break;
    case OPT_SEED:
      if (parse_int("--seed", optarg, 0, &n)) return -1;
      o->seed = (uint64_t)n;
      break;
    case OPT_MODE:
      if (strcmp(optarg, "group") != 0 && strcmp(optarg, "record") != 0) {
        fprintf(stderr, "%s: --mode %s: expected record or group\n", cmd_name, optarg);
        return -1;
      }
      o->group = strcmp(optarg, "group") == 0;
      break;
    case OPT_STRATEGY:
      o->strategy = optarg;
      break;
    case OPT_CANDIDATES:
      o->candidates = optarg;
      break;
    case ':':
      fprintf(stderr, "%s: option %s needs a value\n", cmd_name, argv[optind - 1]);
      return -1;
    default:
      fprintf(stderr, "%s: unknown option '%s' (see srm run --help)\n", cmd_name, argv[optind - 1]);
      return -1;
    }
  }
  if (serve) {
    if (o->out || o->resume || o->bench || o->limit >= 0 || o->group) {
      fprintf(stderr, "%s: -o, --resume, --bench, --limit and --mode are srm run options\n",
              cmd_name);
      return -1;
    }
    int nskills = argc - optind;
    if (nskills < 1 || nskills > 16) {
      fprintf(stderr, "%s: expected 1 to 16 SKILL files, got %d (see srm serve --help)\n", cmd_name,
              nskills);
      return -1;
    }
    o->skill = argv[optind];
    for (int i = 1; i < nskills; i++)
      o->more_skills[o->nmore_skills++] = argv[optind + i];
    return 0;
  }
  if (o->port != 8000 || strcmp(o->host, "127.0.0.1") != 0) {
    fprintf(stderr, "%s: --port and --host are srm serve options\n", cmd_name);
    return -1;
  }
  if (argc - optind != 2) {
    fprintf(stderr, "%s: expected SKILL and DATA, got %d argument(s) (see srm run --help)\n",
            cmd_name, argc - optind);
    return -1;
  }
  o->skill = argv[optind];
  o->data = argv[optind + 1];
  if ((o->strategy || o->candidates) && !o->group) {
    fprintf(stderr, "%s: --strategy and --candidates need --mode group\n", cmd_name);
    return -1;
  }
  if ((o->resume || o->retry_failed) && (!o->out || strcmp(o->out, "-") == 0)) {
    fprintf(stderr, "%s: --resume and --retry-failed need an output file (-o OUT)\n", cmd_name);
    return -1;
  }
  if (o->bench && (!o->out || strcmp(o->out, "-") == 0)) {
    fprintf(stderr,
            "%s: --bench needs an output file (-o OUT): the expanded tasks go "
            "next to it\n",
            cmd_name);
    return -1;
  }
  if (o->bench) {
    int len = snprintf(o->tasks_path, sizeof o->tasks_path, "%s.tasks.jsonl", o->out);
    if (len < 0 || (size_t)len >= sizeof o->tasks_path) {
      fprintf(stderr, "%s: the output path is too long\n", cmd_name);
      return -1;
    }
  }
  if (o->retry_failed) o->resume = 1;
  if (o->resume && o->overwrite) {
    fprintf(stderr, "%s: --resume and --overwrite contradict each other\n", cmd_name);
    return -1;
  }
  return 0;
}

/* Hands the model-call settings to srm.llm: flags first, then SRM_BASE_URLS / SRM_MODEL; the
** key only ever comes from SRM_API_KEY and stays in memory. */
int srm_run_configure_llm(lua_State *L, const struct run_opts *o) {
  if (srm_host_require(L, "srm.runner") != LUA_OK) {
    fprintf(stderr, "%s: %s\n", cmd_name, lua_tostring(L, -1));
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
      if (len > 0 && n < MAX_RUN_ENDPOINTS) {
        lua_pushlstring(L, p, len);
        lua_rawseti(L, -2, ++n);
      }
      if (!comma) break;
      p = comma + 1;
    }
  }
  lua_setfield(L, -2, "endpoints");
  if (o->trace) {
    lua_pushstring(L, o->trace);
    lua_setfield(L, -2, "trace");
  }
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
    /* --cache PATH, else srm-cache.sqlite next to the output file */
    const char *slash = o->cache ? NULL : strrchr(o->out, '/');
    if (o->cache) {
      lua_pushstring(L, o->cache);
    } else if (slash) {
      lua_pushlstring(L, o->out, (size_t)(slash - o->out));
      lua_pushliteral(L, "/srm-cache.sqlite");
      lua_concat(L, 2);
    } else {
      lua_pushliteral(L, "srm-cache.sqlite");
    }
    lua_setfield(L, -2, "cache");
  }
  if (o->disable_thinking) {
    lua_createtable(L, 0, 1);
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "enable_thinking");
    lua_setfield(L, -2, "chat_template_kwargs");
  }
  if (srm_host_pcall(L, 1, 0) != LUA_OK) {
    fprintf(stderr, "%s: %s\n", cmd_name, lua_tostring(L, -1));
    lua_pop(L, 1);
    return -1;
  }
  return 0;
}
