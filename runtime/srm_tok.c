/* srm: the byte-level BPE encoder behind srm.tok (pure C, no Lua). Text is split on added and
** special tokens, NFC-normalized when the tokenizer says so, pre-tokenized with the model's own
** PCRE2 pattern(s) (JIT), and each piece is merged by rank: a whole-token lookup first (tiktoken
** and Hugging Face ignore_merges), then a per-session cache of recent pieces, then the merge
** loop. Short pieces use tiktoken's scan-for-the-lowest-rank loop; long ones an indexed min-heap
** over a linked list of symbols, O(n log n), so a 10 MB word is not quadratic. Ties go to the
** leftmost pair, as in both reference implementations.
**
** The process-wide registry of loaded tokenizers (keyed by real path, reference counted) lives
** here too; loaders are in srm_tok_load.c. */
#include "srm_tok_int.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#define SMALL_PIECE 64        /* pieces up to this many bytes use the simple merge loop */
#define CACHE_SLOTS 8192      /* piece cache entries per session (direct mapped) */
#define CACHE_KEY 40          /* longest cached piece, bytes */
#define CACHE_IDS 16          /* most ids of a cached piece */
#define JIT_STACK_START 32768 /* bytes */
#define JIT_STACK_MAX (8 * 1024 * 1024)

struct cache_slot {
  uint64_t hash;
  uint8_t len, nids; /* len 0 = empty */
  char key[CACHE_KEY];
  uint32_t ids[CACHE_IDS];
};

struct srm_tok_session {
  struct srm_tok *t;
  pcre2_match_data *md;
  pcre2_match_context *mctx;
  pcre2_jit_stack *jit;
  struct cache_slot *cache; /* allocated on first use */
  void *work;               /* scratch for the heap merge, work_n bytes */
  size_t work_n;
  /* the current encode call */
  struct srm_tok_ids *out;
  size_t count;
  char *err;
  size_t errlen;
};

/* ---- hashing and lookups ---- */

uint64_t tok_hash(const char *p, size_t n) {
  uint64_t h = UINT64_C(0x9E3779B97F4A7C15) ^ (uint64_t)n;
  while (n >= 8) {
    uint64_t w;
    memcpy(&w, p, 8);
    h = (h ^ w) * UINT64_C(0xFF51AFD7ED558CCD);
    h ^= h >> 32;
    p += 8;
    n -= 8;
  }
  uint64_t w = 0;
  memcpy(&w, p, n);
  h = (h ^ w) * UINT64_C(0xC4CEB9FE1A85EC53);
  h ^= h >> 29;
  h *= UINT64_C(0x94D049BB133111EB);
  h ^= h >> 32;
  return h;
}

uint32_t tok_vocab_find(const struct srm_tok *t, const char *p, size_t n) {
  uint32_t i = (uint32_t)tok_hash(p, n) & t->vmask;
  for (;;) {
    uint32_t e = t->vhash[i];
    if (e == 0) return TOK_NONE;
    uint32_t id = e - 1;
    if (t->tok_len[id] == n && memcmp(t->bytes + t->tok_off[id], p, n) == 0) return id;
    i = (i + 1) & t->vmask;
  }
}

int tok_build_vocab_hash(struct srm_tok *t, const uint8_t *in_vocab) {
  size_t count = 0;
  for (uint32_t id = 0; id < t->n_ids; id++)
    if (in_vocab[id]) count++;
  size_t size = 16;
  while (size < count * 2)
    size *= 2;
  if (size > ((size_t)1 << 31)) return -1;
  t->vhash = calloc(size, sizeof *t->vhash);
  if (t->vhash == NULL) return -1;
  t->vmask = (uint32_t)(size - 1);
  for (uint32_t id = 0; id < t->n_ids; id++) {
    if (!in_vocab[id]) continue;
    const char *p = t->bytes + t->tok_off[id];
    size_t n = t->tok_len[id];
    if (tok_vocab_find(t, p, n) != TOK_NONE) continue; /* duplicate bytes: first id wins */
    uint32_t i = (uint32_t)tok_hash(p, n) & t->vmask;
    while (t->vhash[i] != 0)
      i = (i + 1) & t->vmask;
    t->vhash[i] = id + 1;
  }
  return 0;
}

static inline uint32_t pair_find(const struct srm_tok *t, uint32_t a, uint32_t b,
                                 uint32_t *result) {
  uint64_t key = ((uint64_t)a << 32) | b;
  uint32_t i = (uint32_t)((key * UINT64_C(0x9E3779B97F4A7C15)) >> 32) & t->pmask;
  for (;;) {
    const struct tok_pair *e = &t->pairs[i];
    if (e->rank == TOK_NONE) return TOK_NONE;
    if (e->key == key) {
      *result = e->result;
      return e->rank;
    }
    i = (i + 1) & t->pmask;
  }
}

/* Rank of merging the symbol at [a_start, b_start) (id a) with the one at [b_start, end) (id
** b), and the merged id in *result; TOK_NONE when they do not merge. */
static inline uint32_t merge_rank(const struct srm_tok *t, const char *piece, uint32_t a_start,
                                  uint32_t end, uint32_t a, uint32_t b, uint32_t *result) {
  if (t->pairs) return pair_find(t, a, b, result);
  uint32_t id = tok_vocab_find(t, piece + a_start, end - a_start);
  *result = id;
  return id;
}

/* ---- UTF-8 ---- */

/* Length of the valid UTF-8 sequence at p (n > 0 bytes available), or 0 if none starts there. */
static size_t utf8_seq(const unsigned char *p, size_t n) {
  unsigned char c = p[0];
  if (c < 0x80) return 1;
  if (c < 0xC2) return 0;
  if (c < 0xE0) return (n >= 2 && (p[1] & 0xC0) == 0x80) ? 2 : 0;
  if (c < 0xF0) {
    if (n < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80) return 0;
    if (c == 0xE0 && p[1] < 0xA0) return 0;  /* overlong */
    if (c == 0xED && p[1] >= 0xA0) return 0; /* surrogate */
    return 3;
  }
  if (c < 0xF5) {
    if (n < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80) return 0;
    if (c == 0xF0 && p[1] < 0x90) return 0;  /* overlong */
    if (c == 0xF4 && p[1] >= 0x90) return 0; /* > U+10FFFF */
    return 4;
  }
  return 0;
}

/* Length of the longest valid UTF-8 prefix of p. */
static size_t utf8_valid_prefix(const unsigned char *p, size_t n) {
  size_t i = 0;
  while (i < n) {
    while (i + 8 <= n) {
      uint64_t w;
      memcpy(&w, p + i, 8);
      if (w & UINT64_C(0x8080808080808080)) break;
      i += 8;
    }
    if (i >= n) break;
    size_t k = utf8_seq(p + i, n - i);
    if (k == 0) break;
    i += k;
  }
  return i;
}

/* ---- emitting ---- */

static int fail(struct srm_tok_session *s, int status, const char *msg) {
  snprintf(s->err, s->errlen, "%s", msg);
  return status;
}

static int emit(struct srm_tok_session *s, uint32_t id) {
  s->count++;
  struct srm_tok_ids *o = s->out;
  if (o == NULL) return SRM_TOK_OK;
  if (o->n == o->cap) {
    size_t ncap = o->cap ? o->cap * 2 : 64;
    uint32_t *nv = realloc(o->v, ncap * sizeof *nv);
    if (nv == NULL) return fail(s, SRM_TOK_E_NOMEM, "out of memory");
    o->v = nv;
    o->cap = ncap;
  }
  o->v[o->n++] = id;
  return SRM_TOK_OK;
}

/* ---- BPE ---- */

/* Simple merge loop for n <= SMALL_PIECE bytes (tiktoken's algorithm): a scan for the lowest
** rank, merge, recompute the two neighbouring ranks. Writes the ids to ids[], returns how many. */
static size_t bpe_small(const struct srm_tok *t, const char *p, uint32_t n, uint32_t *ids) {
  uint32_t start[SMALL_PIECE + 1], rank[SMALL_PIECE], res[SMALL_PIECE];
  uint32_t m = n;
  for (uint32_t i = 0; i < n; i++) {
    start[i] = i;
    ids[i] = t->byte_id[(unsigned char)p[i]];
  }
  start[n] = n;
  for (uint32_t i = 0; i + 1 < m; i++)
    rank[i] = merge_rank(t, p, start[i], start[i + 2], ids[i], ids[i + 1], &res[i]);
  rank[m - 1] = TOK_NONE;
  for (;;) {
    uint32_t best = TOK_NONE, bi = 0;
    for (uint32_t i = 0; i + 1 < m; i++) {
      if (rank[i] < best) {
        best = rank[i];
        bi = i;
      }
    }
    if (best == TOK_NONE) break;
    ids[bi] = res[bi];
    /* drop symbol bi + 1 */
    for (uint32_t i = bi + 1; i + 1 < m; i++) {
      ids[i] = ids[i + 1];
      rank[i] = rank[i + 1];
      res[i] = res[i + 1];
    }
    for (uint32_t i = bi + 1; i < m; i++)
      start[i] = start[i + 1];
    m--;
    rank[m - 1] = TOK_NONE;
    if (bi + 1 < m)
      rank[bi] = merge_rank(t, p, start[bi], start[bi + 2], ids[bi], ids[bi + 1], &res[bi]);
    else
      rank[bi] = TOK_NONE;
    if (bi > 0)
      rank[bi - 1] =
          merge_rank(t, p, start[bi - 1], start[bi + 1], ids[bi - 1], ids[bi], &res[bi - 1]);
  }
  return m;
}

/* The heap merge for long pieces: a doubly linked list of symbols and a lazy 8-ary min-heap of
** (rank << 32 | symbol) keys; a popped key is stale when its symbol died or its pair's rank
** changed. The heap is rebuilt from the live pairs when stale keys outnumber them. Symbols are
** byte positions, so equal ranks pop leftmost first. */
#define HEAP_D 8 /* children per heap node: one cache line of keys, a shallow tree */

struct bpe_big {
  uint32_t *start, *id, *rank, *next, *prev; /* by symbol; id TOK_NONE = merged away */
  uint64_t *heap;
  size_t hn, hcap;
};

static void heap_push(struct bpe_big *b, uint64_t key) {
  size_t pos = b->hn++;
  while (pos > 0) {
    size_t parent = (pos - 1) / HEAP_D;
    if (b->heap[parent] <= key) break;
    b->heap[pos] = b->heap[parent];
    pos = parent;
  }
  b->heap[pos] = key;
}

static void heap_sift(struct bpe_big *b, size_t pos) {
  uint64_t key = b->heap[pos];
  for (;;) {
    size_t first = HEAP_D * pos + 1;
    if (first >= b->hn) break;
    size_t last = first + HEAP_D < b->hn ? first + HEAP_D : b->hn;
    size_t c = first;
    for (size_t k = first + 1; k < last; k++)
      if (b->heap[k] < b->heap[c]) c = k;
    if (b->heap[c] >= key) break;
    b->heap[pos] = b->heap[c];
    pos = c;
  }
  b->heap[pos] = key;
}

static uint64_t heap_pop(struct bpe_big *b) {
  uint64_t top = b->heap[0];
  b->heap[0] = b->heap[--b->hn];
  if (b->hn > 0) heap_sift(b, 0);
  return top;
}

/* Rank of the pair (x, next[x]) and its merged id. */
static uint32_t big_rank(const struct srm_tok *t, const char *p, const struct bpe_big *b,
                         uint32_t x, uint32_t n, uint32_t *result) {
  uint32_t y = b->next[x];
  if (y == TOK_NONE) return TOK_NONE;
  uint32_t end = b->next[y] == TOK_NONE ? n : b->start[b->next[y]];
  return merge_rank(t, p, b->start[x], end, b->id[x], b->id[y], result);
}

/* Refills the heap with the keys of the live pairs (heapified in O(n)). */
static void heap_rebuild(struct bpe_big *b, uint32_t first) {
  b->hn = 0;
  for (uint32_t x = first; x != TOK_NONE; x = b->next[x])
    if (b->rank[x] != TOK_NONE) b->heap[b->hn++] = ((uint64_t)b->rank[x] << 32) | x;
  for (size_t k = b->hn / 2; k-- > 0;)
    heap_sift(b, k);
}

static int bpe_big(struct srm_tok_session *s, const char *p, uint32_t n) {
  const struct srm_tok *t = s->t;
  size_t need = (size_t)n * 5 * sizeof(uint32_t) + (size_t)n * 2 * sizeof(uint64_t);
  if (s->work_n < need) {
    free(s->work);
    s->work = malloc(need);
    s->work_n = s->work ? need : 0;
    if (s->work == NULL) return fail(s, SRM_TOK_E_NOMEM, "out of memory");
  }
  struct bpe_big b;
  uint64_t *heap = (uint64_t *)s->work; /* first: keeps the 8-byte alignment */
  uint32_t *w = (uint32_t *)(heap + (size_t)n * 2);
  b.heap = heap;
  b.hcap = (size_t)n * 2;
  b.start = w;
  b.id = w + n;
  b.rank = w + 2 * (size_t)n;
  b.next = w + 3 * (size_t)n;
  b.prev = w + 4 * (size_t)n;
  for (uint32_t i = 0; i < n; i++) {
    b.start[i] = i;
    b.id[i] = t->byte_id[(unsigned char)p[i]];
    b.next[i] = i + 1 < n ? i + 1 : TOK_NONE;
    b.prev[i] = i > 0 ? i - 1 : TOK_NONE;
  }
  uint32_t result;
  size_t live = 0; /* pairs with a rank */
  for (uint32_t i = 0; i < n; i++) {
    b.rank[i] = big_rank(t, p, &b, i, n, &result);
    if (b.rank[i] != TOK_NONE) live++;
  }
  heap_rebuild(&b, 0);
  while (b.hn > 0) {
    uint64_t key = heap_pop(&b);
    uint32_t x = (uint32_t)key, r = (uint32_t)(key >> 32);
    if (b.id[x] == TOK_NONE || b.rank[x] != r) continue; /* stale */
    uint32_t y = b.next[x];
    (void)big_rank(t, p, &b, x, n, &result);
    b.id[x] = result;
    if (b.rank[y] != TOK_NONE) live--;
    b.id[y] = TOK_NONE;
    b.rank[y] = TOK_NONE;
    b.next[x] = b.next[y];
    if (b.next[y] != TOK_NONE) b.prev[b.next[y]] = x;
    live--; /* x's old pair */
    uint32_t nr = big_rank(t, p, &b, x, n, &result);
    b.rank[x] = nr;
    if (nr != TOK_NONE) {
      live++;
      heap_push(&b, ((uint64_t)nr << 32) | x);
    }
    uint32_t q = b.prev[x];
    if (q != TOK_NONE) {
      uint32_t old = b.rank[q];
      nr = big_rank(t, p, &b, q, n, &result);
      b.rank[q] = nr;
      live += (nr != TOK_NONE) - (old != TOK_NONE);
      if (nr != TOK_NONE) heap_push(&b, ((uint64_t)nr << 32) | q);
    }
    if (b.hn + 2 > b.hcap || b.hn > 2 * live + 1024) heap_rebuild(&b, 0);
  }
  for (uint32_t x = 0; x != TOK_NONE; x = b.next[x]) {
    int rc = emit(s, b.id[x]);
    if (rc != SRM_TOK_OK) return rc;
  }
  return SRM_TOK_OK;
}

/* ---- pieces ---- */

static int encode_piece(struct srm_tok_session *s, const char *p, size_t n) {
  const struct srm_tok *t = s->t;
  if (n == 0) return SRM_TOK_OK;
  if (n == 1) return emit(s, t->byte_id[(unsigned char)p[0]]);
  if (t->ignore_merges) {
    uint32_t id = tok_vocab_find(t, p, n);
    if (id != TOK_NONE) return emit(s, id);
  }
  if (n > UINT32_MAX) return fail(s, SRM_TOK_E_NOMEM, "piece too long");
  struct cache_slot *slot = NULL;
  uint64_t h = 0;
  if (n <= CACHE_KEY) {
    if (s->cache == NULL) s->cache = calloc(CACHE_SLOTS, sizeof *s->cache);
    if (s->cache) {
      h = tok_hash(p, n);
      slot = &s->cache[h & (CACHE_SLOTS - 1)];
      if (slot->len == n && slot->hash == h && memcmp(slot->key, p, n) == 0) {
        for (uint32_t i = 0; i < slot->nids; i++) {
          int rc = emit(s, slot->ids[i]);
          if (rc != SRM_TOK_OK) return rc;
        }
        return SRM_TOK_OK;
      }
    }
  }
  if (n > SMALL_PIECE) return bpe_big(s, p, (uint32_t)n);
  uint32_t ids[SMALL_PIECE];
  size_t m = bpe_small(t, p, (uint32_t)n, ids);
  for (size_t i = 0; i < m; i++) {
    int rc = emit(s, ids[i]);
    if (rc != SRM_TOK_OK) return rc;
  }
  if (slot && m <= CACHE_IDS) {
    slot->hash = h;
    slot->len = (uint8_t)n;
    slot->nids = (uint8_t)m;
    memcpy(slot->key, p, n);
    memcpy(slot->ids, ids, m * sizeof *ids);
  }
  return SRM_TOK_OK;
}

/* Splits valid UTF-8 p[0, n) with pre-tokenizer stage k (matches and the gaps between them are
** pieces, Hugging Face's "Isolated" behaviour) and hands each piece to stage k + 1. */
static int split_stage(struct srm_tok_session *s, int k, const char *p, size_t n) {
  const struct srm_tok *t = s->t;
  if (k == t->nstages) return encode_piece(s, p, n);
  pcre2_code *code = t->stage[k];
  size_t gap = 0, from = 0;
  while (from < n) {
    int rc = pcre2_match(code, (PCRE2_SPTR)p, n, from, PCRE2_NO_UTF_CHECK, s->md, s->mctx);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) {
      PCRE2_UCHAR msg[120];
      pcre2_get_error_message(rc, msg, sizeof msg);
      snprintf(s->err, s->errlen, "pre-tokenizer regex failed: %s", (const char *)msg);
      return SRM_TOK_E_REGEX;
    }
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(s->md);
    size_t ms = ov[0], me = ov[1];
    if (me <= ms) { /* an empty match: step over one character, it joins the gap */
      size_t step = utf8_seq((const unsigned char *)p + ms, n - ms);
      from = ms + (step ? step : 1);
      continue;
    }
    if (ms > gap) {
      int r = split_stage(s, k + 1, p + gap, ms - gap);
      if (r != SRM_TOK_OK) return r;
    }
    int r = split_stage(s, k + 1, p + ms, me - ms);
    if (r != SRM_TOK_OK) return r;
    gap = from = me;
  }
  if (n > gap) return split_stage(s, k + 1, p + gap, n - gap);
  return SRM_TOK_OK;
}

/* A valid UTF-8 run: normalization, then the pre-tokenizer stages. */
static int encode_valid(struct srm_tok_session *s, const char *p, size_t n) {
  if (s->t->nfc) {
    int needs = 0;
    for (size_t i = 0; i < n; i++) {
      if ((unsigned char)p[i] >= 0xCC) { /* U+0300 and up: may not be NFC */
        needs = 1;
        break;
      }
    }
    if (needs) {
      if (n > (size_t)PTRDIFF_MAX / 4) return fail(s, SRM_TOK_E_NOMEM, "text too long");
      utf8proc_uint8_t *norm = NULL;
      utf8proc_ssize_t nn = utf8proc_map((const utf8proc_uint8_t *)p, (utf8proc_ssize_t)n, &norm,
                                         UTF8PROC_STABLE | UTF8PROC_COMPOSE);
      if (nn < 0) {
        free(norm);
        return fail(s, nn == UTF8PROC_ERROR_NOMEM ? SRM_TOK_E_NOMEM : SRM_TOK_E_BAD_FILE,
                    utf8proc_errmsg(nn));
      }
      int rc = split_stage(s, 0, (const char *)norm, (size_t)nn);
      free(norm);
      return rc;
    }
  }
  return split_stage(s, 0, p, n);
}

/* Text between added tokens: valid UTF-8 runs are pre-tokenized; each maximal run of bytes that
** start no valid sequence is one piece of its own. */
static int encode_segment(struct srm_tok_session *s, const char *p, size_t n) {
  size_t i = 0;
  while (i < n) {
    size_t v = utf8_valid_prefix((const unsigned char *)p + i, n - i);
    if (v > 0) {
      int rc = encode_valid(s, p + i, v);
      if (rc != SRM_TOK_OK) return rc;
      i += v;
    }
    size_t j = i;
    while (j < n && utf8_seq((const unsigned char *)p + j, n - j) == 0)
      j++;
    if (j > i) {
      int rc = encode_piece(s, p + i, j - i);
      if (rc != SRM_TOK_OK) return rc;
      i = j;
    }
  }
  return SRM_TOK_OK;
}

/* The first added token at or after `from` that the mode lets through (leftmost, then longest),
** or NULL. In SRM_TOK_SPECIAL_TEXT mode special tokens are not looked for. */
static const struct tok_added *find_added(const struct srm_tok *t, const char *p, size_t n,
                                          size_t from, enum srm_tok_special mode, size_t *at) {
  if (t->nadded == 0) return NULL;
  for (size_t i = from; i < n; i++) {
    unsigned char c = (unsigned char)p[i];
    uint32_t lo = t->added_first[c], hi = t->added_first[c + 1];
    if (lo == hi) continue;
    for (uint32_t k = lo; k < hi; k++) {
      const struct tok_added *a = &t->added[k];
      if (a->special && mode == SRM_TOK_SPECIAL_TEXT) continue;
      if (a->len <= n - i && memcmp(p + i, t->bytes + a->off, a->len) == 0) {
        *at = i;
        return a;
      }
    }
  }
  return NULL;
}

int srm_tok_encode(struct srm_tok_session *s, const char *text, size_t len,
                   enum srm_tok_special special, struct srm_tok_ids *out, size_t *count, char *err,
                   size_t errlen) {
  const struct srm_tok *t = s->t;
  s->out = out;
  s->count = 0;
  s->err = err;
  s->errlen = errlen;
  if (errlen) err[0] = '\0';
  size_t pos = 0;
  int rc = SRM_TOK_OK;
  while (pos < len) {
    size_t at = len;
    const struct tok_added *a = find_added(t, text, len, pos, special, &at);
    if (a && a->special && special == SRM_TOK_SPECIAL_ERROR) {
      snprintf(err, errlen, "the text contains the special token %.*s at byte %zu",
               (int)(a->len > 64 ? 64 : a->len), t->bytes + a->off, at + 1);
      rc = SRM_TOK_E_SPECIAL;
      break;
    }
    if (at > pos) {
      rc = encode_segment(s, text + pos, at - pos);
      if (rc != SRM_TOK_OK) break;
    }
    if (a == NULL) break;
    rc = emit(s, a->id);
    if (rc != SRM_TOK_OK) break;
    pos = at + a->len;
  }
  if (count) *count = s->count;
  s->out = NULL;
  s->err = NULL;
  return rc;
}

const char *srm_tok_token_bytes(const struct srm_tok *t, uint32_t id, size_t *len) {
  if (id >= t->n_ids || t->tok_len[id] == TOK_NONE) return NULL;
  *len = t->tok_len[id];
  return t->bytes + t->tok_off[id];
}

void srm_tok_ids_free(struct srm_tok_ids *ids) {
  free(ids->v);
  ids->v = NULL;
  ids->n = ids->cap = 0;
}

/* ---- sessions ---- */

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct srm_tok *registry;

void tok_ref(struct srm_tok *t) {
  pthread_mutex_lock(&registry_lock);
  t->refs++;
  pthread_mutex_unlock(&registry_lock);
}

struct srm_tok_session *srm_tok_session_new(struct srm_tok *t) {
  struct srm_tok_session *s = calloc(1, sizeof *s);
  if (s == NULL) return NULL;
  s->md = pcre2_match_data_create(1, NULL);
  s->mctx = pcre2_match_context_create(NULL);
  s->jit = pcre2_jit_stack_create(JIT_STACK_START, JIT_STACK_MAX, NULL);
  if (s->md == NULL || s->mctx == NULL) {
    pcre2_match_data_free(s->md);
    pcre2_match_context_free(s->mctx);
    pcre2_jit_stack_free(s->jit);
    free(s);
    return NULL;
  }
  if (s->jit) pcre2_jit_stack_assign(s->mctx, NULL, s->jit);
  /* The patterns come with the tokenizer, not from skills, and backtrack at most over one run
  ** of a character class per match (so O(n) per piece): PCRE2's default match limit would
  ** refuse a 10 MB run of spaces that the reference engines accept. */
  pcre2_set_match_limit(s->mctx, UINT32_MAX);
  pcre2_set_heap_limit(s->mctx, 4u * 1024u * 1024u); /* KiB, for the interpreter without JIT */
  s->t = t;
  tok_ref(t);
  return s;
}

void srm_tok_session_free(struct srm_tok_session *s) {
  if (s == NULL) return;
  pcre2_match_data_free(s->md);
  pcre2_match_context_free(s->mctx);
  pcre2_jit_stack_free(s->jit);
  free(s->cache);
  free(s->work);
  srm_tok_close(s->t);
  free(s);
}

struct srm_tok *srm_tok_session_tok(struct srm_tok_session *s) {
  return s->t;
}

/* ---- the registry ---- */

void tok_destroy(struct srm_tok *t) {
  if (t == NULL) return;
  free(t->name);
  free(t->path);
  free(t->tok_off);
  free(t->tok_len);
  free(t->bytes);
  free(t->vhash);
  free(t->pairs);
  for (int i = 0; i < t->nstages; i++)
    pcre2_code_free(t->stage[i]);
  free(t->added);
  free(t);
}

struct srm_tok *srm_tok_open(const char *path, int *status, char *err, size_t errlen) {
  char real[PATH_MAX];
  if (realpath(path, real) == NULL) {
    *status = errno == ENOMEM ? SRM_TOK_E_NOMEM : SRM_TOK_E_NOT_FOUND;
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return NULL;
  }
  pthread_mutex_lock(&registry_lock);
  for (struct srm_tok *t = registry; t; t = t->next) {
    if (strcmp(t->path, real) == 0) {
      t->refs++;
      pthread_mutex_unlock(&registry_lock);
      *status = SRM_TOK_OK;
      return t;
    }
  }
  /* Loading under the lock: loads are rare (skill load time) and this keeps one copy. */
  struct srm_tok *t = tok_load_file(real, status, err, errlen);
  if (t) {
    t->refs = 1;
    t->next = registry;
    registry = t;
  }
  pthread_mutex_unlock(&registry_lock);
  return t;
}

void srm_tok_close(struct srm_tok *t) {
  if (t == NULL) return;
  pthread_mutex_lock(&registry_lock);
  int last = --t->refs == 0;
  if (last) {
    for (struct srm_tok **pp = &registry; *pp; pp = &(*pp)->next) {
      if (*pp == t) {
        *pp = t->next;
        break;
      }
    }
  }
  pthread_mutex_unlock(&registry_lock);
  if (last) tok_destroy(t);
}

const char *srm_tok_name(const struct srm_tok *t) {
  return t->name;
}

uint32_t srm_tok_vocab_size(const struct srm_tok *t) {
  return t->n_ids;
}

int srm_tok_is_tiktoken(const struct srm_tok *t) {
  return t->kind == TOK_KIND_TIKTOKEN;
}

const char *srm_tok_status_code(int status) {
  switch (status) {
  case SRM_TOK_OK:
    return "OK";
  case SRM_TOK_E_NOT_FOUND:
    return "NOT_FOUND";
  case SRM_TOK_E_BAD_FILE:
    return "BAD_FILE";
  case SRM_TOK_E_UNSUPPORTED:
    return "UNSUPPORTED";
  case SRM_TOK_E_NOMEM:
    return "NO_MEMORY";
  case SRM_TOK_E_SPECIAL:
    return "SPECIAL_TOKEN";
  case SRM_TOK_E_REGEX:
    return "REGEX_LIMIT";
  case SRM_TOK_E_BAD_ID:
    return "BAD_ID";
  default:
    return "ERROR";
  }
}
