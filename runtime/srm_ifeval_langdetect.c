/* srm: langdetect's detector re-implemented in C (see srm_ifeval_langdetect.h). Written from the
** behaviour of langdetect 1.0.9 (Detector.append, cleaning_text, NGram.add_char/normalize,
** _detect_block) and of CPython 3.11's random module, which it must reproduce draw for draw. */
#include "srm_ifeval_langdetect.h"

#include "srm_ifeval_py.h"

#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LD_MAX_LANGS 128
#define LD_NAME_MAX 16
#define LD_MAX_FILE (64u << 20)
#define LD_MAX_INPUT (1u << 20) /* code points read from the text */
#define LD_MAX_TEXT 10000       /* Detector.max_text_length */
#define LD_N_TRIAL 7
#define LD_ALPHA 0.5
#define LD_ALPHA_WIDTH 0.05
#define LD_ITERATION_LIMIT 1000
#define LD_PROB_THRESHOLD 0.1
#define LD_CONV_THRESHOLD 0.99999
#define LD_BASE_FREQ 10000
#define CJK_LO 0x4E00
#define CJK_HI 0x9FFF
#define VI_ALPHABET 24
#define VI_MARKS 5

#define MT_N 624
#define MT_M 397

struct py_random {
  uint32_t mt[MT_N];
  int index;
  int has_gauss;
  double gauss_next;
};

/* One n-gram: its packed key and its entries e_lang/e_prob[first, first + count); a lookup
** touches one cache line. */
struct slot {
  uint64_t key;
  uint32_t first;
  uint32_t count;
};

struct srm_langdetect {
  int nlang;
  char names[LD_MAX_LANGS][LD_NAME_MAX];
  /* n-gram table: open addressing on the packed key (up to three 21-bit code points) */
  size_t cap;         /* power of two */
  struct slot *slots; /* key 0 = empty */
  uint8_t *e_lang;    /* entries: the languages an n-gram occurs in, and its probability there */
  double *e_prob;
  int32_t cjk[CJK_HI - CJK_LO + 1]; /* NGram.CJK_MAP over the CJK Unified Ideographs block */
  int32_t latin1_exclude[8];
  int n_latin1_exclude;
  int32_t vi_alphabet[VI_ALPHABET], vi_marks[VI_MARKS], vi_normalized[VI_MARKS][VI_ALPHABET];
  /* Membership of the n-grams over the small alphabet (small_code): bit i of bm1, bm2, bm3 for
  ** the 1-, 2- and 3-gram whose 6-bit codes read i. A text's n-grams are mostly over it, and
  ** these 33 KB answer "is it in a profile?" without touching the 4 MB table. */
  uint64_t bm1, bm2[64], bm3[4096];
  struct py_random seeded; /* random.Random(0), copied at the start of every detection */
};

/* The small alphabet: ' ', A-Z, a-z and eleven common accented letters, as 6-bit codes; -1 for
** every other (normalized) character. */
#define SMALL_NONE 0xFF

static const int32_t small_extra[11] = {0xE9, 0xE8, 0xE0, 0xE1, 0xED, 0xF3,
                                        0xFA, 0xF1, 0xFC, 0xF6, 0xE4};

static unsigned small_code(int32_t c) {
  if (c == ' ') return 0;
  if (c >= 'A' && c <= 'Z') return (unsigned)(c - 'A' + 1);
  if (c >= 'a' && c <= 'z') return (unsigned)(c - 'a' + 27);
  if (c >= 0xE0 && c <= 0xFC)
    for (unsigned i = 0; i < 11; i++)
      if (small_extra[i] == c) return 53 + i;
  return SMALL_NONE;
}

/* Sets the membership bit of an n-gram when all its characters are in the small alphabet. */
static void small_mark(struct srm_langdetect *ld, uint64_t key, int len) {
  unsigned idx = 0;
  for (int i = len - 1, shift = 0; i >= 0; i--, shift++) {
    unsigned code = small_code((int32_t)((key >> (21 * (len - 1 - i))) & 0x1FFFFF));
    if (code == SMALL_NONE) return;
    idx |= code << (6 * shift);
  }
  if (len == 1) ld->bm1 |= 1ull << idx;
  if (len == 2) ld->bm2[idx >> 6] |= 1ull << (idx & 63);
  if (len == 3) ld->bm3[idx >> 6] |= 1ull << (idx & 63);
}

/* ---------------------------------------------------------------------------------------- */
/* Python's random.Random(0): MT19937, random(), gauss(), choice()                            */

static void mt_init_genrand(struct py_random *r, uint32_t seed) {
  r->mt[0] = seed;
  for (uint32_t i = 1; i < MT_N; i++)
    r->mt[i] = 1812433253u * (r->mt[i - 1] ^ (r->mt[i - 1] >> 30)) + i;
  r->index = MT_N;
}

/* random.seed(n) for a non-negative int n < 2^32: init_by_array with the key [n]. */
static void py_random_seed(struct py_random *r, uint32_t seed) {
  const uint32_t key[1] = {seed};
  const uint32_t key_len = 1;
  mt_init_genrand(r, 19650218u);
  uint32_t i = 1, j = 0;
  for (uint32_t k = MT_N; k; k--) {
    r->mt[i] = (r->mt[i] ^ ((r->mt[i - 1] ^ (r->mt[i - 1] >> 30)) * 1664525u)) + key[j] + j;
    i++;
    j++;
    if (i >= MT_N) {
      r->mt[0] = r->mt[MT_N - 1];
      i = 1;
    }
    if (j >= key_len) j = 0;
  }
  for (uint32_t k = MT_N - 1; k; k--) {
    r->mt[i] = (r->mt[i] ^ ((r->mt[i - 1] ^ (r->mt[i - 1] >> 30)) * 1566083941u)) - i;
    i++;
    if (i >= MT_N) {
      r->mt[0] = r->mt[MT_N - 1];
      i = 1;
    }
  }
  r->mt[0] = 0x80000000u;
  r->index = MT_N;
  r->has_gauss = 0;
  r->gauss_next = 0.0;
}

static uint32_t py_random_u32(struct py_random *r) {
  static const uint32_t mag01[2] = {0u, 0x9908B0DFu};
  if (r->index >= MT_N) {
    int k;
    uint32_t y;
    for (k = 0; k < MT_N - MT_M; k++) {
      y = (r->mt[k] & 0x80000000u) | (r->mt[k + 1] & 0x7FFFFFFFu);
      r->mt[k] = r->mt[k + MT_M] ^ (y >> 1) ^ mag01[y & 1u];
    }
    for (; k < MT_N - 1; k++) {
      y = (r->mt[k] & 0x80000000u) | (r->mt[k + 1] & 0x7FFFFFFFu);
      r->mt[k] = r->mt[k + (MT_M - MT_N)] ^ (y >> 1) ^ mag01[y & 1u];
    }
    y = (r->mt[MT_N - 1] & 0x80000000u) | (r->mt[0] & 0x7FFFFFFFu);
    r->mt[MT_N - 1] = r->mt[MT_M - 1] ^ (y >> 1) ^ mag01[y & 1u];
    r->index = 0;
  }
  uint32_t y = r->mt[r->index++];
  y ^= y >> 11;
  y ^= (y << 7) & 0x9D2C5680u;
  y ^= (y << 15) & 0xEFC60000u;
  y ^= y >> 18;
  return y;
}

static double py_random_random(struct py_random *r) {
  uint32_t a = py_random_u32(r) >> 5, b = py_random_u32(r) >> 6;
  return ((double)a * 67108864.0 + (double)b) * (1.0 / 9007199254740992.0);
}

static double py_random_gauss(struct py_random *r) {
  if (r->has_gauss) {
    r->has_gauss = 0;
    return r->gauss_next;
  }
  const double two_pi = 6.283185307179586;
  double x2pi = py_random_random(r) * two_pi;
  double g2rad = sqrt(-2.0 * log(1.0 - py_random_random(r)));
  r->gauss_next = sin(x2pi) * g2rad;
  r->has_gauss = 1;
  return cos(x2pi) * g2rad;
}

/* n.bit_length() */
static int bit_length(uint32_t n) {
  int k = 0;
  while (k < 32 && (n >> k) != 0)
    k++;
  return k;
}

/* random.choice over n items: _randbelow_with_getrandbits(n). n >= 1, n < 2^32, k its
** bit_length(). */
static uint32_t py_random_below(struct py_random *r, uint32_t n, int k) {
  for (;;) {
    uint32_t v = py_random_u32(r) >> (32 - k);
    if (v < n) return v;
  }
}

/* ---------------------------------------------------------------------------------------- */
/* Loading                                                                                    */

static char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap + 1);
  while (buf) {
    if (n == cap) {
      if (cap >= LD_MAX_FILE) {
        free(buf);
        buf = NULL;
        break;
      }
      char *nb = realloc(buf, cap * 2 + 1);
      if (!nb) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = nb;
      cap *= 2;
    }
    size_t got = fread(buf + n, 1, cap - n, f);
    if (got == 0) break;
    n += got;
  }
  fclose(f);
  if (buf) {
    buf[n] = '\0';
    *len = n;
  }
  return buf;
}

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Four hex digits at s (at least 4 bytes readable up to a NUL), or -1. */
static int32_t hex4(const char *s) {
  int32_t v = 0;
  for (int i = 0; i < 4; i++) {
    int h = hexval((unsigned char)s[i]);
    if (h < 0) return -1;
    v = v * 16 + h;
  }
  return v;
}

/* Decodes a messages.properties value (UTF-8 with \uXXXX escapes) into at most max code points;
** returns the count. */
static int prop_value(const char *v, const char *end, int32_t *out, int max) {
  int n = 0;
  const unsigned char *s = (const unsigned char *)v;
  size_t len = (size_t)(end - v), pos = 0;
  while (pos < len && n < max) {
    if (s[pos] == '\\' && pos + 5 < len + 1 && s[pos + 1] == 'u' && hex4(v + pos + 2) >= 0) {
      out[n++] = hex4(v + pos + 2);
      pos += 6;
    } else {
      out[n++] = srm_py_next(s, len, &pos);
    }
  }
  return n;
}

static int load_messages(struct srm_langdetect *ld, const char *dir, char *err, size_t errlen) {
  char path[4096];
  snprintf(path, sizeof path, "%s/utils/messages.properties", dir);
  size_t len;
  char *text = read_file(path, &len);
  if (!text) {
    snprintf(err, errlen, "cannot read %s", path);
    return -1;
  }
  for (int i = 0; i <= CJK_HI - CJK_LO; i++)
    ld->cjk[i] = CJK_LO + i;
  int have_vi = 0;
  int32_t *cps = malloc(sizeof(int32_t) * (len + 1));
  if (!cps) {
    free(text);
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  for (char *line = text; line && *line;) {
    char *eol = strchr(line, '\n');
    char *next = eol ? eol + 1 : NULL;
    if (!eol) eol = line + strlen(line);
    while (eol > line && (eol[-1] == '\r' || eol[-1] == ' '))
      eol--;
    char *eq = memchr(line, '=', (size_t)(eol - line));
    if (eq) {
      size_t klen = (size_t)(eq - line);
      int n = prop_value(eq + 1, eol, cps, (int)len);
      if (klen > 12 && memcmp(line, "NGram.KANJI_", 12) == 0 && n > 0) {
        for (int i = 0; i < n; i++)
          if (cps[i] >= CJK_LO && cps[i] <= CJK_HI) ld->cjk[cps[i] - CJK_LO] = cps[0];
      } else if (klen == 20 && memcmp(line, "NGram.LATIN1_EXCLUDE", 20) == 0) {
        ld->n_latin1_exclude = prop_value(eq + 1, eol, ld->latin1_exclude, 8);
      } else if (klen == 21 && memcmp(line, "TO_NORMALIZE_VI_CHARS", 21) == 0) {
        have_vi |= (prop_value(eq + 1, eol, ld->vi_alphabet, VI_ALPHABET) == VI_ALPHABET) << 0;
      } else if (klen == 11 && memcmp(line, "DMARK_CLASS", 11) == 0) {
        have_vi |= (prop_value(eq + 1, eol, ld->vi_marks, VI_MARKS) == VI_MARKS) << 1;
      } else if (klen == 24 && memcmp(line, "NORMALIZED_VI_CHARS_", 20) == 0) {
        static const char *const marks[VI_MARKS] = {"0300", "0301", "0303", "0309", "0323"};
        for (int m = 0; m < VI_MARKS; m++)
          if (memcmp(line + 20, marks[m], 4) == 0 &&
              prop_value(eq + 1, eol, ld->vi_normalized[m], VI_ALPHABET) == VI_ALPHABET)
            have_vi |= 1 << (2 + m);
      }
    }
    line = next;
  }
  free(cps);
  free(text);
  if (have_vi != 0x7F || ld->n_latin1_exclude == 0) {
    snprintf(err, errlen, "%s lacks the normalization tables", path);
    return -1;
  }
  return 0;
}

/* One parsed profile entry before grouping. */
struct triple {
  uint64_t key;
  uint32_t freq;
  uint8_t lang, len;
};

struct triples {
  struct triple *v;
  size_t n, cap;
};

static int triples_push(struct triples *t, uint64_t key, uint32_t freq, int lang, int len) {
  if (t->n == t->cap) {
    size_t nc = t->cap ? t->cap * 2 : 65536;
    struct triple *nv = realloc(t->v, nc * sizeof *nv);
    if (!nv) return -1;
    t->v = nv;
    t->cap = nc;
  }
  t->v[t->n++] = (struct triple){key, freq, (uint8_t)lang, (uint8_t)len};
  return 0;
}

/* A minimal reader for the profile JSON: {"freq": {"gram": int, ...}, "n_words": [a, b, c],
** "name": "xx"}. */
struct jreader {
  const char *s, *end;
};

static void j_ws(struct jreader *j) {
  while (j->s < j->end && (*j->s == ' ' || *j->s == '\n' || *j->s == '\r' || *j->s == '\t'))
    j->s++;
}

static int j_char(struct jreader *j, char c) {
  j_ws(j);
  if (j->s < j->end && *j->s == c) {
    j->s++;
    return 1;
  }
  return 0;
}

/* A JSON string as code points (at most max kept; *n gets the full count). */
static int j_string(struct jreader *j, int32_t *out, int max, int *n) {
  if (!j_char(j, '"')) return -1;
  *n = 0;
  while (j->s < j->end && *j->s != '"') {
    int32_t cp;
    if (*j->s == '\\') {
      if (j->end - j->s < 2) return -1;
      char e = j->s[1];
      j->s += 2;
      if (e == 'u') {
        if (j->end - j->s < 4 || (cp = hex4(j->s)) < 0) return -1;
        j->s += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF && j->end - j->s >= 6 && j->s[0] == '\\' &&
            j->s[1] == 'u') {
          int32_t lo = hex4(j->s + 2);
          if (lo >= 0xDC00 && lo <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            j->s += 6;
          }
        }
      } else {
        cp = e == 'n'   ? '\n'
             : e == 't' ? '\t'
             : e == 'r' ? '\r'
             : e == 'b' ? '\b'
             : e == 'f' ? '\f'
                        : e;
      }
    } else {
      size_t pos = 0;
      cp = srm_py_next((const unsigned char *)j->s, (size_t)(j->end - j->s), &pos);
      j->s += pos;
    }
    if (*n < max) out[*n] = cp;
    (*n)++;
  }
  return j_char(j, '"') ? 0 : -1;
}

static int j_uint(struct jreader *j, uint64_t *v) {
  j_ws(j);
  *v = 0;
  const char *start = j->s;
  while (j->s < j->end && *j->s >= '0' && *j->s <= '9') {
    if (*v > (UINT64_MAX - 9) / 10) return -1;
    *v = *v * 10 + (uint64_t)(*j->s++ - '0');
  }
  return j->s > start ? 0 : -1;
}

static uint64_t pack_gram(const int32_t *cp, int n) {
  uint64_t k = 0;
  for (int i = 0; i < n; i++)
    k = (k << 21) | (uint64_t)(uint32_t)cp[i];
  return k;
}

static int load_profile(const char *path, int lang, struct triples *t, char *name,
                        uint32_t words[3], char *err, size_t errlen) {
  size_t len;
  char *text = read_file(path, &len);
  if (!text) {
    snprintf(err, errlen, "cannot read %s", path);
    return -1;
  }
  struct jreader j = {text, text + len};
  uint64_t n_words[3] = {0, 0, 0};
  int ok = j_char(&j, '{'), have_name = 0, have_words = 0;
  while (ok && !j_char(&j, '}')) {
    int32_t key[16];
    int klen;
    ok = j_string(&j, key, 16, &klen) == 0 && j_char(&j, ':');
    if (!ok) break;
    if (klen == 4 && key[0] == 'f' && key[1] == 'r' && key[2] == 'e' && key[3] == 'q') {
      ok = j_char(&j, '{');
      while (ok && !j_char(&j, '}')) {
        int32_t gram[4];
        int glen;
        uint64_t freq;
        ok = j_string(&j, gram, 4, &glen) == 0 && j_char(&j, ':') && j_uint(&j, &freq) == 0 &&
             freq <= UINT32_MAX;
        /* langdetect keeps only 1- to 3-grams; NUL never occurs in text after normalization */
        if (ok && glen >= 1 && glen <= 3 && gram[0] && (glen < 2 || gram[1]) &&
            (glen < 3 || gram[2]))
          ok = triples_push(t, pack_gram(gram, glen), (uint32_t)freq, lang, glen) == 0;
        if (ok) j_char(&j, ',');
      }
    } else if (klen == 7 && key[0] == 'n' && key[1] == '_') {
      ok = j_char(&j, '[');
      for (int i = 0; ok && i < 3; i++) {
        ok = j_uint(&j, &n_words[i]) == 0;
        if (ok && i < 2) ok = j_char(&j, ',');
      }
      ok = ok && j_char(&j, ']');
      have_words = ok;
    } else if (klen == 4 && key[0] == 'n' && key[1] == 'a') {
      int32_t nm[LD_NAME_MAX];
      int nlen;
      ok = j_string(&j, nm, LD_NAME_MAX, &nlen) == 0 && nlen > 0 && nlen < LD_NAME_MAX;
      for (int i = 0; ok && i < nlen; i++) {
        ok = nm[i] > 0x20 && nm[i] < 0x7F;
        name[i] = (char)nm[i];
      }
      if (ok) name[nlen] = '\0';
      have_name = ok;
    } else {
      ok = 0;
    }
    if (ok) j_char(&j, ',');
  }
  free(text);
  for (int i = 0; ok && i < 3; i++) {
    ok = n_words[i] > 0 && n_words[i] <= UINT32_MAX;
    words[i] = (uint32_t)n_words[i];
  }
  if (!ok || !have_name || !have_words) {
    snprintf(err, errlen, "profile format error in %s", path);
    return -1;
  }
  return 0;
}

static int cmp_triple(const void *a, const void *b) {
  const struct triple *x = a, *y = b;
  if (x->key != y->key) return x->key < y->key ? -1 : 1;
  return (int)x->lang - (int)y->lang;
}

static int cmp_name(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static uint64_t hash_key(uint64_t k) {
  k ^= k >> 33;
  k *= 0xFF51AFD7ED558CCDull;
  k ^= k >> 33;
  return k;
}

static long find_gram(const struct srm_langdetect *ld, uint64_t key) {
  size_t mask = ld->cap - 1;
  for (size_t h = (size_t)hash_key(key) & mask;; h = (h + 1) & mask) {
    if (ld->slots[h].key == key) return (long)h;
    if (ld->slots[h].key == 0) return -1;
  }
}

void srm_langdetect_free(struct srm_langdetect *ld) {
  if (!ld) return;
  free(ld->slots);
  free(ld->e_lang);
  free(ld->e_prob);
  free(ld);
}

struct srm_langdetect *srm_langdetect_load(const char *dir, char *err, size_t errlen) {
  struct srm_langdetect *ld = calloc(1, sizeof *ld);
  if (!ld) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  py_random_seed(&ld->seeded, 0);
  if (load_messages(ld, dir, err, errlen) != 0) {
    srm_langdetect_free(ld);
    return NULL;
  }
  char path[4096];
  snprintf(path, sizeof path, "%s/profiles", dir);
  DIR *d = opendir(path);
  if (!d) {
    snprintf(err, errlen, "cannot open %s", path);
    srm_langdetect_free(ld);
    return NULL;
  }
  char *files[LD_MAX_LANGS];
  int nfiles = 0, ok = 1;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.') continue;
    if (nfiles == LD_MAX_LANGS || !(files[nfiles] = strdup(de->d_name))) {
      ok = 0;
      break;
    }
    nfiles++;
  }
  closedir(d);
  if (!ok || nfiles < 2) {
    snprintf(err, errlen, "%s: expected 2 to %d profiles", path, LD_MAX_LANGS);
    for (int i = 0; i < nfiles; i++)
      free(files[i]);
    srm_langdetect_free(ld);
    return NULL;
  }
  qsort(files, (size_t)nfiles, sizeof files[0], cmp_name);
  struct triples t = {0};
  uint32_t n_words[LD_MAX_LANGS][3];
  for (int i = 0; ok && i < nfiles; i++) {
    char fpath[4096 + 256];
    snprintf(fpath, sizeof fpath, "%s/%s", path, files[i]);
    ok = load_profile(fpath, i, &t, ld->names[i], n_words[i], err, errlen) == 0;
  }
  for (int i = 0; i < nfiles; i++)
    free(files[i]);
  if (!ok) {
    free(t.v);
    srm_langdetect_free(ld);
    return NULL;
  }
  ld->nlang = nfiles;
  qsort(t.v, t.n, sizeof t.v[0], cmp_triple);
  size_t ngrams = 0;
  for (size_t i = 0; i < t.n; i++)
    if (i == 0 || t.v[i].key != t.v[i - 1].key) ngrams++;
  ld->cap = 1;
  while (ld->cap < ngrams * 2)
    ld->cap <<= 1;
  ld->slots = calloc(ld->cap, sizeof *ld->slots);
  ld->e_lang = malloc(t.n ? t.n : 1);
  ld->e_prob = malloc((t.n ? t.n : 1) * sizeof(double));
  if (!ld->slots || !ld->e_lang || !ld->e_prob) {
    snprintf(err, errlen, "out of memory");
    free(t.v);
    srm_langdetect_free(ld);
    return NULL;
  }
  size_t mask = ld->cap - 1;
  for (size_t i = 0; i < t.n;) {
    size_t j = i;
    size_t h = (size_t)hash_key(t.v[i].key) & mask;
    while (ld->slots[h].key != 0)
      h = (h + 1) & mask;
    ld->slots[h].key = t.v[i].key;
    ld->slots[h].first = (uint32_t)i;
    for (; j < t.n && t.v[j].key == t.v[i].key; j++) {
      ld->e_lang[j] = t.v[j].lang;
      ld->e_prob[j] = 1.0 * (double)t.v[j].freq / (double)n_words[t.v[j].lang][t.v[j].len - 1];
    }
    ld->slots[h].count = (uint32_t)(j - i);
    small_mark(ld, t.v[i].key, t.v[i].len);
    i = j;
  }
  free(t.v);
  return ld;
}

int srm_langdetect_count(const struct srm_langdetect *ld) {
  return ld->nlang;
}

const char *srm_langdetect_name(const struct srm_langdetect *ld, int i) {
  return (i >= 0 && i < ld->nlang) ? ld->names[i] : NULL;
}

const char *srm_langdetect_default_dir(void) {
  const char *env = getenv("SRM_LANGDETECT_DIR");
  return (env && *env) ? env : "/usr/lib/python3/dist-packages/langdetect";
}

static pthread_once_t shared_once = PTHREAD_ONCE_INIT;
static struct srm_langdetect *shared_ld;
static char shared_err[512];

static void load_shared(void) {
  char err[400];
  shared_ld = srm_langdetect_load(srm_langdetect_default_dir(), err, sizeof err);
  if (!shared_ld)
    snprintf(shared_err, sizeof shared_err,
             "langdetect profiles unavailable: %s (install python3-langdetect or set "
             "SRM_LANGDETECT_DIR)",
             err);
}

const struct srm_langdetect *srm_langdetect_shared(const char **err) {
  pthread_once(&shared_once, load_shared);
  if (!shared_ld && err) *err = shared_err;
  return shared_ld;
}

/* ---------------------------------------------------------------------------------------- */
/* Detection                                                                                  */

static int is_url_char(int32_t c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '-' ||
         c == '_' || c == '.' || c == '?' || c == '&' || c == '~' || c == ';' || c == '+' ||
         c == '=' || c == '/' || c == '#';
}

static int is_mail_local(int32_t c) { /* [-_.0-9A-Za-z] */
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '-' ||
         c == '_' || c == '.';
}

static int is_mail_domain1(int32_t c) { /* [-_0-9A-Za-z] */
  return c != '.' && is_mail_local(c);
}

/* re.sub(r'https?://[-_.?&~;+=/#0-9A-Za-z]{1,2076}', ' ', t) in place; returns the new length. */
static size_t remove_urls(int32_t *t, size_t n) {
  size_t o = 0, i = 0;
  while (i < n) {
    if (t[i] == 'h' && i + 4 < n && t[i + 1] == 't' && t[i + 2] == 't' && t[i + 3] == 'p') {
      size_t k = i + 4;
      if (k < n && t[k] == 's') k++;
      if (k + 3 <= n && t[k] == ':' && t[k + 1] == '/' && t[k + 2] == '/') {
        size_t run = 0;
        while (k + 3 + run < n && run < 2076 && is_url_char(t[k + 3 + run]))
          run++;
        if (run > 0) {
          t[o++] = ' ';
          i = k + 3 + run;
          continue;
        }
      }
    }
    t[o++] = t[i++];
  }
  return o;
}

/* re.sub(r'[-_.0-9A-Za-z]{1,64}@[-_0-9A-Za-z]{1,255}[-_.0-9A-Za-z]{1,255}', ' ', t) in place. */
static size_t remove_mails(int32_t *t, size_t n) {
  size_t o = 0, i = 0, run_start = 0; /* run_start: first local-part character of the run */
  while (i < n) {
    if (t[i] == '@' && i > run_start) {
      size_t k1 = 0, k2 = 0, end = 0;
      while (i + 1 + k1 < n && k1 < 255 && is_mail_domain1(t[i + 1 + k1]))
        k1++;
      if (k1 > 0) {
        while (i + 1 + k1 + k2 < n && k2 < 255 && is_mail_local(t[i + 1 + k1 + k2]))
          k2++;
        if (k2 > 0)
          end = i + 1 + k1 + k2;
        else if (k1 > 1)
          end = i + 1 + k1;
      }
      if (end) {
        size_t start = (i - run_start > 64) ? i - 64 : run_start;
        o -= i - start; /* the local part was already copied */
        t[o++] = ' ';
        i = end;
        run_start = i;
        continue;
      }
    }
    int32_t c = t[i];
    t[o++] = c;
    i++;
    if (!is_mail_local(c)) run_start = i;
  }
  return o;
}

static int index_of(const int32_t *set, int n, int32_t c) {
  for (int i = 0; i < n; i++)
    if (set[i] == c) return i;
  return -1;
}

/* NGram.normalize_vi: a base letter followed by a combining mark becomes one precomposed letter. */
static size_t normalize_vi(const struct srm_langdetect *ld, int32_t *t, size_t n) {
  size_t o = 0, i = 0;
  while (i < n) {
    if (i + 1 < n) {
      int m = index_of(ld->vi_marks, VI_MARKS, t[i + 1]);
      int a = m >= 0 ? index_of(ld->vi_alphabet, VI_ALPHABET, t[i]) : -1;
      if (a >= 0) {
        t[o++] = ld->vi_normalized[m][a];
        i += 2;
        continue;
      }
    }
    t[o++] = t[i++];
  }
  return o;
}

/* NGram.normalize(ch). */
static int32_t normalize_char(const struct srm_langdetect *ld, int32_t c) {
  if (c <= 0x7F) return (c < 'A' || (c > 'Z' && c < 'a') || c > 'z') ? ' ' : c;
  if (c <= 0xFF) return index_of(ld->latin1_exclude, ld->n_latin1_exclude, c) >= 0 ? ' ' : c;
  if (c >= 0x0180 && c <= 0x024F) return c == 0x0219 ? 0x015F : c == 0x021B ? 0x0163 : c;
  if (c >= 0x2000 && c <= 0x206F) return ' ';
  if (c >= 0x0600 && c <= 0x06FF) return c == 0x06CC ? 0x064A : c;
  if (c >= 0x1E00 && c <= 0x1EFF) return c >= 0x1EA0 ? 0x1EC3 : c;
  if (c >= 0x3040 && c <= 0x309F) return 0x3042;
  if (c >= 0x30A0 && c <= 0x30FF) return 0x30A2;
  if ((c >= 0x3100 && c <= 0x312F) || (c >= 0x31A0 && c <= 0x31BF)) return 0x3105;
  if (c >= CJK_LO && c <= CJK_HI) return ld->cjk[c - CJK_LO];
  if (c >= 0xAC00 && c <= 0xD7AF) return 0xAC00;
  return c;
}

/* Python's str.isupper() of one character. */
static int char_isupper(int32_t c) {
  return srm_py_isupper_cp(c) && !srm_py_islower_cp(c);
}

/* The text as Detector.append and cleaning_text leave it; returns its length. */
/* What decoding saw, so that prepare_text can skip the passes that would change nothing. */
#define SEEN_COLON 1u /* ':' (every URL has "://") */
#define SEEN_AT 2u    /* '@' (every e-mail address) */
#define SEEN_MARK 4u  /* one of the Vietnamese combining marks */

static size_t prepare_text(const struct srm_langdetect *ld, int32_t *t, size_t n, unsigned seen) {
  if (seen & SEEN_COLON) n = remove_urls(t, n);
  if (seen & SEEN_AT) n = remove_mails(t, n);
  if (seen & SEEN_MARK) n = normalize_vi(ld, t, n);
  size_t limit = n < LD_MAX_TEXT ? n : LD_MAX_TEXT, o = 0;
  size_t latin = 0, non_latin = 0;
  int32_t pre = 0;
  for (size_t i = 0; i < limit; i++) {
    int32_t c = t[i];
    if (c != ' ' || pre != ' ') {
      t[o++] = c;
      if (c >= 'A' && c <= 'z')
        latin++;
      else if (c >= 0x0300 && !(c >= 0x1E00 && c <= 0x1EFF))
        non_latin++;
    }
    pre = c;
  }
  n = o;
  if (latin * 2 < non_latin) {
    o = 0;
    for (size_t i = 0; i < n; i++)
      if (t[i] < 'A' || t[i] > 'z') t[o++] = t[i];
    n = o;
  }
  return n;
}

/* A small direct-mapped cache of table lookups for the n-grams outside the small alphabet (a
** text repeats most of its n-grams, and the table is too big for the CPU caches); allocated on the
** first such n-gram. */
#define MEMO_SIZE 4096

struct memo {
  uint64_t key[MEMO_SIZE]; /* 0 = empty: no n-gram packs to 0 */
  long slot[MEMO_SIZE];
};

static long find_gram_memo(const struct srm_langdetect *ld, struct memo *memo, uint64_t key) {
  size_t i = (size_t)(hash_key(key) >> 20) & (MEMO_SIZE - 1);
  if (memo->key[i] == key) return memo->slot[i];
  long slot = find_gram(ld, key);
  memo->key[i] = key;
  memo->slot[i] = slot;
  return slot;
}

/* Detector._extract_ngrams: the packed keys of the n-grams found in a profile, in text order
** (their table slots are looked up only for the few that the trials draw). Returns the count, or
** (size_t)-1 when out of memory. */
static size_t extract_ngrams(const struct srm_langdetect *ld, const int32_t *t, size_t n,
                             uint64_t *out) {
  int32_t grams[3] = {' ', 0, 0};
  unsigned codes[3] = {0, 0, 0}; /* small_code of grams[] */
  int glen = 1, capital = 0;
  size_t m = 0;
  struct memo *memo = NULL;
  for (size_t i = 0; i < n; i++) {
    int32_t ch = normalize_char(ld, t[i]);
    int32_t last = grams[glen - 1];
    if (last == ' ') {
      grams[0] = ' ';
      codes[0] = 0;
      glen = 1;
      capital = 0;
      if (ch == ' ') continue;
    } else if (glen >= 3) {
      grams[0] = grams[1];
      grams[1] = grams[2];
      codes[0] = codes[1];
      codes[1] = codes[2];
      glen = 2;
    }
    codes[glen] = small_code(ch);
    grams[glen++] = ch;
    if (ch < 0x80 ? (ch >= 'A' && ch <= 'Z') : char_isupper(ch)) {
      if (last < 0x80 ? (last >= 'A' && last <= 'Z') : char_isupper(last)) capital = 1;
    } else {
      capital = 0;
    }
    if (capital) continue;
    unsigned idx = 0;
    int small = 1;
    for (int k = 1; k <= 3 && k <= glen; k++) {
      const int32_t *w = grams + glen - k;
      unsigned code = codes[glen - k];
      small = small && code != SMALL_NONE;
      if (small) idx |= code << (6 * (k - 1));
      if (k == 1 && w[0] == ' ') continue;
      int found;
      if (small) {
        found = k == 1   ? (int)((ld->bm1 >> idx) & 1)
                : k == 2 ? (int)((ld->bm2[idx >> 6] >> (idx & 63)) & 1)
                         : (int)((ld->bm3[idx >> 6] >> (idx & 63)) & 1);
      } else {
        if (!memo && !(memo = calloc(1, sizeof *memo))) return (size_t)-1;
        found = find_gram_memo(ld, memo, pack_gram(w, k)) >= 0;
      }
      if (found) out[m++] = pack_gram(w, k);
    }
  }
  free(memo);
  return m;
}

/* Probability vectors are padded to a multiple of 4 lanes (the padding stays 0) so that the
** element-wise loops below have no remainder and compile to vector code. */
#define LANES(nl) (((nl) + 3) & ~3)

/* One trial's update for the n-gram in table slot sl: prob[i] *= weight + p(gram | lang i),
** with p = 0 for the languages the n-gram does not occur in (Detector._update_lang_prob). Each
** element gets the same single product as in Python, so the result is bit for bit the same. */
static void update_prob(const struct srm_langdetect *ld, double *restrict prob, int lanes,
                        double weight, const struct slot *sl) {
  double factor[LD_MAX_LANGS];
  for (int i = 0; i < lanes; i += 4) {
    factor[i] = weight;
    factor[i + 1] = weight;
    factor[i + 2] = weight;
    factor[i + 3] = weight;
  }
  const uint8_t *lang = ld->e_lang + sl->first;
  const double *p = ld->e_prob + sl->first;
  for (uint32_t e = 0; e < sl->count; e++)
    factor[lang[e]] = weight + p[e];
  for (int i = 0; i < lanes; i += 4) {
    prob[i] *= factor[i];
    prob[i + 1] *= factor[i + 1];
    prob[i + 2] *= factor[i + 2];
    prob[i + 3] *= factor[i + 3];
  }
}

/* The trials draw the same few n-grams again and again: their table slots, cached per call. */
#define DRAWN_SIZE 256

struct drawn {
  uint64_t key[DRAWN_SIZE]; /* 0 = empty */
  const struct slot *slot[DRAWN_SIZE];
};

static const struct slot *drawn_slot(const struct srm_langdetect *ld, struct drawn *d,
                                     uint64_t key) {
  size_t i = (size_t)(key ^ (key >> 21) ^ (key >> 42)) & (DRAWN_SIZE - 1);
  if (d->key[i] != key) {
    d->key[i] = key;
    d->slot[i] = &ld->slots[find_gram(ld, key)];
  }
  return d->slot[i];
}

/* After `done` of the LD_N_TRIAL trials: the language that wins whatever the remaining trials
** add (each adds at most 1/LD_N_TRIAL to one language's sum and nothing can go below 0), or -1
** while it is open. */
static int decided(const double *langprob, int nl, int done) {
  double rest = (double)(LD_N_TRIAL - done) / LD_N_TRIAL + 1e-9;
  int best = 0;
  for (int i = 1; i < nl; i++)
    if (langprob[i] > langprob[best]) best = i;
  if (!(langprob[best] > LD_PROB_THRESHOLD + 1e-9)) return -1;
  for (int i = 0; i < nl; i++)
    if (i != best && !(langprob[best] > langprob[i] + rest)) return -1;
  return best;
}

enum srm_langdetect_result srm_langdetect_detect(const struct srm_langdetect *ld, const char *s,
                                                 size_t len, const char **lang, double *probs) {
  const unsigned char *u = (const unsigned char *)s;
  size_t cap = len < LD_MAX_INPUT ? len : LD_MAX_INPUT;
  size_t max_grams = 3 * (cap < LD_MAX_TEXT ? cap : LD_MAX_TEXT) + 1;
  /* one allocation: the n-gram keys, then the code points */
  uint64_t *grams = malloc(max_grams * sizeof *grams + (cap + 1) * sizeof(int32_t));
  if (!grams) return SRM_LD_NOMEM;
  int32_t *t = (int32_t *)(grams + max_grams);
  size_t n = 0;
  unsigned seen = 0;
  for (size_t pos = 0; pos < len && n < cap;) {
    int32_t c = u[pos];
    if (c < 0x80) {
      pos++;
      seen |= c == ':' ? SEEN_COLON : c == '@' ? SEEN_AT : 0u;
    } else {
      c = srm_py_next(u, len, &pos);
      seen |= index_of(ld->vi_marks, VI_MARKS, c) >= 0 ? SEEN_MARK : 0u;
    }
    t[n++] = c;
  }
  n = prepare_text(ld, t, n, seen);
  size_t ngrams = extract_ngrams(ld, t, n, grams);
  if (ngrams == (size_t)-1) {
    free(grams);
    return SRM_LD_NOMEM;
  }
  if (ngrams == 0) {
    free(grams);
    return SRM_LD_NO_FEATURES;
  }
  int nl = ld->nlang, lanes = LANES(nl);
  double langprob[LD_MAX_LANGS] = {0}, prob[LD_MAX_LANGS] = {0};
  struct drawn drawn;
  memset(drawn.key, 0, sizeof drawn.key);
  struct py_random r = ld->seeded;
  int winner = -1;
  int bits = bit_length((uint32_t)ngrams);
  for (int trial = 0; trial < LD_N_TRIAL && winner < 0; trial++) {
    for (int i = 0; i < nl; i++)
      prob[i] = 1.0 / nl;
    double alpha = LD_ALPHA + py_random_gauss(&r) * LD_ALPHA_WIDTH;
    double weight = alpha / LD_BASE_FREQ;
    for (int it = 0;; it++) {
      uint64_t key = grams[py_random_below(&r, (uint32_t)ngrams, bits)];
      update_prob(ld, prob, lanes, weight, drawn_slot(ld, &drawn, key));
      if (it % 5 == 0) {
        double sum = 0.0, maxp = 0.0;
        for (int i = 0; i < nl; i++) /* in order: the sum must round as Python's does */
          sum += prob[i];
        for (int i = 0; i < lanes; i += 4) { /* the padding stays 0 */
          prob[i] /= sum;
          prob[i + 1] /= sum;
          prob[i + 2] /= sum;
          prob[i + 3] /= sum;
        }
        for (int i = 0; i < nl; i++)
          maxp = maxp < prob[i] ? prob[i] : maxp;
        if (maxp > LD_CONV_THRESHOLD || it >= LD_ITERATION_LIMIT) break;
      }
    }
    for (int i = 0; i < nl; i++)
      langprob[i] += prob[i] / LD_N_TRIAL;
    /* the verdict alone is wanted: stop once the remaining trials cannot change it */
    if (!probs && trial + 1 < LD_N_TRIAL) winner = decided(langprob, nl, trial + 1);
  }
  free(grams);
  int best = winner;
  if (best < 0)
    for (int i = 0; i < nl; i++)
      if (langprob[i] > LD_PROB_THRESHOLD && (best < 0 || langprob[i] > langprob[best])) best = i;
  *lang = best >= 0 ? ld->names[best] : "unknown";
  if (probs) memcpy(probs, langprob, sizeof(double) * (size_t)nl);
  return SRM_LD_OK;
}
