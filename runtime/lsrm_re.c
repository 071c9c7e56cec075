/* placeholder: replaced by the real srm.re module */
#include "srm_modules.h"
#include <lauxlib.h>
int luaopen_srm_re(lua_State *L) {
  lua_newtable(L);
  return 1;
}
