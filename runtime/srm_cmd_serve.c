/* srm: `srm serve SKILL... --port P`: rewards over HTTP for RL trainers.
**
** libmicrohttpd runs a thread per connection; a scoring request's records go to a worker's event
** loop (srm_workers_submit_work), so skills that wait on model calls keep thousands of calls in
** flight, and the connection's thread waits for the response. Protocols (native, OpenRLHF,
** slime) are stdlib/srm/serve.lua, run on the worker. The main thread polls the hot-reload
** watcher (srm_reload.c) and, on SIGTERM or SIGINT, stops accepting, lets the requests in flight
** finish, and stops. */
#include "srm_cmd.h"
#include "srm_exec.h"
#include "srm_json.h"
#include "srm_reload.h"
#include "srm_workers.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <lauxlib.h>
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NBUCKETS 12
static const double BUCKET_LE[NBUCKETS] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1,
                                           0.25,  0.5,   1,    2.5,   5,    10};
static const char *const ROW_STATUSES[] = {
    "ok",          "abstain",         "judge_failed",  "timeout",       "skill_error",
    "input_error", "budget_exceeded", "sandbox_error", "internal_error"};
#define NSTATUS (sizeof ROW_STATUSES / sizeof ROW_STATUSES[0])
#define NROUTES 7
static const char *const ROUTES[NROUTES] = {"/v1/score",  "/get_reward", "/reward", "/healthz",
                                            "/v1/skills", "/metrics",    "other"};

struct metrics {
  unsigned long requests[NROUTES][6]; /* by route and status class 1xx..5xx (index 1..5) */
  unsigned long latency[NBUCKETS + 1];
  double latency_sum;
  unsigned long latency_count;
  unsigned long rows[NSTATUS + 1];
  double llm_calls, cache_hits;
};

struct serve {
  struct run_opts *o;
  struct srm_exec e; /* the main thread's: validates reloads, reports skills */
  struct srm_workers *workers;
  struct srm_reloader reloader;
  struct MHD_Daemon *daemon;
  pthread_mutex_t lock; /* guards metrics, inflight, draining */
  struct metrics m;
  unsigned inflight; /* HTTP requests being handled */
  int draining;
};

/* One HTTP request; its scoring part runs on a worker. Freed by whichever of the connection
** thread and the worker lets go last. */
struct request {
  struct srm_work work; /* first: the worker runs it */
  struct srm_row_sink sink;
  struct serve *sv;
  int route; /* index into ROUTES */
  char *body;
  size_t len, cap;
  int too_large;
  double started;
  /* on the worker */
  struct srm_exec *e;
  char **rows;
  size_t nrows, received;
  int submitting;
  /* the response */
  pthread_mutex_t lock;
  pthread_cond_t done_cond;
  int done, refs;
  unsigned status;
  char *response;
  size_t response_len;
};

static volatile sig_atomic_t stop_requested = 0;

static void on_stop_signal(int sig) {
  (void)sig;
  stop_requested = 1;
}

static void request_unref(struct request *rq) {
  pthread_mutex_lock(&rq->lock);
  int last = --rq->refs == 0;
  pthread_mutex_unlock(&rq->lock);
  if (!last) return;
  for (size_t i = 0; i < rq->nrows; i++)
    free(rq->rows[i]);
  free(rq->rows);
  free(rq->body);
  free(rq->response);
  pthread_mutex_destroy(&rq->lock);
  pthread_cond_destroy(&rq->done_cond);
  free(rq);
}

/* The response is ready (worker side): hands it to the connection thread. */
static void request_finish(struct request *rq, unsigned status, char *body, size_t len) {
  pthread_mutex_lock(&rq->lock);
  rq->status = status;
  rq->response = body;
  rq->response_len = len;
  rq->done = 1;
  pthread_cond_signal(&rq->done_cond);
  pthread_mutex_unlock(&rq->lock);
  request_unref(rq);
}

/* A JSON error body {"error": msg}; msg is encoded by srm.json on the worker's state. */
static void finish_error(struct request *rq, lua_State *L, unsigned status, const char *msg) {
  lua_createtable(L, 0, 1);
  lua_pushstring(L, msg);
  lua_setfield(L, -2, "error");
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  char err[200];
  size_t len = 0;
  char *out = NULL;
  if (srm_json_encode_value(L, -2, &b, err, sizeof err) == 0) {
    luaL_pushresult(&b);
    const char *s = lua_tolstring(L, -1, &len);
    out = malloc(len + 1);
    if (out) memcpy(out, s, len + 1);
    lua_pop(L, 1);
  } else {
    luaL_pushresult(&b);
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  request_finish(rq, status, out, out ? len : 0);
}

static void count_row_status(struct serve *sv, const char *status) {
  size_t i = 0;
  while (i < NSTATUS && strcmp(ROW_STATUSES[i], status) != 0)
    i++;
  pthread_mutex_lock(&sv->lock);
  sv->m.rows[i]++;
  pthread_mutex_unlock(&sv->lock);
}

/* All rows are in (worker side): builds the protocol's response. */
static void respond(struct request *rq, struct srm_exec *e) {
  lua_State *L = e->h.L;
  if (srm_host_require(L, "srm.serve") != LUA_OK) {
    finish_error(rq, L, 500, lua_tostring(L, -1));
    lua_pop(L, 1);
    return;
  }
  lua_getfield(L, -1, "respond");
  lua_remove(L, -2);
  lua_pushstring(L, rq->route == 0 ? "score" : rq->route == 1 ? "get_reward" : "reward");
  lua_createtable(L, (int)rq->nrows, 0);
  for (size_t i = 0; i < rq->nrows; i++) {
    if (rq->rows[i])
      lua_pushstring(L, rq->rows[i]);
    else
      lua_pushfstring(L,
                      "{\"id\":%I,\"status\":\"internal_error\",\"reason\":\"the record was "
                      "lost inside srm (out of memory?)\"}",
                      (lua_Integer)i);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  if (srm_host_pcall(L, 2, 3) != LUA_OK) { /* body, llm_calls, cache_hits */
    finish_error(rq, L, 500, lua_tostring(L, -1));
    lua_pop(L, 1);
    return;
  }
  size_t len;
  const char *s = lua_tolstring(L, -3, &len);
  char *out = malloc(len + 1);
  if (out) memcpy(out, s, len + 1);
  pthread_mutex_lock(&rq->sv->lock);
  rq->sv->m.llm_calls += lua_tonumber(L, -2);
  rq->sv->m.cache_hits += lua_tonumber(L, -1);
  pthread_mutex_unlock(&rq->sv->lock);
  lua_pop(L, 3);
  request_finish(rq, out ? 200 : 500, out, out ? len : 0);
}

static void on_row(struct srm_row_sink *sink, size_t index, char *row, size_t len,
                   const char *status) {
  (void)len;
  struct request *rq = (struct request *)((char *)sink - offsetof(struct request, sink));
  if (index < rq->nrows) {
    rq->rows[index] = row;
  } else {
    free(row);
  }
  count_row_status(rq->sv, status ? status : "internal_error");
  rq->received++;
  if (!rq->submitting && rq->received == rq->nrows) respond(rq, rq->e);
}

static int skill_index(struct srm_exec *e, const char *name) {
  if (!name) return 0;
  for (int i = 0; i < e->nskills; i++)
    if (strcmp(e->sk[i].name, name) == 0) return i;
  return -1;
}

/* On the worker: the request's records, into the worker's event loop. */
static void request_run(struct srm_work *work, struct srm_exec *e) {
  struct request *rq = (struct request *)work;
  lua_State *L = e->h.L;
  if (srm_host_require(L, "srm.serve") != LUA_OK) {
    finish_error(rq, L, 500, lua_tostring(L, -1));
    lua_pop(L, 1);
    return;
  }
  lua_getfield(L, -1, "expand");
  lua_remove(L, -2);
  lua_pushstring(L, rq->route == 0 ? "score" : rq->route == 1 ? "get_reward" : "reward");
  lua_pushlstring(L, rq->body ? rq->body : "", rq->len);
  if (srm_host_pcall(L, 2, 2) != LUA_OK) { /* lines | nil, skill | message */
    finish_error(rq, L, 500, lua_tostring(L, -1));
    lua_pop(L, 1);
    return;
  }
  if (!lua_istable(L, -2)) {
    finish_error(rq, L, 400, lua_tostring(L, -1));
    lua_pop(L, 2);
    return;
  }
  int skill = skill_index(e, lua_tostring(L, -1));
  if (skill < 0) {
    char msg[2400];
    int n =
        snprintf(msg, sizeof msg, "unknown skill '%s'; this server scores:", lua_tostring(L, -1));
    for (int i = 0; i < e->nskills && n > 0 && (size_t)n < sizeof msg; i++)
      n += snprintf(msg + n, sizeof msg - (size_t)n, "%s '%s'", i ? "," : "", e->sk[i].name);
    finish_error(rq, L, 400, msg);
    lua_pop(L, 2);
    return;
  }
  lua_pop(L, 1); /* lines */
  size_t n = (size_t)luaL_len(L, -1);
  rq->rows = calloc(n ? n : 1, sizeof *rq->rows);
  if (!rq->rows) {
    lua_pop(L, 1);
    finish_error(rq, L, 500, "out of memory");
    return;
  }
  rq->nrows = n;
  rq->sink.row = on_row;
  rq->submitting = 1;
  rq->e = e;
  for (size_t i = 0; i < n; i++) {
    lua_rawgeti(L, -1, (lua_Integer)i + 1);
    size_t len;
    const char *line = lua_tolstring(L, -1, &len);
    srm_exec_submit_to(e, skill, &rq->sink, i, line ? line : "", line ? len : 0);
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  rq->submitting = 0;
  if (rq->received == rq->nrows) respond(rq, e);
}

/* ---------------------------------------------------------------- HTTP side */

static int route_of(const char *url) {
  for (int i = 0; i < NROUTES - 1; i++)
    if (strcmp(url, ROUTES[i]) == 0) return i;
  return NROUTES - 1;
}

static void count_request(struct serve *sv, int route, unsigned status, double seconds) {
  pthread_mutex_lock(&sv->lock);
  unsigned cls = status / 100;
  sv->m.requests[route][cls <= 5 ? cls : 5]++;
  if (route <= 2) {
    int b = 0;
    while (b < NBUCKETS && seconds > BUCKET_LE[b])
      b++;
    sv->m.latency[b]++;
    sv->m.latency_sum += seconds;
    sv->m.latency_count++;
  }
  pthread_mutex_unlock(&sv->lock);
}

static enum MHD_Result send_body(struct MHD_Connection *c, unsigned status, const char *type,
                                 char *body, size_t len, int owned) {
  struct MHD_Response *r = MHD_create_response_from_buffer(
      len, body, owned ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_MUST_COPY);
  if (!r) {
    if (owned) free(body);
    return MHD_NO;
  }
  MHD_add_response_header(r, "Content-Type", type);
  enum MHD_Result ok = MHD_queue_response(c, status, r);
  MHD_destroy_response(r);
  return ok;
}

/* Fixed error messages only (no escaping needed): {"error": "..."} */
static enum MHD_Result send_error(struct MHD_Connection *c, unsigned status, const char *msg) {
  char body[512];
  int n = snprintf(body, sizeof body, "{\"error\":\"%s\"}", msg);
  return send_body(c, status, "application/json", body, (size_t)n, 0);
}

static enum MHD_Result send_skills(struct serve *sv, struct MHD_Connection *c) {
  char *json = srm_reloader_skills_json(&sv->reloader);
  if (!json) return send_error(c, 500, "out of memory");
  return send_body(c, 200, "application/json", json, strlen(json), 1);
}

static enum MHD_Result send_metrics(struct serve *sv, struct MHD_Connection *c) {
  struct metrics m;
  pthread_mutex_lock(&sv->lock);
  m = sv->m;
  unsigned inflight = sv->inflight;
  pthread_mutex_unlock(&sv->lock);
  size_t cap = 16384, n = 0;
  char *out = malloc(cap);
  if (!out) return send_error(c, 500, "out of memory");
#define EMIT(...)                                                                                  \
  do {                                                                                             \
    if (n < cap) n += (size_t)snprintf(out + n, cap - n, __VA_ARGS__);                             \
  } while (0)
  EMIT("# HELP srm_requests_total HTTP requests by path and status class.\n"
       "# TYPE srm_requests_total counter\n");
  for (int r = 0; r < NROUTES; r++)
    for (int k = 1; k <= 5; k++)
      if (m.requests[r][k])
        EMIT("srm_requests_total{path=\"%s\",code=\"%dxx\"} %lu\n", ROUTES[r], k, m.requests[r][k]);
  EMIT("# HELP srm_requests_in_flight HTTP requests being handled (this one included).\n"
       "# TYPE srm_requests_in_flight gauge\nsrm_requests_in_flight %u\n",
       inflight);
  EMIT("# HELP srm_request_seconds Latency of scoring requests.\n"
       "# TYPE srm_request_seconds histogram\n");
  unsigned long cum = 0;
  for (int b = 0; b < NBUCKETS; b++) {
    cum += m.latency[b];
    EMIT("srm_request_seconds_bucket{le=\"%g\"} %lu\n", BUCKET_LE[b], cum);
  }
  cum += m.latency[NBUCKETS];
  EMIT("srm_request_seconds_bucket{le=\"+Inf\"} %lu\n", cum);
  EMIT("srm_request_seconds_sum %.6f\nsrm_request_seconds_count %lu\n", m.latency_sum,
       m.latency_count);
  EMIT("# HELP srm_rows_total Rows scored, by status.\n# TYPE srm_rows_total counter\n");
  for (size_t i = 0; i <= NSTATUS; i++)
    EMIT("srm_rows_total{status=\"%s\"} %lu\n", i < NSTATUS ? ROW_STATUSES[i] : "other", m.rows[i]);
  EMIT("# TYPE srm_llm_calls_total counter\nsrm_llm_calls_total %.0f\n", m.llm_calls);
  EMIT("# TYPE srm_llm_cache_hits_total counter\nsrm_llm_cache_hits_total %.0f\n", m.cache_hits);
  pthread_mutex_lock(&sv->reloader.lock);
  unsigned long reloads = sv->reloader.reloads, failures = sv->reloader.failures;
  pthread_mutex_unlock(&sv->reloader.lock);
  EMIT("# TYPE srm_reloads_total counter\nsrm_reloads_total{result=\"ok\"} %lu\n"
       "srm_reloads_total{result=\"failed\"} %lu\n",
       reloads, failures);
#undef EMIT
  if (n >= cap) n = cap - 1;
  return send_body(c, 200, "text/plain; version=0.0.4", out, n, 1);
}

/* A scoring request: to a worker, then wait for its response (or the request deadline). */
static enum MHD_Result score(struct serve *sv, struct MHD_Connection *c, struct request *rq) {
  rq->refs = 2; /* this thread and the worker */
  if (srm_workers_submit_work(sv->workers, &rq->work) != 0) {
    rq->refs = 1;
    return send_error(c, 500, "out of memory");
  }
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  double t = (double)deadline.tv_sec + (double)deadline.tv_nsec * 1e-9 + sv->o->request_timeout;
  deadline.tv_sec = (time_t)t;
  deadline.tv_nsec = (long)((t - (double)deadline.tv_sec) * 1e9);
  pthread_mutex_lock(&rq->lock);
  while (!rq->done)
    if (pthread_cond_timedwait(&rq->done_cond, &rq->lock, &deadline) == ETIMEDOUT) break;
  int done = rq->done;
  unsigned status = rq->status;
  char *body = rq->response;
  size_t len = rq->response_len;
  rq->response = NULL;
  pthread_mutex_unlock(&rq->lock);
  if (!done)
    return send_error(c, 504, "the request exceeded --request-timeout; its records go on running");
  if (!body) return send_error(c, 500, "out of memory building the response");
  return send_body(c, status, "application/json", body, len, 1);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls) {
  (void)version;
  struct serve *sv = cls;
  struct request *rq = *con_cls;
  if (!rq) { /* the headers are in: set up, read the body in the next calls */
    rq = calloc(1, sizeof *rq);
    if (!rq) return MHD_NO;
    rq->sv = sv;
    rq->route = route_of(url);
    rq->started = srm_now();
    rq->refs = 1;
    rq->work.run = request_run;
    pthread_mutex_init(&rq->lock, NULL);
    pthread_cond_init(&rq->done_cond, NULL);
    pthread_mutex_lock(&sv->lock);
    sv->inflight++;
    pthread_mutex_unlock(&sv->lock);
    *con_cls = rq;
    return MHD_YES;
  }
  if (*upload_size > 0) {
    if (!rq->too_large && rq->len + *upload_size > sv->o->max_body) rq->too_large = 1;
    if (!rq->too_large) {
      if (rq->len + *upload_size + 1 > rq->cap) {
        size_t cap = rq->cap ? rq->cap : 4096;
        while (cap < rq->len + *upload_size + 1)
          cap *= 2;
        char *p = realloc(rq->body, cap);
        if (!p) return MHD_NO;
        rq->body = p;
        rq->cap = cap;
      }
      memcpy(rq->body + rq->len, upload, *upload_size);
      rq->len += *upload_size;
    }
    *upload_size = 0;
    return MHD_YES;
  }
  enum MHD_Result ret;
  unsigned status = 200;
  int is_post = strcmp(method, "POST") == 0, is_get = strcmp(method, "GET") == 0;
  if (rq->route == NROUTES - 1) {
    status = 404;
    ret = send_error(c, status,
                     "no such path; try POST /v1/score, /get_reward, /reward or GET "
                     "/healthz, /v1/skills, /metrics");
  } else if (rq->route <= 2 && !is_post) {
    status = 405;
    ret = send_error(c, status, "use POST");
  } else if (rq->route > 2 && !is_get) {
    status = 405;
    ret = send_error(c, status, "use GET");
  } else if (rq->route == 3) {
    pthread_mutex_lock(&sv->lock);
    int draining = sv->draining;
    pthread_mutex_unlock(&sv->lock);
    status = draining ? 503 : 200;
    const char *body = draining ? "{\"status\":\"draining\"}" : "{\"status\":\"ok\"}";
    ret = send_body(c, status, "application/json", (char *)body, strlen(body), 0);
  } else if (rq->route == 4) {
    ret = send_skills(sv, c);
  } else if (rq->route == 5) {
    ret = send_metrics(sv, c);
  } else if (rq->too_large) {
    status = 413;
    ret = send_error(c, status, "the body is larger than --max-body-bytes");
  } else {
    ret = score(sv, c, rq);
    status = rq->done ? rq->status : 504;
  }
  count_request(sv, rq->route, status, srm_now() - rq->started);
  return ret;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
  (void)c;
  (void)toe;
  struct serve *sv = cls;
  struct request *rq = *con_cls;
  if (!rq) return;
  *con_cls = NULL;
  pthread_mutex_lock(&sv->lock);
  sv->inflight--;
  pthread_mutex_unlock(&sv->lock);
  request_unref(rq);
}

static void serve_usage(FILE *f) {
  fputs(
      "usage: srm serve SKILL... [--port P] [--host H] [options]\n"
      "\n"
      "Serves rewards over HTTP (see docs/serve.md):\n"
      "  POST /v1/score     {\"records\": [...], \"skill\": name?} -> {\"rows\": [...]}\n"
      "  POST /get_reward   OpenRLHF: {\"query\", \"prompts\", \"labels\"} -> {\"rewards\", ...}\n"
      "  POST /reward       slime: {\"prompt\", \"response\", \"label\"} -> {\"reward\", ...}\n"
      "  GET  /healthz, /v1/skills, /metrics\n"
      "Skills reload when their files change (and on SIGHUP); SIGTERM drains and stops.\n"
      "\n"
      "      --port P              TCP port (default 8000; 0 picks a free one)\n"
      "      --host H              address to listen on (default 127.0.0.1)\n"
      "      --workers N           event-loop threads (default 1)\n"
      "      --max-body-bytes N    largest request body (default 67108864)\n"
      "      --request-timeout S   a request's deadline in seconds (default 600)\n"
      "      --map DST=SRC[,...]   the skill reads record field SRC as DST\n"
      "  The srm run options for budgets, model calls and caching apply too (srm run --help).\n",
      f);
}

int srm_cmd_serve(int argc, char **argv) {
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
      serve_usage(stdout);
      return SRM_EXIT_OK;
    }
  struct run_opts o;
  if (srm_run_parse_for(1, argc, argv, &o) != 0) return SRM_EXIT_USAGE;
  o.progress = 0;
  o.watch = 1; /* a server always follows its skills */
  static struct serve sv;
  memset(&sv, 0, sizeof sv);
  sv.o = &o;
  pthread_mutex_init(&sv.lock, NULL);
  char err[2048];
  int rc = srm_exec_open(&sv.e, &o, NULL, NULL, err, sizeof err);
  if (rc != SRM_EXIT_OK) {
    fprintf(stderr, "srm serve: %s\n", err);
    srm_exec_close(&sv.e);
    return rc;
  }
  for (int i = 0; i < sv.e.nskills; i++) {
    int ntests = 0;
    int failed = srm_skill_self_test(&sv.e.h, &sv.e.sk[i], &sv.e.limits, &ntests);
    if (failed != 0) {
      fprintf(stderr, "srm serve: %s: %d of %d self-tests failed; fix the skill (srm check %s)\n",
              sv.e.skill_path[i], failed < 0 ? ntests : failed, ntests, sv.e.skill_path[i]);
      srm_exec_close(&sv.e);
      return SRM_EXIT_SKILL;
    }
  }
  sv.workers = srm_workers_start((int)o.workers, &o, err, sizeof err);
  if (!sv.workers) {
    fprintf(stderr, "srm serve: %s\n", err);
    srm_exec_close(&sv.e);
    return SRM_EXIT_FAILURE;
  }
  if (srm_reloader_init(&sv.reloader, &sv.e, sv.workers, 1) != 0) {
    fprintf(stderr, "srm serve: out of memory starting the skill watcher\n");
    srm_workers_stop(sv.workers, NULL);
    srm_exec_close(&sv.e);
    return SRM_EXIT_FAILURE;
  }
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)o.port);
  if (inet_pton(AF_INET, o.host, &addr.sin_addr) != 1) {
    fprintf(stderr, "srm serve: --host %s is not an IPv4 address\n", o.host);
    rc = SRM_EXIT_USAGE;
    goto out;
  }
  sv.daemon = MHD_start_daemon(
      MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC, 0, NULL, NULL,
      on_request, &sv, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_NOTIFY_COMPLETED,
      on_completed, &sv, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120, MHD_OPTION_END);
  if (!sv.daemon) {
    fprintf(stderr, "srm serve: cannot listen on %s:%d: %s\n", o.host, o.port, strerror(errno));
    rc = SRM_EXIT_FAILURE;
    goto out;
  }
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(sv.daemon, MHD_DAEMON_INFO_BIND_PORT);
  fprintf(stderr, "srm serve: listening on http://%s:%u (%d skill%s, %ld worker%s)\n", o.host,
          info ? (unsigned)info->port : (unsigned)o.port, sv.e.nskills,
          sv.e.nskills == 1 ? "" : "s", o.workers, o.workers == 1 ? "" : "s");
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  while (!stop_requested) {
    srm_reloader_poll(&sv.reloader);
    usleep(20000);
  }
  /* Graceful stop: no new connections, the requests in flight finish, then the workers. */
  pthread_mutex_lock(&sv.lock);
  sv.draining = 1;
  pthread_mutex_unlock(&sv.lock);
  MHD_socket lfd = MHD_quiesce_daemon(sv.daemon);
  if (lfd != MHD_INVALID_SOCKET) close(lfd);
  fprintf(stderr, "srm serve: stopping; finishing the requests in flight\n");
  for (;;) {
    pthread_mutex_lock(&sv.lock);
    unsigned n = sv.inflight;
    pthread_mutex_unlock(&sv.lock);
    if (n == 0) break;
    usleep(10000);
  }
  MHD_stop_daemon(sv.daemon);
  rc = SRM_EXIT_OK;
out:
  srm_reloader_free(&sv.reloader);
  srm_workers_stop(sv.workers, NULL);
  srm_exec_close(&sv.e);
  return rc;
}
