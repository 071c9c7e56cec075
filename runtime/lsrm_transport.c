/* srm: srm.transport, HTTP POSTs to model endpoints driven by the worker's curl multi handle.
** A record's task yields while its requests are in flight; one thread keeps thousands of them
** going. This module owns what must be done in C: endpoints with sticky choice, failover and a
** circuit breaker, the global and per-endpoint in-flight caps (halved on 429, recovering on
** success), optional request and token rate buckets, retries with full-jitter exponential
** backoff and Retry-After, per-call deadlines, and request/response size caps; on request it also
** encodes a body table and decodes the reply from curl's buffer, so neither text becomes a Lua
** string. Request shaping, reading the reply and the cache live in stdlib/srm/llm.lua. Skills
** never see this module. */
#include "srm_json.h"
#include "srm_modules.h"
#include "srm_sched.h"

#include <ctype.h>
#include <lauxlib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ENDPOINTS 32
#define BACKOFF_BASE_S 0.5
#define BACKOFF_CAP_S 16.0
/* A circuit opens after this many consecutive failures and stays open this long; then one
** half-open probe decides whether it closes again. */
#define BREAKER_FAILURES 5
#define BREAKER_OPEN_S 5.0

struct endpoint {
  char *base; /* "http://host:port/v1" without a trailing slash */
  int inflight;
  int failures; /* consecutive */
  double open_until;
  int probing; /* a half-open probe is in flight */
  unsigned long requests, errors;
};

struct bucket { /* token bucket: capacity per minute, refilled continuously */
  double per_minute;
  double tokens;
  double updated;
};

/* An easy handle between transfers. It keeps the options every request sets alike, and the URL
** it last sent to, so the next request sets only what differs: resetting and setting every
** option again cost a few thousand instructions per request. */
struct idle_easy {
  CURL *easy;
  int endpoint; /* of the URL it holds */
  char *path;   /* of that URL (malloc'd) */
};

struct transport {
  struct srm_sched *sched;
  struct endpoint ep[MAX_ENDPOINTS];
  int nep;
  char *auth;       /* "Authorization: Bearer ..." or NULL; never printed */
  int max_inflight; /* configured cap */
  double cap;       /* current cap (AIMD on 429) */
  int per_endpoint; /* cap per endpoint */
  int inflight;
  int peak_inflight;
  double connect_timeout_s;
  size_t max_response;
  size_t max_request;
  double last_cut; /* when the cap was last halved */
  struct bucket rpm, tpm;
  struct request *queue_head, *queue_tail; /* waiting for a slot */
  struct srm_timer *queue_timer;           /* retry the queue when a bucket refills */
  unsigned long attempts, requests, retries, failures, live_handles;
  struct curl_slist *headers; /* the same for every request: built once per configure */
  struct idle_easy idle[256]; /* finished easy handles kept for reuse, options still set */
  int nidle;
  unsigned long by_code[8];
};

enum { C_OK, C_TIMEOUT, C_CONNECT, C_HTTP_429, C_HTTP_5XX, C_HTTP_4XX, C_TOO_LARGE, C_OTHER };
static const char *const CODE_NAMES[] = {"OK",       "TIMEOUT",  "CONNECT",   "HTTP_429",
                                         "HTTP_5XX", "HTTP_4XX", "TOO_LARGE", "ERROR"};

struct batch;

struct request {
  struct srm_transfer xfer; /* first: CURLOPT_PRIVATE points here */
  struct transport *tp;
  struct batch *batch;
  char *path;
  char *body;
  size_t body_len;
  double deadline; /* absolute, for the whole call across attempts */
  double attempt_timeout;
  int max_attempts;
  int attempts;
  int endpoint; /* current choice */
  int tried_mask_generation;
  CURL *easy;
  int url_endpoint; /* the URL easy holds: endpoint and path (passed on to idle_easy) */
  char *url_path;
  char *resp;
  size_t resp_len, resp_cap;
  int too_large;
  int decode;         /* hand back a success's body decoded (doc), not as text */
  int keep_body;      /* with decode: the text too (the cache stores it) */
  double retry_after; /* seconds from a Retry-After header, < 0 when none */
  struct srm_timer *backoff;
  struct request *next_queued;
  int queued;
  int done;
  /* the result */
  long http_status;
  int code;
  char message[256];
  double first_sent, finished;
};

struct batch {
  struct transport *tp;
  struct srm_task *task;
  int n, pending;
  struct request *reqs;
};

static const char TRANSPORT_KEY[] = "srm.transport.state";

/* ---- helpers ---- */

static double jitter(double max) {
  return max * ((double)rand() / ((double)RAND_MAX + 1.0));
}

static void bucket_refill(struct bucket *b, double now) {
  if (b->per_minute <= 0) return;
  b->tokens += (now - b->updated) * b->per_minute / 60.0;
  if (b->tokens > b->per_minute) b->tokens = b->per_minute;
  b->updated = now;
}

/* Seconds until `need` tokens are available (0 = now). */
static double bucket_wait(struct bucket *b, double need, double now) {
  if (b->per_minute <= 0) return 0;
  bucket_refill(b, now);
  if (need > b->per_minute) need = b->per_minute; /* a huge request waits for a full bucket */
  if (b->tokens >= need) return 0;
  return (need - b->tokens) * 60.0 / b->per_minute;
}

static int endpoint_usable(struct transport *tp, int i, double now) {
  struct endpoint *e = &tp->ep[i];
  if (e->inflight >= tp->per_endpoint) return 0;
  if (e->open_until > now) return 0;
  if (e->failures >= BREAKER_FAILURES && e->probing) return 0; /* half-open: one probe */
  return 1;
}

/* The request's endpoint if usable, else the next usable one after it. -1 when none. */
static int pick_endpoint(struct transport *tp, int preferred, double now) {
  for (int k = 0; k < tp->nep; k++) {
    int i = (preferred + k) % tp->nep;
    if (endpoint_usable(tp, i, now)) return i;
  }
  return -1;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud) {
  struct request *r = ud;
  size_t n = size * nmemb;
  if (r->resp_len + n > r->tp->max_response) {
    r->too_large = 1;
    return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
  }
  if (r->resp_len + n + 1 > r->resp_cap) {
    size_t cap = r->resp_cap ? r->resp_cap : 4096;
    while (cap < r->resp_len + n + 1)
      cap *= 2;
    char *p = realloc(r->resp, cap);
    if (!p) return 0;
    r->resp = p;
    r->resp_cap = cap;
  }
  memcpy(r->resp + r->resp_len, data, n);
  r->resp_len += n;
  r->resp[r->resp_len] = '\0';
  return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ud) {
  struct request *r = ud;
  size_t n = size * nmemb;
  static const char name[] = "retry-after:";
  if (n > sizeof name - 1 && strncasecmp(data, name, sizeof name - 1) == 0) {
    char buf[32];
    size_t len = n - (sizeof name - 1);
    if (len >= sizeof buf) len = sizeof buf - 1;
    memcpy(buf, data + sizeof name - 1, len);
    buf[len] = '\0';
    char *end;
    double v = strtod(buf, &end);
    if (end != buf && v >= 0 && v < 3600) r->retry_after = v; /* HTTP-date form: ignored */
  }
  return n;
}

/* ---- request lifecycle ---- */

static void start_attempt(struct request *r);
static void pump_queue(struct transport *tp);

static void release_easy(struct request *r) {
  if (!r->easy) return;
  struct transport *tp = r->tp;
  curl_multi_remove_handle(srm_sched_multi(tp->sched), r->easy);
  if (tp->nidle < (int)(sizeof tp->idle / sizeof tp->idle[0])) {
    /* The connection stays in the multi's cache either way. */
    struct idle_easy *ie = &tp->idle[tp->nidle++];
    ie->easy = r->easy;
    ie->endpoint = r->url_endpoint;
    ie->path = r->url_path;
  } else {
    curl_easy_cleanup(r->easy);
    free(r->url_path);
  }
  r->url_path = NULL;
  r->easy = NULL;
  tp->live_handles--;
}

static void unqueue(struct transport *tp, struct request *r) {
  if (!r->queued) return;
  struct request **p = &tp->queue_head;
  struct request *prev = NULL;
  while (*p && *p != r) {
    prev = *p;
    p = &(*p)->next_queued;
  }
  if (*p) {
    *p = r->next_queued;
    if (tp->queue_tail == r) tp->queue_tail = prev;
  }
  r->queued = 0;
  r->next_queued = NULL;
}

static void enqueue(struct transport *tp, struct request *r) {
  r->queued = 1;
  r->next_queued = NULL;
  if (tp->queue_tail)
    tp->queue_tail->next_queued = r;
  else
    tp->queue_head = r;
  tp->queue_tail = r;
}

/* Pushes the batch's results onto the waiting task and wakes it. */
static void finish_batch(struct batch *b) {
  lua_State *co = b->task->co;
  lua_createtable(co, b->n, 0);
  for (int i = 0; i < b->n; i++) {
    struct request *r = &b->reqs[i];
    lua_createtable(co, 0, 8);
    lua_pushinteger(co, r->attempts);
    lua_setfield(co, -2, "attempts");
    if (r->http_status) {
      lua_pushinteger(co, r->http_status);
      lua_setfield(co, -2, "status");
    }
    if (r->endpoint >= 0) {
      lua_pushstring(co, b->tp->ep[r->endpoint].base);
      lua_setfield(co, -2, "endpoint");
    }
    lua_pushnumber(co, (r->finished - r->first_sent) * 1000.0);
    lua_setfield(co, -2, "latency_ms");
    if (r->code == C_OK) {
      /* Decoded here, from curl's buffer, the reply never becomes a Lua string unless asked:
      ** one copy and one collector-counted allocation less per call. A reply that is not a
      ** JSON object comes back as text for the caller to report. */
      int have_doc = 0;
      if (r->decode) {
        char err[128];
        luaL_getmetatable(co, "srm.json.array");
        if (srm_json_decode(co, r->resp ? r->resp : "", r->resp_len, lua_gettop(co),
                            SRM_JSON_DEFAULT_DEPTH, err, sizeof err) == 0) {
          have_doc = lua_istable(co, -1);
          if (have_doc)
            lua_setfield(co, -3, "doc");
          else
            lua_pop(co, 1);
        }
        lua_pop(co, 1); /* the array metatable */
      }
      if (!have_doc || r->keep_body) {
        lua_pushlstring(co, r->resp ? r->resp : "", r->resp_len);
        lua_setfield(co, -2, "body");
      }
    } else {
      lua_pushstring(co, r->message);
      lua_setfield(co, -2, "error");
      lua_pushstring(co, r->code == C_HTTP_4XX ? "HTTP_4XX" : CODE_NAMES[r->code]);
      lua_setfield(co, -2, "code");
      if (r->resp && r->resp_len) { /* error bodies help (a 400 naming a field) */
        lua_pushlstring(co, r->resp, r->resp_len < 2000 ? r->resp_len : 2000);
        lua_setfield(co, -2, "body");
      }
    }
    lua_rawseti(co, -2, i + 1);
  }
  struct srm_task *t = b->task;
  for (int i = 0; i < b->n; i++) {
    free(b->reqs[i].path);
    free(b->reqs[i].body);
    free(b->reqs[i].resp);
  }
  free(b->reqs);
  free(b);
  srm_task_wake(t, 1);
}

static void complete(struct request *r, int code, const char *msg) {
  struct transport *tp = r->tp;
  r->done = 1;
  r->code = code;
  r->finished = srm_now();
  if (msg) snprintf(r->message, sizeof r->message, "%s", msg);
  tp->by_code[code]++;
  if (code != C_OK) tp->failures++;
  struct batch *b = r->batch;
  if (--b->pending == 0) finish_batch(b);
}

static void on_backoff_done(void *ud) {
  struct request *r = ud;
  r->backoff = NULL;
  enqueue(r->tp, r);
  pump_queue(r->tp);
}

/* Schedules another attempt, or completes the request when attempts or time ran out. */
static void retry_or_fail(struct request *r, int code, const char *msg) {
  struct transport *tp = r->tp;
  double now = srm_now();
  double delay = r->retry_after >= 0
                     ? r->retry_after
                     : jitter(fmin(BACKOFF_CAP_S, BACKOFF_BASE_S * pow(2.0, r->attempts - 1)));
  if (r->attempts >= r->max_attempts || now + delay >= r->deadline) {
    char full[256];
    snprintf(full, sizeof full, "%s (after %d attempt%s)", msg, r->attempts,
             r->attempts == 1 ? "" : "s");
    complete(r, code, full);
    return;
  }
  tp->retries++;
  /* Fail over: the next attempt starts from the next endpoint. */
  if ((code == C_CONNECT || code == C_HTTP_5XX || code == C_TIMEOUT) && tp->nep > 1)
    r->endpoint = (r->endpoint + 1) % tp->nep;
  r->backoff = srm_timer_add(tp->sched, now + delay, on_backoff_done, r);
  if (!r->backoff) complete(r, C_OTHER, "out of memory scheduling a retry");
}

static void endpoint_result(struct transport *tp, int i, int ok) {
  struct endpoint *e = &tp->ep[i];
  e->inflight--;
  e->probing = 0;
  if (ok) {
    e->failures = 0;
    e->open_until = 0;
  } else {
    e->errors++;
    if (++e->failures >= BREAKER_FAILURES) e->open_until = srm_now() + BREAKER_OPEN_S;
  }
}

static void on_transfer_done(struct srm_transfer *x, CURLcode rc) {
  struct request *r = (struct request *)x;
  struct transport *tp = r->tp;
  long status = 0;
  curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
  r->http_status = status;
  release_easy(r);
  tp->inflight--;
  int ok = rc == CURLE_OK && status >= 200 && status < 300;
  int endpoint_ok = rc == CURLE_OK && status < 500; /* 4xx/429 are not the endpoint's health */
  endpoint_result(tp, r->endpoint, endpoint_ok);
  if (ok) {
    if (tp->cap < tp->max_inflight) tp->cap += 1.0 / (tp->cap > 1 ? tp->cap : 1); /* additive */
    complete(r, C_OK, NULL);
    pump_queue(tp);
    return;
  }
  char msg[200];
  int code;
  int retryable = 1;
  if (rc != CURLE_OK) {
    if (r->too_large) {
      code = C_TOO_LARGE;
      snprintf(msg, sizeof msg, "reply larger than %zu bytes", tp->max_response);
      retryable = 0;
    } else if (rc == CURLE_OPERATION_TIMEDOUT) {
      code = C_TIMEOUT;
      snprintf(msg, sizeof msg, "no complete reply within %.1f s", r->attempt_timeout);
    } else {
      code = C_CONNECT;
      snprintf(msg, sizeof msg, "%s", curl_easy_strerror(rc));
    }
  } else if (status == 429) {
    code = C_HTTP_429;
    snprintf(msg, sizeof msg, "HTTP 429 (rate limited)");
    double now = srm_now();
    if (now - tp->last_cut > 1.0) { /* multiplicative decrease, at most once a second */
      tp->cap = fmax(1.0, tp->cap / 2);
      tp->last_cut = now;
    }
  } else if (status >= 500) {
    code = C_HTTP_5XX;
    snprintf(msg, sizeof msg, "HTTP %ld", status);
  } else {
    code = C_HTTP_4XX;
    snprintf(msg, sizeof msg, "HTTP %ld", status);
    retryable = status == 408 || status == 409;
  }
  if (retryable)
    retry_or_fail(r, code, msg);
  else
    complete(r, code, msg);
  pump_queue(tp);
}

/* A handle for r's attempt: an idle one (its URL replaced only when r goes elsewhere) or a new
** one with the options every request shares. NULL when out of memory. */
static CURL *acquire_easy(struct transport *tp, struct request *r) {
  CURL *c;
  char *path = NULL;
  int endpoint = -1;
  if (tp->nidle > 0) {
    struct idle_easy *ie = &tp->idle[--tp->nidle];
    c = ie->easy;
    path = ie->path;
    endpoint = ie->endpoint;
  } else {
    c = curl_easy_init();
    if (!c) return NULL;
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, tp->headers);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
    /* Hundreds of transfers live at once, replies are mostly a few KB: a smaller receive
    ** buffer per handle keeps memory proportional to what is in flight (curl's default is
    ** 16 KiB). */
    curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 4096L);
  }
  if (endpoint != r->endpoint || !path || strcmp(path, r->path) != 0) {
    free(path);
    size_t ulen = strlen(tp->ep[r->endpoint].base) + strlen(r->path) + 1;
    char *url = malloc(ulen);
    path = strdup(r->path);
    if (!url || !path) {
      free(url);
      free(path);
      curl_easy_cleanup(c);
      return NULL;
    }
    snprintf(url, ulen, "%s%s", tp->ep[r->endpoint].base, r->path);
    curl_easy_setopt(c, CURLOPT_URL, url); /* curl copies it */
    free(url);
    endpoint = r->endpoint;
  }
  r->url_endpoint = endpoint;
  r->url_path = path;
  return c;
}

/* Drops the idle handles (their options name headers or endpoints about to change). */
static void drop_idle(struct transport *tp) {
  while (tp->nidle > 0) {
    struct idle_easy *ie = &tp->idle[--tp->nidle];
    curl_easy_cleanup(ie->easy);
    free(ie->path);
  }
}

static void start_attempt(struct request *r) {
  struct transport *tp = r->tp;
  double now = srm_now();
  struct endpoint *e = &tp->ep[r->endpoint];
  if (e->failures >= BREAKER_FAILURES) e->probing = 1; /* the half-open probe */
  r->attempts++;
  tp->attempts++;
  if (r->attempts == 1) r->first_sent = now;
  r->retry_after = -1;
  r->too_large = 0;
  r->resp_len = 0;
  r->http_status = 0;
  CURL *c = acquire_easy(tp, r);
  if (!c) {
    complete(r, C_OTHER, "out of memory setting up the request");
    return;
  }
  double remaining = r->deadline - now;
  double t = fmin(r->attempt_timeout, remaining);
  if (t < 0.001) t = 0.001;
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, r->body);
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
  curl_easy_setopt(c, CURLOPT_PRIVATE, (char *)&r->xfer);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(t * 1000.0));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(fmin(tp->connect_timeout_s, t) * 1000.0));
  r->easy = c;
  tp->live_handles++;
  if (curl_multi_add_handle(srm_sched_multi(tp->sched), c) != CURLM_OK) {
    release_easy(r);
    complete(r, C_OTHER, "curl_multi_add_handle failed");
    return;
  }
  tp->inflight++;
  if (tp->inflight > tp->peak_inflight) tp->peak_inflight = tp->inflight;
  e->inflight++;
  e->requests++;
}

static void on_queue_timer(void *ud) {
  struct transport *tp = ud;
  tp->queue_timer = NULL;
  pump_queue(tp);
}

/* Starts queued requests while the caps, buckets and endpoints allow. */
static void pump_queue(struct transport *tp) {
  double now = srm_now();
  while (tp->queue_head && tp->inflight < (int)tp->cap) {
    struct request *r = tp->queue_head;
    if (now >= r->deadline) {
      unqueue(tp, r);
      complete(r, C_TIMEOUT, "the call's deadline passed while it waited for a slot");
      continue;
    }
    double wait =
        fmax(bucket_wait(&tp->rpm, 1, now), bucket_wait(&tp->tpm, (double)r->body_len / 4.0, now));
    int ep = pick_endpoint(tp, r->endpoint, now);
    if (ep < 0) {
      /* Every endpoint is full or open: try again shortly (a completion also pumps). */
      wait = fmax(wait, 0.05);
    }
    if (wait > 0) {
      if (!tp->queue_timer)
        tp->queue_timer = srm_timer_add(tp->sched, now + wait, on_queue_timer, tp);
      return;
    }
    if (tp->rpm.per_minute > 0) tp->rpm.tokens -= 1;
    if (tp->tpm.per_minute > 0) tp->tpm.tokens -= (double)r->body_len / 4.0;
    unqueue(tp, r);
    r->endpoint = ep;
    start_attempt(r);
  }
}

/* The task was killed (deadline) while its requests were pending: drop them all. */
static void cancel_batch(struct srm_task *t, void *data) {
  (void)t;
  struct batch *b = data;
  struct transport *tp = b->tp;
  for (int i = 0; i < b->n; i++) {
    struct request *r = &b->reqs[i];
    if (r->done) continue;
    if (r->easy) {
      release_easy(r);
      tp->inflight--;
      tp->ep[r->endpoint].inflight--;
      tp->ep[r->endpoint].probing = 0;
    }
    unqueue(tp, r);
    if (r->backoff) srm_timer_cancel(tp->sched, r->backoff);
    free(r->path);
    free(r->body);
    free(r->resp);
  }
  for (int i = 0; i < b->n; i++) {
    if (b->reqs[i].done) {
      free(b->reqs[i].path);
      free(b->reqs[i].body);
      free(b->reqs[i].resp);
    }
  }
  free(b->reqs);
  free(b);
  pump_queue(tp);
}

/* ---- Lua API ---- */

static struct transport *get_transport(lua_State *L) {
  lua_getfield(L, LUA_REGISTRYINDEX, TRANSPORT_KEY);
  struct transport *tp = lua_touserdata(L, -1);
  lua_pop(L, 1);
  return tp;
}

/* The header list every request sends; rebuilt when the key changes. */
static int build_headers(struct transport *tp) {
  drop_idle(tp);
  curl_slist_free_all(tp->headers);
  tp->headers = curl_slist_append(NULL, "Content-Type: application/json");
  if (tp->headers) tp->headers = curl_slist_append(tp->headers, "Expect:");
  if (tp->headers && tp->auth) tp->headers = curl_slist_append(tp->headers, tp->auth);
  return tp->headers ? 0 : -1;
}

static int transport_gc(lua_State *L) {
  struct transport *tp = lua_touserdata(L, 1);
  drop_idle(tp);
  curl_slist_free_all(tp->headers); /* holds a copy of the key: it goes too */
  tp->headers = NULL;
  for (int i = 0; i < tp->nep; i++) {
    free(tp->ep[i].base);
    tp->ep[i].base = NULL;
  }
  tp->nep = 0;
  if (tp->auth) {
    memset(tp->auth, 0, strlen(tp->auth));
    free(tp->auth);
    tp->auth = NULL;
  }
  return 0;
}

static double opt_number(lua_State *L, int t, const char *k, double dflt) {
  lua_getfield(L, t, k);
  double v = luaL_optnumber(L, -1, dflt);
  lua_pop(L, 1);
  return v;
}

/*
** transport.configure{endpoints = {url, ...}, api_key = s, max_inflight = n, per_endpoint = n,
**   connect_timeout = s, max_response = bytes, max_request = bytes, rpm = n, tpm = n} -> true
** Host-only, and only while no request is in flight (requests share its header list).
** Replaces the endpoint list; raises on a bad argument.
*/
static int transport_configure(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  struct transport *tp = get_transport(L);
  lua_getfield(L, 1, "endpoints");
  luaL_argcheck(L, lua_istable(L, -1), 1, "endpoints must be an array of URLs");
  int n = (int)luaL_len(L, -1);
  luaL_argcheck(L, n <= MAX_ENDPOINTS, 1, "at most 32 endpoints");
  for (int i = 0; i < tp->nep; i++)
    free(tp->ep[i].base);
  memset(tp->ep, 0, sizeof tp->ep);
  tp->nep = 0;
  for (int i = 1; i <= n; i++) {
    lua_rawgeti(L, -1, i);
    size_t len;
    const char *u = luaL_checklstring(L, -1, &len);
    while (len > 0 && u[len - 1] == '/')
      len--;
    char *copy = malloc(len + 1);
    if (!copy) return luaL_error(L, "out of memory");
    memcpy(copy, u, len);
    copy[len] = '\0';
    tp->ep[tp->nep++].base = copy;
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  lua_getfield(L, 1, "api_key");
  if (tp->auth) {
    memset(tp->auth, 0, strlen(tp->auth));
    free(tp->auth);
    tp->auth = NULL;
  }
  if (lua_isstring(L, -1) && lua_rawlen(L, -1) > 0) {
    const char *k = lua_tostring(L, -1);
    size_t len = strlen(k) + 32;
    tp->auth = malloc(len);
    if (!tp->auth) return luaL_error(L, "out of memory");
    snprintf(tp->auth, len, "Authorization: Bearer %s", k);
  }
  lua_pop(L, 1);
  if (build_headers(tp) != 0) return luaL_error(L, "out of memory");
  tp->max_inflight = (int)opt_number(L, 1, "max_inflight", 256);
  if (tp->max_inflight < 1) tp->max_inflight = 1;
  tp->cap = tp->max_inflight;
  tp->per_endpoint = (int)opt_number(L, 1, "per_endpoint", tp->max_inflight);
  if (tp->per_endpoint < 1) tp->per_endpoint = 1;
  tp->connect_timeout_s = opt_number(L, 1, "connect_timeout", 10);
  tp->max_response = (size_t)opt_number(L, 1, "max_response", 16 << 20);
  tp->max_request = (size_t)opt_number(L, 1, "max_request", 16 << 20);
  double now = srm_now();
  tp->rpm.per_minute = opt_number(L, 1, "rpm", 0);
  tp->rpm.tokens = tp->rpm.per_minute;
  tp->rpm.updated = now;
  tp->tpm.per_minute = opt_number(L, 1, "tpm", 0);
  tp->tpm.tokens = tp->tpm.per_minute;
  tp->tpm.updated = now;
  lua_pushboolean(L, 1);
  return 1;
}

/* Frees the first n requests built so far, and the batch, when transport.post gives up. */
static void free_built(struct request *reqs, int n, struct batch *b) {
  for (int k = 0; k < n; k++) {
    free(reqs[k].path);
    free(reqs[k].body);
  }
  free(reqs);
  free(b);
}

/*
** transport.post(requests, sticky) -> results
** requests: array of {path = "/chat/completions", body = JSON text or a table to encode,
**   timeout = s (per attempt),
**   retries = n, deadline = s (whole call, default timeout * (retries + 1) + 60), decode = bool
**   (a success's body comes back decoded as doc when it is a JSON object; its text too only
**   with keep_body = true)}
** sticky: a number choosing the first endpoint (records keep one endpoint: server prefix cache).
** Yields the calling task until every request has finished; results[i] is
** {body=, doc=, status=, endpoint=, attempts=, latency_ms=} or {error=, code=, status=, attempts=}.
** Raises when called outside a task, with no endpoint configured, or on bad arguments.
*/
static int transport_post(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_Integer sticky = luaL_optinteger(L, 2, 0);
  struct transport *tp = get_transport(L);
  struct srm_task *t = srm_task_current(L);
  if (!t) return luaL_error(L, "srm.llm: model calls can only be made while scoring a record");
  if (tp->nep == 0)
    return luaL_error(L, "srm.llm: no model endpoint configured (use --endpoint URL or "
                         "SRM_BASE_URLS)");
  int n = (int)luaL_len(L, 1);
  if (n == 0) {
    lua_newtable(L);
    return 1;
  }
  struct batch *b = calloc(1, sizeof *b);
  struct request *reqs = b ? calloc((size_t)n, sizeof *reqs) : NULL;
  if (!reqs) {
    free(b);
    return luaL_error(L, "srm.llm: out of memory");
  }
  b->tp = tp;
  b->task = t;
  b->n = n;
  b->pending = n;
  b->reqs = reqs;
  double now = srm_now();
  for (int i = 0; i < n; i++) {
    struct request *r = &reqs[i];
    r->xfer.done = on_transfer_done;
    r->tp = tp;
    r->batch = b;
    r->endpoint = (int)((sticky % tp->nep + tp->nep) % tp->nep);
    r->retry_after = -1;
    lua_rawgeti(L, 1, i + 1);
    lua_getfield(L, -1, "path");
    lua_getfield(L, -2, "body");
    size_t plen = 0, blen = 0;
    const char *path = lua_tolstring(L, -2, &plen);
    char *owned = NULL; /* a body given as a table, encoded here */
    char err[640];
    if (lua_istable(L, -1) && !(owned = srm_json_encode_malloc(L, -1, &blen, err, sizeof err))) {
      free_built(reqs, i, b);
      return luaL_error(L, "srm.json.encode: %s", err);
    }
    const char *body = owned ? owned : lua_tolstring(L, -1, &blen);
    double timeout = opt_number(L, -3, "timeout", 120);
    int retries = (int)opt_number(L, -3, "retries", 3);
    if (retries < 0) retries = 0;
    double total = opt_number(L, -3, "deadline", timeout * (retries + 1) + 60);
    lua_getfield(L, -3, "decode");
    r->decode = lua_toboolean(L, -1);
    lua_getfield(L, -4, "keep_body");
    r->keep_body = lua_toboolean(L, -1);
    lua_pop(L, 2);
    if (!path || !body || blen > tp->max_request) {
      free(owned);
      free_built(reqs, i, b);
      if (blen > tp->max_request)
        return luaL_error(L, "srm.llm: request of %d bytes exceeds the %d-byte limit", (int)blen,
                          (int)tp->max_request);
      return luaL_error(L, "srm.llm: each request needs a path and a body (a string or table)");
    }
    r->path = strdup(path);
    r->body = owned ? owned : malloc(blen + 1);
    if (!r->path || !r->body) {
      free(r->path);
      free(r->body);
      free_built(reqs, i, b);
      return luaL_error(L, "srm.llm: out of memory");
    }
    if (!owned) memcpy(r->body, body, blen + 1);
    r->body_len = blen;
    r->attempt_timeout = timeout > 0 ? timeout : 120;
    r->deadline = now + (total > 0 ? total : r->attempt_timeout); /* bounded total per call */
    r->max_attempts = retries + 1;
    lua_pop(L, 3);
  }
  tp->requests += (unsigned long)n;
  srm_task_wait(t, cancel_batch, b);
  for (int i = 0; i < n; i++)
    enqueue(tp, &reqs[i]);
  pump_queue(tp);
  return lua_yield(L, 0);
}

/* transport.stats() -> {requests, attempts, retries, failures, inflight, peak_inflight,
**   live_handles, cap, by_code = {...}, endpoints = {{url, requests, errors, open}}} */
static int transport_stats(lua_State *L) {
  struct transport *tp = get_transport(L);
  lua_createtable(L, 0, 10);
  lua_pushinteger(L, (lua_Integer)tp->requests);
  lua_setfield(L, -2, "requests");
  lua_pushinteger(L, (lua_Integer)tp->attempts);
  lua_setfield(L, -2, "attempts");
  lua_pushinteger(L, (lua_Integer)tp->retries);
  lua_setfield(L, -2, "retries");
  lua_pushinteger(L, (lua_Integer)tp->failures);
  lua_setfield(L, -2, "failures");
  lua_pushinteger(L, tp->inflight);
  lua_setfield(L, -2, "inflight");
  lua_pushinteger(L, tp->peak_inflight);
  lua_setfield(L, -2, "peak_inflight");
  lua_pushinteger(L, (lua_Integer)tp->live_handles);
  lua_setfield(L, -2, "live_handles");
  lua_pushnumber(L, tp->cap);
  lua_setfield(L, -2, "cap");
  lua_createtable(L, 0, 8);
  for (int i = 0; i < 8; i++) {
    lua_pushinteger(L, (lua_Integer)tp->by_code[i]);
    lua_setfield(L, -2, CODE_NAMES[i]);
  }
  lua_setfield(L, -2, "by_code");
  lua_createtable(L, tp->nep, 0);
  double now = srm_now();
  for (int i = 0; i < tp->nep; i++) {
    lua_createtable(L, 0, 4);
    lua_pushstring(L, tp->ep[i].base);
    lua_setfield(L, -2, "url");
    lua_pushinteger(L, (lua_Integer)tp->ep[i].requests);
    lua_setfield(L, -2, "requests");
    lua_pushinteger(L, (lua_Integer)tp->ep[i].errors);
    lua_setfield(L, -2, "errors");
    lua_pushboolean(L, tp->ep[i].open_until > now);
    lua_setfield(L, -2, "open");
    lua_rawseti(L, -2, i + 1);
  }
  lua_setfield(L, -2, "endpoints");
  return 1;
}

static const luaL_Reg transport_funcs[] = {
    {"configure", transport_configure},
    {"post", transport_post},
    {"stats", transport_stats},
    {NULL, NULL},
};

int luaopen_srm_transport(lua_State *L) {
  lua_getfield(L, LUA_REGISTRYINDEX, TRANSPORT_KEY);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    struct transport *tp = lua_newuserdatauv(L, sizeof *tp, 0);
    memset(tp, 0, sizeof *tp);
    tp->sched = srm_sched_of(L);
    tp->max_inflight = 256;
    tp->cap = 256;
    tp->per_endpoint = 256;
    tp->connect_timeout_s = 10;
    tp->max_response = 16 << 20;
    tp->max_request = 16 << 20;
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, transport_gc);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, -2);
    lua_setfield(L, LUA_REGISTRYINDEX, TRANSPORT_KEY);
  } else {
    lua_pop(L, 1);
  }
  luaL_newlib(L, transport_funcs);
  return 1;
}
