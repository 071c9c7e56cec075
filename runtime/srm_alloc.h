/* srm: a limiting lua_Alloc. Each worker's lua_State gets one; the scheduler turns enforcement on
** while a skill task runs, so a memory bomb fails that task's allocation (and marks it) instead
** of taking the process down, while host work outside tasks is never refused. */
#ifndef SRM_ALLOC_H
#define SRM_ALLOC_H

#include <stddef.h>

struct srm_alloc {
  size_t used;   /* bytes currently held by the state */
  size_t limit;  /* refuse growth past this while enforcing; 0 = no limit */
  int enforcing; /* set while a task runs */
  int exceeded;  /* sticky: a refusal happened that was not a false alarm (see below); from then
                 ** on a reserve of limit/16 (>= 1 MiB) is granted, so the budget check runs */
  /* The last refusal, while unresolved. Lua answers most refusals with an emergency full
  ** collection and then repeats the identical request: if that repeat succeeds, the refusal was
  ** only uncollected garbage and is forgotten. Any other outcome (the repeat is refused too, a
  ** different request comes first, or the task is checked while one is pending) makes it real. */
  int pending;
  const void *refused_ptr;
  size_t refused_osize, refused_nsize;
  /* Called once when a refusal becomes real (exceeded goes from 0 to 1), from inside the
  ** allocation: the scheduler uses it to check the budgets at the very next VM instruction,
  ** because a skill that catches the memory error with pcall and allocates again would make
  ** Lua run an emergency full collection for every refused request until the next check. */
  void (*on_exceeded)(void *ud);
  void *on_exceeded_ud;
  /* Test hook (srm_alloc_fail_after); all zero = off. */
  int fail_armed;     /* refuse growth once fail_left reaches 0 */
  long fail_left;     /* growth allocations still granted */
  long fail_refusals; /* refusals made by the hook since it was armed */
};

void srm_alloc_init(struct srm_alloc *a, size_t limit);
/* Whether memory really ran out since the flags were last cleared. */
int srm_alloc_exhausted(const struct srm_alloc *a);
void srm_alloc_clear(struct srm_alloc *a);
/* Test hook for the allocation-failure sweep (tests/lua/test_alloc_sweep.lua): with n >= 0,
** grant the next n growth requests, then refuse every one (independently of limit and
** enforcing) until called again; n < 0 turns the hook off. Shrinks and frees always succeed.
** Returns the number of refusals the hook made since it was last armed. Reached only through
** the test-only module srm.testhook, which `srm lua` alone registers. */
long srm_alloc_fail_after(struct srm_alloc *a, long n);
void *srm_alloc_fn(void *ud, void *ptr, size_t osize, size_t nsize);

#endif
