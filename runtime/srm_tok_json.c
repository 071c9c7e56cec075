/* srm: a small read-only JSON reader for tokenizer files (tokenizer.json, tiktoken's JSON form).
** One arena holds the whole tree; strings are decoded to UTF-8 (\u escapes, surrogate pairs;
** a lone surrogate becomes U+FFFD). Nesting is limited to 64 levels, so the recursion is
** bounded whatever the input. Pure C: no Lua. */
#include "srm_tok_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TJ_MAX_DEPTH 64
#define TJ_BLOCK ((size_t)1 << 20)

struct tj_block {
  struct tj_block *next;
  size_t used, cap;
  char data[];
};

struct tj_doc {
  struct tj_block *blocks;
  struct tj_value root;
};

struct tj_parser {
  const char *s;
  size_t n, pos;
  struct tj_doc *doc;
  struct tj_member *stack; /* pending array items / object members of the open containers */
  size_t sp, scap;
  char *err;
  size_t errlen;
  int failed;
};

static void *arena_alloc(struct tj_doc *doc, size_t size) {
  size = (size + 7) & ~(size_t)7;
  struct tj_block *b = doc->blocks;
  if (b == NULL || b->cap - b->used < size) {
    size_t cap = size > TJ_BLOCK ? size : TJ_BLOCK;
    b = malloc(sizeof *b + cap);
    if (b == NULL) return NULL;
    b->cap = cap;
    b->used = 0;
    b->next = doc->blocks;
    doc->blocks = b;
  }
  void *p = b->data + b->used;
  b->used += size;
  return p;
}

static int fail(struct tj_parser *p, const char *what) {
  if (!p->failed) snprintf(p->err, p->errlen, "offset %zu: %s", p->pos, what);
  p->failed = 1;
  return -1;
}

static void skip_ws(struct tj_parser *p) {
  while (p->pos < p->n) {
    char c = p->s[p->pos];
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
    p->pos++;
  }
}

static int hex4(const char *s, uint32_t *out) {
  uint32_t v = 0;
  for (int i = 0; i < 4; i++) {
    char c = s[i];
    uint32_t d;
    if (c >= '0' && c <= '9')
      d = (uint32_t)(c - '0');
    else if (c >= 'a' && c <= 'f')
      d = (uint32_t)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      d = (uint32_t)(c - 'A' + 10);
    else
      return -1;
    v = v * 16 + d;
  }
  *out = v;
  return 0;
}

static size_t put_utf8(char *o, uint32_t c) {
  if (c < 0x80) {
    o[0] = (char)c;
    return 1;
  }
  if (c < 0x800) {
    o[0] = (char)(0xC0 | (c >> 6));
    o[1] = (char)(0x80 | (c & 0x3F));
    return 2;
  }
  if (c < 0x10000) {
    o[0] = (char)(0xE0 | (c >> 12));
    o[1] = (char)(0x80 | ((c >> 6) & 0x3F));
    o[2] = (char)(0x80 | (c & 0x3F));
    return 3;
  }
  o[0] = (char)(0xF0 | (c >> 18));
  o[1] = (char)(0x80 | ((c >> 12) & 0x3F));
  o[2] = (char)(0x80 | ((c >> 6) & 0x3F));
  o[3] = (char)(0x80 | (c & 0x3F));
  return 4;
}

/* At the opening quote. Decodes into the arena. */
static int parse_string(struct tj_parser *p, const char **out, uint32_t *outlen) {
  size_t start = ++p->pos, end = start;
  while (end < p->n && p->s[end] != '"') {
    if (p->s[end] == '\\') end++;
    end++;
  }
  if (end >= p->n) return fail(p, "unterminated string");
  if (end - start > UINT32_MAX) return fail(p, "string too long");
  char *o = arena_alloc(p->doc, end - start + 1);
  if (o == NULL) return fail(p, "out of memory");
  size_t k = 0, i = start;
  while (i < end) {
    unsigned char c = (unsigned char)p->s[i];
    if (c < 0x20) {
      p->pos = i;
      return fail(p, "control character in string");
    }
    if (c != '\\') {
      o[k++] = (char)c;
      i++;
      continue;
    }
    char e = p->s[i + 1];
    i += 2;
    switch (e) {
    case '"':
      o[k++] = '"';
      break;
    case '\\':
      o[k++] = '\\';
      break;
    case '/':
      o[k++] = '/';
      break;
    case 'b':
      o[k++] = '\b';
      break;
    case 'f':
      o[k++] = '\f';
      break;
    case 'n':
      o[k++] = '\n';
      break;
    case 'r':
      o[k++] = '\r';
      break;
    case 't':
      o[k++] = '\t';
      break;
    case 'u': {
      uint32_t cp, lo;
      if (i + 4 > end || hex4(p->s + i, &cp) != 0) {
        p->pos = i;
        return fail(p, "bad \\u escape");
      }
      i += 4;
      if (cp >= 0xD800 && cp < 0xDC00 && i + 6 <= end && p->s[i] == '\\' && p->s[i + 1] == 'u' &&
          hex4(p->s + i + 2, &lo) == 0 && lo >= 0xDC00 && lo < 0xE000) {
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        i += 6;
      } else if (cp >= 0xD800 && cp < 0xE000) {
        cp = 0xFFFD;
      }
      k += put_utf8(o + k, cp); /* never longer than the 6-byte escape it replaces */
      break;
    }
    default:
      p->pos = i - 1;
      return fail(p, "bad escape");
    }
  }
  o[k] = '\0';
  *out = o;
  *outlen = (uint32_t)k;
  p->pos = end + 1;
  return 0;
}

static int parse_number(struct tj_parser *p, struct tj_value *v) {
  size_t i = p->pos;
  char buf[64];
  size_t k = 0;
  while (i < p->n && k < sizeof buf - 1) {
    char c = p->s[i];
    if (!((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'))
      break;
    buf[k++] = c;
    i++;
  }
  buf[k] = '\0';
  char *endp;
  double d = strtod(buf, &endp);
  if (k == 0 || *endp != '\0' || !isfinite(d)) return fail(p, "bad number");
  v->type = TJ_NUMBER;
  v->u.num = d;
  p->pos = i;
  return 0;
}

static int push_member(struct tj_parser *p, const char *key, uint32_t klen) {
  if (p->sp == p->scap) {
    size_t ncap = p->scap ? p->scap * 2 : 1024;
    struct tj_member *ns = realloc(p->stack, ncap * sizeof *ns);
    if (ns == NULL) return fail(p, "out of memory");
    p->stack = ns;
    p->scap = ncap;
  }
  struct tj_member *m = &p->stack[p->sp++];
  m->key = key;
  m->klen = klen;
  m->value.type = TJ_NULL;
  m->value.n = 0;
  return 0;
}

static int parse_value(struct tj_parser *p, struct tj_value *v, int depth);

/* The value of the newest stack slot: parsed in place then read back (the stack may move). */
static int parse_into_top(struct tj_parser *p, int depth) {
  struct tj_value tmp;
  tmp.n = 0;
  if (parse_value(p, &tmp, depth) != 0) return -1;
  p->stack[p->sp - 1].value = tmp;
  return 0;
}

static int parse_container(struct tj_parser *p, struct tj_value *v, int depth, int is_obj) {
  if (depth >= TJ_MAX_DEPTH) return fail(p, "nesting too deep");
  char close = is_obj ? '}' : ']';
  size_t base = p->sp;
  p->pos++;
  skip_ws(p);
  if (p->pos < p->n && p->s[p->pos] == close) {
    p->pos++;
  } else {
    for (;;) {
      skip_ws(p);
      const char *key = NULL;
      uint32_t klen = 0;
      if (is_obj) {
        if (p->pos >= p->n || p->s[p->pos] != '"') return fail(p, "expected a member name");
        if (parse_string(p, &key, &klen) != 0) return -1;
        skip_ws(p);
        if (p->pos >= p->n || p->s[p->pos] != ':') return fail(p, "expected ':'");
        p->pos++;
      }
      if (push_member(p, key, klen) != 0) return -1;
      if (parse_into_top(p, depth + 1) != 0) return -1;
      skip_ws(p);
      if (p->pos < p->n && p->s[p->pos] == ',') {
        p->pos++;
        continue;
      }
      if (p->pos < p->n && p->s[p->pos] == close) {
        p->pos++;
        break;
      }
      return fail(p, is_obj ? "expected ',' or '}'" : "expected ',' or ']'");
    }
  }
  size_t count = p->sp - base;
  if (count > UINT32_MAX) return fail(p, "container too large");
  v->n = (uint32_t)count;
  if (is_obj) {
    v->type = TJ_OBJECT;
    v->u.members = NULL;
    if (count) {
      v->u.members = arena_alloc(p->doc, count * sizeof *v->u.members);
      if (v->u.members == NULL) return fail(p, "out of memory");
      memcpy(v->u.members, p->stack + base, count * sizeof *v->u.members);
    }
  } else {
    v->type = TJ_ARRAY;
    v->u.items = NULL;
    if (count) {
      v->u.items = arena_alloc(p->doc, count * sizeof *v->u.items);
      if (v->u.items == NULL) return fail(p, "out of memory");
      for (size_t i = 0; i < count; i++)
        v->u.items[i] = p->stack[base + i].value;
    }
  }
  p->sp = base;
  return 0;
}

static int parse_literal(struct tj_parser *p, const char *word, enum tj_type type,
                         struct tj_value *v) {
  size_t len = strlen(word);
  if (p->n - p->pos < len || memcmp(p->s + p->pos, word, len) != 0)
    return fail(p, "unexpected character");
  p->pos += len;
  v->type = type;
  return 0;
}

static int parse_value(struct tj_parser *p, struct tj_value *v, int depth) {
  skip_ws(p);
  if (p->pos >= p->n) return fail(p, "unexpected end of input");
  char c = p->s[p->pos];
  v->n = 0;
  switch (c) {
  case '{':
    return parse_container(p, v, depth, 1);
  case '[':
    return parse_container(p, v, depth, 0);
  case '"':
    v->type = TJ_STRING;
    return parse_string(p, &v->u.str, &v->n);
  case 't':
    return parse_literal(p, "true", TJ_TRUE, v);
  case 'f':
    return parse_literal(p, "false", TJ_FALSE, v);
  case 'n':
    return parse_literal(p, "null", TJ_NULL, v);
  default:
    if (c == '-' || (c >= '0' && c <= '9')) return parse_number(p, v);
    return fail(p, "unexpected character");
  }
}

struct tj_doc *tj_parse(const char *data, size_t len, char *err, size_t errlen) {
  struct tj_doc *doc = calloc(1, sizeof *doc);
  if (doc == NULL) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  struct tj_parser p = {.s = data, .n = len, .doc = doc, .err = err, .errlen = errlen};
  int rc = parse_value(&p, &doc->root, 0);
  if (rc == 0) {
    skip_ws(&p);
    if (p.pos != p.n) rc = fail(&p, "trailing data after the JSON value");
  }
  free(p.stack);
  if (rc != 0) {
    tj_free(doc);
    return NULL;
  }
  return doc;
}

const struct tj_value *tj_root(const struct tj_doc *doc) {
  return &doc->root;
}

void tj_free(struct tj_doc *doc) {
  if (doc == NULL) return;
  struct tj_block *b = doc->blocks;
  while (b) {
    struct tj_block *next = b->next;
    free(b);
    b = next;
  }
  free(doc);
}

const struct tj_value *tj_get(const struct tj_value *v, const char *key) {
  if (v == NULL || v->type != TJ_OBJECT) return NULL;
  size_t klen = strlen(key);
  for (uint32_t i = 0; i < v->n; i++) {
    const struct tj_member *m = &v->u.members[i];
    if (m->klen == klen && memcmp(m->key, key, klen) == 0) return &m->value;
  }
  return NULL;
}

int tj_is_str(const struct tj_value *v, const char *s) {
  return v != NULL && v->type == TJ_STRING && v->n == strlen(s) && memcmp(v->u.str, s, v->n) == 0;
}

int tj_u32(const struct tj_value *v, uint32_t *out) {
  if (v == NULL || v->type != TJ_NUMBER) return 0;
  double d = v->u.num;
  if (!(d >= 0 && d < 4294967295.0) || d != floor(d)) return 0;
  *out = (uint32_t)d;
  return 1;
}
