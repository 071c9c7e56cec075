/* srm: Python 3 `str` semantics for the IFEval checks (see srm_ifeval_py.h). */
#include "srm_ifeval_py.h"

#include <string.h>
#include <utf8proc.h>

struct cp_range {
  int32_t lo, hi;
};

/* Other_Uppercase and Other_Lowercase (PropList.txt): characters that are Uppercase or Lowercase
** without being Lu or Ll, which is what Python's isupper()/islower() test. */
static const struct cp_range other_upper[] = {
    {0x2160, 0x216F}, {0x24B6, 0x24CF}, {0x1F130, 0x1F149}, {0x1F150, 0x1F169}, {0x1F170, 0x1F189},
};

static const struct cp_range other_lower[] = {
    {0x00AA, 0x00AA},   {0x00BA, 0x00BA},   {0x02B0, 0x02B8},   {0x02C0, 0x02C1},
    {0x02E0, 0x02E4},   {0x0345, 0x0345},   {0x037A, 0x037A},   {0x10FC, 0x10FC},
    {0x1D2C, 0x1D6A},   {0x1D78, 0x1D78},   {0x1D9B, 0x1DBF},   {0x2071, 0x2071},
    {0x207F, 0x207F},   {0x2090, 0x209C},   {0x2170, 0x217F},   {0x24D0, 0x24E9},
    {0x2C7C, 0x2C7D},   {0xA69C, 0xA69D},   {0xA770, 0xA770},   {0xA7F8, 0xA7F9},
    {0xAB5C, 0xAB5F},   {0xAB69, 0xAB69},   {0x10780, 0x10780}, {0x10783, 0x10785},
    {0x10787, 0x107B0}, {0x107B2, 0x107BA},
};

static int in_ranges(const struct cp_range *r, size_t n, int32_t cp) {
  for (size_t i = 0; i < n; i++)
    if (cp >= r[i].lo && cp <= r[i].hi) return 1;
  return 0;
}

static int category(int32_t cp) {
  return (int)utf8proc_category(cp);
}

int32_t srm_py_next_multi(const unsigned char *s, size_t n, size_t *pos) {
  size_t p = *pos;
  size_t avail = n - p;
  utf8proc_int32_t cp;
  utf8proc_ssize_t r = utf8proc_iterate(s + p, (utf8proc_ssize_t)(avail < 4 ? avail : 4), &cp);
  if (r <= 0) {
    *pos = p + 1;
    return SRM_PY_REPLACEMENT;
  }
  *pos = p + (size_t)r;
  return cp;
}

size_t srm_py_encode(int32_t cp, unsigned char *out) {
  return (size_t)utf8proc_encode_char(cp, out);
}

int srm_py_isspace_other(int32_t cp) {
  if (cp == 0x85 || cp == 0xA0 || cp == 0x1680 || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
      cp == 0x205F || cp == 0x3000)
    return 1;
  return cp >= 0x2000 && cp <= 0x200A;
}

int srm_py_isalpha(int32_t cp) {
  if (cp < 0x80) return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
  int c = category(cp);
  return c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO;
}

int srm_py_isword_other(int32_t cp) {
  int c = category(cp);
  return (c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO) ||
         (c >= UTF8PROC_CATEGORY_ND && c <= UTF8PROC_CATEGORY_NO);
}

int srm_py_isdecimal(int32_t cp) {
  if (cp < 0x80) return cp >= '0' && cp <= '9';
  return category(cp) == UTF8PROC_CATEGORY_ND;
}

int srm_py_isupper_other(int32_t cp) {
  return category(cp) == UTF8PROC_CATEGORY_LU ||
         in_ranges(other_upper, sizeof other_upper / sizeof other_upper[0], cp);
}

int srm_py_islower_other(int32_t cp) {
  return category(cp) == UTF8PROC_CATEGORY_LL ||
         in_ranges(other_lower, sizeof other_lower / sizeof other_lower[0], cp);
}

int srm_py_istitle_cp(int32_t cp) {
  return cp >= 0x80 && category(cp) == UTF8PROC_CATEGORY_LT;
}

/* want_upper: str.isupper(), else str.islower(). */
static int str_case_test(const unsigned char *s, size_t n, int want_upper) {
  int cased = 0;
  for (size_t pos = 0; pos < n;) {
    int32_t cp = srm_py_next(s, n, &pos);
    int up = srm_py_isupper_cp(cp), lo = srm_py_islower_cp(cp);
    if (srm_py_istitle_cp(cp) || (want_upper ? lo : up)) return 0;
    if (want_upper ? up : lo) cased = 1;
  }
  return cased;
}

int srm_py_str_isupper(const unsigned char *s, size_t n) {
  return str_case_test(s, n, 1);
}

int srm_py_str_islower(const unsigned char *s, size_t n) {
  return str_case_test(s, n, 0);
}

void srm_py_strip(const unsigned char *s, size_t n, size_t *b, size_t *e) {
  size_t start = 0;
  while (start < n) {
    size_t next = start;
    if (!srm_py_isspace(srm_py_next(s, n, &next))) break;
    start = next;
  }
  if (start == n) {
    *b = *e = 0;
    return;
  }
  /* from the end: back to the start of each character (an invalid byte is its own character) */
  size_t end = n;
  while (end > start) {
    size_t at = end - 1;
    while (at > start && end - at < 4 && (s[at] & 0xC0) == 0x80)
      at--;
    size_t next = at;
    int32_t cp = srm_py_next(s, n, &next);
    if (next != end) { /* the bytes before end are not one whole character */
      at = end - 1;
      next = at;
      cp = srm_py_next(s, n, &next);
    }
    if (!srm_py_isspace(cp)) break;
    end = at;
  }
  *b = start;
  *e = end;
}

int srm_py_valid_utf8(const unsigned char *s, size_t n) {
  size_t pos = 0;
  while (pos < n) {
    if (s[pos] < 0x80) {
      pos++;
      /* ASCII eight bytes at a time */
      while (pos + 8 <= n) {
        uint64_t w;
        memcpy(&w, s + pos, 8);
        if (w & 0x8080808080808080ull) break;
        pos += 8;
      }
      continue;
    }
    size_t at = pos;
    if (srm_py_next(s, n, &pos) == SRM_PY_REPLACEMENT &&
        !(pos - at == 3 && s[at] == 0xEF && s[at + 1] == 0xBF && s[at + 2] == 0xBD))
      return 0;
  }
  return 1;
}

size_t srm_py_lower_bound(size_t n) {
  return 3 * n; /* an invalid byte becomes U+FFFD; U+0130 (2 bytes) becomes 3 bytes */
}

/* Case_Ignorable (DerivedCoreProperties.txt): Mn, Me, Cf, Lm, Sk and the word-internal
** punctuation of Word_Break MidLetter, MidNumLet and Single_Quote. */
static int case_ignorable(int32_t cp) {
  switch (cp) {
  case '\'':
  case '.':
  case ':':
  case '^':
  case '`':
  case 0xA8:
  case 0xAD:
  case 0xAF:
  case 0xB4:
  case 0xB7:
  case 0xB8:
  case 0x0387:
  case 0x05F4:
  case 0x2018:
  case 0x2019:
  case 0x2024:
  case 0x2027:
  case 0xFE13:
  case 0xFE52:
  case 0xFE55:
  case 0xFF07:
  case 0xFF0E:
  case 0xFF1A:
    return 1;
  default:
    break;
  }
  if (cp < 0x80) return 0;
  int c = category(cp);
  return c == UTF8PROC_CATEGORY_MN || c == UTF8PROC_CATEGORY_ME || c == UTF8PROC_CATEGORY_CF ||
         c == UTF8PROC_CATEGORY_LM || c == UTF8PROC_CATEGORY_SK;
}

static int is_cased(int32_t cp) {
  return srm_py_isupper_cp(cp) || srm_py_islower_cp(cp) || srm_py_istitle_cp(cp);
}

/* Capital sigma at s[pos..] is final when a cased character precedes it (case-ignorables
** skipped; *after_cased says so) and none follows it the same way. */
static int sigma_is_final(const unsigned char *s, size_t n, size_t pos, int after_cased) {
  if (!after_cased) return 0;
  while (pos < n) {
    int32_t cp = srm_py_next(s, n, &pos);
    if (!case_ignorable(cp)) return !is_cased(cp);
  }
  return 1;
}

size_t srm_py_lower(const unsigned char *s, size_t n, unsigned char *out) {
  size_t o = 0;
  int after_cased = 0; /* the last non-case-ignorable character was cased */
  for (size_t pos = 0; pos < n;) {
    if (s[pos] < 0x80) { /* ASCII: a letter is cased, ' . : ^ ` are case-ignorable */
      unsigned char c = s[pos++];
      int upper = c >= 'A' && c <= 'Z', lower = c >= 'a' && c <= 'z';
      out[o++] = (unsigned char)(upper ? c + 32 : c);
      if (!(c == '\'' || c == '.' || c == ':' || c == '^' || c == '`'))
        after_cased = upper || lower;
      continue;
    }
    int32_t cp = srm_py_next(s, n, &pos);
    int32_t lc;
    if (cp == 0x0130) {
      out[o++] = 'i';
      lc = 0x0307;
    } else if (cp == 0x03A3) {
      lc = sigma_is_final(s, n, pos, after_cased) ? 0x03C2 : 0x03C3;
    } else {
      lc = utf8proc_tolower(cp);
    }
    if (!case_ignorable(cp)) after_cased = is_cased(cp);
    o += srm_py_encode(lc, out + o);
  }
  return o;
}
