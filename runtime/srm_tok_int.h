/* srm: internals shared by the tokenizer core (srm_tok.c), its loaders (srm_tok_load.c) and the
** small JSON reader they use (srm_tok_json.c). Not part of the public API (srm_tok.h). */
#ifndef SRM_TOK_INT_H
#define SRM_TOK_INT_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include "srm_tok.h"

#include <pcre2.h>
#include <stddef.h>
#include <stdint.h>

#define TOK_NONE UINT32_MAX
#define TOK_MAX_STAGES 4   /* regex pre-tokenizer stages (Split, Split, ByteLevel regex) */
#define TOK_MAX_ADDED 4096 /* added / special tokens */

/* ---- JSON (a read-only DOM over one arena; strings are decoded UTF-8, not NUL-free) ---- */

enum tj_type { TJ_NULL, TJ_FALSE, TJ_TRUE, TJ_NUMBER, TJ_STRING, TJ_ARRAY, TJ_OBJECT };

struct tj_value {
  enum tj_type type;
  uint32_t n; /* string bytes, array items, object members */
  union {
    double num;
    const char *str;
    struct tj_value *items; /* array */
    struct tj_member *members;
  } u;
};

struct tj_member {
  const char *key;
  uint32_t klen;
  struct tj_value value;
};

struct tj_doc;

/* Parses len bytes of JSON (nesting at most 64 deep). Returns NULL and a message "offset N:
** what" in err on a syntax error or when out of memory. */
struct tj_doc *tj_parse(const char *data, size_t len, char *err, size_t errlen);
const struct tj_value *tj_root(const struct tj_doc *doc);
void tj_free(struct tj_doc *doc);
/* Member `key` of an object, or NULL (also when v is NULL or not an object). */
const struct tj_value *tj_get(const struct tj_value *v, const char *key);
/* 1 when v is a string equal to s. */
int tj_is_str(const struct tj_value *v, const char *s);
/* 1 and *out when v is an integral number in [0, UINT32_MAX). */
int tj_u32(const struct tj_value *v, uint32_t *out);

/* ---- the tokenizer ---- */

enum tok_kind { TOK_KIND_TIKTOKEN, TOK_KIND_HF };

struct tok_added {
  uint32_t off, len; /* content in tok->bytes */
  uint32_t id;
  uint8_t special;
  uint8_t first; /* first byte of the content */
};

struct tok_pair { /* a merge rule (HF): (left, right) -> result, priority rank */
  uint64_t key;   /* left << 32 | right; 0 with rank TOK_NONE = empty slot */
  uint32_t rank, result;
};

/* Immutable after srm_tok_load_* returns, except refs/next (guarded by the registry mutex). */
struct srm_tok {
  char *name, *path;
  enum tok_kind kind;
  uint32_t n_ids;    /* highest id + 1 */
  uint32_t *tok_off; /* by id: offset and length of the token's bytes, len TOK_NONE = no id */
  uint32_t *tok_len;
  char *bytes; /* token bytes (BPE tokens, then added token contents) */
  size_t bytes_len;
  uint32_t *vhash; /* open addressing over BPE token bytes: id + 1, 0 = empty */
  uint32_t vmask;
  uint32_t byte_id[256];
  struct tok_pair *pairs; /* HF merges; NULL for tiktoken (rank of a span = its id) */
  uint32_t pmask;
  int ignore_merges; /* a piece that is a whole token is emitted as is */
  int nfc;           /* NFC normalizer */
  int nstages;
  pcre2_code *stage[TOK_MAX_STAGES];
  struct tok_added *added; /* sorted by first byte, then longest first */
  uint32_t nadded;
  uint32_t added_first[257]; /* added[added_first[b] .. added_first[b + 1]) start with byte b */
  int refs;
  struct srm_tok *next;
};

/* Hash of a byte string (also used by the piece cache). */
uint64_t tok_hash(const char *p, size_t n);
/* Id of the BPE token with exactly these bytes, or TOK_NONE. */
uint32_t tok_vocab_find(const struct srm_tok *t, const char *p, size_t n);
/* Frees everything the loaders allocate (t may be partly built). */
void tok_destroy(struct srm_tok *t);
/* Adds a reference (under the registry mutex). */
void tok_ref(struct srm_tok *t);
/* Loads the file at path (already resolved; srm_tok_load.c). refs is left at 0. */
struct srm_tok *tok_load_file(const char *path, int *status, char *err, size_t errlen);
/* Builds t->vhash from tok_off/tok_len (ids with flag `in_vocab` only). Returns 0 or -1 (OOM). */
int tok_build_vocab_hash(struct srm_tok *t, const uint8_t *in_vocab);

#endif
