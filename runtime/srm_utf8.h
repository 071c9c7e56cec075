/* srm: one well-formed UTF-8 sequence, shared by the JSONL reader's line check and the JSON
** encoder and decoder (Unicode table 3-7: no overlongs, no surrogates, nothing above
** U+10FFFF, no truncation). Pure C. */
#ifndef SRM_UTF8_H
#define SRM_UTF8_H

#include <stddef.h>

/* Length of the well-formed UTF-8 sequence at p (2-4), or 0 with *bad set to the length of its
** maximal ill-formed prefix (>= 1), which becomes one U+FFFD (the Unicode recommended practice). */
static inline size_t srm_utf8_seq(const unsigned char *p, const unsigned char *end, size_t *bad) {
  unsigned char c = p[0], lo = 0x80, hi = 0xBF;
  size_t need;
  if (c >= 0xC2 && c <= 0xDF)
    need = 1;
  else if (c == 0xE0)
    need = 2, lo = 0xA0;
  else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF)
    need = 2;
  else if (c == 0xED)
    need = 2, hi = 0x9F;
  else if (c == 0xF0)
    need = 3, lo = 0x90;
  else if (c >= 0xF1 && c <= 0xF3)
    need = 3;
  else if (c == 0xF4)
    need = 3, hi = 0x8F;
  else {
    *bad = 1;
    return 0;
  }
  for (size_t i = 1; i <= need; i++) {
    if (p + i >= end || p[i] < lo || p[i] > hi) {
      *bad = i;
      return 0;
    }
    lo = 0x80;
    hi = 0xBF;
  }
  return need + 1;
}

#endif
