/* srm: the parts of Python 3's `str` semantics that IFEval's official checker depends on, in
** pure C over UTF-8: lenient decoding, `str.isspace` whitespace, `\w` and `\d` of Python's `re`,
** the Uppercase/Lowercase properties behind `str.isupper()`/`str.islower()`, `str.strip()` and
** `str.lower()` (full mapping: U+0130 becomes "i" + U+0307, a final capital sigma becomes "ς").
** Unicode data comes from libutf8proc; only the Other_Uppercase/Other_Lowercase ranges are
** hand-written. Nothing here includes lua.h. */
#ifndef SRM_IFEVAL_PY_H
#define SRM_IFEVAL_PY_H

#include <stddef.h>
#include <stdint.h>

#define SRM_PY_REPLACEMENT 0xFFFD

/* srm_py_next for a non-ASCII lead byte. */
int32_t srm_py_next_multi(const unsigned char *s, size_t n, size_t *pos);

/* The code point at s[*pos] (*pos < n), advancing *pos; an invalid byte is one U+FFFD. */
static inline int32_t srm_py_next(const unsigned char *s, size_t n, size_t *pos) {
  if (s[*pos] < 0x80) return s[(*pos)++];
  return srm_py_next_multi(s, n, pos);
}

/* Appends the UTF-8 encoding of cp to out (room for 4 bytes); returns the byte count. */
size_t srm_py_encode(int32_t cp, unsigned char *out);

/* The non-ASCII halves of the tests below. */
int srm_py_isspace_other(int32_t cp);
int srm_py_isword_other(int32_t cp);
int srm_py_isupper_other(int32_t cp);
int srm_py_islower_other(int32_t cp);

/* str.isspace() of one character */
static inline int srm_py_isspace(int32_t cp) {
  if (cp < 0x80) return cp == ' ' || (cp >= '\t' && cp <= '\r') || (cp >= 0x1C && cp <= 0x1F);
  return srm_py_isspace_other(cp);
}

/* re's \w: str.isalnum() or '_' */
static inline int srm_py_isword(int32_t cp) {
  if (cp < 0x80)
    return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9') ||
           cp == '_';
  return srm_py_isword_other(cp);
}

/* the Uppercase property (Lu + Other_Uppercase) */
static inline int srm_py_isupper_cp(int32_t cp) {
  return cp < 0x80 ? cp >= 'A' && cp <= 'Z' : srm_py_isupper_other(cp);
}

/* the Lowercase property (Ll + Other_Lowercase) */
static inline int srm_py_islower_cp(int32_t cp) {
  return cp < 0x80 ? cp >= 'a' && cp <= 'z' : srm_py_islower_other(cp);
}

int srm_py_isdecimal(int32_t cp);  /* re's \d: category Nd */
int srm_py_istitle_cp(int32_t cp); /* category Lt */
int srm_py_isalpha(int32_t cp);    /* str.isalpha(): categories L* */

/* str.isupper() / str.islower() of the whole string: at least one cased character and none of
** the other case. */
int srm_py_str_isupper(const unsigned char *s, size_t n);
int srm_py_str_islower(const unsigned char *s, size_t n);

/* 1 when s is valid UTF-8. */
int srm_py_valid_utf8(const unsigned char *s, size_t n);

/* str.strip() with no argument: [*b, *e) is s without leading and trailing whitespace. */
void srm_py_strip(const unsigned char *s, size_t n, size_t *b, size_t *e);

/* str.lower(): writes at most srm_py_lower_bound(n) bytes to out; returns the length. */
size_t srm_py_lower_bound(size_t n);
size_t srm_py_lower(const unsigned char *s, size_t n, unsigned char *out);

#endif
