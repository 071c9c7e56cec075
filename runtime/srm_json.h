/* srm: the C side of srm.json, for Lua-facing C that writes JSON (the runtime's row writer). The
** encoder is the one behind json.encode: sorted object keys, exact integers, shortest round-trip
** floats, always valid UTF-8 output. */
#ifndef SRM_JSON_H
#define SRM_JSON_H

#include <lauxlib.h>
#include <lua.h>
#include <stddef.h>

#include "srm_utf8.h"
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* Appends the compact JSON encoding of the value at idx to b. Returns 0, or -1 with a
** NUL-terminated "<what> at <path>" message in err (path like $.a[3].b, Lua 1-based indices),
** in which case nothing is appended. Calls no Lua code and leaves the stack as it found it; b
** must be in its normal state (its box at the top of the stack). Raises only on memory errors
** (growing b, or creating the per-state scratch buffer on first use). */
int srm_json_encode_value(lua_State *L, int idx, luaL_Buffer *b, char *err, size_t errlen);

/* The same encoding into a malloc'd, NUL-terminated buffer (the caller frees it), its length in
** *len: for C that keeps the text (a request body) and has no use for a Lua string of it.
** Returns NULL with the message in err when the value cannot be encoded or memory runs out. */
char *srm_json_encode_malloc(lua_State *L, int idx, size_t *len, char *err, size_t errlen);

/* Length of the prefix of p[0..n) that a JSON string holds as it is and that is ASCII: no '"',
** '\\', control character or byte >= 0x80 (the callers check UTF-8 sequences themselves).
** Prompts and replies are long runs of such bytes, so both the encoder and the decoder skip them
** 32 at a time where SSE2 exists. One signed comparison finds two kinds of stop byte: as signed
** chars, bytes >= 0x80 are negative, so "below 0x20" covers them and the control characters. */
static inline size_t srm_json_plain_prefix(const unsigned char *p, size_t n) {
  size_t i = 0;
#ifdef __SSE2__
  const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\');
  const __m128i space = _mm_set1_epi8(0x20);
  for (; i + 32 <= n; i += 32) {
    __m128i a = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
    __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(p + i + 16));
    __m128i sa = _mm_or_si128(_mm_cmplt_epi8(a, space),
                              _mm_or_si128(_mm_cmpeq_epi8(a, quote), _mm_cmpeq_epi8(a, backslash)));
    __m128i sb = _mm_or_si128(_mm_cmplt_epi8(b, space),
                              _mm_or_si128(_mm_cmpeq_epi8(b, quote), _mm_cmpeq_epi8(b, backslash)));
    unsigned mask = (unsigned)_mm_movemask_epi8(sa) | (unsigned)_mm_movemask_epi8(sb) << 16;
    if (mask) return i + (size_t)__builtin_ctz(mask);
  }
#endif
  for (; i < n; i++) {
    unsigned char c = p[i];
    if (c < 0x20 || c == '"' || c == '\\' || c >= 0x80) break;
  }
  return i;
}

/* The nesting json.decode accepts by default, and input records and model replies always. */
#define SRM_JSON_DEFAULT_DEPTH 1000

/* Decodes the JSON text s[0..len) and pushes its value (arrays marked with the table at stack
** index array_mt, null as the NULL light userdata). Returns 0, or -1 with "<what> at character
** N" in err and nothing pushed. Nesting deeper than max_depth is an error. Raises only on memory
** errors. Implemented in srm_json_decode.c. */
int srm_json_decode(lua_State *L, const char *s, size_t len, int array_mt, int max_depth, char *err,
                    size_t errlen);

#endif
