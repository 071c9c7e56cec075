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
    if (a->enforcing && a->limit && a->used - old + nsize > a->limit) {
      if (a->pending) a->exceeded = 1; /* the previous refusal was not a false alarm */
      a->pending = 1;
      a->refused_ptr = ptr;
      a->refused_osize = osize;
      a->refused_nsize = nsize;
      return NULL;
    }
    if (a->pending) {
      /* Only Lua's identical retry after its emergency collection resolves a refusal. */
      if (a->refused_nsize != nsize || a->refused_ptr != ptr || a->refused_osize != osize)
        a->exceeded = 1;
      a->pending = 0;
    }
  }
  void *p = realloc(ptr, nsize);
  if (!p) return NULL;
  a->used = a->used - old + nsize;
  return p;
}
