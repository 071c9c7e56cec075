/* srm: srm-mock, a loopback OpenAI-compatible chat-completions server for the model-call tests
** and benchmarks. One libmicrohttpd daemon (poll, internal thread or thread pool) answers
** POST /v1/chat/completions with scripted replies; a timer thread resumes suspended connections
** when their latency is over, so thousands of slow requests cost no thread each. Behaviour is
** scripted per request by [[mock:...]] directives in the last user message and globally by
** fault-injection flags; GET /stats reports counters. See tests/mock/README.md. */
#define _GNU_SOURCE
#include "mock_json.h"

#include <microhttpd.h>

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_TOOL_CALLS 16
/* Reply bodies up to SMALL_BODY are built in memory, larger ones streamed. MAX_PAD bounds
** oversized=BYTES; a request body buffer starts at most MAX_PREALLOC large. */
#define SMALL_BODY (1u << 20)
#define MAX_PAD (1L << 40)
#define MAX_PREALLOC (1u << 20)

/* ---------------------------------------------------------------- types */

struct options {
  const char *host, *port_file, *pid_file, *require_key, *reply, *model, *log;
  long port, threads, idle_timeout, latency_ms, stall_ms, retry_after, reply_bytes, max_body;
  long seed, parent_pid;
  double fail_rate, rate_429, reset_rate, stall_rate, malformed_rate, truncated_rate;
};

struct stats {
  atomic_ullong requests, in_flight, peak_in_flight, bytes_in, bytes_out;
  atomic_ullong resets, stalls, malformed, truncated, tool_requests, connections, open_connections;
  atomic_ullong by_status[600];
  atomic_ullong fault_seq; /* request counter that drives the global fault draws */
  atomic_ullong reply_seq; /* ids of replies and tool calls */
};

enum action { ACT_REPLY, ACT_STATUS, ACT_RESET, ACT_STALL, ACT_MALFORMED, ACT_TRUNCATED };
enum echo { ECHO_NONE, ECHO_MESSAGES, ECHO_BODY };
enum route { R_NOT_FOUND, R_CHAT, R_STATS, R_RESET_STATS, R_HEALTHZ, R_MODELS, R_BAD_METHOD };
enum state { ST_RECEIVING, ST_WAITING, ST_DONE };

struct tool_call {
  struct span name, args;
};

/* What one chat request asked for through its directives (spans point into req.text). */
struct plan {
  enum action action;
  enum echo echo;
  int status, faulted, has_reply, n_tools;
  long retry_after, latency_ms, stall_ms, fail_first;
  size_t pad_to;
  struct span reply, reasoning, finish;
  struct span reject; /* a top-level request field answered with a 400 that names it */
  struct tool_call tools[MAX_TOOL_CALLS];
};

/* Per-request context (MHD's con_cls). */
struct req {
  enum route route;
  enum state state;
  int counted, too_large, has_tools;
  char *body;
  size_t len, cap;
  const char *text; /* content of the last user message, unescaped */
  size_t text_len;
  char *text_buf; /* text's storage when unescaping was needed */
  struct span model, messages;
  struct plan plan;
};

/* A reply body streamed in three parts (head, pad spaces, tail), cut short when truncated. */
struct gen {
  struct buf head, tail;
  uint64_t pad, total, cut;
};

struct timer_entry {
  uint64_t due_ns;
  struct MHD_Connection *conn;
};

/* ---------------------------------------------------------------- globals */

static struct options opt = {
    .host = "127.0.0.1",
    .reply = "{\"score\": 4, \"reason\": \"ok\"}",
    .model = "mock",
    .threads = 1,
    .idle_timeout = 120,
    .stall_ms = 120000,
    .retry_after = 1,
    .max_body = 64L << 20,
};
static struct stats st;

static pthread_mutex_t timer_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t timer_cv;
static struct timer_entry *heap;
static size_t heap_len, heap_cap;
static int stopping;

static pthread_mutex_t ff_mu = PTHREAD_MUTEX_INITIALIZER;

/* --log FILE: every chat request body, one per line (bodies are JSON, so they hold no raw
** newline), for tests that check what a client sent (e.g. that labels never leak). */
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static FILE *log_file;
static struct ff_entry {
  uint64_t key;
  unsigned long count;
} * ff_table;
static size_t ff_len, ff_cap;

/* ---------------------------------------------------------------- small helpers */

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void stat_add(atomic_ullong *c, uint64_t n) {
  atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static void count_status(int status) {
  if (status >= 100 && status < 600) stat_add(&st.by_status[status], 1);
}

static uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15u;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
  return x ^ (x >> 31);
}

static uint64_t fnv1a(uint64_t h, const char *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    h ^= (unsigned char)p[i];
    h *= 0x100000001b3u;
  }
  return h;
}

/* ---------------------------------------------------------------- JSON scanning */

/* Scans one message object; sets *role and *content (raw value spans; content.p NULL if absent). */
static int scan_message(struct jp *j, struct span *role, struct span *content) {
  if (jpeek(j) != '{') return -1;
  j->p++;
  int first = 1, k;
  struct span key;
  role->p = content->p = NULL;
  role->n = content->n = 0;
  while ((k = jmember(j, &key, &first)) == 1) {
    const char *start = j->p;
    if (jvalue(j, 2)) return -1;
    struct span v = {start, (size_t)(j->p - start)};
    if (span_eq(key, "role"))
      *role = v;
    else if (span_eq(key, "content"))
      *content = v;
  }
  return k;
}

/* Decodes a message content (a string, or an array of parts whose "text" members are joined). */
static void content_text(struct buf *b, struct span c) {
  if (c.n == 0) return;
  if (c.p[0] == '"') {
    unescape_into(b, c);
    return;
  }
  if (c.p[0] != '[') return;
  struct jp j = {c.p + 1, c.p + c.n};
  int first = 1;
  while (jelement(&j, &first) == 1) {
    if (jpeek(&j) != '{') {
      if (jvalue(&j, 3)) return;
      continue;
    }
    j.p++;
    int ofirst = 1;
    struct span key;
    while (jmember(&j, &key, &ofirst) == 1) {
      const char *start = j.p;
      if (jvalue(&j, 4)) return;
      struct span v = {start, (size_t)(j.p - start)};
      if (span_eq(key, "text") && v.p[0] == '"') unescape_into(b, v);
    }
  }
}

/* Validates the body and extracts model, messages, tools and the last user message's text.
** Returns NULL on success or a message for the 400 reply. */
static const char *parse_chat(struct req *r) {
  struct jp j = {r->body, r->body + r->len};
  struct span key, last_user = {NULL, 0};
  int first = 1, k, have_messages = 0;
  if (!r->body) return "empty body";
  jws(&j);
  if (jpeek(&j) != '{') return "body is not a JSON object";
  j.p++;
  while ((k = jmember(&j, &key, &first)) == 1) {
    const char *start = j.p;
    if (span_eq(key, "messages")) {
      if (jpeek(&j) != '[') return "messages is not an array";
      j.p++;
      int efirst = 1, e;
      while ((e = jelement(&j, &efirst)) == 1) {
        struct span role, content;
        if (scan_message(&j, &role, &content)) return "a message is not a valid JSON object";
        if (span_eq(role, "\"user\"")) last_user = content;
      }
      if (e < 0) return "invalid JSON in messages";
      have_messages = 1;
      r->messages = (struct span){start, (size_t)(j.p - start)};
      continue;
    }
    if (jvalue(&j, 1)) return "invalid JSON";
    struct span v = {start, (size_t)(j.p - start)};
    if (span_eq(key, "model") && v.p[0] == '"')
      r->model = v;
    else if (span_eq(key, "tools") && !span_eq(v, "null"))
      r->has_tools = 1;
  }
  if (k < 0) return "invalid JSON";
  jws(&j);
  if (j.p != j.end) return "trailing bytes after the JSON body";
  if (!have_messages) return "messages is missing";
  if (last_user.n >= 2 && last_user.p[0] == '"' &&
      !memchr(last_user.p, '\\', last_user.n)) { /* no escapes: read it in place */
    r->text = last_user.p + 1;
    r->text_len = last_user.n - 2;
    return NULL;
  }
  struct buf t = {0};
  content_text(&t, last_user);
  if (t.oom) {
    free(t.p);
    return "out of memory";
  }
  r->text = r->text_buf = t.p;
  r->text_len = t.len;
  return NULL;
}

/* Whether the (already validated) body has the top-level member `name`. */
static int has_member(const struct req *r, struct span name) {
  struct jp j = {r->body, r->body + r->len};
  struct span key;
  int first = 1;
  jws(&j);
  j.p++; /* '{' */
  while (jmember(&j, &key, &first) == 1) {
    if (key.n == name.n && memcmp(key.p, name.p, name.n) == 0) return 1;
    if (jvalue(&j, 1)) return 0;
  }
  return 0;
}

/* ---------------------------------------------------------------- directives */

static int parse_long(struct span v, long lo, long hi, long *out) {
  char tmp[32];
  if (v.n == 0 || v.n >= sizeof tmp) return -1;
  memcpy(tmp, v.p, v.n);
  tmp[v.n] = 0;
  char *end;
  errno = 0;
  long x = strtol(tmp, &end, 10);
  if (errno || *end || x < lo || x > hi) return -1;
  *out = x;
  return 0;
}

/* Applies one "key[=value]" item. Returns 0, or -1 with a message in err. */
static int apply_directive(struct plan *pl, struct span key, struct span val, int has_val,
                           char *err, size_t errlen) {
  long n = 0;
  if (span_eq(key, "reply") && has_val) {
    pl->reply = val;
    pl->has_reply = 1;
  } else if (span_eq(key, "reasoning") && has_val) {
    pl->reasoning = val;
  } else if (span_eq(key, "finish_reason") && has_val && val.n) {
    pl->finish = val;
  } else if (span_eq(key, "tool_call") && has_val) {
    const char *colon = memchr(val.p, ':', val.n);
    if (!colon || colon == val.p) goto bad;
    if (pl->n_tools >= MAX_TOOL_CALLS) {
      snprintf(err, errlen, "more than %d tool_call directives", MAX_TOOL_CALLS);
      return -1;
    }
    struct tool_call *tc = &pl->tools[pl->n_tools++];
    tc->name = (struct span){val.p, (size_t)(colon - val.p)};
    tc->args = (struct span){colon + 1, val.n - (size_t)(colon - val.p) - 1};
  } else if (span_eq(key, "latency_ms") && has_val && !parse_long(val, 0, 86400000, &n)) {
    pl->latency_ms = n;
  } else if (span_eq(key, "status") && has_val && !parse_long(val, 200, 599, &n)) {
    pl->status = (int)n;
    pl->action = n == 200 ? ACT_REPLY : ACT_STATUS;
    pl->faulted = 1;
  } else if (span_eq(key, "retry_after") && has_val && !parse_long(val, 0, 86400, &n)) {
    pl->retry_after = n;
  } else if (span_eq(key, "reset") && !has_val) {
    pl->action = ACT_RESET;
    pl->faulted = 1;
  } else if (span_eq(key, "stall") && (!has_val || !parse_long(val, 0, 86400000, &n))) {
    pl->action = ACT_STALL;
    pl->stall_ms = has_val ? n : -1;
    pl->faulted = 1;
  } else if (span_eq(key, "malformed") && !has_val) {
    pl->action = ACT_MALFORMED;
    pl->faulted = 1;
  } else if (span_eq(key, "truncated") && !has_val) {
    pl->action = ACT_TRUNCATED;
    pl->faulted = 1;
  } else if (span_eq(key, "oversized") && has_val && !parse_long(val, 0, MAX_PAD, &n)) {
    pl->pad_to = (size_t)n;
  } else if (span_eq(key, "reject") && has_val && val.n) {
    pl->reject = val;
  } else if (span_eq(key, "fail_first") && has_val && !parse_long(val, 0, 1000000, &n)) {
    pl->fail_first = n;
    pl->faulted = 1;
  } else if (span_eq(key, "echo")) {
    if (!has_val || span_eq(val, "messages"))
      pl->echo = ECHO_MESSAGES;
    else if (span_eq(val, "body"))
      pl->echo = ECHO_BODY;
    else
      goto bad;
  } else {
    goto bad;
  }
  return 0;
bad:
  snprintf(err, errlen, "bad mock directive '%.*s%s%.*s'", (int)(key.n > 40 ? 40 : key.n), key.p,
           has_val ? "=" : "", (int)(val.n > 40 ? 40 : val.n), val.p);
  return -1;
}

/* Reads every [[mock:...]] block of the text. Items are comma-separated key[=value]; reply,
** reasoning and tool_call take the rest of the block as their value (commas included). */
static int parse_directives(struct req *r, char *err, size_t errlen) {
  struct plan *pl = &r->plan;
  if (!r->text) return 0;
  const char *p = r->text, *end = r->text + r->text_len;
  while (p < end) {
    const char *open = memmem(p, (size_t)(end - p), "[[mock:", 7);
    if (!open) break;
    const char *body = open + 7;
    const char *close = memmem(body, (size_t)(end - body), "]]", 2);
    if (!close) {
      snprintf(err, errlen, "unterminated [[mock: directive");
      return -1;
    }
    const char *q = body;
    while (q < close) {
      const char *kend = q;
      while (kend < close && *kend != '=' && *kend != ',')
        kend++;
      struct span key = {q, (size_t)(kend - q)}, val = {kend, 0};
      int has_val = kend < close && *kend == '=';
      const char *next;
      if (has_val &&
          (span_eq(key, "reply") || span_eq(key, "tool_call") || span_eq(key, "reasoning"))) {
        val = (struct span){kend + 1, (size_t)(close - kend - 1)};
        next = close;
      } else if (has_val) {
        const char *vend = memchr(kend + 1, ',', (size_t)(close - kend - 1));
        if (!vend) vend = close;
        val = (struct span){kend + 1, (size_t)(vend - kend - 1)};
        next = vend < close ? vend + 1 : close;
      } else {
        next = kend < close ? kend + 1 : close;
      }
      if (key.n && apply_directive(pl, key, val, has_val, err, errlen)) return -1;
      q = next;
    }
    p = close + 2;
  }
  return 0;
}

/* ---------------------------------------------------------------- fail_first memory */

/* Returns the attempt number (1-based) of this prompt hash. */
static unsigned long ff_attempt(uint64_t key) {
  if (key == 0) key = 1;
  pthread_mutex_lock(&ff_mu);
  if (2 * (ff_len + 1) > ff_cap) {
    size_t cap = ff_cap ? 2 * ff_cap : 64;
    struct ff_entry *t = calloc(cap, sizeof *t);
    if (!t) {
      pthread_mutex_unlock(&ff_mu);
      return ULONG_MAX;
    }
    for (size_t i = 0; i < ff_cap; i++) {
      if (!ff_table[i].key) continue;
      size_t h = (size_t)ff_table[i].key & (cap - 1);
      while (t[h].key)
        h = (h + 1) & (cap - 1);
      t[h] = ff_table[i];
    }
    free(ff_table);
    ff_table = t;
    ff_cap = cap;
  }
  size_t h = (size_t)key & (ff_cap - 1);
  while (ff_table[h].key && ff_table[h].key != key)
    h = (h + 1) & (ff_cap - 1);
  if (!ff_table[h].key) {
    ff_table[h].key = key;
    ff_len++;
  }
  unsigned long n = ++ff_table[h].count;
  pthread_mutex_unlock(&ff_mu);
  return n;
}

/* ---------------------------------------------------------------- timers */

static void heap_swap(size_t a, size_t b) {
  struct timer_entry t = heap[a];
  heap[a] = heap[b];
  heap[b] = t;
}

/* Suspends c and adds its resume timer; returns -1 (c not suspended) when stopping or out of
** memory. Suspending under timer_mu means the timer thread can never resume c first. */
static int suspend_until(struct MHD_Connection *c, uint64_t due_ns) {
  pthread_mutex_lock(&timer_mu);
  if (stopping) goto fail;
  if (heap_len == heap_cap) {
    size_t cap = heap_cap ? 2 * heap_cap : 1024;
    struct timer_entry *h = realloc(heap, cap * sizeof *h);
    if (!h) goto fail;
    heap = h;
    heap_cap = cap;
  }
  MHD_suspend_connection(c);
  size_t i = heap_len++;
  heap[i] = (struct timer_entry){due_ns, c};
  while (i > 0 && heap[(i - 1) / 2].due_ns > heap[i].due_ns) {
    heap_swap(i, (i - 1) / 2);
    i = (i - 1) / 2;
  }
  if (i == 0) pthread_cond_signal(&timer_cv);
  pthread_mutex_unlock(&timer_mu);
  return 0;
fail:
  pthread_mutex_unlock(&timer_mu);
  return -1;
}

static struct MHD_Connection *heap_pop(void) {
  struct MHD_Connection *c = heap[0].conn;
  heap[0] = heap[--heap_len];
  size_t i = 0;
  for (;;) {
    size_t l = 2 * i + 1, m = i;
    if (l < heap_len && heap[l].due_ns < heap[m].due_ns) m = l;
    if (l + 1 < heap_len && heap[l + 1].due_ns < heap[m].due_ns) m = l + 1;
    if (m == i) break;
    heap_swap(i, m);
    i = m;
  }
  return c;
}

/* Resumes connections whose time has come; on stop, resumes all of them (they then close). */
static void *timer_main(void *arg) {
  (void)arg;
  pthread_mutex_lock(&timer_mu);
  for (;;) {
    uint64_t now = now_ns();
    while (heap_len && (stopping || heap[0].due_ns <= now))
      MHD_resume_connection(heap_pop());
    if (stopping) break;
    if (!heap_len) {
      pthread_cond_wait(&timer_cv, &timer_mu);
      continue;
    }
    uint64_t due = heap[0].due_ns;
    struct timespec ts = {(time_t)(due / 1000000000u), (long)(due % 1000000000u)};
    pthread_cond_timedwait(&timer_cv, &timer_mu, &ts);
  }
  pthread_mutex_unlock(&timer_mu);
  return NULL;
}

/* ---------------------------------------------------------------- replies */

static void gen_free(void *cls) {
  struct gen *g = cls;
  free(g->head.p);
  free(g->tail.p);
  free(g);
}

static ssize_t gen_read(void *cls, uint64_t pos, char *out, size_t max) {
  struct gen *g = cls;
  if (pos >= g->cut)
    return g->cut < g->total ? MHD_CONTENT_READER_END_WITH_ERROR : MHD_CONTENT_READER_END_OF_STREAM;
  size_t n = 0;
  while (n < max && pos < g->cut) {
    uint64_t room = g->cut - pos, take;
    if (room > max - n) room = max - n;
    if (pos < g->head.len) {
      take = g->head.len - pos;
      take = take < room ? take : room;
      memcpy(out + n, g->head.p + pos, (size_t)take);
    } else if (pos < g->head.len + g->pad) {
      take = g->head.len + g->pad - pos;
      take = take < room ? take : room;
      memset(out + n, ' ', (size_t)take);
    } else {
      take = g->total - pos;
      take = take < room ? take : room;
      memcpy(out + n, g->tail.p + (pos - g->head.len - g->pad), (size_t)take);
    }
    n += (size_t)take;
    pos += take;
  }
  return (ssize_t)n;
}

static enum MHD_Result queue(struct MHD_Connection *c, int status, struct MHD_Response *resp,
                             uint64_t body_len, long retry_after, int chat) {
  if (!resp) return MHD_NO;
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
  if (retry_after >= 0) {
    char tmp[24];
    snprintf(tmp, sizeof tmp, "%ld", retry_after);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, tmp);
  }
  enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, resp);
  MHD_destroy_response(resp);
  if (chat) {
    count_status(status);
    stat_add(&st.bytes_out, body_len);
  }
  return ret;
}

/* Queues a body held in b (ownership passes to MHD). */
static enum MHD_Result queue_buf(struct MHD_Connection *c, int status, struct buf *b,
                                 long retry_after, int chat) {
  if (b->oom) {
    free(b->p);
    return MHD_NO;
  }
  struct MHD_Response *resp = MHD_create_response_from_buffer(b->len, b->p, MHD_RESPMEM_MUST_FREE);
  if (!resp) {
    free(b->p);
    return MHD_NO;
  }
  return queue(c, status, resp, b->len, retry_after, chat);
}

static enum MHD_Result reply_error(struct MHD_Connection *c, int status, const char *msg,
                                   long retry_after, int chat) {
  struct buf b = {0};
  buf_str(&b, "{\"error\":{\"message\":\"");
  buf_escape(&b, msg, strlen(msg));
  buf_str(&b, "\",\"type\":\"mock_error\",\"code\":");
  buf_u64(&b, (uint64_t)status);
  buf_str(&b, "}}");
  return queue_buf(c, status, &b, retry_after, chat);
}

/* Builds a chat.completion: head (up to the padding point inside content), pad, tail. */
static void build_completion(struct req *r, struct gen *g) {
  struct plan *pl = &r->plan;
  struct buf *h = &g->head, *t = &g->tail;
  uint64_t id = atomic_fetch_add(&st.reply_seq, 1) + 1;
  const char *content = opt.reply;
  size_t content_len = strlen(opt.reply);
  if (pl->has_reply) {
    content = pl->reply.p;
    content_len = pl->reply.n;
  }
  if (pl->echo == ECHO_MESSAGES) {
    content = r->messages.p;
    content_len = r->messages.n;
  } else if (pl->echo == ECHO_BODY) {
    content = r->body;
    content_len = r->len;
  }
  int null_content = pl->n_tools > 0 && !pl->has_reply && pl->echo == ECHO_NONE;

  buf_str(h, "{\"id\":\"chatcmpl-mock-");
  buf_u64(h, id);
  buf_str(h, "\",\"object\":\"chat.completion\",\"created\":");
  buf_u64(h, (uint64_t)time(NULL));
  buf_str(h, ",\"model\":");
  if (r->model.n) {
    buf_add(h, r->model.p, r->model.n);
  } else {
    buf_str(h, "\"");
    buf_escape(h, opt.model, strlen(opt.model));
    buf_str(h, "\"");
  }
  buf_str(h, ",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":");
  size_t pad_to = pl->pad_to ? pl->pad_to : (size_t)opt.reply_bytes;
  g->pad = 0;
  if (null_content) {
    buf_str(h, "null");
  } else {
    buf_str(h, "\"");
    buf_escape(h, content, content_len);
    if (pad_to > content_len) g->pad = pad_to - content_len;
    buf_str(t, "\"");
  }
  if (pl->reasoning.p) {
    buf_str(t, ",\"reasoning_content\":\"");
    buf_escape(t, pl->reasoning.p, pl->reasoning.n);
    buf_str(t, "\"");
  }
  if (pl->n_tools) {
    buf_str(t, ",\"tool_calls\":[");
    for (int i = 0; i < pl->n_tools; i++) {
      buf_str(t, i ? ",{\"id\":\"call_mock_" : "{\"id\":\"call_mock_");
      buf_u64(t, id);
      buf_str(t, "_");
      buf_u64(t, (uint64_t)i);
      buf_str(t, "\",\"type\":\"function\",\"function\":{\"name\":\"");
      buf_escape(t, pl->tools[i].name.p, pl->tools[i].name.n);
      buf_str(t, "\",\"arguments\":\"");
      buf_escape(t, pl->tools[i].args.p, pl->tools[i].args.n);
      buf_str(t, "\"}}");
    }
    buf_str(t, "]");
  }
  buf_str(t, "},\"finish_reason\":\"");
  if (pl->finish.p)
    buf_escape(t, pl->finish.p, pl->finish.n);
  else
    buf_str(t, pl->n_tools ? "tool_calls" : "stop");
  uint64_t prompt = r->len / 4 ? r->len / 4 : 1;
  uint64_t completion = (null_content ? 0 : content_len + g->pad) / 4;
  for (int i = 0; i < pl->n_tools; i++)
    completion += (pl->tools[i].name.n + pl->tools[i].args.n) / 4;
  if (!completion) completion = 1;
  buf_str(t, "\"}],\"usage\":{\"prompt_tokens\":");
  buf_u64(t, prompt);
  buf_str(t, ",\"completion_tokens\":");
  buf_u64(t, completion);
  buf_str(t, ",\"total_tokens\":");
  buf_u64(t, prompt + completion);
  buf_str(t, "}}");
  g->total = g->head.len + g->pad + g->tail.len;
  g->cut = g->total;
}

static enum MHD_Result reply_completion(struct MHD_Connection *c, struct req *r) {
  struct gen *g = calloc(1, sizeof *g);
  if (!g) return MHD_NO;
  build_completion(r, g);
  if (g->head.oom || g->tail.oom) {
    gen_free(g);
    return MHD_NO;
  }
  enum action act = r->plan.action;
  if (act == ACT_MALFORMED) {
    stat_add(&st.malformed, 1);
    g->pad = 0; /* half of a reply is never valid JSON: its closing brace is missing */
    g->total = g->cut = (g->head.len + g->tail.len) / 2;
  } else if (act == ACT_TRUNCATED) {
    stat_add(&st.truncated, 1);
    g->cut = g->total / 2;
  }
  if (g->cut == g->total && g->total <= SMALL_BODY) { /* the common case: one buffer */
    struct buf b = g->head;
    g->head = (struct buf){0};
    if (!buf_reserve(&b, (size_t)g->pad + g->tail.len)) {
      memset(b.p + b.len, ' ', (size_t)g->pad);
      b.len += (size_t)g->pad;
      buf_add(&b, g->tail.p, g->tail.len);
    }
    b.len = (size_t)g->total; /* malformed: keep only the first half */
    gen_free(g);
    return queue_buf(c, 200, &b, -1, 1);
  }
  uint64_t total = g->total;
  struct MHD_Response *resp =
      MHD_create_response_from_callback(total, 64 * 1024, gen_read, g, gen_free);
  if (!resp) {
    gen_free(g);
    return MHD_NO;
  }
  return queue(c, 200, resp, g->cut, -1, 1);
}

static enum MHD_Result reset_connection(struct MHD_Connection *c) {
  const union MHD_ConnectionInfo *ci =
      MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
  if (ci) {
    struct linger lg = {1, 0}; /* close() then sends RST instead of FIN */
    setsockopt(ci->connect_fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  }
  stat_add(&st.resets, 1);
  return MHD_NO;
}

/* Carries out the plan (after any latency). */
static enum MHD_Result act(struct MHD_Connection *c, struct req *r) {
  struct plan *pl = &r->plan;
  r->state = ST_DONE;
  switch (pl->action) {
  case ACT_RESET:
    return reset_connection(c);
  case ACT_STALL:
    return MHD_NO; /* the stall is over: close without a reply */
  case ACT_STATUS: {
    char msg[64];
    snprintf(msg, sizeof msg, "mock status %d", pl->status);
    return reply_error(c, pl->status, msg, pl->retry_after, 1);
  }
  default:
    return reply_completion(c, r);
  }
}

/* Decides the outcome of a parsed chat request: fail_first, then the global fault draw. */
static void decide(struct req *r) {
  struct plan *pl = &r->plan;
  if (pl->fail_first > 0 && pl->action == ACT_REPLY) {
    uint64_t h = fnv1a(0xcbf29ce484222325u, r->model.p ? r->model.p : "", r->model.n);
    h = fnv1a(h, r->messages.p, r->messages.n);
    if (ff_attempt(h) <= (unsigned long)pl->fail_first) {
      pl->action = ACT_STATUS;
      pl->status = 500;
    }
  }
  if (pl->faulted) return;
  uint64_t k = atomic_fetch_add(&st.fault_seq, 1);
  double u = (double)(splitmix64((uint64_t)opt.seed * 0x9e3779b97f4a7c15u + k) >> 11) * 0x1p-53;
  if ((u -= opt.fail_rate) < 0) {
    pl->action = ACT_STATUS;
    pl->status = 500;
  } else if ((u -= opt.rate_429) < 0) {
    pl->action = ACT_STATUS;
    pl->status = 429;
    pl->retry_after = opt.retry_after;
  } else if ((u -= opt.reset_rate) < 0) {
    pl->action = ACT_RESET;
  } else if ((u -= opt.stall_rate) < 0) {
    pl->action = ACT_STALL;
  } else if ((u -= opt.malformed_rate) < 0) {
    pl->action = ACT_MALFORMED;
  } else if ((u -= opt.truncated_rate) < 0) {
    pl->action = ACT_TRUNCATED;
  }
}

static int authorized(struct MHD_Connection *c) {
  if (!opt.require_key) return 1;
  const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
  return h && strncmp(h, "Bearer ", 7) == 0 && strcmp(h + 7, opt.require_key) == 0;
}

static enum MHD_Result handle_chat(struct MHD_Connection *c, struct req *r) {
  char err[160];
  if (!authorized(c)) return reply_error(c, 401, "mock: missing or wrong API key", -1, 1);
  if (r->too_large) return reply_error(c, 413, "mock: request body too large", -1, 1);
  if (log_file && r->body) {
    pthread_mutex_lock(&log_mu);
    fwrite(r->body, 1, r->len, log_file);
    fputc('\n', log_file);
    fflush(log_file);
    pthread_mutex_unlock(&log_mu);
  }
  const char *perr = parse_chat(r);
  if (perr) {
    snprintf(err, sizeof err, "mock: %s", perr);
    return reply_error(c, 400, err, -1, 1);
  }
  if (r->has_tools) stat_add(&st.tool_requests, 1);
  struct plan *pl = &r->plan;
  pl->retry_after = pl->stall_ms = pl->latency_ms = -1;
  if (parse_directives(r, err, sizeof err)) return reply_error(c, 400, err, -1, 1);
  if (pl->reject.n && has_member(r, pl->reject)) { /* as servers refuse unknown parameters */
    snprintf(err, sizeof err, "mock: unsupported parameter '%.*s'", (int)pl->reject.n,
             pl->reject.p);
    return reply_error(c, 400, err, -1, 1);
  }
  decide(r);
  long delay = pl->latency_ms >= 0 ? pl->latency_ms : opt.latency_ms;
  if (pl->action == ACT_STALL) {
    stat_add(&st.stalls, 1);
    delay = pl->stall_ms >= 0 ? pl->stall_ms : opt.stall_ms;
  }
  if (delay <= 0) return act(c, r);
  if (suspend_until(c, now_ns() + (uint64_t)delay * 1000000u)) return MHD_NO;
  r->state = ST_WAITING;
  return MHD_YES;
}

static enum MHD_Result reply_stats(struct MHD_Connection *c) {
  struct buf b = {0};
  struct {
    const char *name;
    atomic_ullong *v;
  } fields[] = {
      {"requests", &st.requests},
      {"in_flight", &st.in_flight},
      {"peak_in_flight", &st.peak_in_flight},
      {"bytes_in", &st.bytes_in},
      {"bytes_out", &st.bytes_out},
      {"resets", &st.resets},
      {"stalls", &st.stalls},
      {"malformed", &st.malformed},
      {"truncated", &st.truncated},
      {"tool_requests", &st.tool_requests},
      {"connections", &st.connections},
      {"open_connections", &st.open_connections},
  };
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
    buf_str(&b, i ? ",\"" : "{\"");
    buf_str(&b, fields[i].name);
    buf_str(&b, "\":");
    buf_u64(&b, atomic_load(fields[i].v));
  }
  buf_str(&b, ",\"by_status\":{");
  int any = 0;
  for (int s = 100; s < 600; s++) {
    uint64_t n = atomic_load(&st.by_status[s]);
    if (!n) continue;
    buf_str(&b, any++ ? ",\"" : "\"");
    buf_u64(&b, (uint64_t)s);
    buf_str(&b, "\":");
    buf_u64(&b, n);
  }
  buf_str(&b, "}}");
  return queue_buf(c, 200, &b, -1, 0);
}

static void reset_stats(void) {
  atomic_ullong *zero[] = {&st.requests,    &st.bytes_in,  &st.bytes_out, &st.resets,
                           &st.stalls,      &st.malformed, &st.truncated, &st.tool_requests,
                           &st.connections, &st.fault_seq};
  for (size_t i = 0; i < sizeof zero / sizeof zero[0]; i++)
    atomic_store(zero[i], 0);
  for (int s = 0; s < 600; s++)
    atomic_store(&st.by_status[s], 0);
  atomic_store(&st.peak_in_flight, atomic_load(&st.in_flight));
  pthread_mutex_lock(&ff_mu);
  free(ff_table);
  ff_table = NULL;
  ff_len = ff_cap = 0;
  pthread_mutex_unlock(&ff_mu);
}

static enum MHD_Result reply_text(struct MHD_Connection *c, int status, const char *body) {
  struct buf b = {0};
  buf_str(&b, body);
  return queue_buf(c, status, &b, -1, 0);
}

static enum route route_of(const char *url, const char *method) {
  int get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0;
  if (!strcmp(url, "/v1/chat/completions") || !strcmp(url, "/chat/completions"))
    return post ? R_CHAT : R_BAD_METHOD;
  if (!strcmp(url, "/stats")) return get ? R_STATS : R_BAD_METHOD;
  if (!strcmp(url, "/reset-stats")) return post ? R_RESET_STATS : R_BAD_METHOD;
  if (!strcmp(url, "/healthz")) return get ? R_HEALTHZ : R_BAD_METHOD;
  if (!strcmp(url, "/v1/models") || !strcmp(url, "/models")) return get ? R_MODELS : R_BAD_METHOD;
  return R_NOT_FOUND;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls) {
  (void)cls;
  (void)version;
  struct req *r = *con_cls;
  if (!r) { /* headers received */
    r = calloc(1, sizeof *r);
    if (!r) return MHD_NO;
    *con_cls = r;
    r->route = route_of(url, method);
    if (r->route == R_CHAT) {
      r->counted = 1;
      stat_add(&st.requests, 1);
      uint64_t n = atomic_fetch_add(&st.in_flight, 1) + 1;
      uint64_t peak = atomic_load(&st.peak_in_flight);
      while (n > peak && !atomic_compare_exchange_weak(&st.peak_in_flight, &peak, n)) {
      }
      const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
      unsigned long long want = cl ? strtoull(cl, NULL, 10) : 0;
      if (want > (unsigned long long)opt.max_body)
        r->too_large = 1;
      else if (want && (r->body = malloc(want < MAX_PREALLOC ? (size_t)want : MAX_PREALLOC)))
        r->cap = want < MAX_PREALLOC ? (size_t)want : MAX_PREALLOC;
    }
    return MHD_YES;
  }
  if (*upload_size) { /* a piece of the body */
    size_t n = *upload_size;
    *upload_size = 0;
    if (r->route != R_CHAT) return MHD_YES;
    stat_add(&st.bytes_in, n);
    if (r->too_large || r->len + n > (size_t)opt.max_body) {
      r->too_large = 1;
      return MHD_YES;
    }
    if (r->len + n > r->cap) {
      size_t cap = r->cap ? r->cap : 4096;
      while (cap < r->len + n)
        cap *= 2;
      char *p = realloc(r->body, cap);
      if (!p) return MHD_NO;
      r->body = p;
      r->cap = cap;
    }
    memcpy(r->body + r->len, upload, n);
    r->len += n;
    return MHD_YES;
  }
  if (r->state == ST_WAITING) { /* resumed after the latency */
    pthread_mutex_lock(&timer_mu);
    int stop = stopping;
    pthread_mutex_unlock(&timer_mu);
    if (stop) return MHD_NO;
    return act(c, r);
  }
  if (r->state == ST_DONE) return MHD_NO;
  switch (r->route) {
  case R_CHAT:
    return handle_chat(c, r);
  case R_STATS:
    return reply_stats(c);
  case R_RESET_STATS:
    reset_stats();
    return reply_text(c, 200, "{\"ok\":true}");
  case R_HEALTHZ:
    return reply_text(c, 200, "{\"ok\":true}");
  case R_MODELS:
    return reply_text(c, 200,
                      "{\"object\":\"list\",\"data\":[{\"id\":\"mock\",\"object\":"
                      "\"model\",\"owned_by\":\"srm-mock\"}]}");
  case R_BAD_METHOD:
    return reply_error(c, 405, "mock: method not allowed", -1, 0);
  default:
    return reply_error(c, 404, "mock: no such path", -1, 0);
  }
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
  (void)cls;
  (void)c;
  (void)toe;
  struct req *r = *con_cls;
  if (!r) return;
  if (r->counted) atomic_fetch_sub(&st.in_flight, 1);
  free(r->body);
  free(r->text_buf);
  free(r);
  *con_cls = NULL;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe) {
  (void)cls;
  (void)c;
  (void)socket_context;
  if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
    stat_add(&st.connections, 1);
    stat_add(&st.open_connections, 1);
  } else {
    atomic_fetch_sub(&st.open_connections, 1);
  }
}

/* MHD's error log, less the lines about the closures the mock causes on purpose. */
static void log_mhd(void *cls, const char *fmt, va_list ap) {
  (void)cls;
  char msg[512];
  vsnprintf(msg, sizeof msg, fmt, ap);
  if (strstr(msg, "pplication reported")) return;
  fprintf(stderr, "srm-mock: %s", msg);
}

/* ---------------------------------------------------------------- main */

static void usage(FILE *f) {
  fputs("usage: srm-mock [options]\n"
        "  --host ADDR           listen address (default 127.0.0.1)\n"
        "  --port N              port, 0 = any free port (default 0)\n"
        "  --port-file PATH      write the bound port here once listening\n"
        "  --pid-file PATH       write the process id here\n"
        "  --require-key KEY     401 unless 'Authorization: Bearer KEY'\n"
        "  --reply TEXT          default reply content\n"
        "  --reply-bytes N       pad reply content with spaces to N bytes\n"
        "  --latency-ms N        delay before every chat reply\n"
        "  --fail-rate P         fraction of chat requests answered 500\n"
        "  --rate-429 P          fraction answered 429 with Retry-After\n"
        "  --retry-after S       Retry-After seconds of injected 429s (default 1)\n"
        "  --reset-rate P        fraction whose connection is reset\n"
        "  --stall-rate P        fraction never answered (until --stall-ms, then closed)\n"
        "  --stall-ms N          how long a stall lasts (default 120000)\n"
        "  --malformed-rate P    fraction answered 200 with invalid JSON\n"
        "  --truncated-rate P    fraction whose body stops short of Content-Length\n"
        "  --seed N              seed of the fault draws (default 0)\n"
        "  --threads N           MHD worker threads (default 1)\n"
        "  --max-body BYTES      413 above this request size (default 64 MiB)\n"
        "  --idle-timeout S      close idle keep-alive connections after S seconds (default "
        "120)\n"
        "  --model NAME          model name when the request has none (default mock)\n"
        "  --parent-pid PID      exit when process PID has gone\n"
        "  --log FILE            append every chat request body to FILE, one per line\n",
        f);
}

/* Writes "value\n" to path atomically (a reader never sees a half-written file). */
static int write_file(const char *path, unsigned long value) {
  char tmp[4096];
  if (snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid()) >= (int)sizeof tmp) return -1;
  FILE *f = fopen(tmp, "w");
  if (!f) return -1;
  int bad = fprintf(f, "%lu\n", value) < 0;
  bad |= fclose(f) != 0;
  if (bad || rename(tmp, path) != 0) {
    unlink(tmp);
    return -1;
  }
  return 0;
}

/* Returns on SIGTERM/SIGINT, or once --parent-pid has gone (a test that died leaves no mock). */
static void wait_for_stop(const sigset_t *sigs) {
  struct timespec tick = {0, 200 * 1000000};
  for (;;) {
    if (sigtimedwait(sigs, NULL, &tick) >= 0) return;
    if (opt.parent_pid > 0 && kill((pid_t)opt.parent_pid, 0) != 0 && errno == ESRCH) return;
  }
}

enum opt_kind { O_STR, O_INT, O_RATE };

static const struct opt_spec {
  const char *name;
  enum opt_kind kind;
  void *dst;
  long max;
} opt_specs[] = {
    {"host", O_STR, &opt.host, 0},
    {"port", O_INT, &opt.port, 65535},
    {"port-file", O_STR, &opt.port_file, 0},
    {"pid-file", O_STR, &opt.pid_file, 0},
    {"parent-pid", O_INT, &opt.parent_pid, INT_MAX},
    {"require-key", O_STR, &opt.require_key, 0},
    {"reply", O_STR, &opt.reply, 0},
    {"reply-bytes", O_INT, &opt.reply_bytes, MAX_PAD},
    {"latency-ms", O_INT, &opt.latency_ms, 86400000},
    {"fail-rate", O_RATE, &opt.fail_rate, 0},
    {"rate-429", O_RATE, &opt.rate_429, 0},
    {"retry-after", O_INT, &opt.retry_after, 86400},
    {"reset-rate", O_RATE, &opt.reset_rate, 0},
    {"stall-rate", O_RATE, &opt.stall_rate, 0},
    {"stall-ms", O_INT, &opt.stall_ms, 86400000},
    {"malformed-rate", O_RATE, &opt.malformed_rate, 0},
    {"truncated-rate", O_RATE, &opt.truncated_rate, 0},
    {"seed", O_INT, &opt.seed, LONG_MAX},
    {"threads", O_INT, &opt.threads, 64},
    {"max-body", O_INT, &opt.max_body, MAX_PAD},
    {"idle-timeout", O_INT, &opt.idle_timeout, 86400},
    {"model", O_STR, &opt.model, 0},
    {"log", O_STR, &opt.log, 0},
};
#define N_OPTS (sizeof opt_specs / sizeof opt_specs[0])

static int set_option(const struct opt_spec *o, const char *arg) {
  char *end;
  errno = 0;
  if (o->kind == O_STR) {
    *(const char **)o->dst = arg;
  } else if (o->kind == O_RATE) {
    double x = strtod(arg, &end);
    if (errno || end == arg || *end || !(x >= 0 && x <= 1)) goto bad;
    *(double *)o->dst = x;
  } else {
    long x = strtol(arg, &end, 10);
    if (errno || end == arg || *end || x < 0 || x > o->max) goto bad;
    *(long *)o->dst = x;
  }
  return 0;
bad:
  fprintf(stderr, "srm-mock: bad value for --%s: '%s' (%s)\n", o->name, arg,
          o->kind == O_RATE ? "a fraction from 0 to 1" : "a non-negative integer");
  return -1;
}

static int parse_args(int argc, char **argv) {
  struct option longopts[N_OPTS + 2];
  for (size_t i = 0; i < N_OPTS; i++)
    longopts[i] = (struct option){opt_specs[i].name, required_argument, NULL, (int)i};
  longopts[N_OPTS] = (struct option){"help", no_argument, NULL, 'h' + 1000};
  longopts[N_OPTS + 1] = (struct option){0, 0, 0, 0};
  int ch;
  while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
    if (ch == 'h' + 1000) {
      usage(stdout);
      exit(0);
    }
    if (ch < 0 || ch >= (int)N_OPTS) {
      usage(stderr);
      return -1;
    }
    if (set_option(&opt_specs[ch], optarg)) return -1;
  }
  if (optind < argc) {
    fprintf(stderr, "srm-mock: unexpected argument '%s'\n", argv[optind]);
    return -1;
  }
  if (opt.threads < 1) opt.threads = 1;
  return 0;
}

int main(int argc, char **argv) {
  if (parse_args(argc, argv)) return 2;
  if (opt.log && !(log_file = fopen(opt.log, "ae"))) {
    fprintf(stderr, "srm-mock: cannot open --log %s\n", opt.log);
    return 2;
  }

  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  /* poll, not epoll: with libmicrohttpd 0.9.75's epoll mode and hundreds of connections in
  ** flight the daemon now and then stopped reading request bodies that sat in its sockets until
  ** another connection arrived (a run then waited out srm's 120 s call timeout); with poll it
  ** never did, at the same speed. */
  unsigned flags =
      MHD_USE_POLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_TURBO | MHD_USE_ERROR_LOG;
  struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
  struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
  if (inet_pton(AF_INET, opt.host, &sin->sin_addr) == 1) {
    sin->sin_family = AF_INET;
    sin->sin_port = htons((uint16_t)opt.port);
  } else if (inet_pton(AF_INET6, opt.host, &sin6->sin6_addr) == 1) {
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons((uint16_t)opt.port);
    flags |= MHD_USE_IPv6;
  } else {
    fprintf(stderr, "srm-mock: --host needs a numeric address, got '%s'\n", opt.host);
    return 2;
  }

  /* As many connections as file descriptors allow. */
  struct rlimit rl;
  unsigned conn_limit = 1000;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur > 200) conn_limit = (unsigned)(rl.rlim_cur > 1000000 ? 1000000 : rl.rlim_cur);
    conn_limit -= 64;
  }

  /* SIGTERM/SIGINT are taken by sigwait in this thread; every other thread blocks them. */
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigs, NULL);
  signal(SIGPIPE, SIG_IGN);

  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&timer_cv, &ca);
  pthread_condattr_destroy(&ca);
  pthread_t timer;
  if (pthread_create(&timer, NULL, timer_main, NULL) != 0) {
    fprintf(stderr, "srm-mock: cannot start the timer thread\n");
    return 1;
  }

  struct MHD_OptionItem ops[] = {
      {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)log_mhd, NULL},
      {MHD_OPTION_SOCK_ADDR, 0, &ss},
      {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, NULL},
      {MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, NULL},
      {MHD_OPTION_CONNECTION_LIMIT, conn_limit, NULL},
      {MHD_OPTION_LISTEN_BACKLOG_SIZE, 4096, NULL},
      {MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)opt.idle_timeout, NULL},
      {MHD_OPTION_CONNECTION_MEMORY_LIMIT, 24 * 1024, NULL},
      {MHD_OPTION_CONNECTION_MEMORY_INCREMENT, 8 * 1024, NULL},
      {opt.threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, (unsigned)opt.threads, NULL},
      {MHD_OPTION_END, 0, NULL},
  };
  struct MHD_Daemon *d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, NULL, MHD_OPTION_ARRAY,
                                          ops, MHD_OPTION_END);
  int rc = 0;
  if (!d) {
    fprintf(stderr, "srm-mock: cannot listen on %s port %ld\n", opt.host, opt.port);
    rc = 1;
  } else {
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    unsigned port = info ? info->port : (unsigned)opt.port;
    if (opt.pid_file && write_file(opt.pid_file, (unsigned long)getpid())) {
      fprintf(stderr, "srm-mock: cannot write %s\n", opt.pid_file);
      rc = 1;
    } else if (opt.port_file && write_file(opt.port_file, port)) {
      fprintf(stderr, "srm-mock: cannot write %s\n", opt.port_file);
      rc = 1;
    } else {
      if (!opt.port_file) fprintf(stderr, "srm-mock: listening on %s port %u\n", opt.host, port);
      wait_for_stop(&sigs);
    }
  }

  /* Stop: resume every waiting connection (they close), then stop the daemon. */
  pthread_mutex_lock(&timer_mu);
  stopping = 1;
  pthread_cond_signal(&timer_cv);
  pthread_mutex_unlock(&timer_mu);
  pthread_join(timer, NULL);
  if (d) MHD_stop_daemon(d);
  free(heap);
  free(ff_table);
  if (log_file) fclose(log_file);
  pthread_cond_destroy(&timer_cv);
  return rc;
}
