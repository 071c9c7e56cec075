/* srm fuzzing: the BPE tokenizer (runtime/srm_tok*.c) encoding arbitrary bytes. Two small
** tokenizers are built in memory at start-up from one deterministic random vocabulary (the 256
** bytes and 3000 merges over English letters, digits, punctuation, space, newline and a few
** multi-byte characters), exercising both loaders and pre-tokenizer families:
**  - a plain tiktoken rank file loaded under the name cl100k_base (cl100k's pattern and
**    special tokens);
**  - a Qwen-style tokenizer.json: NFC normalizer, Split(Regex, Isolated) + ByteLevel
**    pre-tokenizers, ByteLevel decoder, special and non-special added tokens.
** Input: byte 0 bit 0 picks the tokenizer, bits 1-2 the special-token mode (allow, text, error);
** the rest is the text. Properties: encoding succeeds (or refuses a special token in error
** mode), the count matches the ids, every id decodes, and decoding gives the text back (for the
** NFC tokenizer, when the text is valid UTF-8 already in NFC). */
#include "srm_tok.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NMERGE 3000
#define MAXTOK 16

struct vocab {
  char tok[256 + NMERGE][MAXTOK];
  size_t len[256 + NMERGE];
  int n;
};

struct buf {
  char *p;
  size_t n, cap;
};

static void fail(const char *what, const char *detail) {
  fprintf(stderr, "fuzz_tok: %s: %s\n", what, detail ? detail : "");
  abort();
}

static void put(struct buf *b, const void *p, size_t n) {
  if (b->cap - b->n < n + 1) {
    b->cap = (b->cap + n + 1) * 2;
    b->p = realloc(b->p, b->cap);
    if (!b->p) fail("out of memory", NULL);
  }
  memcpy(b->p + b->n, p, n);
  b->n += n;
  b->p[b->n] = '\0';
}

static void puts_(struct buf *b, const char *s) {
  put(b, s, strlen(s));
}

static uint64_t rng = 12345;

static uint64_t rnd(void) { /* splitmix64 */
  uint64_t z = (rng += UINT64_C(0x9E3779B97F4A7C15));
  z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
  return z ^ (z >> 31);
}

/* Letters of the merges: ASCII, and the bytes of e-acute, n-tilde, a CJK ideograph and an
** emoji, so merged tokens also hold (parts of) multi-byte characters. */
static const char ALPHA[] = "etaoinshrdlucmfwypvbgkqjxz ETAIOS0123456789.,'!?-\n"
                            "\xC3\xA9\xC3\xB1\xE4\xB8\xAD\xF0\x9F\x98\x80";

static int find_tok(const struct vocab *v, const char *p, size_t n) {
  for (int i = 0; i < v->n; i++)
    if (v->len[i] == n && memcmp(v->tok[i], p, n) == 0) return i;
  return -1;
}

static void make_vocab(struct vocab *v) {
  v->n = 256;
  for (int b = 0; b < 256; b++) {
    v->tok[b][0] = (char)b;
    v->len[b] = 1;
  }
  size_t na = sizeof ALPHA - 1;
  while (v->n < 256 + NMERGE) {
    int x = (int)(rnd() % (uint64_t)v->n), y = (int)(rnd() % (uint64_t)v->n);
    if (x < 256) x = (unsigned char)ALPHA[rnd() % na];
    if (y < 256) y = (unsigned char)ALPHA[rnd() % na];
    size_t n = v->len[x] + v->len[y];
    if (n > MAXTOK) continue;
    char t[MAXTOK];
    memcpy(t, v->tok[x], v->len[x]);
    memcpy(t + v->len[x], v->tok[y], v->len[y]);
    if (find_tok(v, t, n) >= 0) continue;
    memcpy(v->tok[v->n], t, n);
    v->len[v->n] = n;
    v->n++;
  }
}

static void put_b64(struct buf *b, const unsigned char *p, size_t n) {
  static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (size_t i = 0; i < n; i += 3) {
    uint32_t w = (uint32_t)p[i] << 16;
    if (i + 1 < n) w |= (uint32_t)p[i + 1] << 8;
    if (i + 2 < n) w |= p[i + 2];
    char out[4] = {tab[(w >> 18) & 63], tab[(w >> 12) & 63], i + 1 < n ? tab[(w >> 6) & 63] : '=',
                   i + 2 < n ? tab[w & 63] : '='};
    put(b, out, 4);
  }
}

static char *tiktoken_file(const struct vocab *v, size_t *len) {
  struct buf b = {0};
  for (int i = 0; i < v->n; i++) {
    char num[16];
    put_b64(&b, (const unsigned char *)v->tok[i], v->len[i]);
    snprintf(num, sizeof num, " %d\n", i);
    puts_(&b, num);
  }
  *len = b.n;
  return b.p;
}

/* GPT-2's bytes_to_unicode: printable bytes stand for themselves, the others for U+0100 on. */
static void byte_char(unsigned c, struct buf *b) {
  unsigned cp = c;
  if (!((c >= 33 && c <= 126) || (c >= 161 && c <= 172) || c >= 174)) {
    unsigned k = 0;
    for (unsigned x = 0; x < c; x++)
      k += !((x >= 33 && x <= 126) || (x >= 161 && x <= 172) || x >= 174);
    cp = 256 + k;
  }
  char u[4];
  size_t n = cp < 0x80 ? 1 : 2;
  if (n == 1) {
    u[0] = (char)cp;
  } else {
    u[0] = (char)(0xC0 | (cp >> 6));
    u[1] = (char)(0x80 | (cp & 0x3F));
  }
  if (cp == '"' || cp == '\\') puts_(b, "\\");
  put(b, u, n);
}

static void byte_string(const char *p, size_t n, struct buf *b) {
  for (size_t i = 0; i < n; i++)
    byte_char((unsigned char)p[i], b);
}

/* Splits merged token i into the two earlier tokens it was made of: the split whose halves are
** both tokens of lower rank (the first such split; any one is a valid merge). */
static int split_tok(const struct vocab *v, int i, int *a, int *b) {
  for (size_t k = 1; k < v->len[i]; k++) {
    int x = find_tok(v, v->tok[i], k), y = find_tok(v, v->tok[i] + k, v->len[i] - k);
    if (x >= 0 && y >= 0 && x < i && y < i) {
      *a = x;
      *b = y;
      return 1;
    }
  }
  return 0;
}

static char *hf_file(const struct vocab *v, size_t *len) {
  struct buf b = {0};
  puts_(&b,
        "{\"version\": \"1.0\", \"added_tokens\": ["
        "{\"id\": 3256, \"content\": \"<|endoftext|>\", \"special\": true, \"normalized\": false},"
        "{\"id\": 3257, \"content\": \"<|im_start|>\", \"special\": true, \"normalized\": false},"
        "{\"id\": 3258, \"content\": \"<think>\", \"special\": false, \"normalized\": false}],"
        "\"normalizer\": {\"type\": \"NFC\"},"
        "\"pre_tokenizer\": {\"type\": \"Sequence\", \"pretokenizers\": ["
        "{\"type\": \"Split\", \"pattern\": {\"Regex\": \"(?i:'s|'t|'re|'ve|'m|'ll|'d)|"
        "[^\\\\r\\\\n\\\\p{L}\\\\p{N}]?\\\\p{L}+|\\\\p{N}| ?[^\\\\s\\\\p{L}\\\\p{N}]+[\\\\r\\\\n]*|"
        "\\\\s*[\\\\r\\\\n]+|\\\\s+(?!\\\\S)|\\\\s+\"}, \"behavior\": \"Isolated\", "
        "\"invert\": false},"
        "{\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"trim_offsets\": false, "
        "\"use_regex\": false}]},"
        "\"post_processor\": null,"
        "\"decoder\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false, "
        "\"trim_offsets\": false, \"use_regex\": false},"
        "\"model\": {\"type\": \"BPE\", \"dropout\": null, \"unk_token\": null, "
        "\"continuing_subword_prefix\": \"\", \"end_of_word_suffix\": \"\", "
        "\"fuse_unk\": false, \"byte_fallback\": false, \"ignore_merges\": false, \"vocab\": {");
  for (int i = 0; i < v->n; i++) {
    char num[24];
    puts_(&b, i ? ", \"" : "\"");
    byte_string(v->tok[i], v->len[i], &b);
    snprintf(num, sizeof num, "\": %d", i);
    puts_(&b, num);
  }
  puts_(&b, "}, \"merges\": [");
  int first = 1;
  for (int i = 256; i < v->n; i++) {
    int x, y;
    if (!split_tok(v, i, &x, &y)) fail("vocabulary", "a merged token has no split");
    puts_(&b, first ? "[\"" : ", [\"");
    first = 0;
    byte_string(v->tok[x], v->len[x], &b);
    puts_(&b, "\", \"");
    byte_string(v->tok[y], v->len[y], &b);
    puts_(&b, "\"]");
  }
  puts_(&b, "]}}");
  *len = b.n;
  return b.p;
}

static struct srm_tok_session *sessions[2];

static void init(void) {
  static struct vocab v;
  make_vocab(&v);
  size_t len;
  char err[512];
  int st;
  char *tt = tiktoken_file(&v, &len);
  struct srm_tok *t = srm_tok_load_buffer(tt, len, "cl100k_base", &st, err, sizeof err);
  if (!t) fail("loading the tiktoken vocabulary", err);
  sessions[0] = srm_tok_session_new(t);
  srm_tok_close(t);
  free(tt);
  char *hf = hf_file(&v, &len);
  t = srm_tok_load_buffer(hf, len, "fuzz-qwen", &st, err, sizeof err);
  if (!t) fail("loading the tokenizer.json vocabulary", err);
  sessions[1] = srm_tok_session_new(t);
  srm_tok_close(t);
  free(hf);
  if (!sessions[0] || !sessions[1]) fail("srm_tok_session_new", "out of memory");
}

/* Whether s is valid UTF-8 (no NUL) that NFC leaves unchanged. */
static int nfc_stable(const uint8_t *s, size_t n) {
  if (memchr(s, '\0', n)) return 0;
  char *z = malloc(n + 1);
  if (!z) return 0;
  memcpy(z, s, n);
  z[n] = '\0';
  int ok = 0;
  utf8proc_int32_t cp;
  for (utf8proc_ssize_t i = 0, r; i < (utf8proc_ssize_t)n; i += r) {
    r = utf8proc_iterate((const utf8proc_uint8_t *)z + i, (utf8proc_ssize_t)n - i, &cp);
    if (r < 0) goto out;
  }
  utf8proc_uint8_t *nfc = utf8proc_NFC((const utf8proc_uint8_t *)z);
  ok = nfc && strlen((char *)nfc) == n && memcmp(nfc, s, n) == 0;
  free(nfc);
out:
  free(z);
  return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!sessions[0]) init();
  if (size < 1) return 0;
  int which = data[0] & 1;
  enum srm_tok_special mode = (enum srm_tok_special)(((unsigned)data[0] >> 1 & 3u) % 3u);
  const char *text = (const char *)data + 1;
  size_t len = size - 1;
  struct srm_tok_session *s = sessions[which];
  struct srm_tok *t = srm_tok_session_tok(s);
  struct srm_tok_ids ids = {0};
  size_t count = (size_t)-1;
  char err[512];
  int rc = srm_tok_encode(s, text, len, mode, &ids, &count, err, sizeof err);
  if (rc == SRM_TOK_E_SPECIAL && mode == SRM_TOK_SPECIAL_ERROR) {
    srm_tok_ids_free(&ids);
    return 0;
  }
  if (rc != SRM_TOK_OK) fail(srm_tok_status_code(rc), err);
  if (count != ids.n) fail("count differs from the ids appended", NULL);
  size_t counted = 0;
  if (srm_tok_encode(s, text, len, mode, NULL, &counted, err, sizeof err) != SRM_TOK_OK ||
      counted != count)
    fail("counting without ids gives another count", NULL);
  struct buf back = {0};
  put(&back, "", 0);
  for (size_t i = 0; i < ids.n; i++) {
    size_t n;
    const char *p = srm_tok_token_bytes(t, ids.v[i], &n);
    if (!p) fail("an encoded id does not decode", NULL);
    put(&back, p, n);
  }
  int check = which == 0 || nfc_stable(data + 1, len);
  if (check && (back.n != len || memcmp(back.p, text, len) != 0))
    fail("decode(encode(text)) differs from the text", which ? "tokenizer.json" : "tiktoken");
  free(back.p);
  srm_tok_ids_free(&ids);
  return 0;
}
