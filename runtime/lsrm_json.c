/* srm: srm.json, JSON for skills and for the row writer. Decoding is srm_json_decode.c (why not
** lua-cjson: see there); encoding is our own C encoder, because srm's rows must be
** reproducible byte for byte: object keys are sorted, integers are exact, floats use the
** shortest text that round-trips, and the output is always valid UTF-8. The encoder never calls
** Lua and keeps its buffers in a per-state scratch userdata, so a row costs no allocation once
** the scratch has grown. See srm_json.h for the C entry point. */
#include "srm_json.h"
#include "srm_modules.h"

#include <float.h>
#include <lauxlib.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_MAX_ENCODE_DEPTH 100   /* nested tables json.encode accepts */
#define JSON_MAX_DECODE_DEPTH 10000 /* the decoder recurses on the C stack: bound it */
#define JSON_MAX_INDENT 16
#define JSON_SCRATCH_MIN 4096
#define JSON_SCRATCH_KEEP ((size_t)1 << 20)  /* larger scratch buffers are released after a call */
#define JSON_MAX_SAFE_INT 9007199254740992.0 /* 2^53: integral floats up to it print as x.0 */

/* Registry keys (their addresses). */
static char json_array_mt_key;
static char json_empty_mt_key;
static char json_scratch_key;

/* An object key being sorted: a string key points into the Lua string (alive as long as the
** table, and the encoder runs no Lua code); a number key is formatted into num. */
struct json_key {
  const char *s; /* NULL: the text is in num */
  size_t len;
  int slot; /* stack index of the key; its value sits at slot + 1 */
  int rank; /* position in the `order` option for top-level keys; keys sort by rank first */
  char num[32];
};

#define JSON_MAX_ORDER 32

/* Per-state buffers, grown with the state's allocator and reused across calls. */
struct json_scratch {
  char *out;
  size_t out_cap;
  struct json_key *keys;
  size_t keys_cap; /* in entries */
};

/* Where the encoder is, for error messages: an array index or an object key. */
struct json_step {
  int is_index;
  lua_Integer index; /* 1-based, like the Lua table */
  size_t key;        /* entry in scratch keys */
};

struct json_enc {
  lua_State *L;
  struct json_scratch *s;
  lua_Alloc allocf;
  void *allocud;
  size_t n;     /* bytes written to s->out */
  size_t nkeys; /* entries in use in s->keys */
  const void *array_mt, *empty_mt;
  int indent; /* spaces per level; < 0 for compact output */
  int nan_as_null;
  int norder; /* top-level keys to put first, in this order (the `order` option) */
  const char *order[JSON_MAX_ORDER];
  size_t order_len[JSON_MAX_ORDER];
  int depth; /* tables open */
  const void *open[JSON_MAX_ENCODE_DEPTH];
  struct json_step path[JSON_MAX_ENCODE_DEPTH];
  char *err;
  size_t errlen;
};

/* ---------------------------------------------------------------- scratch */

static int scratch_gc(lua_State *L) {
  struct json_scratch *s = luaL_checkudata(L, 1, "srm.json.scratch");
  void *ud;
  lua_Alloc f = lua_getallocf(L, &ud);
  if (s->out) f(ud, s->out, s->out_cap, 0);
  if (s->keys) f(ud, s->keys, s->keys_cap * sizeof *s->keys, 0);
  s->out = NULL;
  s->keys = NULL;
  s->out_cap = s->keys_cap = 0;
  return 0;
}

/* The state's scratch, created on first use (which may raise a memory error). */
static struct json_scratch *get_scratch(lua_State *L) {
  struct json_scratch *s;
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &json_scratch_key) == LUA_TUSERDATA) {
    s = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return s;
  }
  lua_pop(L, 1);
  s = lua_newuserdatauv(L, sizeof *s, 0); /* scratch */
  memset(s, 0, sizeof *s);
  if (luaL_newmetatable(L, "srm.json.scratch")) {
    lua_pushcfunction(L, scratch_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &json_scratch_key);
  return s;
}

/* Gives back buffers that one large value grew, so a single huge row does not pin memory. */
static void trim_scratch(lua_State *L, struct json_scratch *s) {
  void *ud;
  lua_Alloc f = lua_getallocf(L, &ud);
  if (s->out_cap > JSON_SCRATCH_KEEP) {
    f(ud, s->out, s->out_cap, 0);
    s->out = NULL;
    s->out_cap = 0;
  }
  if (s->keys_cap * sizeof *s->keys > JSON_SCRATCH_KEEP) {
    f(ud, s->keys, s->keys_cap * sizeof *s->keys, 0);
    s->keys = NULL;
    s->keys_cap = 0;
  }
}

/* ---------------------------------------------------------------- numbers */

/* Decimal text of v into buf (>= 21 bytes); returns its length. */
static size_t fmt_integer(char *buf, lua_Integer v) {
  char tmp[24];
  size_t i = sizeof tmp;
  lua_Unsigned u = v < 0 ? 0u - (lua_Unsigned)v : (lua_Unsigned)v;
  do {
    tmp[--i] = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  if (v < 0) tmp[--i] = '-';
  memcpy(buf, tmp + i, sizeof tmp - i);
  return sizeof tmp - i;
}

/* Scores, latencies and probabilities are mostly short decimals (0.75, 21.3). When d reads back
** from m / 10^k with k <= 6 decimals and m under 10^15, that text is the one %.15g would give
** (d is within half an ulp of m / 10^k, far less than %.15g's rounding step, and the smallest k
** leaves no trailing zero), without snprintf and strtod (~3,500 instructions). Only for
** 1e-4 <= |d| < 1e15, where %g prints no exponent. Returns the length, or 0 to take the slow
** path. */
static size_t fmt_short_decimal(char *buf, double d) {
  double a = fabs(d);
  if (!(a >= 1e-4 && a < 1e15)) return 0;
  double scale = 1;
  for (int k = 1; k <= 6; k++) {
    scale *= 10;
    double scaled = a * scale;
    if (scaled >= 1e15) return 0;
    double m = nearbyint(scaled);
    if (m / scale != a) continue;
    uint64_t digits = (uint64_t)m, frac_div = 1;
    for (int i = 0; i < k; i++)
      frac_div *= 10;
    uint64_t whole = digits / frac_div, frac = digits % frac_div;
    size_t len = 0;
    if (d < 0) buf[len++] = '-';
    len += fmt_integer(buf + len, (lua_Integer)whole);
    buf[len++] = '.';
    for (int i = k - 1; i >= 0; i--) {
      buf[len + (size_t)i] = (char)('0' + frac % 10);
      frac /= 10;
    }
    return len + (size_t)k;
  }
  return 0;
}

/* Text of a finite double into buf (>= 32 bytes); returns its length. Integral values within
** 2^53 print as "1.0" (like Python); others use the shortest of %.15g/%.16g/%.17g that reads
** back to the same double (starting lower for subnormals, whose precision is smaller). The text
** always shows it is a float: ".0" is appended when %g printed neither '.' nor an exponent. */
static size_t fmt_double(char *buf, double d) {
  size_t len;
  if (d == 0) {
    len = signbit(d) ? 4 : 3;
    memcpy(buf, signbit(d) ? "-0.0" : "0.0", len);
    return len;
  }
  if (fabs(d) <= JSON_MAX_SAFE_INT && d == floor(d)) {
    len = fmt_integer(buf, (lua_Integer)d);
    memcpy(buf + len, ".0", 2);
    return len + 2;
  }
  if ((len = fmt_short_decimal(buf, d)) > 0) return len;
  for (int prec = fabs(d) < DBL_MIN ? 1 : 15;; prec++) {
    len = (size_t)snprintf(buf, 32, "%.*g", prec, d);
    if (prec >= 17 || strtod(buf, NULL) == d) break;
  }
  if (!memchr(buf, '.', len) && !memchr(buf, 'e', len)) {
    memcpy(buf + len, ".0", 2);
    len += 2;
  }
  return len;
}

/* ---------------------------------------------------------------- errors */

static void path_add(char *buf, size_t cap, size_t *n, const char *s, size_t len) {
  if (*n >= cap) return;
  size_t room = cap - *n;
  if (len > room) len = room;
  memcpy(buf + *n, s, len);
  *n += len;
}

static int is_ident(const char *s, size_t len) {
  if (len == 0 || (s[0] >= '0' && s[0] <= '9')) return 0;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (!(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
      return 0;
  }
  return 1;
}

/* Writes "<what> at <path>" into e->err and returns -1. */
static int enc_fail(struct json_enc *e, const char *what) {
  char path[512];
  size_t n = 0, cap = sizeof path - 4;
  path_add(path, cap, &n, "$", 1);
  for (int d = 0; d < e->depth; d++) {
    const struct json_step *st = &e->path[d];
    char tmp[32];
    if (st->is_index) {
      tmp[0] = '[';
      size_t len = 1 + fmt_integer(tmp + 1, st->index);
      tmp[len++] = ']';
      path_add(path, cap, &n, tmp, len);
      continue;
    }
    const struct json_key *k = &e->s->keys[st->key];
    const char *s = k->s ? k->s : k->num;
    size_t len = k->len;
    if (is_ident(s, len)) {
      path_add(path, cap, &n, ".", 1);
      path_add(path, cap, &n, s, len);
      continue;
    }
    path_add(path, cap, &n, "[\"", 2);
    size_t shown = len > 40 ? 40 : len;
    for (size_t i = 0; i < shown; i++) {
      unsigned char c = (unsigned char)s[i];
      char ch = (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') ? '?' : (char)c;
      path_add(path, cap, &n, &ch, 1);
    }
    if (shown < len) path_add(path, cap, &n, "...", 3);
    path_add(path, cap, &n, "\"]", 2);
  }
  if (n >= cap) memcpy(path + n, "...", 3), n += 3;
  path[n] = '\0';
  if (e->errlen) snprintf(e->err, e->errlen, "%s at %s", what, path);
  return -1;
}

/* ---------------------------------------------------------------- output */

static int grow_out(struct json_enc *e, size_t extra) {
  struct json_scratch *s = e->s;
  if (extra > (size_t)-1 / 2 - e->n) return enc_fail(e, "out of memory");
  size_t need = e->n + extra;
  size_t cap = s->out_cap < JSON_SCRATCH_MIN ? JSON_SCRATCH_MIN : s->out_cap;
  while (cap < need)
    cap *= 2;
  char *p = e->allocf(e->allocud, s->out, s->out_cap, cap);
  if (!p) return enc_fail(e, "out of memory");
  s->out = p;
  s->out_cap = cap;
  return 0;
}

static inline int reserve(struct json_enc *e, size_t extra) {
  return e->s->out_cap - e->n >= extra ? 0 : grow_out(e, extra);
}

static inline int put(struct json_enc *e, const char *p, size_t len) {
  if (reserve(e, len)) return -1;
  memcpy(e->s->out + e->n, p, len);
  e->n += len;
  return 0;
}

static inline int put_char(struct json_enc *e, char c) {
  if (reserve(e, 1)) return -1;
  e->s->out[e->n++] = c;
  return 0;
}

/* In pretty mode, a newline and the indentation of the current depth. */
static int put_newline(struct json_enc *e) {
  if (e->indent < 0) return 0;
  size_t width = (size_t)e->indent * (size_t)e->depth;
  if (reserve(e, width + 1)) return -1;
  e->s->out[e->n++] = '\n';
  memset(e->s->out + e->n, ' ', width);
  e->n += width;
  return 0;
}

/* A JSON string literal per RFC 8259: '"', '\\' and control characters escaped, '/' and valid
** UTF-8 passed through, each ill-formed sequence replaced by U+FFFD. */
static int put_string(struct json_enc *e, const char *str, size_t len) {
  static const char hex[] = "0123456789abcdef";
  const unsigned char *p = (const unsigned char *)str, *end = p + len, *run = p;
  if (reserve(e, len + 2)) return -1; /* the common case needs no more */
  e->s->out[e->n++] = '"';
  while (p < end) {
    p += srm_json_plain_prefix(p, (size_t)(end - p));
    if (p == end) break;
    unsigned char c = *p;
    size_t bad = 0;
    if (c >= 0x80) {
      size_t seq = srm_utf8_seq(p, end, &bad);
      if (seq) {
        p += seq;
        continue;
      }
    }
    if (put(e, (const char *)run, (size_t)(p - run))) return -1;
    if (bad) {
      if (put(e, "\xEF\xBF\xBD", 3)) return -1;
      p += bad;
    } else {
      char esc[6] = {'\\', 0, '0', '0', hex[c >> 4], hex[c & 15]};
      size_t elen = 2;
      switch (c) {
      case '"':
        esc[1] = '"';
        break;
      case '\\':
        esc[1] = '\\';
        break;
      case '\b':
        esc[1] = 'b';
        break;
      case '\f':
        esc[1] = 'f';
        break;
      case '\n':
        esc[1] = 'n';
        break;
      case '\r':
        esc[1] = 'r';
        break;
      case '\t':
        esc[1] = 't';
        break;
      default:
        esc[1] = 'u', elen = 6;
      }
      if (put(e, esc, elen)) return -1;
      p++;
    }
    run = p;
  }
  if (put(e, (const char *)run, (size_t)(p - run))) return -1;
  return put_char(e, '"');
}

static int put_number(struct json_enc *e, int idx) {
  lua_State *L = e->L;
  char buf[32];
  size_t len;
  if (lua_isinteger(L, idx)) {
    len = fmt_integer(buf, lua_tointeger(L, idx));
  } else {
    double d = (double)lua_tonumber(L, idx);
    if (!isfinite(d)) {
      if (e->nan_as_null) return put(e, "null", 4);
      return enc_fail(e, isnan(d) ? "cannot encode NaN" : "cannot encode an infinite number");
    }
    len = fmt_double(buf, d);
  }
  return put(e, buf, len);
}

/* ---------------------------------------------------------------- tables */

static int encode_value(struct json_enc *e, int idx);

/* Whether the keys of the table at t are exactly 1..n. */
static int keys_are_sequence(lua_State *L, int t, lua_Unsigned n) {
  lua_Unsigned count = 0;
  lua_pushnil(L);
  while (lua_next(L, t)) { /* ..., key, value */
    lua_pop(L, 1);
    if (!lua_isinteger(L, -1)) {
      lua_pop(L, 1);
      return 0;
    }
    lua_Integer k = lua_tointeger(L, -1);
    if (k < 1 || (lua_Unsigned)k > n) {
      lua_pop(L, 1);
      return 0;
    }
    count++;
  }
  return count == n;
}

static int encode_array(struct json_enc *e, int t, lua_Unsigned n) {
  lua_State *L = e->L;
  if (n == 0) return put(e, "[]", 2);
  if (put_char(e, '[')) return -1;
  e->open[e->depth] = lua_topointer(L, t);
  e->path[e->depth].is_index = 1;
  e->depth++;
  for (lua_Unsigned i = 1; i <= n; i++) {
    if (i > 1 && put_char(e, ',')) return -1;
    if (put_newline(e)) return -1;
    e->path[e->depth - 1].index = (lua_Integer)i;
    lua_rawgeti(L, t, (lua_Integer)i); /* ..., element */
    if (encode_value(e, lua_gettop(L))) return -1;
    lua_pop(L, 1);
  }
  e->depth--;
  if (put_newline(e)) return -1;
  return put_char(e, ']');
}

static int key_cmp(const void *a, const void *b) {
  const struct json_key *x = a, *y = b;
  if (x->rank != y->rank) return x->rank < y->rank ? -1 : 1;
  size_t m = x->len < y->len ? x->len : y->len;
  int c = memcmp(x->s ? x->s : x->num, y->s ? y->s : y->num, m);
  if (c) return c;
  return (x->len > y->len) - (x->len < y->len);
}

/* Insertion sort for the usual handful of keys (cheaper than qsort's setup), qsort beyond. */
static void sort_keys(struct json_key *k, size_t count) {
  if (count > 12) {
    qsort(k, count, sizeof *k, key_cmp);
    return;
  }
  for (size_t i = 1; i < count; i++) {
    struct json_key tmp = k[i];
    size_t j = i;
    for (; j > 0 && key_cmp(&k[j - 1], &tmp) > 0; j--)
      k[j] = k[j - 1];
    k[j] = tmp;
  }
}

/* Appends an object key entry; the pointer is valid until the next call. */
static struct json_key *push_key(struct json_enc *e) {
  struct json_scratch *s = e->s;
  if (e->nkeys == s->keys_cap) {
    size_t cap = s->keys_cap ? s->keys_cap * 2 : 64;
    if (cap > (size_t)-1 / sizeof *s->keys) return NULL;
    void *p = e->allocf(e->allocud, s->keys, s->keys_cap * sizeof *s->keys, cap * sizeof *s->keys);
    if (!p) return NULL;
    s->keys = p;
    s->keys_cap = cap;
  }
  return &s->keys[e->nkeys++];
}

/* Keys and values are left on the Lua stack (no allocation), sorted through the entries. */
static int encode_object(struct json_enc *e, int t) {
  lua_State *L = e->L;
  int base = lua_gettop(L);
  size_t first = e->nkeys;
  lua_pushnil(L);
  while (lua_next(L, t)) { /* ..., k1, v1, ..., k, v */
    struct json_key *k = push_key(e);
    if (!k) return enc_fail(e, "out of memory");
    k->slot = lua_gettop(L) - 1;
    k->rank = 0;
    int kt = lua_type(L, -2);
    if (kt == LUA_TSTRING) {
      k->s = lua_tolstring(L, -2, &k->len);
    } else if (kt == LUA_TNUMBER) {
      k->s = NULL;
      if (lua_isinteger(L, -2)) {
        k->len = fmt_integer(k->num, lua_tointeger(L, -2));
      } else {
        double d = (double)lua_tonumber(L, -2);
        if (!isfinite(d)) return enc_fail(e, "cannot encode an infinite number as a key");
        k->len = fmt_double(k->num, d);
      }
    } else {
      char what[64];
      snprintf(what, sizeof what, "cannot encode a %s key", lua_typename(L, kt));
      return enc_fail(e, what);
    }
    if (e->depth == 0 && e->norder > 0) {
      k->rank = e->norder;
      for (int i = 0; i < e->norder && k->s; i++) {
        if (k->len == e->order_len[i] && memcmp(k->s, e->order[i], k->len) == 0) {
          k->rank = i;
          break;
        }
      }
    }
    if (!lua_checkstack(L, 3)) return enc_fail(e, "table too large (Lua stack exhausted)");
    lua_pushvalue(L, -2); /* ..., k, v, k: lua_next continues after k */
  }
  size_t count = e->nkeys - first;
  if (count == 0) return put(e, "{}", 2);
  sort_keys(e->s->keys + first, count);
  for (size_t i = first + 1; i < e->nkeys; i++) {
    if (key_cmp(&e->s->keys[i - 1], &e->s->keys[i]) == 0) {
      const struct json_key *k = &e->s->keys[i];
      char what[96];
      snprintf(what, sizeof what, "duplicate key \"%.*s\" (a number and a string key)", (int)k->len,
               k->s ? k->s : k->num);
      return enc_fail(e, what);
    }
  }
  if (put_char(e, '{')) return -1;
  e->open[e->depth] = lua_topointer(L, t);
  e->path[e->depth].is_index = 0;
  e->depth++;
  for (size_t i = first; i < first + count; i++) {
    if (i > first && put_char(e, ',')) return -1;
    if (put_newline(e)) return -1;
    e->path[e->depth - 1].key = i;
    const struct json_key *k = &e->s->keys[i]; /* re-read: children may move the array */
    int slot = k->slot;
    if (put_string(e, k->s ? k->s : k->num, k->len)) return -1;
    if (e->indent < 0 ? put_char(e, ':') : put(e, ": ", 2)) return -1;
    if (encode_value(e, slot + 1)) return -1;
  }
  e->depth--;
  if (put_newline(e)) return -1;
  lua_settop(L, base);
  e->nkeys = first;
  return put_char(e, '}');
}

/* An array if it carries the array marker (then its keys must be 1..n) or its keys are exactly
** 1..n with n >= 1; otherwise an object, "{}" when empty. */
static int encode_table(struct json_enc *e, int t) {
  lua_State *L = e->L;
  if (e->depth >= JSON_MAX_ENCODE_DEPTH) return enc_fail(e, "tables nested deeper than 100");
  const void *self = lua_topointer(L, t);
  for (int d = 0; d < e->depth; d++)
    if (e->open[d] == self) return enc_fail(e, "cycle (a table contains itself)");
  if (!lua_checkstack(L, 8)) return enc_fail(e, "table too large (Lua stack exhausted)");
  int marked = 0;
  if (lua_getmetatable(L, t)) { /* ..., mt */
    const void *mt = lua_topointer(L, -1);
    lua_pop(L, 1);
    marked = mt == e->array_mt || mt == e->empty_mt;
  }
  lua_Unsigned n = lua_rawlen(L, t);
  if (marked) {
    if (!keys_are_sequence(L, t, n))
      return enc_fail(e, "table marked as an array has keys other than 1..n");
    return encode_array(e, t, n);
  }
  if (n > 0 && keys_are_sequence(L, t, n)) return encode_array(e, t, n);
  return encode_object(e, t);
}

static int encode_value(struct json_enc *e, int idx) {
  lua_State *L = e->L;
  switch (lua_type(L, idx)) {
  case LUA_TNIL:
    return put(e, "null", 4);
  case LUA_TBOOLEAN:
    return lua_toboolean(L, idx) ? put(e, "true", 4) : put(e, "false", 5);
  case LUA_TNUMBER:
    return put_number(e, idx);
  case LUA_TSTRING: {
    size_t len;
    const char *s = lua_tolstring(L, idx, &len);
    return put_string(e, s, len);
  }
  case LUA_TTABLE:
    return encode_table(e, idx);
  case LUA_TLIGHTUSERDATA:
    if (lua_touserdata(L, idx) == NULL) return put(e, "null", 4); /* json.null */
    return enc_fail(e, "cannot encode a light userdata");
  default: {
    char what[64];
    snprintf(what, sizeof what, "cannot encode a %s", luaL_typename(L, idx));
    return enc_fail(e, what);
  }
  }
}

/* Sets up an encoder on the state's scratch (creating it may raise a memory error). */
static void enc_init(struct json_enc *e, lua_State *L, char *err, size_t errlen) {
  e->L = L;
  e->s = get_scratch(L);
  e->allocf = lua_getallocf(L, &e->allocud);
  e->n = 0;
  e->nkeys = 0;
  lua_rawgetp(L, LUA_REGISTRYINDEX, &json_array_mt_key);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &json_empty_mt_key);
  e->array_mt = lua_topointer(L, -2); /* NULL when srm.json was never opened */
  e->empty_mt = lua_topointer(L, -1);
  lua_pop(L, 2);
  e->indent = -1;
  e->nan_as_null = 0;
  e->norder = 0;
  e->depth = 0;
  e->err = err;
  e->errlen = errlen;
  if (errlen) err[0] = '\0';
}

/* Encodes the value at idx into e->s->out[0 .. e->n); restores the stack. */
static int enc_run(struct json_enc *e, int idx) {
  int top = lua_gettop(e->L);
  int rc = encode_value(e, lua_absindex(e->L, idx));
  lua_settop(e->L, top);
  return rc;
}

char *srm_json_encode_malloc(lua_State *L, int idx, size_t *len, char *err, size_t errlen) {
  struct json_enc e;
  idx = lua_absindex(L, idx);
  enc_init(&e, L, err, errlen);
  if (enc_run(&e, idx)) return NULL;
  char *out = malloc(e.n + 1);
  if (out) {
    memcpy(out, e.s->out, e.n);
    out[e.n] = '\0';
    *len = e.n;
  } else {
    snprintf(err, errlen, "out of memory");
  }
  trim_scratch(L, e.s);
  return out;
}

int srm_json_encode_value(lua_State *L, int idx, luaL_Buffer *b, char *err, size_t errlen) {
  struct json_enc e;
  idx = lua_absindex(L, idx);
  enc_init(&e, L, err, errlen);
  if (enc_run(&e, idx)) return -1;
  luaL_addlstring(b, e.s->out, e.n);
  trim_scratch(L, e.s);
  return 0;
}

/* ---------------------------------------------------------------- Lua API */

/*
** json.decode(s [, max_depth]) -> value | nil, errmsg, "BAD_JSON"
** Never raises on bad input; raises when s is not a string or max_depth is out of 1..10000.
** Integers come back exact (64-bit); other numbers as floats, except integral ones within 2^53
** (so "1.0" decodes to 1; -0.0 stays a float); null as json.null; arrays, empty ones included,
** marked with json.array_mt. Upvalue: json.array_mt.
*/
static int json_decode(lua_State *L) {
  size_t len;
  luaL_checktype(L, 1, LUA_TSTRING);
  const char *s = lua_tolstring(L, 1, &len);
  lua_Integer depth = luaL_optinteger(L, 2, SRM_JSON_DEFAULT_DEPTH);
  luaL_argcheck(L, depth >= 1 && depth <= JSON_MAX_DECODE_DEPTH, 2,
                "max_depth must be between 1 and 10000");
  char err[128];
  if (srm_json_decode(L, s, len, lua_upvalueindex(1), (int)depth, err, sizeof err) != 0) {
    lua_pushnil(L);
    lua_pushstring(L, err);
    lua_pushliteral(L, "BAD_JSON");
    return 3;
  }
  return 1;
}

static int check_option_keys(lua_State *L, int opts) {
  static const char *const known[] = {"indent", "nan_as_null", "order", NULL};
  lua_pushnil(L);
  while (lua_next(L, opts)) { /* ..., key, value */
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TSTRING)
      return luaL_error(L, "srm.json.encode: option keys must be strings");
    const char *k = lua_tostring(L, -1);
    int found = 0;
    for (int i = 0; known[i]; i++)
      found |= strcmp(k, known[i]) == 0;
    if (!found) return luaL_error(L, "srm.json.encode: unknown option '%s'", k);
  }
  return 0;
}

/*
** json.encode(value [, {indent = n, nan_as_null = bool, order = {key, ...}}]) -> string
** Raises "srm.json.encode: <what> at <path>" for what JSON cannot hold: functions, userdata
** other than json.null, threads, NaN/inf (unless nan_as_null), cycles, nesting deeper than
** 100, keys that are not strings or numbers, a number key colliding with a string key.
** Compact by default; indent = n (0..16) pretty-prints with ": " after keys. order lists
** top-level object keys that come first, in that order (output rows put "id" first); the other
** keys follow sorted.
*/
static int json_encode(lua_State *L) {
  luaL_checkany(L, 1);
  int indent = -1, nan_as_null = 0;
  int norder = 0;
  const char *order[JSON_MAX_ORDER];
  size_t order_len[JSON_MAX_ORDER];
  if (!lua_isnoneornil(L, 2)) {
    luaL_checktype(L, 2, LUA_TTABLE);
    check_option_keys(L, 2);
    if (lua_getfield(L, 2, "indent") != LUA_TNIL) {
      int ok;
      lua_Integer n = lua_tointegerx(L, -1, &ok);
      if (!ok || n < 0 || n > JSON_MAX_INDENT)
        return luaL_error(L, "srm.json.encode: indent must be an integer between 0 and 16");
      indent = (int)n;
    }
    if (lua_getfield(L, 2, "nan_as_null") != LUA_TNIL) {
      if (!lua_isboolean(L, -1))
        return luaL_error(L, "srm.json.encode: nan_as_null must be a boolean");
      nan_as_null = lua_toboolean(L, -1);
    }
    if (lua_getfield(L, 2, "order") != LUA_TNIL) {
      if (!lua_istable(L, -1))
        return luaL_error(L, "srm.json.encode: order must be an array of keys");
      lua_Integer n = luaL_len(L, -1);
      if (n > JSON_MAX_ORDER)
        return luaL_error(L, "srm.json.encode: order lists more than 32 keys");
      for (lua_Integer i = 1; i <= n; i++) {
        if (lua_rawgeti(L, -1, i) != LUA_TSTRING)
          return luaL_error(L, "srm.json.encode: order must hold strings");
        /* The string stays referenced by the options table, which stays on the stack. */
        order[norder] = lua_tolstring(L, -1, &order_len[norder]);
        norder++;
        lua_pop(L, 1);
      }
    }
  }
  lua_settop(L, 2); /* keep the options (and the order strings) alive */
  char err[640];
  struct json_enc e;
  enc_init(&e, L, err, sizeof err);
  e.indent = indent;
  e.nan_as_null = nan_as_null;
  e.norder = norder;
  for (int i = 0; i < norder; i++) {
    e.order[i] = order[i];
    e.order_len[i] = order_len[i];
  }
  if (enc_run(&e, 1)) return luaL_error(L, "srm.json.encode: %s", err);
  lua_pushlstring(L, e.s->out, e.n);
  trim_scratch(L, e.s);
  return 1;
}

/* Whether the table at idx carries the array marker (json.array_mt or json.empty_array's). */
static int has_array_marker(lua_State *L, int idx) {
  if (!lua_getmetatable(L, idx)) return 0;
  lua_rawgetp(L, LUA_REGISTRYINDEX, &json_array_mt_key);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &json_empty_mt_key); /* mt, array_mt, empty_mt */
  int marked = lua_rawequal(L, -3, -2) || lua_rawequal(L, -3, -1);
  lua_pop(L, 3);
  return marked;
}

/*
** json.array([t]) -> t
** Marks t (default: a new table) so it encodes as a JSON array, even when empty. Raises when t
** already has another metatable.
*/
static int json_array(lua_State *L) {
  if (lua_isnoneornil(L, 1)) {
    lua_settop(L, 0);
    lua_newtable(L);
  }
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  if (has_array_marker(L, 1)) return 1;
  if (lua_getmetatable(L, 1))
    return luaL_error(L, "srm.json.array: the table already has a metatable");
  lua_rawgetp(L, LUA_REGISTRYINDEX, &json_array_mt_key);
  lua_setmetatable(L, 1);
  return 1;
}

/*
** json.is_array(v) -> boolean
** Whether json.encode would write v as a JSON array: a table with the array marker, or whose
** keys are exactly 1..n with n >= 1.
*/
static int json_is_array(lua_State *L) {
  luaL_checkany(L, 1);
  int yes = 0;
  if (lua_type(L, 1) == LUA_TTABLE) {
    lua_settop(L, 1);
    luaL_checkstack(L, 4, NULL);
    lua_Unsigned n = lua_rawlen(L, 1);
    yes = has_array_marker(L, 1) || (n > 0 && keys_are_sequence(L, 1, n));
  }
  lua_pushboolean(L, yes);
  return 1;
}

static int json_empty_array_newindex(lua_State *L) {
  return luaL_error(L, "srm.json: json.empty_array is shared and read-only; use json.array()");
}

static int json_array_mt_newindex(lua_State *L) {
  return luaL_error(L, "srm.json: json.array_mt is shared and read-only");
}

static const luaL_Reg json_funcs[] = {
    {"encode", json_encode}, {"array", json_array}, {"is_array", json_is_array}, {NULL, NULL}};

/* Creates (once per state) the array marker and json.empty_array's guarded metatable, which
** counts as a marker too and reports json.array_mt to getmetatable. */
static void push_markers(lua_State *L) {
  if (luaL_newmetatable(L, "srm.json.array")) { /* array_mt */
    lua_createtable(L, 0, 2);                   /* array_mt, lock */
    lua_pushcfunction(L, json_array_mt_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &json_array_mt_key);
  }
  if (luaL_newmetatable(L, "srm.json.empty_array")) { /* array_mt, empty_mt */
    lua_pushcfunction(L, json_empty_array_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushvalue(L, -2);
    lua_setfield(L, -2, "__metatable");
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &json_empty_mt_key);
    lua_newtable(L); /* array_mt, empty_mt, empty_array */
    lua_pushvalue(L, -2);
    lua_setmetatable(L, -2);
    lua_setfield(L, LUA_REGISTRYINDEX, "srm.json.empty_array.value");
  }
  lua_pop(L, 1); /* array_mt */
}

/*
** The module: decode, encode, array, is_array, null (the NULL light userdata), array_mt,
** empty_array. json.empty_array is one table shared by every skill: assigning into it raises
** (rawset would bypass the guard; skills must not modify it).
*/
int luaopen_srm_json(lua_State *L) {
  push_markers(L); /* array_mt */
  luaL_newlib(L, json_funcs);
  lua_pushvalue(L, -2);
  lua_setfield(L, -2, "array_mt");
  lua_getfield(L, LUA_REGISTRYINDEX, "srm.json.empty_array.value");
  lua_setfield(L, -2, "empty_array");
  lua_pushlightuserdata(L, NULL);
  lua_setfield(L, -2, "null");

  lua_pushvalue(L, -2); /* array_mt, json, array_mt */
  lua_pushcclosure(L, json_decode, 1);
  lua_setfield(L, -2, "decode");

  get_scratch(L);
  lua_remove(L, -2); /* json */
  return 1;
}
