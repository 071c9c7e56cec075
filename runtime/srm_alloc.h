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
  int exceeded;  /* sticky: a refusal happened that was not a false alarm (see below) */
  /* The last refusal, while unresolved. Lua answers most refusals with an emergency full
  ** collection and then repeats the identical request: if that repeat succeeds, the refusal was
  ** only uncollected garbage and is forgotten. Any other outcome (the repeat is refused too, a
  ** different request comes first, or the task is checked while one is pending) makes it real. */
  int pending;
  const void *refused_ptr;
  size_t refused_osize, refused_nsize;
};

void srm_alloc_init(struct srm_alloc *a, size_t limit);
/* Whether memory really ran out since the flags were last cleared. */
int srm_alloc_exhausted(const struct srm_alloc *a);
void srm_alloc_clear(struct srm_alloc *a);
void *srm_alloc_fn(void *ud, void *ptr, size_t osize, size_t nsize);

#endif
