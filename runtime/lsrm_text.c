/* srm: srm.text, Unicode-correct text utilities for graders: UTF-8 validation and length,
** words (\w+ runs), sentences (with abbreviation, decimal and initial exceptions), paragraphs,
** lines, case mapping and case tests, normalization, letter and script frequencies, trimming.
** Unicode data (decoding, categories, case mappings, normalization) comes from libutf8proc;
** the only hand-written table is the script ranges, which utf8proc does not provide.
**
** Decoding is lenient everywhere except text.normalize: each byte that does not start a valid
** UTF-8 sequence counts as one U+FFFD (category So: not a letter, not a space). Functions that
** return slices of the input (words, sentences, paragraphs, lines, trim, split_whitespace) keep
** the original bytes; upper, lower and casefold write U+FFFD in place of each invalid byte. Every
** function is O(n) in the input and allocates only through Lua. */
#include "srm_modules.h"

#include <assert.h>
#include <lauxlib.h>
#include <stdint.h>
#include <string.h>
#include <utf8proc.h>

#define REPLACEMENT 0xFFFD
#define TOK_MAX 16 /* longest token the abbreviation check looks at, in code points */

/* A sentence cursor: the state of one left-to-right pass (see next_sentence). */
struct sent_scan {
  const unsigned char *s;
  size_t n, pos, start;
  int32_t tok[TOK_MAX]; /* code points of the current whitespace-delimited token */
  int tok_len, tok_long;
};

/* A paragraph cursor (see next_paragraph). */
struct para_scan {
  const unsigned char *s;
  size_t n, pos;
};

/* clang-format off */
enum script {
  SC_LATIN, SC_CYRILLIC, SC_GREEK, SC_ARABIC, SC_HEBREW, SC_DEVANAGARI, SC_BENGALI, SC_THAI,
  SC_HAN, SC_HIRAGANA, SC_KATAKANA, SC_HANGUL, SC_GEORGIAN, SC_ARMENIAN, SC_ETHIOPIC,
  SC_TAMIL, SC_TELUGU, SC_GUJARATI, SC_GURMUKHI, SC_KANNADA, SC_MALAYALAM, SC_OTHER, SC_COUNT
};
/* clang-format on */

/* Names in enum order; dominant_script breaks ties by this order. */
static const char *const script_names[SC_COUNT] = {
    "Latin",  "Cyrillic", "Greek",    "Arabic",  "Hebrew",    "Devanagari", "Bengali",  "Thai",
    "Han",    "Hiragana", "Katakana", "Hangul",  "Georgian",  "Armenian",   "Ethiopic", "Tamil",
    "Telugu", "Gujarati", "Gurmukhi", "Kannada", "Malayalam", "Other",
};

struct script_range {
  int32_t lo, hi;
  enum script sc;
};

/*
** Hand-written (utf8proc has no script property): the Unicode 15 blocks whose letters belong to
** the scripts above, sorted by lo and non-overlapping. It is block-level, not the exact
** Scripts.txt assignment: only letters (L*) are looked up, and a letter outside every range
** counts as "Other". Coptic (U+03E2..03EF) is left out of Greek on purpose.
*/
static const struct script_range script_ranges[] = {
    {0x0041, 0x005A, SC_LATIN},      {0x0061, 0x007A, SC_LATIN},
    {0x00AA, 0x00AA, SC_LATIN},      {0x00BA, 0x00BA, SC_LATIN},
    {0x00C0, 0x00D6, SC_LATIN},      {0x00D8, 0x00F6, SC_LATIN},
    {0x00F8, 0x02AF, SC_LATIN},      {0x02B0, 0x02B8, SC_LATIN},
    {0x02E0, 0x02E4, SC_LATIN},      {0x0370, 0x03E1, SC_GREEK},
    {0x03F0, 0x03FF, SC_GREEK},      {0x0400, 0x052F, SC_CYRILLIC},
    {0x0531, 0x058F, SC_ARMENIAN},   {0x0591, 0x05FF, SC_HEBREW},
    {0x0600, 0x06FF, SC_ARABIC},     {0x0750, 0x077F, SC_ARABIC},
    {0x0870, 0x08FF, SC_ARABIC},     {0x0900, 0x097F, SC_DEVANAGARI},
    {0x0980, 0x09FF, SC_BENGALI},    {0x0A00, 0x0A7F, SC_GURMUKHI},
    {0x0A80, 0x0AFF, SC_GUJARATI},   {0x0B80, 0x0BFF, SC_TAMIL},
    {0x0C00, 0x0C7F, SC_TELUGU},     {0x0C80, 0x0CFF, SC_KANNADA},
    {0x0D00, 0x0D7F, SC_MALAYALAM},  {0x0E00, 0x0E7F, SC_THAI},
    {0x10A0, 0x10FF, SC_GEORGIAN},   {0x1100, 0x11FF, SC_HANGUL},
    {0x1200, 0x139F, SC_ETHIOPIC},   {0x1C80, 0x1C8F, SC_CYRILLIC},
    {0x1C90, 0x1CBF, SC_GEORGIAN},   {0x1D00, 0x1DBF, SC_LATIN},
    {0x1E00, 0x1EFF, SC_LATIN},      {0x1F00, 0x1FFF, SC_GREEK},
    {0x2071, 0x2071, SC_LATIN},      {0x207F, 0x207F, SC_LATIN},
    {0x2090, 0x209C, SC_LATIN},      {0x2126, 0x2126, SC_GREEK},
    {0x212A, 0x212B, SC_LATIN},      {0x2132, 0x2132, SC_LATIN},
    {0x214E, 0x214E, SC_LATIN},      {0x2184, 0x2184, SC_LATIN},
    {0x2C60, 0x2C7F, SC_LATIN},      {0x2D00, 0x2D2F, SC_GEORGIAN},
    {0x2D80, 0x2DDF, SC_ETHIOPIC},   {0x2DE0, 0x2DFF, SC_CYRILLIC},
    {0x3005, 0x3005, SC_HAN},        {0x3007, 0x3007, SC_HAN},
    {0x3021, 0x3029, SC_HAN},        {0x3038, 0x303B, SC_HAN},
    {0x3041, 0x309F, SC_HIRAGANA},   {0x30A0, 0x30FF, SC_KATAKANA},
    {0x3131, 0x318F, SC_HANGUL},     {0x31F0, 0x31FF, SC_KATAKANA},
    {0x3400, 0x4DBF, SC_HAN},        {0x4E00, 0x9FFF, SC_HAN},
    {0xA640, 0xA69F, SC_CYRILLIC},   {0xA720, 0xA7FF, SC_LATIN},
    {0xA8E0, 0xA8FF, SC_DEVANAGARI}, {0xA960, 0xA97F, SC_HANGUL},
    {0xAB00, 0xAB2F, SC_ETHIOPIC},   {0xAB30, 0xAB64, SC_LATIN},
    {0xAB65, 0xAB65, SC_GREEK},      {0xAB66, 0xAB6F, SC_LATIN},
    {0xAC00, 0xD7FF, SC_HANGUL},     {0xF900, 0xFAFF, SC_HAN},
    {0xFB00, 0xFB06, SC_LATIN},      {0xFB13, 0xFB17, SC_ARMENIAN},
    {0xFB1D, 0xFB4F, SC_HEBREW},     {0xFB50, 0xFDFF, SC_ARABIC},
    {0xFE70, 0xFEFF, SC_ARABIC},     {0xFF21, 0xFF3A, SC_LATIN},
    {0xFF41, 0xFF5A, SC_LATIN},      {0xFF66, 0xFF9F, SC_KATAKANA},
    {0xFFA0, 0xFFDC, SC_HANGUL},     {0x10780, 0x107BF, SC_LATIN},
    {0x1AFF0, 0x1AFFF, SC_KATAKANA}, {0x1B000, 0x1B000, SC_KATAKANA},
    {0x1B001, 0x1B11F, SC_HIRAGANA}, {0x1B120, 0x1B122, SC_KATAKANA},
    {0x1B150, 0x1B152, SC_HIRAGANA}, {0x1B164, 0x1B167, SC_KATAKANA},
    {0x1DF00, 0x1DFFF, SC_LATIN},    {0x1E030, 0x1E08F, SC_CYRILLIC},
    {0x1E7E0, 0x1E7FF, SC_ETHIOPIC}, {0x1EE00, 0x1EEFF, SC_ARABIC},
    {0x20000, 0x2A6DF, SC_HAN},      {0x2A700, 0x2EBEF, SC_HAN},
    {0x2F800, 0x2FA1F, SC_HAN},      {0x30000, 0x323AF, SC_HAN},
};
#define N_SCRIPT_RANGES (sizeof script_ranges / sizeof script_ranges[0])

/* Abbreviations after which a period does not end a sentence (compared ASCII-case-blind). */
static const char *const abbreviations[] = {
    "mr", "mrs", "ms",  "dr",  "prof", "sr",  "jr",  "st",
    "vs", "etc", "e.g", "i.e", "u.s",  "a.m", "p.m",
};

/* ---------------------------------------------------------------------------------------- */
/* Decoding and character classes                                                             */

/* The code point at s[pos] (pos < n) and its length in *len, or -1 with *len = 1 if the bytes
** there are not valid UTF-8 (bad lead, bad or missing continuation, overlong, surrogate,
** above U+10FFFF). */
static int32_t decode_strict(const unsigned char *s, size_t n, size_t pos, size_t *len) {
  if (s[pos] < 0x80) {
    *len = 1;
    return s[pos];
  }
  size_t avail = n - pos;
  utf8proc_int32_t cp;
  utf8proc_ssize_t r = utf8proc_iterate(s + pos, (utf8proc_ssize_t)(avail < 4 ? avail : 4), &cp);
  if (r <= 0) {
    *len = 1;
    return -1;
  }
  *len = (size_t)r;
  return cp;
}

/* Lenient decoding: an invalid byte is one U+FFFD. */
static int32_t decode(const unsigned char *s, size_t n, size_t pos, size_t *len) {
  int32_t cp = decode_strict(s, n, pos, len);
  return cp < 0 ? REPLACEMENT : cp;
}

static int category(int32_t cp) {
  return (int)utf8proc_category(cp);
}

static int is_letter(int32_t cp) {
  if (cp < 0x80) return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
  int c = category(cp);
  return c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO;
}

/* Word characters: 1 for L*, Nd and Pc, which start or continue a word; 2 for M*, which only
** continue one (so a variation selector after an emoji is no word of its own); 0 otherwise. */
static int word_class(int32_t cp) {
  if (cp < 0x80)
    return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9') ||
           cp == '_';
  int c = category(cp);
  if (c >= UTF8PROC_CATEGORY_MN && c <= UTF8PROC_CATEGORY_ME) return 2;
  return (c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_ND) || c == UTF8PROC_CATEGORY_PC;
}

/* Whitespace: Z* plus \t \n \v \f \r and U+0085. */
static int is_space(int32_t cp) {
  if (cp < 0x80) return cp == ' ' || (cp >= '\t' && cp <= '\r');
  if (cp == 0x85) return 1;
  int c = category(cp);
  return c >= UTF8PROC_CATEGORY_ZS && c <= UTF8PROC_CATEGORY_ZP;
}

static int is_cjk_terminator(int32_t cp) {
  return cp == 0x3002 || cp == 0xFF01 || cp == 0xFF1F; /* 。！？ */
}

static int is_terminator(int32_t cp) {
  return cp == '.' || cp == '!' || cp == '?' || cp == 0x2026 || is_cjk_terminator(cp);
}

/* Closing quotes and brackets that may follow a terminator: Pe, Pf and the ASCII quotes. */
static int is_closer(int32_t cp) {
  if (cp == '"' || cp == '\'') return 1;
  int c = category(cp);
  return c == UTF8PROC_CATEGORY_PE || c == UTF8PROC_CATEGORY_PF;
}

/* Opening quotes and brackets stripped from the front of a token: Ps, Pi and the ASCII quotes. */
static int is_opener(int32_t cp) {
  if (cp == '"' || cp == '\'') return 1;
  int c = category(cp);
  return c == UTF8PROC_CATEGORY_PS || c == UTF8PROC_CATEGORY_PI;
}

/* Python's notion of a titlecase character (category Lt). */
static int is_title_char(int32_t cp) {
  return cp >= 0x80 && category(cp) == UTF8PROC_CATEGORY_LT;
}

static enum script script_of(int32_t cp) {
  size_t lo = 0, hi = N_SCRIPT_RANGES;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (cp < script_ranges[mid].lo)
      hi = mid;
    else if (cp > script_ranges[mid].hi)
      lo = mid + 1;
    else
      return script_ranges[mid].sc;
  }
  return SC_OTHER;
}

/* Narrows [*b, *e) (boundaries of the lenient decoding) to exclude leading and trailing
** whitespace. */
static void trim_range(const unsigned char *s, size_t n, size_t *b, size_t *e) {
  size_t pos = *b, first = *e, last = *e;
  int found = 0;
  while (pos < *e) {
    size_t len;
    int32_t cp = decode(s, n, pos, &len);
    if (!is_space(cp)) {
      if (!found) first = pos;
      found = 1;
      last = pos + len;
    }
    pos += len;
  }
  *b = found ? first : *e;
  *e = found ? last : *e;
}

static void add_cp(luaL_Buffer *B, int32_t cp) {
  utf8proc_uint8_t tmp[4];
  utf8proc_ssize_t k = utf8proc_encode_char(cp, tmp);
  luaL_addlstring(B, (const char *)tmp, (size_t)k);
}

/* ---------------------------------------------------------------------------------------- */
/* Argument checks: messages start with the API name, as the house style asks.                */

static const unsigned char *check_text(lua_State *L, int arg, const char *fname, size_t *len) {
  if (lua_type(L, arg) != LUA_TSTRING)
    luaL_error(L, "srm.text.%s: argument #%d must be a string (got %s)", fname, arg,
               luaL_typename(L, arg));
  return (const unsigned char *)lua_tolstring(L, arg, len);
}

/* ---------------------------------------------------------------------------------------- */
/* Scanners shared by the array and count forms                                               */

/* Pushes each maximal run of word characters (a mark only continues a run) into the table at
** the top (if push) and returns how many there are. */
static lua_Integer scan_words(lua_State *L, const unsigned char *s, size_t n, int push) {
  lua_Integer count = 0;
  size_t pos = 0, start = 0;
  int in_word = 0;
  while (pos < n) {
    size_t len;
    int wc = word_class(decode(s, n, pos, &len));
    int w = wc == 1 || (wc == 2 && in_word);
    if (w && !in_word) start = pos;
    if (!w && in_word) {
      count++;
      if (push) {
        lua_pushlstring(L, (const char *)s + start, pos - start);
        lua_rawseti(L, -2, count);
      }
    }
    in_word = w;
    pos += len;
  }
  if (in_word) {
    count++;
    if (push) {
      lua_pushlstring(L, (const char *)s + start, n - start);
      lua_rawseti(L, -2, count);
    }
  }
  return count;
}

static void tok_reset(struct sent_scan *st) {
  st->tok_len = 0;
  st->tok_long = 0;
}

static void tok_push(struct sent_scan *st, int32_t cp) {
  if (st->tok_len == 0 && is_opener(cp)) return;
  if (st->tok_len < TOK_MAX)
    st->tok[st->tok_len++] = cp;
  else
    st->tok_long = 1;
}

/* Whether the first len code points of the current token, which a lone period follows, make
** that period an abbreviation's: a listed abbreviation, a single capital initial other than
** "I" ("J. Smith"), or dotted single letters ("U.S.A", "e.g"). */
static int is_abbreviation(const struct sent_scan *st, int len) {
  if (len == 0 || len >= TOK_MAX) return 0;
  if (len == 1)
    return st->tok[0] != 'I' && (category(st->tok[0]) == UTF8PROC_CATEGORY_LU ||
                                 category(st->tok[0]) == UTF8PROC_CATEGORY_LT);
  int dotted = len % 2 == 1;
  for (int i = 0; dotted && i < len; i++)
    dotted = i % 2 == 0 ? is_letter(st->tok[i]) : st->tok[i] == '.';
  if (dotted) return 1;
  char low[TOK_MAX + 1];
  for (int i = 0; i < len; i++) {
    int32_t c = st->tok[i];
    if (c >= 'A' && c <= 'Z') c += 'a' - 'A';
    if (c >= 0x80 || c == 0) return 0;
    low[i] = (char)c;
  }
  low[len] = '\0';
  for (size_t i = 0; i < sizeof abbreviations / sizeof abbreviations[0]; i++)
    if (strcmp(low, abbreviations[i]) == 0) return 1;
  return 0;
}

/*
** Finds the next sentence: its trimmed byte range in [*b, *e); returns 0 when there is none.
** A terminator group is a run of . ! ? … 。！？ followed by closing quotes or brackets; it ends
** a sentence when whitespace or the end of text follows it, or at once if it holds a CJK
** terminator. A group that is one period with nothing after it does not end a sentence when it
** follows an abbreviation (is_abbreviation). "3.14" never splits: no whitespace follows.
*/
static int next_sentence(struct sent_scan *st, size_t *b, size_t *e) {
  const unsigned char *s = st->s;
  size_t n = st->n;
  while (st->pos < n) {
    size_t len;
    int32_t cp = decode(s, n, st->pos, &len);
    if (!is_terminator(cp)) {
      if (is_space(cp))
        tok_reset(st);
      else
        tok_push(st, cp);
      st->pos += len;
      continue;
    }
    int before = st->tok_len, only_period = 1, cjk = 0, nterm = 0, nclose = 0;
    size_t j = st->pos;
    int32_t next = -1; /* the code point after the group, -1 at the end of text */
    while (j < n) {
      cp = decode(s, n, j, &len);
      if (!is_terminator(cp)) break;
      nterm++;
      if (cp != '.') only_period = 0;
      if (is_cjk_terminator(cp)) cjk = 1;
      tok_push(st, cp);
      j += len;
    }
    while (j < n) {
      cp = decode(s, n, j, &len);
      if (!is_closer(cp)) break;
      nclose++;
      tok_push(st, cp);
      j += len;
    }
    if (j < n) next = decode(s, n, j, &len);
    int split = cjk || next < 0 || is_space(next);
    if (split && nterm == 1 && only_period && nclose == 0 && is_abbreviation(st, before)) split = 0;
    st->pos = j;
    if (split) {
      *b = st->start;
      *e = j;
      st->start = j;
      trim_range(s, n, b, e);
      if (*b < *e) return 1;
    }
  }
  if (st->start < n) {
    *b = st->start;
    *e = n;
    st->start = n;
    trim_range(s, n, b, e);
    if (*b < *e) return 1;
  }
  return 0;
}

static int range_is_blank(const unsigned char *s, size_t n, size_t b, size_t e) {
  while (b < e) {
    size_t len;
    if (!is_space(decode(s, n, b, &len))) return 0;
    b += len;
  }
  return 1;
}

/* Finds the next paragraph (a run of non-blank lines; lines end at \n, \r\n or \r), trimmed,
** in [*b, *e); returns 0 when there is none. */
static int next_paragraph(struct para_scan *st, size_t *b, size_t *e) {
  const unsigned char *s = st->s;
  size_t n = st->n, pstart = 0, pend = 0;
  int open = 0;
  while (st->pos < n) {
    size_t ls = st->pos, le = ls;
    while (le < n && s[le] != '\n' && s[le] != '\r')
      le++;
    st->pos = le;
    if (le < n) st->pos += (s[le] == '\r' && le + 1 < n && s[le + 1] == '\n') ? 2 : 1;
    if (!range_is_blank(s, n, ls, le)) {
      if (!open) pstart = ls;
      open = 1;
      pend = le;
    } else if (open) {
      break;
    }
  }
  if (!open) return 0;
  *b = pstart;
  *e = pend;
  trim_range(s, n, b, e);
  return 1;
}

/* ---------------------------------------------------------------------------------------- */
/* Lua-facing functions                                                                       */

/* text.valid_utf8(s) -> true | false, byte_offset (1-based) of the first invalid sequence */
static int text_valid_utf8(lua_State *L) {
  size_t n, pos = 0;
  const unsigned char *s = check_text(L, 1, "valid_utf8", &n);
  while (pos < n) {
    size_t len;
    if (decode_strict(s, n, pos, &len) < 0) {
      lua_pushboolean(L, 0);
      lua_pushinteger(L, (lua_Integer)pos + 1);
      return 2;
    }
    pos += len;
  }
  lua_pushboolean(L, 1);
  return 1;
}

/* text.len(s) -> number of code points (each invalid byte counts as one) */
static int text_len(lua_State *L) {
  size_t n, pos = 0;
  const unsigned char *s = check_text(L, 1, "len", &n);
  lua_Integer count = 0;
  while (pos < n) {
    size_t len;
    decode(s, n, pos, &len);
    pos += len;
    count++;
  }
  lua_pushinteger(L, count);
  return 1;
}

/* text.words(s) -> array of maximal runs of L*, M*, Nd, Pc characters (not starting with M*) */
static int text_words(lua_State *L) {
  size_t n;
  const unsigned char *s = check_text(L, 1, "words", &n);
  lua_newtable(L);
  scan_words(L, s, n, 1);
  return 1;
}

/* text.count_words(s) -> integer, #text.words(s) */
static int text_count_words(lua_State *L) {
  size_t n;
  const unsigned char *s = check_text(L, 1, "count_words", &n);
  lua_pushinteger(L, scan_words(L, s, n, 0));
  return 1;
}

/* text.sentences(s) -> array of trimmed sentences (see next_sentence) */
static int text_sentences(lua_State *L) {
  struct sent_scan st = {0};
  st.s = check_text(L, 1, "sentences", &st.n);
  size_t b, e;
  lua_Integer i = 0;
  lua_newtable(L);
  while (next_sentence(&st, &b, &e)) {
    lua_pushlstring(L, (const char *)st.s + b, e - b);
    lua_rawseti(L, -2, ++i);
  }
  return 1;
}

/* text.count_sentences(s) -> integer, #text.sentences(s) */
static int text_count_sentences(lua_State *L) {
  struct sent_scan st = {0};
  st.s = check_text(L, 1, "count_sentences", &st.n);
  size_t b, e;
  lua_Integer i = 0;
  while (next_sentence(&st, &b, &e))
    i++;
  lua_pushinteger(L, i);
  return 1;
}

/* text.paragraphs(s) -> array of trimmed paragraphs, split on blank (whitespace-only) lines */
static int text_paragraphs(lua_State *L) {
  struct para_scan st = {0};
  st.s = check_text(L, 1, "paragraphs", &st.n);
  size_t b, e;
  lua_Integer i = 0;
  lua_newtable(L);
  while (next_paragraph(&st, &b, &e)) {
    lua_pushlstring(L, (const char *)st.s + b, e - b);
    lua_rawseti(L, -2, ++i);
  }
  return 1;
}

/* text.lines(s) -> array of lines split on \n, \r\n or \r; no element after a final newline */
static int text_lines(lua_State *L) {
  size_t n, pos = 0;
  const unsigned char *s = check_text(L, 1, "lines", &n);
  lua_Integer i = 0;
  lua_newtable(L);
  while (pos < n) {
    size_t le = pos;
    while (le < n && s[le] != '\n' && s[le] != '\r')
      le++;
    lua_pushlstring(L, (const char *)s + pos, le - pos);
    lua_rawseti(L, -2, ++i);
    pos = le;
    if (le < n) pos += (s[le] == '\r' && le + 1 < n && s[le + 1] == '\n') ? 2 : 1;
  }
  return 1;
}

enum case_map { MAP_UPPER, MAP_LOWER, MAP_FOLD };

static int map_case(lua_State *L, const char *fname, enum case_map how) {
  size_t n, pos = 0;
  const unsigned char *s = check_text(L, 1, fname, &n);
  luaL_Buffer B;
  luaL_buffinitsize(L, &B, n);
  while (pos < n) {
    size_t len;
    int32_t cp = decode(s, n, pos, &len);
    pos += len;
    if (how == MAP_UPPER) {
      add_cp(&B, utf8proc_toupper(cp));
    } else if (how == MAP_LOWER) {
      add_cp(&B, utf8proc_tolower(cp));
    } else {
      /* Full case folding: one code point may become up to three (ß -> ss). */
      utf8proc_int32_t out[8];
      int last_boundclass = 0;
      utf8proc_ssize_t k = utf8proc_decompose_char(cp, out, 8, UTF8PROC_CASEFOLD, &last_boundclass);
      if (k < 0 || k > 8) {
        add_cp(&B, cp);
      } else {
        for (utf8proc_ssize_t m = 0; m < k; m++)
          add_cp(&B, out[m]);
      }
    }
  }
  luaL_pushresult(&B);
  return 1;
}

/* text.upper(s) -> s with utf8proc's simple uppercase mapping of each code point */
static int text_upper(lua_State *L) {
  return map_case(L, "upper", MAP_UPPER);
}

/* text.lower(s) -> s with utf8proc's simple lowercase mapping of each code point */
static int text_lower(lua_State *L) {
  return map_case(L, "lower", MAP_LOWER);
}

/* text.casefold(s) -> s with full Unicode case folding (for caseless comparison) */
static int text_casefold(lua_State *L) {
  return map_case(L, "casefold", MAP_FOLD);
}

/* Python's str.isupper (want_upper) or str.islower: some cased character, none of the other
** case and no titlecase character. */
static int case_test(lua_State *L, const char *fname, int want_upper) {
  size_t n, pos = 0;
  const unsigned char *s = check_text(L, 1, fname, &n);
  int cased = 0;
  while (pos < n) {
    size_t len;
    int32_t cp = decode(s, n, pos, &len);
    pos += len;
    int up = utf8proc_isupper(cp), low = utf8proc_islower(cp);
    if ((want_upper ? low : up) || is_title_char(cp)) {
      lua_pushboolean(L, 0);
      return 1;
    }
    if (want_upper ? up : low) cased = 1;
  }
  lua_pushboolean(L, cased);
  return 1;
}

/* text.is_upper(s) -> boolean (Python str.isupper) */
static int text_is_upper(lua_State *L) {
  return case_test(L, "is_upper", 1);
}

/* text.is_lower(s) -> boolean (Python str.islower) */
static int text_is_lower(lua_State *L) {
  return case_test(L, "is_lower", 0);
}

/* text.is_title(s) -> boolean (Python str.istitle: upper/titlecase only after uncased
** characters, lowercase only after cased ones, at least one cased character) */
static int text_is_title(lua_State *L) {
  size_t n, pos = 0;
  const unsigned char *s = check_text(L, 1, "is_title", &n);
  int cased = 0, prev_cased = 0;
  while (pos < n) {
    size_t len;
    int32_t cp = decode(s, n, pos, &len);
    pos += len;
    if (utf8proc_isupper(cp) || is_title_char(cp)) {
      if (prev_cased) {
        lua_pushboolean(L, 0);
        return 1;
      }
      prev_cased = cased = 1;
    } else if (utf8proc_islower(cp)) {
      if (!prev_cased) {
        lua_pushboolean(L, 0);
        return 1;
      }
      prev_cased = cased = 1;
    } else {
      prev_cased = 0;
    }
  }
  lua_pushboolean(L, cased);
  return 1;
}

/*
** text.normalize(s [, form]) -> normalized | nil, errmsg, "BAD_UTF8"
** form is "NFC" (default), "NFD", "NFKC" or "NFKD"; another form raises. Strict: invalid UTF-8
** is not repaired. The work buffer is a Lua userdata, so a memory error cannot leak it.
*/
static int text_normalize(lua_State *L) {
  static const char *const forms[] = {"NFC", "NFD", "NFKC", "NFKD", NULL};
  static const utf8proc_option_t form_opts[] = {UTF8PROC_COMPOSE, UTF8PROC_DECOMPOSE,
                                                UTF8PROC_COMPOSE | UTF8PROC_COMPAT,
                                                UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT};
  size_t n, pos = 0;
  const unsigned char *s = check_text(L, 1, "normalize", &n);
  int form = 0;
  if (!lua_isnoneornil(L, 2)) {
    if (lua_type(L, 2) != LUA_TSTRING)
      return luaL_error(L, "srm.text.normalize: argument #2 must be a string (got %s)",
                        luaL_typename(L, 2));
    const char *name = lua_tostring(L, 2);
    for (form = 0; forms[form] && strcmp(forms[form], name) != 0; form++) {
    }
    if (!forms[form])
      return luaL_error(L, "srm.text.normalize: unknown form '%s' (NFC, NFD, NFKC or NFKD)", name);
  }
  while (pos < n) {
    size_t len;
    if (decode_strict(s, n, pos, &len) < 0) {
      lua_pushnil(L);
      lua_pushfstring(L, "srm.text.normalize: invalid UTF-8 at byte %I", (lua_Integer)pos + 1);
      lua_pushliteral(L, "BAD_UTF8");
      return 3;
    }
    pos += len;
  }
  if (n == 0) {
    lua_pushliteral(L, "");
    return 1;
  }
  utf8proc_option_t opts = (utf8proc_option_t)(UTF8PROC_STABLE | form_opts[form]);
  utf8proc_ssize_t count = utf8proc_decompose(s, (utf8proc_ssize_t)n, NULL, 0, opts);
  if (count < 0 || (size_t)count > (SIZE_MAX - 1) / sizeof(utf8proc_int32_t))
    return luaL_error(L, "srm.text.normalize: %s", utf8proc_errmsg(count < 0 ? count : -2));
  utf8proc_int32_t *buf =
      lua_newuserdatauv(L, (size_t)count * sizeof(utf8proc_int32_t) + 1, 0); /* s, [form], ud */
  utf8proc_ssize_t again = utf8proc_decompose(s, (utf8proc_ssize_t)n, buf, count, opts);
  if (again != count) return luaL_error(L, "srm.text.normalize: decomposition changed size");
  utf8proc_ssize_t bytes = utf8proc_reencode(buf, count, opts);
  if (bytes < 0) return luaL_error(L, "srm.text.normalize: %s", utf8proc_errmsg(bytes));
  lua_pushlstring(L, (const char *)buf, (size_t)bytes);
  return 1;
}

/* Checks the optional options table of letter_counts; returns whether ascii is set. */
static int letter_counts_opts(lua_State *L, int arg) {
  if (lua_isnoneornil(L, arg)) return 0;
  if (!lua_istable(L, arg))
    luaL_error(L, "srm.text.letter_counts: options must be a table (got %s)",
               luaL_typename(L, arg));
  int ascii = 0;
  lua_pushnil(L);
  while (lua_next(L, arg)) { /* ..., key, value */
    if (lua_type(L, -2) != LUA_TSTRING || strcmp(lua_tostring(L, -2), "ascii") != 0) {
      lua_pop(L, 1);
      luaL_error(L, "srm.text.letter_counts: unknown option '%s'", luaL_tolstring(L, -1, NULL));
    }
    if (lua_type(L, -1) != LUA_TBOOLEAN)
      luaL_error(L, "srm.text.letter_counts: option 'ascii' must be a boolean");
    ascii = lua_toboolean(L, -1);
    lua_pop(L, 1);
  }
  return ascii;
}

/*
** text.letter_counts(s [, {ascii = bool}]) -> {[lowercased letter] = count}
** Letters are L* code points, lowercased with utf8proc's simple mapping ("İ" counts as "i");
** with ascii = true only A-Z and a-z are counted.
*/
static int text_letter_counts(lua_State *L) {
  size_t n, pos = 0;
  const unsigned char *s = check_text(L, 1, "letter_counts", &n);
  int ascii = letter_counts_opts(L, 2);
  lua_Integer small[26] = {0};
  lua_newtable(L); /* result */
  while (pos < n) {
    size_t len;
    int32_t cp = decode(s, n, pos, &len);
    pos += len;
    if (!is_letter(cp) || (ascii && cp >= 0x80)) continue;
    int32_t low = utf8proc_tolower(cp);
    if (low >= 'a' && low <= 'z') {
      small[low - 'a']++;
      continue;
    }
    char key[4];
    utf8proc_ssize_t k = utf8proc_encode_char(low, (utf8proc_uint8_t *)key);
    lua_pushlstring(L, key, (size_t)k); /* result, key */
    lua_pushvalue(L, -1);
    lua_Integer c = lua_rawget(L, -3) == LUA_TNUMBER ? lua_tointeger(L, -1) : 0;
    lua_pop(L, 1);
    lua_pushinteger(L, c + 1); /* result, key, count */
    lua_rawset(L, -3);
  }
  for (int i = 0; i < 26; i++) {
    if (!small[i]) continue;
    char key = (char)('a' + i);
    lua_pushlstring(L, &key, 1);
    lua_pushinteger(L, small[i]);
    lua_rawset(L, -3);
  }
  return 1;
}

/*
** text.count_letter(s, letter) -> integer
** Counts code points of s whose simple lowercase equals letter's; raises unless letter is
** exactly one valid code point.
*/
static int text_count_letter(lua_State *L) {
  size_t n, ln, pos = 0, len;
  const unsigned char *s = check_text(L, 1, "count_letter", &n);
  const unsigned char *l = check_text(L, 2, "count_letter", &ln);
  int32_t want = ln ? decode_strict(l, ln, 0, &len) : -1;
  if (want < 0 || len != ln)
    return luaL_error(L, "srm.text.count_letter: letter must be exactly one code point");
  want = utf8proc_tolower(want);
  lua_Integer count = 0;
  while (pos < n) {
    int32_t cp = decode(s, n, pos, &len);
    pos += len;
    if (cp == want || utf8proc_tolower(cp) == want) count++;
  }
  lua_pushinteger(L, count);
  return 1;
}

/*
** text.category(s | codepoint) -> "Lu" | "Ll" | ... | nil
** The general category of a code point, or of the first one of a string (nil for ""; an
** invalid first byte is U+FFFD, "So"). Raises for a number outside 0..0x10FFFF.
*/
static int text_category(lua_State *L) {
  int32_t cp;
  if (lua_type(L, 1) == LUA_TNUMBER) {
    int isint;
    lua_Integer v = lua_tointegerx(L, 1, &isint);
    if (!isint) return luaL_error(L, "srm.text.category: code point must be an integer");
    if (v < 0 || v > 0x10FFFF)
      return luaL_error(L, "srm.text.category: code point %I out of range", v);
    cp = (int32_t)v;
  } else {
    size_t n, len;
    const unsigned char *s = check_text(L, 1, "category", &n);
    if (n == 0) {
      lua_pushnil(L);
      return 1;
    }
    cp = decode(s, n, 0, &len);
  }
  lua_pushstring(L, utf8proc_category_string(cp));
  return 1;
}

static void count_scripts(const unsigned char *s, size_t n, lua_Integer counts[SC_COUNT]) {
  size_t pos = 0;
  for (int i = 0; i < SC_COUNT; i++)
    counts[i] = 0;
  while (pos < n) {
    size_t len;
    int32_t cp = decode(s, n, pos, &len);
    pos += len;
    if (is_letter(cp)) counts[script_of(cp)]++;
  }
}

/* text.script_counts(s) -> {[script name] = letters}, only scripts with at least one letter */
static int text_script_counts(lua_State *L) {
  size_t n;
  const unsigned char *s = check_text(L, 1, "script_counts", &n);
  lua_Integer counts[SC_COUNT];
  count_scripts(s, n, counts);
  lua_newtable(L);
  for (int i = 0; i < SC_COUNT; i++) {
    if (!counts[i]) continue;
    lua_pushinteger(L, counts[i]);
    lua_setfield(L, -2, script_names[i]);
  }
  return 1;
}

/* text.dominant_script(s) -> name of the script with most letters (ties: the order of the
** names list, "Other" last) | nil when s has no letter */
static int text_dominant_script(lua_State *L) {
  size_t n;
  const unsigned char *s = check_text(L, 1, "dominant_script", &n);
  lua_Integer counts[SC_COUNT];
  count_scripts(s, n, counts);
  int best = -1;
  for (int i = 0; i < SC_COUNT; i++)
    if (counts[i] > 0 && (best < 0 || counts[i] > counts[best])) best = i;
  if (best < 0)
    lua_pushnil(L);
  else
    lua_pushstring(L, script_names[best]);
  return 1;
}

/* text.trim(s) -> s without leading and trailing whitespace (Z*, \t\n\v\f\r, U+0085) */
static int text_trim(lua_State *L) {
  size_t n, b = 0, e;
  const unsigned char *s = check_text(L, 1, "trim", &n);
  e = n;
  trim_range(s, n, &b, &e);
  lua_pushlstring(L, (const char *)s + b, e - b);
  return 1;
}

/* text.split_whitespace(s) -> array of the runs of non-whitespace (Python str.split()) */
static int text_split_whitespace(lua_State *L) {
  size_t n, pos = 0, start = 0;
  const unsigned char *s = check_text(L, 1, "split_whitespace", &n);
  lua_Integer i = 0;
  int in_run = 0;
  lua_newtable(L);
  while (pos < n) {
    size_t len;
    int sp = is_space(decode(s, n, pos, &len));
    if (!sp && !in_run) start = pos;
    if (sp && in_run) {
      lua_pushlstring(L, (const char *)s + start, pos - start);
      lua_rawseti(L, -2, ++i);
    }
    in_run = !sp;
    pos += len;
  }
  if (in_run) {
    lua_pushlstring(L, (const char *)s + start, n - start);
    lua_rawseti(L, -2, ++i);
  }
  return 1;
}

static const luaL_Reg text_funcs[] = {
    {"valid_utf8", text_valid_utf8},
    {"len", text_len},
    {"words", text_words},
    {"count_words", text_count_words},
    {"sentences", text_sentences},
    {"count_sentences", text_count_sentences},
    {"paragraphs", text_paragraphs},
    {"lines", text_lines},
    {"upper", text_upper},
    {"lower", text_lower},
    {"casefold", text_casefold},
    {"is_upper", text_is_upper},
    {"is_lower", text_is_lower},
    {"is_title", text_is_title},
    {"normalize", text_normalize},
    {"letter_counts", text_letter_counts},
    {"count_letter", text_count_letter},
    {"category", text_category},
    {"script_counts", text_script_counts},
    {"dominant_script", text_dominant_script},
    {"trim", text_trim},
    {"split_whitespace", text_split_whitespace},
    {NULL, NULL},
};

int luaopen_srm_text(lua_State *L) {
#ifndef NDEBUG
  for (size_t i = 0; i < N_SCRIPT_RANGES; i++) {
    assert(script_ranges[i].lo <= script_ranges[i].hi);
    assert(i == 0 || script_ranges[i - 1].hi < script_ranges[i].lo);
  }
#endif
  luaL_newlib(L, text_funcs);
  return 1;
}
