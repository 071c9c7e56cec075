/* srm: the C side of srm.json, for Lua-facing C that writes JSON (the runtime's row writer). The
** encoder is the one behind json.encode: sorted object keys, exact integers, shortest round-trip
** floats, always valid UTF-8 output. */
#ifndef SRM_JSON_H
#define SRM_JSON_H

#include <lauxlib.h>
#include <lua.h>
#include <stddef.h>

/* Appends the compact JSON encoding of the value at idx to b. Returns 0, or -1 with a
** NUL-terminated "<what> at <path>" message in err (path like $.a[3].b, Lua 1-based indices),
** in which case nothing is appended. Calls no Lua code and leaves the stack as it found it; b
** must be in its normal state (its box at the top of the stack). Raises only on memory errors
** (growing b, or creating the per-state scratch buffer on first use). */
int srm_json_encode_value(lua_State *L, int idx, luaL_Buffer *b, char *err, size_t errlen);

/* Decodes the JSON text s[0..len) and pushes its value (arrays marked with the table at stack
** index array_mt, null as the NULL light userdata). Returns 0, or -1 with "<what> at character
** N" in err and nothing pushed. Nesting deeper than max_depth is an error. Raises only on memory
** errors. Implemented in srm_json_decode.c. */
int srm_json_decode(lua_State *L, const char *s, size_t len, int array_mt, int max_depth, char *err,
                    size_t errlen);

#endif
