/* placeholder: replaced by the real srm.text module */
#include "srm_modules.h"
#include <lauxlib.h>
int luaopen_srm_text(lua_State *L) {
  lua_newtable(L);
  return 1;
}
