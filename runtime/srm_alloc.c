/* srm: the limiting allocator (see srm_alloc.h). Pure C, no Lua headers. */
#include "srm_alloc.h"

#include <stdlib.h>

void srm_alloc_init(struct srm_alloc *a, size_t limit) {
  a->used = 0;
  a->limit = limit;
  a->enforcing = 0;
  a->fail_armed = 0;
  a->fail_left = 0;
  a->fail_refusals = 0;
  a->on_exceeded = NULL;
  a->on_exceeded_ud = NULL;
  srm_alloc_clear(a);
}

void srm_alloc_clear(struct srm_alloc *a) {
  a->exceeded = 0;
  a->pending = 0;
  a->refused_ptr = NULL;
  a->refused_osize = a->refused_nsize = 0;
}

int srm_alloc_exhausted(const struct srm_alloc *a) {
  return a->exceeded || a->pending;
}

long srm_alloc_fail_after(struct srm_alloc *a, long n) {
  long refusals = a->fail_refusals;
  a->fail_armed = n >= 0;
  a->fail_left = n >= 0 ? n : 0;
  a->fail_refusals = 0;
  return refusals;
}

/* Once a refusal is real the task is over, but it must still get to the budget check that ends
** it: Lua grows the coroutine's stack before it calls a hook, and if that growth were refused
** the check would never run (a memory error instead, which the skill's pcall catches, and so on
** forever). So past a real refusal a reserve of a sixteenth of the limit (at least 1 MiB) is
** granted; the hook, set to run at the very next instruction, ends the task. */
static size_t effective_limit(const struct srm_alloc *a) {
  if (!a->exceeded) return a->limit;
  size_t reserve = a->limit / 16;
  if (reserve < ((size_t)1 << 20)) reserve = (size_t)1 << 20;
  return a->limit + reserve;
}

static void mark_exceeded(struct srm_alloc *a) {
  if (a->exceeded) return;
  a->exceeded = 1;
  if (a->on_exceeded) a->on_exceeded(a->on_exceeded_ud);
}

void *srm_alloc_fn(void *ud, void *ptr, size_t osize, size_t nsize) {
  struct srm_alloc *a = ud;
  /* When ptr is NULL, osize encodes the object type, not a size. */
  size_t old = ptr ? osize : 0;
  if (nsize == 0) {
    free(ptr);
    a->used -= old;
    return NULL;
  }
  if (nsize > old) {
    if (a->fail_armed) {
      if (a->fail_left == 0) {
        a->fail_refusals++;
        return NULL;
      }
      a->fail_left--;
    }
    if (a->enforcing && a->limit && a->used - old + nsize > effective_limit(a)) {
      if (a->pending) mark_exceeded(a); /* the previous refusal was not a false alarm */
      a->pending = 1;
      a->refused_ptr = ptr;
      a->refused_osize = osize;
      a->refused_nsize = nsize;
      return NULL;
    }
    if (a->pending) {
      /* Only Lua's identical retry after its emergency collection resolves a refusal. */
      if (a->refused_nsize != nsize || a->refused_ptr != ptr || a->refused_osize != osize)
        mark_exceeded(a);
      a->pending = 0;
    }
  }
  void *p = realloc(ptr, nsize);
  if (!p) return NULL;
  a->used = a->used - old + nsize;
  return p;
}
