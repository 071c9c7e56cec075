/* srm: building a host lua_State: standard libraries for the trusted stdlib, the srm C modules
** in package.preload, and a module searcher that serves stdlib/ from the binary (or from disk
** with --stdlib-dir). Skills never see this state's globals; stdlib/srm/sandbox.lua builds
** their environments. */
#ifndef SRM_HOST_H
#define SRM_HOST_H

#include <lua.h>
#include <stddef.h>

#include "srm_alloc.h"

struct srm_host {
  lua_State *L;
  struct srm_alloc alloc;
  struct srm_sched *sched;
};

/* memory_limit: bytes a skill task may grow the state to (0 = unlimited).
** stdlib_dir: NULL to use the embedded stdlib. Returns 0, or -1 with a message in err. */
int srm_host_open(struct srm_host *h, size_t memory_limit, const char *stdlib_dir, char *err,
                  size_t errlen);
void srm_host_close(struct srm_host *h);

/* Calls package `require(module)` and leaves the module on the stack; on error leaves the
** message and returns the lua status. */
int srm_host_require(lua_State *L, const char *module);

/* lua_pcall with a traceback handler; on error the message (with traceback) is on the stack. */
int srm_host_pcall(lua_State *L, int nargs, int nresults);

/* For the commands written in trusted Lua (srm eval, srm bench, srm report, srm diff): opens a
** host state (honouring a leading --stdlib-dir DIR in argv[1..]), calls module[fn] with
** argv[first..argc-1] as an array and returns the integer it returns as the exit code; errors are
** reported on stderr prefixed with cmd. */
int srm_host_run_main(const char *cmd, const char *module, const char *fn, int argc, char **argv);

#endif
