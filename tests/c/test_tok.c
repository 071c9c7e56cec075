/* srm: Check tests of the tokenizer core (runtime/srm_tok*.c): the JSON reader, the loaders
** (tiktoken JSON form, tokenizer.json) and their refusals, the heap merge for long pieces
** against a direct transcription of tiktoken's O(n^2) merge loop on random inputs, invalid
** UTF-8, the process-wide registry, sessions used from several threads, and name resolution. */
#include "srm_tok_int.h"

#include "check_main.h"

#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint64_t rng_state;

static uint64_t rnd(void) { /* splitmix64 */
  uint64_t z = (rng_state += UINT64_C(0x9E3779B97F4A7C15));
  z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
  return z ^ (z >> 31);
}

/* ---- a growable string ---- */

struct str {
  char *p;
  size_t n, cap;
};

static void put(struct str *s, const void *p, size_t n) {
  if (s->cap - s->n < n + 1) {
    s->cap = (s->cap + n + 1) * 2;
    s->p = realloc(s->p, s->cap);
    ck_assert_ptr_nonnull(s->p);
  }
  memcpy(s->p + s->n, p, n);
  s->n += n;
  s->p[s->n] = '\0';
}

static void puts_(struct str *s, const char *z) {
  put(s, z, strlen(z));
}

static void put_b64(struct str *s, const unsigned char *p, size_t n) {
  static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = (uint32_t)p[i] << 16;
    if (i + 1 < n) v |= (uint32_t)p[i + 1] << 8;
    if (i + 2 < n) v |= p[i + 2];
    char out[4] = {tab[(v >> 18) & 63], tab[(v >> 12) & 63], i + 1 < n ? tab[(v >> 6) & 63] : '=',
                   i + 2 < n ? tab[v & 63] : '='};
    put(s, out, 4);
  }
}

/* ---- JSON ---- */

START_TEST(json_values) {
  char err[128];
  const char *src = "{\"a\": [1, -2.5e1, true, false, null], \"s\": \"x\\u00e9\\ud83d\\ude00\\n\","
                    " \"lone\": \"\\ud800!\", \"o\": {}}";
  struct tj_doc *d = tj_parse(src, strlen(src), err, sizeof err);
  ck_assert_ptr_nonnull(d);
  const struct tj_value *r = tj_root(d);
  const struct tj_value *a = tj_get(r, "a");
  ck_assert_int_eq(a->type, TJ_ARRAY);
  ck_assert_uint_eq(a->n, 5);
  uint32_t u;
  ck_assert(tj_u32(&a->u.items[0], &u) && u == 1);
  ck_assert(!tj_u32(&a->u.items[1], &u));
  ck_assert(a->u.items[1].u.num == -25.0);
  ck_assert_int_eq(a->u.items[2].type, TJ_TRUE);
  ck_assert_int_eq(a->u.items[4].type, TJ_NULL);
  ck_assert(tj_is_str(tj_get(r, "s"), "x\xc3\xa9\xf0\x9f\x98\x80\n"));
  ck_assert(tj_is_str(tj_get(r, "lone"), "\xef\xbf\xbd!"));
  ck_assert_uint_eq(tj_get(r, "o")->n, 0);
  ck_assert_ptr_null(tj_get(r, "missing"));
  tj_free(d);
}
END_TEST

START_TEST(json_errors) {
  char err[128];
  const char *bad[] = {"",      "{",       "[1,]", "{\"a\" 1}", "\"abc",
                       "[1] x", "\"\\q\"", "nul",  "\"a\x01\"", "[1e999]"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    struct tj_doc *d = tj_parse(bad[i], strlen(bad[i]), err, sizeof err);
    ck_assert_msg(d == NULL, "accepted %s", bad[i]);
    ck_assert(strncmp(err, "offset ", 7) == 0);
  }
  struct str deep = {0};
  for (int i = 0; i < 100000; i++)
    puts_(&deep, "[");
  ck_assert_ptr_null(tj_parse(deep.p, deep.n, err, sizeof err));
  ck_assert_ptr_nonnull(strstr(err, "nesting too deep"));
  free(deep.p);
}
END_TEST

/* ---- a synthetic tiktoken tokenizer with random merges over a small alphabet ---- */

#define ALPHA "ab c"
#define NTOK 600

#define VHASH 4096

struct vocab {
  char tok[NTOK][24];
  size_t len[NTOK];
  int n;           /* ranks 0..255 are the bytes; 256.. the merged tokens */
  int slot[VHASH]; /* open addressing over merged tokens: rank + 1, 0 = empty */
};

static int vocab_find(const struct vocab *v, const char *p, size_t n) {
  if (n == 1) return (unsigned char)p[0];
  for (uint32_t i = (uint32_t)tok_hash(p, n) % VHASH;; i = (i + 1) % VHASH) {
    int r = v->slot[i] - 1;
    if (r < 0) return -1;
    if (v->len[r] == n && memcmp(v->tok[r], p, n) == 0) return r;
  }
}

static void vocab_add(struct vocab *v, const char *p, size_t n) {
  memcpy(v->tok[v->n], p, n);
  v->len[v->n] = n;
  uint32_t i = (uint32_t)tok_hash(p, n) % VHASH;
  while (v->slot[i])
    i = (i + 1) % VHASH;
  v->slot[i] = ++v->n;
}

/* A merge part: an earlier merged token or a byte of the alphabet. */
static int usable(int x) {
  return x >= 256 || (x > 0 && strchr(ALPHA, x) != NULL);
}

/* Builds random merges like a BPE trainer would (each new token joins two existing ones) and
** returns the tiktoken JSON for them. */
static char *make_tiktoken(struct vocab *v, const char *pattern) {
  memset(v->slot, 0, sizeof v->slot);
  v->n = 256;
  for (int b = 0; b < 256; b++) {
    v->tok[b][0] = (char)b;
    v->len[b] = 1;
  }
  while (v->n < NTOK) {
    int x = (int)(rnd() % (uint64_t)v->n), y = (int)(rnd() % (uint64_t)v->n);
    if (!usable(x) || !usable(y)) continue;
    size_t n = v->len[x] + v->len[y];
    if (n > 16) continue;
    char buf[24];
    memcpy(buf, v->tok[x], v->len[x]);
    memcpy(buf + v->len[x], v->tok[y], v->len[y]);
    if (vocab_find(v, buf, n) >= 0) continue;
    vocab_add(v, buf, n);
  }
  struct str s = {0};
  puts_(&s, "{\"pat_str\": \"");
  puts_(&s, pattern);
  puts_(&s, "\", \"special_tokens\": {\"<|sp|>\": 700}, \"bpe_ranks\": \"! 0");
  for (int i = 0; i < v->n; i++) {
    puts_(&s, " ");
    put_b64(&s, (const unsigned char *)v->tok[i], v->len[i]);
  }
  puts_(&s, "\"}");
  return s.p;
}

/* tiktoken's byte_pair_merge, transcribed: the lowest rank of parts[i]..parts[i + 2], leftmost
** on ties, merge, repeat. Whole-piece lookup first. Returns the number of ids. */
static size_t ref_bpe(const struct vocab *v, const char *p, size_t n, uint32_t *ids) {
  int whole = vocab_find(v, p, n);
  if (whole >= 0) {
    ids[0] = (uint32_t)whole;
    return 1;
  }
  size_t *start = malloc((n + 1) * sizeof *start);
  size_t m = n;
  for (size_t i = 0; i <= n; i++)
    start[i] = i;
  for (;;) {
    int best = -1;
    size_t bi = 0;
    for (size_t i = 0; i + 1 < m; i++) {
      int r = vocab_find(v, p + start[i], start[i + 2] - start[i]);
      if (r >= 0 && (best < 0 || r < best)) {
        best = r;
        bi = i;
      }
    }
    if (best < 0) break;
    memmove(start + bi + 1, start + bi + 2, (m - bi - 1) * sizeof *start);
    m--;
  }
  for (size_t i = 0; i < m; i++)
    ids[i] = (uint32_t)vocab_find(v, p + start[i], start[i + 1] - start[i]);
  free(start);
  return m;
}

static struct srm_tok *load(const char *src, const char *name) {
  int st;
  char err[300];
  struct srm_tok *t = srm_tok_load_buffer(src, strlen(src), name, &st, err, sizeof err);
  ck_assert_msg(t != NULL, "load failed: %s", err);
  return t;
}

START_TEST(heap_merge_matches_reference) {
  rng_state = 42;
  static struct vocab v;
  char *json = make_tiktoken(&v, "[^\\\\n]+"); /* one piece per line */
  struct srm_tok *t = load(json, "random");
  struct srm_tok_session *s = srm_tok_session_new(t);
  srm_tok_close(t); /* the session keeps it alive */
  char err[200];
  uint32_t *ref = malloc(4000 * sizeof *ref);
  char text[4000];
  for (int round = 0; round < 300; round++) {
    size_t n = 1 + (size_t)(rnd() % (round < 100 ? 70 : 3000));
    int runs = round % 3 == 0; /* long runs of one letter: ties everywhere */
    for (size_t i = 0; i < n; i++)
      text[i] = runs && rnd() % 8 ? (i ? text[i - 1] : 'a') : ALPHA[rnd() % 4];
    size_t m = ref_bpe(&v, text, n, ref);
    struct srm_tok_ids ids = {0};
    size_t count;
    ck_assert_int_eq(
        srm_tok_encode(s, text, n, SRM_TOK_SPECIAL_ALLOW, &ids, &count, err, sizeof err),
        SRM_TOK_OK);
    ck_assert_uint_eq(count, ids.n);
    ck_assert_msg(ids.n == m, "round %d (n=%zu): %zu ids, reference %zu", round, n, ids.n, m);
    for (size_t i = 0; i < m; i++)
      ck_assert_uint_eq(ids.v[i], ref[i]);
    srm_tok_ids_free(&ids);
  }
  free(ref);
  free(json);
  srm_tok_session_free(s);
}
END_TEST

static size_t encode_all(struct srm_tok_session *s, const char *text, size_t n,
                         enum srm_tok_special mode, struct srm_tok_ids *ids) {
  char err[200];
  size_t count;
  ck_assert_int_eq(srm_tok_encode(s, text, n, mode, ids, &count, err, sizeof err), SRM_TOK_OK);
  return count;
}

static void decode_into(const struct srm_tok *t, const struct srm_tok_ids *ids, struct str *out) {
  for (size_t i = 0; i < ids->n; i++) {
    size_t len;
    const char *b = srm_tok_token_bytes(t, ids->v[i], &len);
    ck_assert_ptr_nonnull(b);
    put(out, b, len);
  }
}

START_TEST(specials_and_invalid_utf8) {
  rng_state = 7;
  static struct vocab v;
  char *json = make_tiktoken(&v, "\\\\s+|\\\\S+");
  struct srm_tok *t = load(json, "random");
  ck_assert_uint_eq(srm_tok_vocab_size(t), 701);
  ck_assert(srm_tok_is_tiktoken(t));
  struct srm_tok_session *s = srm_tok_session_new(t);
  struct srm_tok_ids ids = {0};
  const char txt[] = "ab<|sp|>\xff\xfe c\xe2\x82";
  encode_all(s, txt, sizeof txt - 1, SRM_TOK_SPECIAL_ALLOW, &ids);
  int found = 0;
  for (size_t i = 0; i < ids.n; i++)
    found += ids.v[i] == 700;
  ck_assert_int_eq(found, 1);
  struct str back = {0};
  decode_into(t, &ids, &back);
  ck_assert_uint_eq(back.n, sizeof txt - 1);
  ck_assert(memcmp(back.p, txt, back.n) == 0);
  ids.n = 0;
  encode_all(s, txt, sizeof txt - 1, SRM_TOK_SPECIAL_TEXT, &ids);
  for (size_t i = 0; i < ids.n; i++)
    ck_assert_uint_ne(ids.v[i], 700);
  char err[200];
  size_t count;
  ck_assert_int_eq(
      srm_tok_encode(s, txt, sizeof txt - 1, SRM_TOK_SPECIAL_ERROR, NULL, &count, err, sizeof err),
      SRM_TOK_E_SPECIAL);
  ck_assert_ptr_nonnull(strstr(err, "<|sp|>"));
  size_t len;
  ck_assert_ptr_null(srm_tok_token_bytes(t, 699, &len)); /* a gap between ranks and specials */
  ck_assert_ptr_null(srm_tok_token_bytes(t, 701, &len));
  srm_tok_ids_free(&ids);
  free(back.p);
  free(json);
  srm_tok_session_free(s);
  srm_tok_close(t);
}
END_TEST

START_TEST(refusals) {
  const char *cases[][2] = {
      {"{\"pat_str\": \"\\\\w+\", \"bpe_ranks\": \"! 0 YQ==\"}", "\\w"},
      {"{\"pat_str\": \"[a[b]]\", \"bpe_ranks\": \"! 0 YQ==\"}", "nested"},
      {"{\"pat_str\": \".+\", \"bpe_ranks\": \"! 0 YQ==\"}", "no token for byte"},
      {"{\"pat_str\": \"(\", \"bpe_ranks\": \"! 0 YQ==\"}", "does not compile"},
      {"{\"pat_str\": \".+\", \"bpe_ranks\": \"! 0 !!!\"}", "base64"},
      {"{\"model\": {\"type\": \"Unigram\"}}", "model type Unigram"},
      {"{\"model\": {\"type\": \"BPE\", \"byte_fallback\": true}}", "byte_fallback"},
      {"{\"model\": {\"type\": \"BPE\", \"dropout\": 0.1}}", "dropout"},
      {"{\"model\": {}, \"pre_tokenizer\": {\"type\": \"Sequence\", \"pretokenizers\": "
       "[{\"type\": \"ByteLevel\"}, {\"type\": \"Digits\"}]}}",
       "pre-tokenizer ByteLevel at position 1"},
      {"{\"a\": 1}", "neither"},
      {"YQ== 0\n", "unknown tiktoken encoding 'x'"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int st;
    char err[300];
    struct srm_tok *t =
        srm_tok_load_buffer(cases[i][0], strlen(cases[i][0]), "x", &st, err, sizeof err);
    ck_assert_msg(t == NULL, "case %zu loaded", i);
    ck_assert_msg(strstr(err, cases[i][1]) != NULL, "case %zu: %s", i, err);
    ck_assert_int_ne(st, SRM_TOK_OK);
  }
}
END_TEST

/* ---- registry, threads, resolution ---- */

struct job {
  struct srm_tok *t;
  const char *text;
  size_t n;
  size_t count;
};

static void *worker(void *arg) {
  struct job *j = arg;
  struct srm_tok_session *s = srm_tok_session_new(j->t);
  char err[200];
  for (int i = 0; i < 20; i++) {
    size_t c = 0;
    if (srm_tok_encode(s, j->text, j->n, SRM_TOK_SPECIAL_ALLOW, NULL, &c, err, sizeof err) != 0)
      c = 0;
    if (i == 0)
      j->count = c;
    else if (c != j->count)
      j->count = 0;
  }
  srm_tok_session_free(s);
  return NULL;
}

START_TEST(registry_threads_resolve) {
  rng_state = 9;
  static struct vocab v;
  char *json = make_tiktoken(&v, "\\\\s+|\\\\S+");
  char dir[] = "/tmp/srm-tok-test-XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  char path[256], got[4096], err[300];
  snprintf(path, sizeof path, "%s/mytok.json", dir);
  FILE *f = fopen(path, "wb");
  fputs(json, f);
  fclose(f);
  setenv("SRM_TOKENIZERS", "/nonexistent:", 1);
  ck_assert_int_eq(srm_tok_resolve("mytok", got, sizeof got, err, sizeof err), SRM_TOK_E_NOT_FOUND);
  char env[300];
  snprintf(env, sizeof env, "/nonexistent:%s", dir);
  setenv("SRM_TOKENIZERS", env, 1);
  ck_assert_int_eq(srm_tok_resolve("mytok", got, sizeof got, err, sizeof err), SRM_TOK_OK);
  ck_assert_str_eq(got, path);
  ck_assert_int_eq(srm_tok_resolve("../x", got, sizeof got, err, sizeof err), SRM_TOK_OK);
  ck_assert_str_eq(got, "../x"); /* a path: returned as is */
  ck_assert_int_eq(srm_tok_resolve("a b", got, sizeof got, err, sizeof err), SRM_TOK_E_NOT_FOUND);
  int st;
  struct srm_tok *a = srm_tok_open(path, &st, err, sizeof err);
  struct srm_tok *b = srm_tok_open(got[0] ? path : path, &st, err, sizeof err);
  ck_assert_ptr_nonnull(a);
  ck_assert_ptr_eq(a, b);
  ck_assert_str_eq(srm_tok_name(a), "mytok");
  ck_assert_ptr_null(srm_tok_open("/nonexistent/x.json", &st, err, sizeof err));
  ck_assert_int_eq(st, SRM_TOK_E_NOT_FOUND);

  struct str text = {0};
  for (int i = 0; i < 20000; i++) {
    char c = ALPHA[rnd() % 4];
    put(&text, &c, 1);
  }
  struct job jobs[4];
  pthread_t th[4];
  for (int i = 0; i < 4; i++) {
    jobs[i] = (struct job){a, text.p, text.n, 0};
    pthread_create(&th[i], NULL, worker, &jobs[i]);
  }
  for (int i = 0; i < 4; i++)
    pthread_join(th[i], NULL);
  ck_assert_uint_gt(jobs[0].count, 0);
  for (int i = 1; i < 4; i++)
    ck_assert_uint_eq(jobs[i].count, jobs[0].count);
  srm_tok_close(a);
  srm_tok_close(b); /* last reference: freed (ASan checks) */
  struct srm_tok *c = srm_tok_open(path, &st, err, sizeof err);
  ck_assert_ptr_nonnull(c);
  srm_tok_close(c);
  unlink(path);
  rmdir(dir);
  free(text.p);
  free(json);
}
END_TEST

static Suite *tok_suite(void) {
  Suite *s = suite_create("tok");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, json_values);
  tcase_add_test(tc, json_errors);
  tcase_add_test(tc, heap_merge_matches_reference);
  tcase_add_test(tc, specials_and_invalid_utf8);
  tcase_add_test(tc, refusals);
  tcase_add_test(tc, registry_threads_resolve);
  suite_add_tcase(s, tc);
  return s;
}

SRM_CHECK_MAIN(tok_suite)
