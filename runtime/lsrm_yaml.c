/* srm: srm.yaml, a small YAML reader (libyaml) for Skill-RM packages: the front matter of
** SKILL.md and resources.yaml. It reads the first document of a stream into Lua values:
** mappings become tables with string keys, sequences arrays, and plain scalars are resolved as
** in YAML 1.2's core schema (null, true/false, decimal integers and floats); quoted and block
** scalars stay strings. Aliases are refused (no billion-laughs expansion), nesting is bounded,
** and null values are left out of mappings and become false in sequences.
**
** For the host's stdlib (srm.package); skills cannot require it. */
#include "srm_modules.h"

#include <lauxlib.h>
#include <lua.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define YAML_MT "srm.yaml.parser"
#define YAML_MAX_DEPTH 64

/* The parser lives in a userdata so that an error raised while building values (out of memory)
** still frees it (__gc). */
struct yparser {
  yaml_parser_t parser;
  int live;
};

struct ystate {
  struct yparser *p;
  char err[256];
};

static int next_event(struct ystate *s, yaml_event_t *ev) {
  if (yaml_parser_parse(&s->p->parser, ev)) return 0;
  snprintf(s->err, sizeof s->err, "line %lu, column %lu: %s",
           (unsigned long)s->p->parser.problem_mark.line + 1,
           (unsigned long)s->p->parser.problem_mark.column + 1,
           s->p->parser.problem ? s->p->parser.problem : "invalid YAML");
  return -1;
}

static int all_digits(const char *s, size_t n) {
  if (n == 0) return 0;
  for (size_t i = 0; i < n; i++)
    if (s[i] < '0' || s[i] > '9') return 0;
  return 1;
}

/* Decimal float: [-+]?(digits[.digits]|.digits)([eE][-+]?digits)? */
static int is_float(const char *s, size_t n) {
  size_t i = 0, d = 0;
  if (i < n && (s[i] == '-' || s[i] == '+')) i++;
  while (i < n && s[i] >= '0' && s[i] <= '9')
    i++, d++;
  if (i < n && s[i] == '.') {
    i++;
    while (i < n && s[i] >= '0' && s[i] <= '9')
      i++, d++;
  }
  if (d == 0) return 0;
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    i++;
    if (i < n && (s[i] == '-' || s[i] == '+')) i++;
    if (!all_digits(s + i, n - i)) return 0;
    return 1;
  }
  return i == n;
}

static int is_word(const char *s, size_t n, const char *a, const char *b, const char *c) {
  return (strlen(a) == n && memcmp(s, a, n) == 0) || (strlen(b) == n && memcmp(s, b, n) == 0) ||
         (strlen(c) == n && memcmp(s, c, n) == 0);
}

/* Pushes a scalar's value; returns 0, or 1 when it is null (nothing pushed). */
static int push_scalar(lua_State *L, const yaml_event_t *ev) {
  const char *s = (const char *)ev->data.scalar.value;
  size_t n = ev->data.scalar.length;
  if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE || ev->data.scalar.tag) {
    lua_pushlstring(L, s, n);
    return 0;
  }
  if (n == 0 || is_word(s, n, "~", "null", "Null") || is_word(s, n, "NULL", "~", "~")) return 1;
  if (is_word(s, n, "true", "True", "TRUE")) {
    lua_pushboolean(L, 1);
    return 0;
  }
  if (is_word(s, n, "false", "False", "FALSE")) {
    lua_pushboolean(L, 0);
    return 0;
  }
  size_t sign = (s[0] == '-' || s[0] == '+') ? 1 : 0;
  if ((all_digits(s + sign, n - sign) || is_float(s, n)) && n < 64) {
    char buf[64];
    memcpy(buf, s, n);
    buf[n] = 0;
    if (lua_stringtonumber(L, buf) == n + 1) return 0;
  }
  lua_pushlstring(L, s, n);
  return 0;
}

static int read_node(lua_State *L, struct ystate *s, yaml_event_t *ev, int depth);

/* Reads the rest of a mapping or sequence whose start event was just consumed. */
static int read_collection(lua_State *L, struct ystate *s, int mapping, int depth) {
  if (depth >= YAML_MAX_DEPTH || !lua_checkstack(L, 4)) {
    snprintf(s->err, sizeof s->err, "nested deeper than %d levels", YAML_MAX_DEPTH);
    return -1;
  }
  lua_newtable(L);
  lua_Integer i = 0;
  for (;;) {
    yaml_event_t ev;
    if (next_event(s, &ev)) return -1;
    yaml_event_type_t t = ev.type;
    if (t == YAML_MAPPING_END_EVENT || t == YAML_SEQUENCE_END_EVENT) {
      yaml_event_delete(&ev);
      return 0;
    }
    if (mapping) {
      if (t != YAML_SCALAR_EVENT) {
        snprintf(s->err, sizeof s->err, "line %lu: mapping keys must be plain text",
                 (unsigned long)ev.start_mark.line + 1);
        yaml_event_delete(&ev);
        return -1;
      }
      lua_pushlstring(L, (const char *)ev.data.scalar.value, ev.data.scalar.length); /* t, k */
      yaml_event_delete(&ev);
      yaml_event_t vev;
      if (next_event(s, &vev)) return -1;
      int r = read_node(L, s, &vev, depth + 1); /* t, k, v | t, k (null) */
      if (r < 0) return -1;
      if (r == 1)
        lua_pop(L, 1);
      else
        lua_rawset(L, -3);
    } else {
      int r = read_node(L, s, &ev, depth + 1); /* t, v | t (null) */
      if (r < 0) return -1;
      if (r == 1) lua_pushboolean(L, 0);
      lua_rawseti(L, -2, ++i);
    }
  }
}

/* Reads the node that starts with ev (ev is consumed). Returns 0 (value pushed), 1 (null,
** nothing pushed) or -1 (error in s->err). */
static int read_node(lua_State *L, struct ystate *s, yaml_event_t *ev, int depth) {
  yaml_event_type_t t = ev->type;
  int r = -1;
  if (t == YAML_SCALAR_EVENT) {
    r = push_scalar(L, ev);
  } else if (t == YAML_ALIAS_EVENT) {
    snprintf(s->err, sizeof s->err, "line %lu: aliases are not supported",
             (unsigned long)ev->start_mark.line + 1);
  } else if (t == YAML_MAPPING_START_EVENT || t == YAML_SEQUENCE_START_EVENT) {
    yaml_event_delete(ev);
    return read_collection(L, s, t == YAML_MAPPING_START_EVENT, depth);
  } else {
    snprintf(s->err, sizeof s->err, "unexpected YAML event");
  }
  yaml_event_delete(ev);
  return r;
}

static int parser_gc(lua_State *L) {
  struct yparser *p = luaL_checkudata(L, 1, YAML_MT);
  if (p->live) yaml_parser_delete(&p->parser);
  p->live = 0;
  return 0;
}

/*
** yaml.decode(text) -> value | nil, message
** The first document of text (an empty stream or document gives nil, "empty document").
** Raises only on a wrong argument type.
*/
static int yaml_decode(lua_State *L) {
  size_t len;
  const char *text = luaL_checklstring(L, 1, &len);
  struct yparser *p = lua_newuserdatauv(L, sizeof *p, 0);
  memset(p, 0, sizeof *p);
  luaL_setmetatable(L, YAML_MT);
  if (!yaml_parser_initialize(&p->parser)) return luaL_error(L, "srm.yaml.decode: out of memory");
  p->live = 1;
  yaml_parser_set_input_string(&p->parser, (const unsigned char *)text, len);
  struct ystate s = {p, {0}};
  int top = lua_gettop(L);
  int r = -1;
  for (;;) {
    yaml_event_t ev;
    if (next_event(&s, &ev)) break;
    yaml_event_type_t t = ev.type;
    if (t == YAML_STREAM_START_EVENT || t == YAML_DOCUMENT_START_EVENT) {
      yaml_event_delete(&ev);
      continue;
    }
    if (t == YAML_STREAM_END_EVENT || t == YAML_DOCUMENT_END_EVENT) {
      yaml_event_delete(&ev);
      snprintf(s.err, sizeof s.err, "empty document");
      break;
    }
    r = read_node(L, &s, &ev, 0);
    if (r == 1) snprintf(s.err, sizeof s.err, "empty document");
    break;
  }
  yaml_parser_delete(&p->parser);
  p->live = 0;
  if (r != 0) {
    lua_settop(L, top);
    luaL_pushfail(L);
    lua_pushstring(L, s.err);
    return 2;
  }
  return 1;
}

static const luaL_Reg yaml_funcs[] = {
    {"decode", yaml_decode},
    {NULL, NULL},
};

int luaopen_srm_yaml(lua_State *L) {
  luaL_newmetatable(L, YAML_MT);
  lua_pushcfunction(L, parser_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
  luaL_newlib(L, yaml_funcs);
  return 1;
}
