/* srm: JSON text helpers of srm-mock: a growable byte buffer, JSON string escaping, and a
** validating JSON scanner (bounded depth) with string unescaping. */
#include "mock_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int span_eq(struct span s, const char *lit) {
  size_t n = strlen(lit);
  return s.n == n && memcmp(s.p, lit, n) == 0;
}

int buf_reserve(struct buf *b, size_t extra) {
  if (b->oom) return -1;
  if (b->len + extra <= b->cap) return 0;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < b->len + extra)
    cap *= 2;
  char *p = realloc(b->p, cap);
  if (!p) {
    b->oom = 1;
    return -1;
  }
  b->p = p;
  b->cap = cap;
  return 0;
}

void buf_add(struct buf *b, const char *s, size_t n) {
  if (n == 0 || buf_reserve(b, n)) return;
  memcpy(b->p + b->len, s, n);
  b->len += n;
}

void buf_str(struct buf *b, const char *s) {
  buf_add(b, s, strlen(s));
}

void buf_u64(struct buf *b, uint64_t v) {
  char tmp[24];
  int n = snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)v);
  buf_add(b, tmp, (size_t)n);
}

/* Appends s as the inside of a JSON string (no quotes). Bytes >= 0x80 pass through as they are. */
void buf_escape(struct buf *b, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  size_t run = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    buf_add(b, s + run, i - run);
    run = i + 1;
    char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
    switch (c) {
    case '"':
      buf_add(b, "\\\"", 2);
      break;
    case '\\':
      buf_add(b, "\\\\", 2);
      break;
    case '\n':
      buf_add(b, "\\n", 2);
      break;
    case '\r':
      buf_add(b, "\\r", 2);
      break;
    case '\t':
      buf_add(b, "\\t", 2);
      break;
    default:
      buf_add(b, esc, 6);
      break;
    }
  }
  buf_add(b, s + run, n - run);
}

int jpeek(struct jp *j) {
  return j->p < j->end ? (unsigned char)*j->p : -1;
}

void jws(struct jp *j) {
  while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
    j->p++;
}

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Skips the bytes that need no attention inside a JSON string (ASCII other than '"', '\\' and
** control characters), eight at a time while it can: bodies are mostly long string contents. */
static const char *plain_run(const char *p, const char *end) {
  const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
  while (end - p >= 8) {
    uint64_t x;
    memcpy(&x, p, 8);
    uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');
    uint64_t special = ((x - ones * 0x20) & ~x) | ((q - ones) & ~q) | ((b - ones) & ~b);
    if ((special | x) & highs) break;
    p += 8;
  }
  while (p < end && (unsigned char)*p >= 0x20 && (unsigned char)*p < 0x80 && *p != '"' &&
         *p != '\\')
    p++;
  return p;
}

/* Length of the well-formed UTF-8 sequence at p (lead byte >= 0x80), or 0. */
static size_t utf8_len(const char *p, const char *end) {
  const unsigned char *u = (const unsigned char *)p;
  size_t n = u[0] >= 0xf0 ? 4 : u[0] >= 0xe0 ? 3 : 2;
  unsigned char lo = 0x80, hi = 0xbf;
  if (u[0] < 0xc2 || u[0] > 0xf4 || (size_t)(end - p) < n) return 0;
  if (u[0] == 0xe0) lo = 0xa0;
  if (u[0] == 0xed) hi = 0x9f;
  if (u[0] == 0xf0) lo = 0x90;
  if (u[0] == 0xf4) hi = 0x8f;
  if (u[1] < lo || u[1] > hi) return 0;
  for (size_t i = 2; i < n; i++)
    if (u[i] < 0x80 || u[i] > 0xbf) return 0;
  return n;
}

int jstring(struct jp *j) {
  const char *p = j->p, *end = j->end; /* locals: a char store could alias j->p */
  if (p >= end || *p != '"') return -1;
  p++;
  for (;;) {
    p = plain_run(p, end);
    if (p >= end || (unsigned char)*p < 0x20) return -1;
    if ((unsigned char)*p >= 0x80) {
      size_t n = utf8_len(p, end);
      if (!n) return -1;
      p += n;
      continue;
    }
    if (*p++ == '"') break;
    if (p >= end) return -1; /* a backslash: check the escape */
    unsigned char c = (unsigned char)*p++;
    if (c == 'u') {
      if (end - p < 4) return -1;
      for (int i = 0; i < 4; i++)
        if (hexval((unsigned char)p[i]) < 0) return -1;
      p += 4;
    } else if (c == 0 || !strchr("\"\\/bfnrt", c)) {
      return -1;
    }
  }
  j->p = p;
  return 0;
}

static int jdigits(struct jp *j) {
  const char *start = j->p;
  while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
    j->p++;
  return j->p > start ? 0 : -1;
}

static int jnumber(struct jp *j) {
  if (jpeek(j) == '-') j->p++;
  if (jpeek(j) == '0')
    j->p++;
  else if (jdigits(j))
    return -1;
  if (jpeek(j) == '.') {
    j->p++;
    if (jdigits(j)) return -1;
  }
  if (jpeek(j) == 'e' || jpeek(j) == 'E') {
    j->p++;
    if (jpeek(j) == '+' || jpeek(j) == '-') j->p++;
    if (jdigits(j)) return -1;
  }
  return 0;
}

static int jliteral(struct jp *j, const char *lit) {
  size_t n = strlen(lit);
  if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n) != 0) return -1;
  j->p += n;
  return 0;
}

/* Object iteration: call with *first = 1 just after '{'. Returns 1 with the key read and the
** scanner at the member's value, 0 after the closing '}', -1 on a syntax error. */
int jmember(struct jp *j, struct span *key, int *first) {
  jws(j);
  if (jpeek(j) == '}') {
    j->p++;
    return 0;
  }
  if (!*first) {
    if (jpeek(j) != ',') return -1;
    j->p++;
    jws(j);
  }
  *first = 0;
  const char *start = j->p;
  if (jstring(j)) return -1;
  key->p = start + 1;
  key->n = (size_t)(j->p - start) - 2;
  jws(j);
  if (jpeek(j) != ':') return -1;
  j->p++;
  jws(j);
  return 1;
}

/* Array iteration, same convention as jmember (call with *first = 1 just after '['). */
int jelement(struct jp *j, int *first) {
  jws(j);
  if (jpeek(j) == ']') {
    j->p++;
    return 0;
  }
  if (!*first) {
    if (jpeek(j) != ',') return -1;
    j->p++;
    jws(j);
  }
  *first = 0;
  return 1;
}

int jvalue(struct jp *j, int depth) {
  if (depth > MAX_JSON_DEPTH) return -1;
  jws(j);
  int c = jpeek(j), first = 1, k;
  struct span key;
  switch (c) {
  case '{':
    j->p++;
    while ((k = jmember(j, &key, &first)) == 1)
      if (jvalue(j, depth + 1)) return -1;
    return k;
  case '[':
    j->p++;
    while ((k = jelement(j, &first)) == 1)
      if (jvalue(j, depth + 1)) return -1;
    return k;
  case '"':
    return jstring(j);
  case 't':
    return jliteral(j, "true");
  case 'f':
    return jliteral(j, "false");
  case 'n':
    return jliteral(j, "null");
  default:
    return (c == '-' || (c >= '0' && c <= '9')) ? jnumber(j) : -1;
  }
}

static void put_utf8(struct buf *b, unsigned cp) {
  char u[4];
  size_t n;
  if (cp < 0x80) {
    u[0] = (char)cp;
    n = 1;
  } else if (cp < 0x800) {
    u[0] = (char)(0xc0 | (cp >> 6));
    u[1] = (char)(0x80 | (cp & 0x3f));
    n = 2;
  } else if (cp < 0x10000) {
    u[0] = (char)(0xe0 | (cp >> 12));
    u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
    u[2] = (char)(0x80 | (cp & 0x3f));
    n = 3;
  } else {
    u[0] = (char)(0xf0 | (cp >> 18));
    u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    u[3] = (char)(0x80 | (cp & 0x3f));
    n = 4;
  }
  buf_add(b, u, n);
}

static unsigned hex4(const char *p) {
  return (unsigned)(hexval((unsigned char)p[0]) << 12 | hexval((unsigned char)p[1]) << 8 |
                    hexval((unsigned char)p[2]) << 4 | hexval((unsigned char)p[3]));
}

/* Appends the decoded text of an already validated JSON string token s (with its quotes). Lone
** surrogates become U+FFFD. */
void unescape_into(struct buf *b, struct span s) {
  const char *p = s.p + 1, *end = s.p + s.n - 1;
  while (p < end) {
    const char *run = p;
    p = memchr(p, '\\', (size_t)(end - p));
    if (!p) p = end;
    buf_add(b, run, (size_t)(p - run));
    if (p >= end) break;
    char c = p[1];
    p += 2;
    switch (c) {
    case 'b':
      buf_add(b, "\b", 1);
      break;
    case 'f':
      buf_add(b, "\f", 1);
      break;
    case 'n':
      buf_add(b, "\n", 1);
      break;
    case 'r':
      buf_add(b, "\r", 1);
      break;
    case 't':
      buf_add(b, "\t", 1);
      break;
    case 'u': {
      unsigned cp = hex4(p);
      p += 4;
      if (cp >= 0xd800 && cp < 0xdc00 && end - p >= 6 && p[0] == '\\' && p[1] == 'u') {
        unsigned lo = hex4(p + 2);
        if (lo >= 0xdc00 && lo < 0xe000) {
          cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          p += 6;
        }
      }
      if (cp >= 0xd800 && cp < 0xe000) cp = 0xfffd;
      put_utf8(b, cp);
      break;
    }
    default:
      buf_add(b, &c, 1);
      break; /* " \ / */
    }
  }
}
