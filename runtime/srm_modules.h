/* srm: the Lua-facing C modules, one per runtime/lsrm_<name>.c file. */
#ifndef SRM_MODULES_H
#define SRM_MODULES_H

#include <lua.h>

int luaopen_srm_core(lua_State *L);
int luaopen_srm_re(lua_State *L);
int luaopen_srm_text(lua_State *L);
int luaopen_srm_json(lua_State *L);
int luaopen_srm_math(lua_State *L);
int luaopen_srm_ifeval(lua_State *L);
int luaopen_srm_proc(lua_State *L);
int luaopen_srm_tok(lua_State *L);
int luaopen_srm_transport(lua_State *L);
int luaopen_srm_cache(lua_State *L);
int luaopen_srm_luabox(lua_State *L);
int luaopen_srm_yaml(lua_State *L);
int luaopen_srm_testhook(lua_State *L); /* test-only: registered by `srm lua` alone */

#endif
