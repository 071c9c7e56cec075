/* srm: the reorder buffer (see srm_reorder.h). slots is a power-of-two ring indexed by
** seq & mask; it always covers [next, next + cap), so a put beyond that doubles it (rehoming the
** held slots) and release walks forward from next while slots are filled. */
#include "srm_reorder.h"

#include <stdlib.h>

#define INITIAL_CAP 64

struct slot {
  char *row;
  size_t len;
  int filled;
};

struct srm_reorder {
  struct slot *slots;
  size_t cap; /* a power of two */
  uint64_t next;
  size_t held;
};

static struct slot *slot_of(const struct srm_reorder *r, uint64_t seq) {
  return &r->slots[(size_t)(seq & (uint64_t)(r->cap - 1))];
}

/* Grows the ring until it covers offset off from next. Returns 0, or -1 when out of memory. */
static int grow(struct srm_reorder *r, uint64_t off) {
  size_t ncap = r->cap;
  while ((uint64_t)ncap <= off) {
    if (ncap > SIZE_MAX / 2 / sizeof(struct slot)) return -1;
    ncap *= 2;
  }
  struct slot *ns = calloc(ncap, sizeof *ns);
  if (ns == NULL) return -1;
  for (size_t i = 0; i < r->cap; i++) {
    uint64_t seq = r->next + i;
    struct slot *old = slot_of(r, seq);
    if (old->filled) ns[(size_t)(seq & (uint64_t)(ncap - 1))] = *old;
  }
  free(r->slots);
  r->slots = ns;
  r->cap = ncap;
  return 0;
}

struct srm_reorder *srm_reorder_new(uint64_t first_seq) {
  struct srm_reorder *r = calloc(1, sizeof *r);
  if (r == NULL) return NULL;
  r->slots = calloc(INITIAL_CAP, sizeof *r->slots);
  if (r->slots == NULL) {
    free(r);
    return NULL;
  }
  r->cap = INITIAL_CAP;
  r->next = first_seq;
  return r;
}

void srm_reorder_free(struct srm_reorder *r) {
  if (r == NULL) return;
  for (size_t i = 0; i < r->cap; i++)
    if (r->slots[i].filled) free(r->slots[i].row);
  free(r->slots);
  free(r);
}

int srm_reorder_put(struct srm_reorder *r, uint64_t seq, char *row, size_t len) {
  if (seq < r->next) goto reject;
  uint64_t off = seq - r->next;
  if (off >= (uint64_t)r->cap && grow(r, off) != 0) goto reject;
  struct slot *s = slot_of(r, seq);
  if (s->filled) goto reject;
  s->row = row;
  s->len = len;
  s->filled = 1;
  r->held++;
  return 0;
reject:
  free(row);
  return -1;
}

size_t srm_reorder_release(struct srm_reorder *r, srm_reorder_emit_fn emit, void *ud) {
  size_t released = 0;
  for (;;) {
    struct slot *s = slot_of(r, r->next);
    if (!s->filled) break;
    /* Clear the slot and advance first, so emit may put (and grow the ring) safely. */
    char *row = s->row;
    size_t len = s->len;
    s->row = NULL;
    s->filled = 0;
    r->next++;
    r->held--;
    released++;
    if (row != NULL) {
      if (emit != NULL) emit(ud, row, len);
      free(row);
    }
  }
  return released;
}

uint64_t srm_reorder_next(const struct srm_reorder *r) {
  return r->next;
}

size_t srm_reorder_held(const struct srm_reorder *r) {
  return r->held;
}
