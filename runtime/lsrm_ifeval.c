/* srm: srm.ifeval, IFEval's 25 instruction checks with the official checker's semantics
** (google-research instruction_following_eval): one call checks one instruction strict and
** loose; the building blocks (word, sentence and capital-word counts, language detection, the
** JSON test) are exposed for tests and for skills of their own. The checks are pure C
** (srm_ifeval_checks.c over srm_ifeval_nltk.c, srm_ifeval_langdetect.c and srm_ifeval_py.c);
** this file only reads Lua arguments and the instruction's kwargs.
**
** kwargs follow build_description: every argument the instruction takes must be present (the
** official checker would otherwise pick a random value), unknown keys are refused (it would
** raise), json.null counts as absent (Hugging Face's copy of the data lists every key with
** nulls). Such problems, an unknown instruction id and a keyword that is not a valid regular
** expression come back as nil, message, "BAD_ARGS"; missing langdetect profiles as
** nil, message, "NO_PROFILES". */
#include "srm_modules.h"

#include "srm_ifeval_checks.h"
#include "srm_ifeval_langdetect.h"
#include "srm_ifeval_nltk.h"
#include "srm_ifeval_py.h"

#include <lauxlib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LIST 64

enum kind {
  K_NONE,
  K_INT,      /* n: an integer >= 0 */
  K_INT_ANY,  /* n: any integer */
  K_NTH,      /* n2: 1 <= nth <= n */
  K_REL,      /* relation */
  K_STR,      /* str: any string */
  K_STR_FULL, /* str: a non-empty string */
  K_LETTER,   /* str: exactly one character */
  K_LANGUAGE, /* str: one of the 30 codes of instructions_util.LANGUAGE_CODES */
  K_LIST,     /* list: a non-empty array of strings */
};

struct arg_spec {
  const char *key;
  enum kind kind;
};

/* The kwargs of each instruction, in srm_ifeval_id order (at most 3). */
static const struct arg_spec specs[IFE_COUNT][3] = {
    {{"keywords", K_LIST}},
    {{"keyword", K_STR_FULL}, {"frequency", K_INT}, {"relation", K_REL}},
    {{"forbidden_words", K_LIST}},
    {{"letter", K_LETTER}, {"let_frequency", K_INT}, {"let_relation", K_REL}},
    {{"language", K_LANGUAGE}},
    {{"num_sentences", K_INT}, {"relation", K_REL}},
    {{"num_paragraphs", K_INT}},
    {{"num_words", K_INT}, {"relation", K_REL}},
    {{"num_paragraphs", K_INT}, {"nth_paragraph", K_NTH}, {"first_word", K_STR}},
    {{"num_placeholders", K_INT}},
    {{"postscript_marker", K_STR}},
    {{"num_bullets", K_INT}},
    {{NULL, K_NONE}},
    {{"num_highlights", K_INT}},
    {{"section_spliter", K_STR}, {"num_sections", K_INT}},
    {{NULL, K_NONE}},
    {{NULL, K_NONE}},
    {{NULL, K_NONE}},
    {{"prompt_to_repeat", K_STR_FULL}},
    {{"end_phrase", K_STR}},
    {{"capital_frequency", K_INT_ANY}, {"capital_relation", K_REL}},
    {{NULL, K_NONE}},
    {{NULL, K_NONE}},
    {{NULL, K_NONE}},
    {{NULL, K_NONE}},
};

static const char *const languages[] = {
    "en", "es", "pt", "ar", "hi", "fr", "ru", "de", "ja", "it", "bn", "uk", "th", "ur", "ta",
    "te", "bg", "ko", "pl", "he", "fa", "vi", "ne", "sw", "kn", "mr", "gu", "pa", "ml", "fi",
};

static const unsigned char *check_text(lua_State *L, int arg, size_t *len) {
  return (const unsigned char *)luaL_checklstring(L, arg, len);
}

static int is_null(lua_State *L, int idx) {
  return lua_islightuserdata(L, idx) && lua_touserdata(L, idx) == NULL;
}

/* Pushes nil, message, code and returns 3. */
static int soft_error(lua_State *L, const char *code, const char *fmt, ...) {
  va_list ap;
  lua_pushnil(L);
  va_start(ap, fmt);
  lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  lua_pushstring(L, code);
  return 3;
}

/* An integral number at idx into *v; 0 when it is not one. */
static int get_integer(lua_State *L, int idx, long long *v) {
  if (lua_type(L, idx) != LUA_TNUMBER) return 0;
  if (lua_isinteger(L, idx)) {
    *v = (long long)lua_tointeger(L, idx);
    return 1;
  }
  double d = lua_tonumber(L, idx);
  if (!(d == floor(d)) || fabs(d) > 9.0e15) return 0;
  *v = (long long)d;
  return 1;
}

/*
** Reads kwargs (table at idx) for instruction id into a; list items go to items (the strings stay
** referenced by the kwargs table, which the caller keeps on the stack). Returns NULL, or a
** message (pushed on the stack) explaining what is wrong.
*/
static const char *read_kwargs(lua_State *L, int idx, enum srm_ifeval_id id,
                               struct srm_ifeval_args *a, struct srm_ifeval_str *items) {
  const struct arg_spec *spec = specs[id];
  memset(a, 0, sizeof *a);
  a->id = id;
  a->list = items;
  /* unknown keys first: build_description(**kwargs) would raise a TypeError */
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) { /* key, value */
    int known = 0;
    if (lua_type(L, -2) == LUA_TSTRING) {
      const char *k = lua_tostring(L, -2);
      for (int i = 0; i < 3 && spec[i].key; i++)
        known |= strcmp(spec[i].key, k) == 0;
    }
    if (!known && !is_null(L, -1)) {
      lua_pop(L, 1);
      if (lua_type(L, -1) == LUA_TSTRING)
        return lua_pushfstring(L, "%s takes no argument '%s'", srm_ifeval_names[id],
                               lua_tostring(L, -1));
      return lua_pushfstring(L, "%s: kwargs keys must be strings", srm_ifeval_names[id]);
    }
    lua_pop(L, 1);
  }
  for (int i = 0; i < 3 && spec[i].key; i++) {
    const char *key = spec[i].key;
    int t = lua_getfield(L, idx, key);
    if (t == LUA_TNIL || is_null(L, -1)) {
      lua_pop(L, 1);
      return lua_pushfstring(L, "%s needs '%s' (the official checker would pick a random value)",
                             srm_ifeval_names[id], key);
    }
    const char *bad = NULL;
    switch (spec[i].kind) {
    case K_INT:
    case K_INT_ANY:
      if (!get_integer(L, -1, &a->n))
        bad = "an integer";
      else if (spec[i].kind == K_INT && a->n < 0)
        bad = "an integer >= 0 (a negative one makes the official checker pick a random value)";
      break;
    case K_NTH:
      if (!get_integer(L, -1, &a->n2))
        bad = "an integer";
      else if (a->n2 <= 0 || a->n2 > a->n)
        bad = "an integer from 1 to num_paragraphs (else the official checker picks at random)";
      break;
    case K_REL: {
      const char *r = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "";
      if (strcmp(r, "less than") == 0)
        a->relation = IFE_LESS_THAN;
      else if (strcmp(r, "at least") == 0)
        a->relation = IFE_AT_LEAST;
      else
        bad = "'less than' or 'at least'";
      break;
    }
    case K_STR:
    case K_STR_FULL:
    case K_LETTER:
    case K_LANGUAGE: {
      if (lua_type(L, -1) != LUA_TSTRING) {
        bad = "a string";
        break;
      }
      a->str.s = lua_tolstring(L, -1, &a->str.len);
      if (spec[i].kind == K_STR_FULL && a->str.len == 0) bad = "a non-empty string";
      if (spec[i].kind == K_LETTER) {
        size_t pos = 0;
        if (a->str.len > 0) srm_py_next((const unsigned char *)a->str.s, a->str.len, &pos);
        if (a->str.len == 0 || pos != a->str.len)
          bad = "one character (else the official checker picks a random letter)";
      }
      if (spec[i].kind == K_LANGUAGE) {
        int found = 0;
        for (size_t k = 0; k < sizeof languages / sizeof languages[0]; k++)
          found |= strcmp(languages[k], a->str.s) == 0 && strlen(a->str.s) == a->str.len;
        if (!found) bad = "one of the 30 language codes of the official checker";
      }
      break;
    }
    case K_LIST: {
      if (t != LUA_TTABLE) {
        bad = "an array of strings";
        break;
      }
      lua_Integer len = (lua_Integer)lua_rawlen(L, -1);
      if (len == 0) bad = "a non-empty array (else the official checker picks random words)";
      if (len > MAX_LIST) bad = "an array of at most 64 strings";
      for (lua_Integer k = 1; !bad && k <= len; k++) {
        if (lua_rawgeti(L, -1, k) != LUA_TSTRING)
          bad = "an array of strings";
        else
          items[k - 1].s = lua_tolstring(L, -1, &items[k - 1].len);
        lua_pop(L, 1);
      }
      a->nlist = (size_t)len;
      break;
    }
    case K_NONE:
      break;
    }
    lua_pop(L, 1);
    if (bad) return lua_pushfstring(L, "%s: '%s' must be %s", srm_ifeval_names[id], key, bad);
  }
  return NULL;
}

/*
** ifeval.check(instruction_id, kwargs, response) -> strict, loose
**   | nil, message, "BAD_ARGS" | "NO_PROFILES" | "FAILED"
** strict: the instruction is followed by the response as is; loose: by the response or one of
** its seven loose variants. Raises only on argument types (kwargs must be a table).
*/
static int ifeval_check(lua_State *L) {
  size_t idlen, len;
  const char *idname = luaL_checklstring(L, 1, &idlen);
  luaL_checktype(L, 2, LUA_TTABLE);
  const char *response = (const char *)check_text(L, 3, &len);
  int id = srm_ifeval_lookup(idname, idlen);
  if (id < 0) return soft_error(L, "BAD_ARGS", "unknown instruction id '%s'", idname);
  struct srm_ifeval_args a;
  struct srm_ifeval_str items[MAX_LIST];
  const char *bad = read_kwargs(L, 2, (enum srm_ifeval_id)id, &a, items);
  if (bad) return soft_error(L, "BAD_ARGS", "%s", bad);
  char err[512];
  int strict, loose;
  enum srm_ifeval_status st = srm_ifeval_check(&a, response, len, &strict, &loose, err, sizeof err);
  if (st != IFE_OK)
    return soft_error(L,
                      st == IFE_BAD_ARGS      ? "BAD_ARGS"
                      : st == IFE_NO_PROFILES ? "NO_PROFILES"
                                              : "FAILED",
                      "%s: %s", srm_ifeval_names[id], err);
  lua_pushboolean(L, strict);
  lua_pushboolean(L, loose);
  return 2;
}

/* ifeval.count_words(s) -> integer: \w+ runs (instructions_util.count_words) */
static int ifeval_count_words(lua_State *L) {
  size_t n;
  const char *s = (const char *)check_text(L, 1, &n);
  lua_pushinteger(L, (lua_Integer)srm_ifeval_count_words(s, n));
  return 1;
}

/* ifeval.sentences(s) -> {sentence, ...} | nil, message: Punkt sentences (valid UTF-8 only) */
static int ifeval_sentences(lua_State *L) {
  size_t n;
  const char *s = (const char *)check_text(L, 1, &n);
  struct srm_span *sp;
  size_t count;
  if (srm_nltk_sentences(s, n, &sp, &count) != 0)
    return soft_error(L, "FAILED", "sentence split failed");
  if (count > 0 && !sp) return soft_error(L, "BAD_UTF8", "the text is not valid UTF-8");
  lua_createtable(L, (int)(count < 1000000 ? count : 0), 0);
  for (size_t i = 0; i < count; i++) {
    lua_pushlstring(L, s + sp[i].start, sp[i].stop - sp[i].start);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  free(sp);
  return 1;
}

/* ifeval.count_sentences(s) -> integer | nil, message: instructions_util.count_sentences */
static int ifeval_count_sentences(lua_State *L) {
  size_t n;
  const char *s = (const char *)check_text(L, 1, &n);
  struct srm_span *sp;
  size_t count;
  if (srm_nltk_sentences(s, n, &sp, &count) != 0)
    return soft_error(L, "FAILED", "sentence split failed");
  free(sp);
  lua_pushinteger(L, (lua_Integer)count);
  return 1;
}

/* ifeval.capital_words(s) -> integer | nil, message: tokens of word_tokenize that are isupper() */
static int ifeval_capital_words(lua_State *L) {
  size_t n, count;
  const char *s = (const char *)check_text(L, 1, &n);
  if (srm_nltk_capital_words(s, n, &count) != 0)
    return soft_error(L, "FAILED", "word_tokenize failed");
  lua_pushinteger(L, (lua_Integer)count);
  return 1;
}

struct token_sink {
  lua_State *L;
  lua_Integer n;
};

static void push_token(void *ud, const char *tok, size_t len) {
  struct token_sink *sink = ud;
  lua_pushlstring(sink->L, tok, len);
  lua_rawseti(sink->L, -2, ++sink->n);
}

/* ifeval.word_tokens(sentence) -> {token, ...}: NLTKWordTokenizer().tokenize on one sentence */
static int ifeval_word_tokens(lua_State *L) {
  size_t n;
  const char *s = (const char *)check_text(L, 1, &n);
  lua_newtable(L);
  struct token_sink sink = {L, 0};
  if (srm_nltk_word_tokens(s, n, push_token, &sink) != 0)
    return soft_error(L, "FAILED", "tokenize failed");
  return 1;
}

/*
** ifeval.detect_language(s) -> code | nil, message, "NO_FEATURES" | "NO_PROFILES" | "FAILED"
** langdetect.detect(s) with DetectorFactory.seed = 0 ("unknown" when no language reaches 0.1).
*/
static int ifeval_detect_language(lua_State *L) {
  size_t n;
  const char *s = (const char *)check_text(L, 1, &n);
  const char *err = NULL;
  const struct srm_langdetect *ld = srm_langdetect_shared(&err);
  if (!ld) return soft_error(L, "NO_PROFILES", "%s", err);
  const char *lang;
  enum srm_langdetect_result r = srm_langdetect_detect(ld, s, n, &lang, NULL);
  if (r == SRM_LD_NO_FEATURES) return soft_error(L, "NO_FEATURES", "no features in text");
  if (r != SRM_LD_OK) return soft_error(L, "FAILED", "out of memory");
  lua_pushstring(L, lang);
  return 1;
}

/* ifeval.json_valid(s) -> boolean: Python's json.loads(s) would succeed */
static int ifeval_json_valid(lua_State *L) {
  size_t n;
  const char *s = (const char *)check_text(L, 1, &n);
  lua_pushboolean(L, srm_ifeval_json_valid(s, n));
  return 1;
}

static const luaL_Reg ifeval_funcs[] = {
    {"check", ifeval_check},
    {"count_words", ifeval_count_words},
    {"sentences", ifeval_sentences},
    {"count_sentences", ifeval_count_sentences},
    {"capital_words", ifeval_capital_words},
    {"word_tokens", ifeval_word_tokens},
    {"detect_language", ifeval_detect_language},
    {"json_valid", ifeval_json_valid},
    {NULL, NULL},
};

int luaopen_srm_ifeval(lua_State *L) {
  luaL_newlib(L, ifeval_funcs);
  lua_createtable(L, IFE_COUNT, 0);
  for (int i = 0; i < IFE_COUNT; i++) {
    lua_pushstring(L, srm_ifeval_names[i]);
    lua_rawseti(L, -2, i + 1);
  }
  lua_setfield(L, -2, "ids"); /* the 25 registered instruction ids, in registry order */
  return 1;
}
