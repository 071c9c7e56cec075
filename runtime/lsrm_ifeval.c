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

/* The checker of one instruction, read from its id (at idx_id) and kwargs (a table at idx_kw)
** into a (list items into items). Returns NULL, or the code of the problem with its message
** pushed (ifeval.check's BAD_ARGS cases). */
static const char *read_instruction(lua_State *L, int idx_id, int idx_kw, struct srm_ifeval_args *a,
                                    struct srm_ifeval_str *items) {
  size_t idlen;
  const char *idname = lua_tolstring(L, idx_id, &idlen);
  int id = srm_ifeval_lookup(idname, idlen);
  if (id < 0) {
    lua_pushfstring(L, "unknown instruction id '%s'", idname);
    return "BAD_ARGS";
  }
  if (read_kwargs(L, idx_kw, (enum srm_ifeval_id)id, a, items)) return "BAD_ARGS";
  return NULL;
}

/* Runs a read instruction on r. Returns NULL, or the code of the failure with its message
** pushed. */
static const char *run_instruction(lua_State *L, struct srm_ifeval_response *r,
                                   const struct srm_ifeval_args *a, int *strict, int *loose) {
  char err[512];
  enum srm_ifeval_status st = srm_ifeval_response_check(r, a, strict, loose, err, sizeof err);
  if (st == IFE_OK) return NULL;
  lua_pushfstring(L, "%s: %s", srm_ifeval_names[a->id], err);
  return st == IFE_BAD_ARGS ? "BAD_ARGS" : st == IFE_NO_PROFILES ? "NO_PROFILES" : "FAILED";
}

/* Pushes nil, the message on the stack top, code; returns 3. */
static int soft_error_top(lua_State *L, const char *code) {
  lua_pushnil(L);
  lua_insert(L, -2);
  lua_pushstring(L, code);
  return 3;
}

/* A response owned by a userdata, so that a Lua error (out of memory) cannot leak it. */
struct response_box {
  struct srm_ifeval_response *r;
};

static int response_box_gc(lua_State *L) {
  struct response_box *box = lua_touserdata(L, 1);
  srm_ifeval_response_free(box->r);
  box->r = NULL;
  return 0;
}

/* Pushes an empty box (its metatable frees the response). */
static struct response_box *push_box(lua_State *L) {
  struct response_box *box = lua_newuserdatauv(L, sizeof *box, 0);
  box->r = NULL;
  if (luaL_newmetatable(L, "srm.ifeval.response")) {
    lua_pushcfunction(L, response_box_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, response_box_gc);
    lua_setfield(L, -2, "__close");
  }
  lua_setmetatable(L, -2);
  return box;
}

/*
** ifeval.check(instruction_id, kwargs, response) -> strict, loose
**   | nil, message, "BAD_ARGS" | "NO_PROFILES" | "FAILED"
** strict: the instruction is followed by the response as is; loose: by the response or one of
** its seven loose variants. Raises only on argument types (kwargs must be a table).
*/
static int ifeval_check(lua_State *L) {
  size_t len;
  luaL_checkstring(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  const char *response = (const char *)check_text(L, 3, &len);
  lua_settop(L, 3);
  struct srm_ifeval_args a;
  struct srm_ifeval_str items[MAX_LIST];
  const char *code = read_instruction(L, 1, 2, &a, items);
  if (code) return soft_error_top(L, code);
  struct response_box *box = push_box(L);
  box->r = srm_ifeval_response_new(response, len);
  if (!box->r) return soft_error(L, "FAILED", "%s: out of memory", srm_ifeval_names[a.id]);
  int strict, loose;
  code = run_instruction(L, box->r, &a, &strict, &loose);
  srm_ifeval_response_free(box->r);
  box->r = NULL;
  if (code) return soft_error_top(L, code);
  lua_pushboolean(L, strict);
  lua_pushboolean(L, loose);
  return 2;
}

/* Decimal text of v >= 0 into buf; returns its length. */
static size_t fmt_index(char *buf, lua_Integer v) {
  char tmp[24];
  size_t i = sizeof tmp;
  lua_Unsigned u = (lua_Unsigned)v;
  do {
    tmp[--i] = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  memcpy(buf, tmp + i, sizeof tmp - i);
  return sizeof tmp - i;
}

/*
** ifeval.check_all(ids, kwargs, response) -> result | nil, message, code
** Every instruction of a prompt (ids[i] with kwargs[i]; a nil or json.null kwargs entry counts as
** {}) checked on one response, strict and loose, sharing the response's decoding, loose variants,
** language and tokenization. result is what skills/ifeval.lua reports:
**   {score = fraction followed strictly, reason = "<k> of <n> instructions followed (strict)",
**    components = {["<i-1>:<id>"] = {score = 1 | 0, detail = {strict =, loose =}}, ...},
**    detail = {follow_instruction_list_strict = {...}, follow_instruction_list_loose = {...},
**              follow_all_strict =, follow_all_loose =}}
** The first instruction that cannot be checked ends the call: its message reads
** "instruction <i-1>: ..." (code BAD_INPUT: an id that is not a string or kwargs that are not an
** object) or "instruction <i-1> (<id>): <ifeval.check's message>" (its code: BAD_ARGS,
** NO_PROFILES, FAILED). An empty ids list is BAD_INPUT. Raises when ids or kwargs is not a table
** or response not a string.
*/
static int ifeval_check_all(lua_State *L) {
  size_t len;
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checktype(L, 2, LUA_TTABLE);
  const char *response = (const char *)check_text(L, 3, &len);
  lua_settop(L, 3);
  lua_Integer n = luaL_len(L, 1);
  if (n <= 0) return soft_error(L, "BAD_INPUT", "the list names no instruction");
  int presize = n < 4096 ? (int)n : 4096;
  struct response_box *box = push_box(L); /* ids, kwargs, response, box */
  lua_createtable(L, presize, 0);         /* ..., strict */
  lua_createtable(L, presize, 0);         /* ..., strict, loose */
  lua_createtable(L, 0, presize);         /* ..., strict, loose, components */
  const int t_strict = 5, t_loose = 6, t_comp = 7;
  lua_Integer n_strict = 0;
  int all_loose = 1;
  for (lua_Integer i = 1; i <= n; i++) {
    lua_settop(L, t_comp);
    int tid = lua_geti(L, 1, i); /* ..., id */
    int tkw = lua_geti(L, 2, i); /* ..., id, kw */
    if (tkw == LUA_TNIL || is_null(L, -1)) {
      lua_pop(L, 1);
      lua_newtable(L);
      tkw = LUA_TTABLE;
    }
    if (tid != LUA_TSTRING || tkw != LUA_TTABLE) {
      lua_pushfstring(L, "instruction %I: expected an id string and a kwargs object",
                      (LUAI_UACINT)(i - 1));
      return soft_error_top(L, "BAD_INPUT");
    }
    struct srm_ifeval_args a;
    struct srm_ifeval_str items[MAX_LIST];
    int strict = 0, loose = 0;
    const char *code = read_instruction(L, 8, 9, &a, items);
    if (!code) {
      if (!box->r && !(box->r = srm_ifeval_response_new(response, len))) {
        lua_pushfstring(L, "%s: out of memory", srm_ifeval_names[a.id]);
        code = "FAILED";
      } else {
        code = run_instruction(L, box->r, &a, &strict, &loose);
      }
    }
    if (code) { /* ..., id, kw, message */
      lua_pushinteger(L, i - 1);
      lua_pushliteral(L, "instruction ");
      lua_rotate(L, -2, 1);
      lua_pushliteral(L, " (");
      lua_pushvalue(L, 8);
      lua_pushliteral(L, "): ");
      lua_pushvalue(L, -6);
      lua_concat(L, 6);
      return soft_error_top(L, code);
    }
    lua_pushboolean(L, strict);
    lua_rawseti(L, t_strict, i);
    lua_pushboolean(L, loose);
    lua_rawseti(L, t_loose, i);
    n_strict += strict;
    all_loose = all_loose && loose;
    /* components["<i-1>:<id>"] = {score = 1 | 0, detail = {strict =, loose =}} */
    char key[96];
    size_t idlen;
    const char *id = lua_tolstring(L, 8, &idlen);
    size_t k = fmt_index(key, i - 1);
    key[k++] = ':';
    memcpy(key + k, id, idlen); /* a known id: at most 45 bytes */
    lua_pushlstring(L, key, k + idlen);
    lua_createtable(L, 0, 2);
    lua_pushinteger(L, strict);
    lua_setfield(L, -2, "score");
    lua_createtable(L, 0, 2);
    lua_pushboolean(L, strict);
    lua_setfield(L, -2, "strict");
    lua_pushboolean(L, loose);
    lua_setfield(L, -2, "loose");
    lua_setfield(L, -2, "detail");
    lua_rawset(L, t_comp);
  }
  srm_ifeval_response_free(box->r);
  box->r = NULL;
  lua_settop(L, t_comp);
  lua_createtable(L, 0, 4); /* ..., result */
  lua_pushnumber(L, (lua_Number)n_strict / (lua_Number)n);
  lua_setfield(L, -2, "score");
  lua_pushfstring(L, "%I of %I instructions followed (strict)", (LUAI_UACINT)n_strict,
                  (LUAI_UACINT)n);
  lua_setfield(L, -2, "reason");
  lua_pushvalue(L, t_comp);
  lua_setfield(L, -2, "components");
  lua_createtable(L, 0, 4); /* ..., result, detail */
  lua_pushvalue(L, t_strict);
  lua_setfield(L, -2, "follow_instruction_list_strict");
  lua_pushvalue(L, t_loose);
  lua_setfield(L, -2, "follow_instruction_list_loose");
  lua_pushboolean(L, n_strict == n);
  lua_setfield(L, -2, "follow_all_strict");
  lua_pushboolean(L, all_loose);
  lua_setfield(L, -2, "follow_all_loose");
  lua_setfield(L, -2, "detail");
  return 1;
}

#define GUARD_MT "srm.ifeval.guard"

/* Results built with malloc while they are copied into Lua: a memory error raised by that copy
** frees them through __gc instead of leaking them (tests/lua/test_alloc_sweep.lua). */
struct guard {
  struct srm_span *spans; /* ifeval.sentences */
  char *text;             /* ifeval.word_tokens: the tokens, back to back */
  size_t len, cap;
  size_t *ends; /* end offset of each token in text */
  size_t n, ncap;
  int failed; /* an append ran out of memory */
};

static void guard_release(struct guard *g) {
  free(g->spans);
  free(g->text);
  free(g->ends);
  memset(g, 0, sizeof *g);
}

static int guard_gc(lua_State *L) {
  guard_release(lua_touserdata(L, 1));
  return 0;
}

static struct guard *push_guard(lua_State *L) {
  struct guard *g = lua_newuserdatauv(L, sizeof *g, 0);
  memset(g, 0, sizeof *g);
  luaL_setmetatable(L, GUARD_MT);
  return g;
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
  struct guard *g = push_guard(L);
  if (srm_nltk_sentences(s, n, &sp, &count) != 0)
    return soft_error(L, "FAILED", "sentence split failed");
  if (count > 0 && !sp) return soft_error(L, "BAD_UTF8", "the text is not valid UTF-8");
  g->spans = sp;
  lua_createtable(L, (int)(count < 1000000 ? count : 0), 0);
  for (size_t i = 0; i < count; i++) {
    lua_pushlstring(L, s + sp[i].start, sp[i].stop - sp[i].start);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  g->spans = NULL;
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

/* Tokens are collected in C first: a Lua error raised inside the tokenizer's callback would
** skip the tokenizer's own cleanup. */
static void collect_token(void *ud, const char *tok, size_t len) {
  struct guard *g = ud;
  if (g->failed) return;
  if (g->n == g->ncap) {
    size_t nc = g->ncap ? g->ncap * 2 : 64;
    size_t *ne = realloc(g->ends, nc * sizeof *ne);
    if (!ne) {
      g->failed = 1;
      return;
    }
    g->ends = ne;
    g->ncap = nc;
  }
  if (len > g->cap - g->len) {
    size_t nc = g->cap ? g->cap : 256;
    while (nc - g->len < len)
      nc *= 2;
    char *nt = realloc(g->text, nc);
    if (!nt) {
      g->failed = 1;
      return;
    }
    g->text = nt;
    g->cap = nc;
  }
  if (len) memcpy(g->text + g->len, tok, len);
  g->len += len;
  g->ends[g->n++] = g->len;
}

/* ifeval.word_tokens(sentence) -> {token, ...}: NLTKWordTokenizer().tokenize on one sentence */
static int ifeval_word_tokens(lua_State *L) {
  size_t n;
  const char *s = (const char *)check_text(L, 1, &n);
  struct guard *g = push_guard(L);
  if (srm_nltk_word_tokens(s, n, collect_token, g) != 0 || g->failed)
    return soft_error(L, "FAILED", "tokenize failed");
  lua_createtable(L, (int)(g->n < 1000000 ? g->n : 0), 0);
  for (size_t i = 0, start = 0; i < g->n; i++) {
    lua_pushlstring(L, g->text + start, g->ends[i] - start);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
    start = g->ends[i];
  }
  guard_release(g);
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
    {"check_all", ifeval_check_all},
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
  luaL_newmetatable(L, GUARD_MT);
  lua_pushcfunction(L, guard_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
  luaL_newlib(L, ifeval_funcs);
  lua_createtable(L, IFE_COUNT, 0);
  for (int i = 0; i < IFE_COUNT; i++) {
    lua_pushstring(L, srm_ifeval_names[i]);
    lua_rawseti(L, -2, i + 1);
  }
  lua_setfield(L, -2, "ids"); /* the 25 registered instruction ids, in registry order */
  return 1;
}
