/* srm: the JSON decoder behind srm.json.decode (see srm_json.h).
**
** Why not lua-cjson's decoder, which srm used first: it copied every string byte by byte through
** an intermediate buffer (a quarter of all CPU when a run sends 8 KB prompts to a model), read
** every number as a double (ids above 2^53 came back rounded, integers needed a second pass),
** and decoded an empty array as a table indistinguishable from {}. This decoder builds Lua values
** in one pass straight from the input: strings without escapes are pushed from the input bytes
** (ill-formed UTF-8 is repaired to U+FFFD, so every decoded string is valid UTF-8),
** integers are read exactly, arrays carry the array marker from the start, and the nesting depth
** is bounded by the caller. It accepts exactly RFC 8259 JSON (one value, optional whitespace
** around it). */
#include "srm_json.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_MAX_SAFE_INT 9007199254740992.0 /* 2^53: larger integral floats stay floats */
#define JSON_MAX_NUMBER_TEXT 512             /* longer number literals are refused */

struct json_dec {
  lua_State *L;
  const unsigned char *s, *p, *end;
  int array_mt; /* stack index of the array marker */
  int depth, max_depth;
  char *err;
  size_t errlen;
};

static int fail(struct json_dec *d, const char *what) {
  snprintf(d->err, d->errlen, "%s at character %zu", what, (size_t)(d->p - d->s) + 1);
  return -1;
}

static void skip_space(struct json_dec *d) {
  while (d->p < d->end && (*d->p == ' ' || *d->p == '\n' || *d->p == '\r' || *d->p == '\t'))
    d->p++;
}

static int hex4(const unsigned char *p, unsigned *out) {
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    unsigned c = p[i], x;
    if (c >= '0' && c <= '9')
      x = c - '0';
    else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
      x = (c | 0x20) - 'a' + 10;
    else
      return -1;
    v = v << 4 | x;
  }
  *out = v;
  return 0;
}

static size_t put_utf8(char *out, unsigned cp) {
  if (cp < 0x80) {
    out[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    out[0] = (char)(0xC0 | cp >> 6);
    out[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = (char)(0xE0 | cp >> 12);
    out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
    out[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = (char)(0xF0 | cp >> 18);
  out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
  out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
  out[3] = (char)(0x80 | (cp & 0x3F));
  return 4;
}

/* One escape after the backslash at d->p; appends its UTF-8 to b. A lone surrogate becomes
** U+FFFD, as it cannot be written as UTF-8. */
static int read_escape(struct json_dec *d, luaL_Buffer *b) {
  d->p++; /* the backslash */
  if (d->p >= d->end) return fail(d, "unfinished escape");
  unsigned char c = *d->p++;
  const char *simple = NULL;
  switch (c) {
  case '"':
    simple = "\"";
    break;
  case '\\':
    simple = "\\";
    break;
  case '/':
    simple = "/";
    break;
  case 'b':
    simple = "\b";
    break;
  case 'f':
    simple = "\f";
    break;
  case 'n':
    simple = "\n";
    break;
  case 'r':
    simple = "\r";
    break;
  case 't':
    simple = "\t";
    break;
  case 'u':
    break;
  default:
    d->p--;
    return fail(d, "invalid escape");
  }
  if (simple) {
    luaL_addchar(b, simple[0]);
    return 0;
  }
  unsigned cp;
  if (d->end - d->p < 4 || hex4(d->p, &cp) != 0) return fail(d, "invalid \\u escape");
  d->p += 4;
  if (cp >= 0xD800 && cp <= 0xDBFF) {
    unsigned lo;
    if (d->end - d->p >= 6 && d->p[0] == '\\' && d->p[1] == 'u' && hex4(d->p + 2, &lo) == 0 &&
        lo >= 0xDC00 && lo <= 0xDFFF) {
      d->p += 6;
      cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    } else {
      cp = 0xFFFD;
    }
  } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
    cp = 0xFFFD;
  }
  char utf8[4];
  luaL_addlstring(b, utf8, put_utf8(utf8, cp));
  return 0;
}

/* Advances over a run that a Lua string holds as it is: plain ASCII and well-formed UTF-8. */
static void skip_plain(struct json_dec *d) {
  for (;;) {
    d->p += srm_json_plain_prefix(d->p, (size_t)(d->end - d->p));
    if (d->p >= d->end || *d->p < 0x80) return;
    size_t bad = 0, seq = srm_utf8_seq(d->p, d->end, &bad);
    if (!seq) return;
    d->p += seq;
  }
}

/* The string whose opening quote is at d->p; pushes it. Ill-formed UTF-8 becomes U+FFFD (one per
** maximal ill-formed sequence, as the encoder does), so decoded strings are always valid UTF-8
** and encoding them changes nothing. */
static int read_string(struct json_dec *d) {
  d->p++; /* opening quote */
  const unsigned char *start = d->p;
  skip_plain(d);
  if (d->p < d->end && *d->p == '"') { /* the common case: nothing to change */
    lua_pushlstring(d->L, (const char *)start, (size_t)(d->p - start));
    d->p++;
    return 0;
  }
  luaL_Buffer b;
  luaL_buffinit(d->L, &b);
  luaL_addlstring(&b, (const char *)start, (size_t)(d->p - start));
  for (;;) {
    if (d->p >= d->end) {
      luaL_pushresult(&b);
      lua_pop(d->L, 1);
      return fail(d, "unfinished string");
    }
    unsigned char c = *d->p;
    if (c == '"') break;
    int rc = 0;
    if (c == '\\') {
      rc = read_escape(d, &b);
    } else if (c < 0x20) {
      rc = fail(d, "control character in string");
    } else if (c >= 0x80 && !srm_utf8_seq(d->p, d->end, &(size_t){0})) {
      size_t bad = 0;
      srm_utf8_seq(d->p, d->end, &bad);
      luaL_addlstring(&b, "\xEF\xBF\xBD", 3);
      d->p += bad;
    } else {
      start = d->p;
      skip_plain(d);
      luaL_addlstring(&b, (const char *)start, (size_t)(d->p - start));
    }
    if (rc != 0) {
      luaL_pushresult(&b);
      lua_pop(d->L, 1);
      return -1;
    }
  }
  d->p++; /* closing quote */
  luaL_pushresult(&b);
  return 0;
}

static int is_digit(const unsigned char *p, const unsigned char *end) {
  return p < end && *p >= '0' && *p <= '9';
}

/* A number: integers that fit 64 bits come back exact; other numbers as doubles, except that an
** integral double within 2^53 (not -0.0) becomes an integer, so "1.0" and "1e3" are integers. */
static int read_number(struct json_dec *d) {
  const unsigned char *p = d->p, *end = d->end;
  int neg = 0, is_int = 1;
  if (*p == '-') {
    neg = 1;
    p++;
  }
  if (!is_digit(p, end)) return fail(d, "invalid number");
  if (*p == '0') {
    p++;
    if (is_digit(p, end)) return fail(d, "leading zero in number");
  } else {
    while (is_digit(p, end))
      p++;
  }
  if (p < end && *p == '.') {
    is_int = 0;
    p++;
    if (!is_digit(p, end)) return fail(d, "invalid number");
    while (is_digit(p, end))
      p++;
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    is_int = 0;
    p++;
    if (p < end && (*p == '+' || *p == '-')) p++;
    if (!is_digit(p, end)) return fail(d, "invalid number");
    while (is_digit(p, end))
      p++;
  }
  size_t len = (size_t)(p - d->p);
  if (len > JSON_MAX_NUMBER_TEXT) return fail(d, "number too long");
  if (is_int) {
    uint64_t mag = 0;
    int overflow = 0;
    for (const unsigned char *q = d->p + neg; q < p; q++) {
      unsigned digit = (unsigned)(*q - '0');
      if (mag > (UINT64_MAX - digit) / 10) {
        overflow = 1;
        break;
      }
      mag = mag * 10 + digit;
    }
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    if (!overflow && mag <= limit && !(neg && mag == 0)) {
      lua_pushinteger(d->L, neg ? (lua_Integer)(0 - mag) : (lua_Integer)mag);
      d->p = p;
      return 0;
    }
  }
  char text[JSON_MAX_NUMBER_TEXT + 1];
  memcpy(text, d->p, len);
  text[len] = '\0';
  double v = strtod(text, NULL); /* srm never sets a locale: the decimal point is '.' */
  d->p = p;
  if (v >= -JSON_MAX_SAFE_INT && v <= JSON_MAX_SAFE_INT && v == floor(v) && !(v == 0 && signbit(v)))
    lua_pushinteger(d->L, (lua_Integer)v);
  else
    lua_pushnumber(d->L, v);
  return 0;
}

static int read_literal(struct json_dec *d, const char *word, size_t len) {
  if ((size_t)(d->end - d->p) < len || memcmp(d->p, word, len) != 0)
    return fail(d, "invalid token");
  d->p += len;
  return 0;
}

static int read_value(struct json_dec *d);

/* Opens a container at d->p: checks the depth, pushes a new table. A non-empty one starts with
** room for a few members (one array element, four object members): most JSON containers are
** that small, and growing a Lua table one member at a time rehashes it at 1, 2 and 4. */
static int enter(struct json_dec *d) {
  if (++d->depth > d->max_depth) return fail(d, "nesting deeper than the limit");
  luaL_checkstack(d->L, 4, "srm.json.decode: nesting too deep");
  int object = *d->p == '{';
  d->p++; /* the bracket */
  skip_space(d);
  int empty = d->p < d->end && *d->p == (object ? '}' : ']');
  lua_createtable(d->L, empty || object ? 0 : 1, empty || !object ? 0 : 4);
  return 0;
}

/* The elements of the array just entered, into the table on top. */
static int read_array(struct json_dec *d) {
  lua_pushvalue(d->L, d->array_mt);
  lua_setmetatable(d->L, -2);
  if (d->p < d->end && *d->p == ']') {
    d->p++;
    d->depth--;
    return 0;
  }
  for (lua_Integer i = 1;; i++) {
    if (read_value(d) != 0) return -1;
    lua_rawseti(d->L, -2, i);
    skip_space(d);
    if (d->p < d->end && *d->p == ',') {
      d->p++;
      continue;
    }
    if (d->p < d->end && *d->p == ']') break;
    return fail(d, "expected ',' or ']'");
  }
  d->p++;
  d->depth--;
  return 0;
}

/* The members of the object just entered, into the table on top. */
static int read_object(struct json_dec *d) {
  if (d->p < d->end && *d->p == '}') {
    d->p++;
    d->depth--;
    return 0;
  }
  for (;;) {
    if (d->p >= d->end || *d->p != '"') return fail(d, "expected a string key");
    if (read_string(d) != 0) return -1;
    skip_space(d);
    if (d->p >= d->end || *d->p != ':') {
      lua_pop(d->L, 1);
      return fail(d, "expected ':'");
    }
    d->p++;
    if (read_value(d) != 0) {
      lua_pop(d->L, 1);
      return -1;
    }
    lua_rawset(d->L, -3); /* a repeated key: the last one wins */
    skip_space(d);
    if (d->p < d->end && *d->p == ',') {
      d->p++;
      skip_space(d);
      continue;
    }
    if (d->p < d->end && *d->p == '}') break;
    return fail(d, "expected ',' or '}'");
  }
  d->p++;
  d->depth--;
  return 0;
}

/* One value at d->p (after optional whitespace); pushes it, or pushes nothing on failure. */
static int read_value(struct json_dec *d) {
  skip_space(d);
  if (d->p >= d->end) return fail(d, "expected a value");
  int rc;
  switch (*d->p) {
  case '{':
    if (enter(d) != 0) return -1;
    rc = read_object(d);
    break;
  case '[':
    if (enter(d) != 0) return -1;
    rc = read_array(d);
    break;
  case '"':
    return read_string(d);
  case 't':
    if (read_literal(d, "true", 4) != 0) return -1;
    lua_pushboolean(d->L, 1);
    return 0;
  case 'f':
    if (read_literal(d, "false", 5) != 0) return -1;
    lua_pushboolean(d->L, 0);
    return 0;
  case 'n':
    if (read_literal(d, "null", 4) != 0) return -1;
    lua_pushlightuserdata(d->L, NULL); /* json.null */
    return 0;
  default:
    if (*d->p == '-' || (*d->p >= '0' && *d->p <= '9')) return read_number(d);
    return fail(d, "expected a value");
  }
  if (rc != 0) lua_pop(d->L, 1); /* the unfinished container */
  return rc;
}

int srm_json_decode(lua_State *L, const char *s, size_t len, int array_mt, int max_depth, char *err,
                    size_t errlen) {
  struct json_dec d = {.L = L,
                       .s = (const unsigned char *)s,
                       .p = (const unsigned char *)s,
                       .end = (const unsigned char *)s + len,
                       .array_mt = lua_absindex(L, array_mt),
                       .max_depth = max_depth,
                       .err = err,
                       .errlen = errlen};
  if (read_value(&d) != 0) return -1;
  skip_space(&d);
  if (d.p < d.end) {
    lua_pop(L, 1);
    return fail(&d, "unexpected text after the value");
  }
  return 0;
}
