/* srm: a reorder buffer (pure C, no Lua). Records finish out of order, but their rows must be
** written in input order: each record gets a sequence number, consecutive from first_seq, its
** row is put here when it completes, and release hands out, in order, every row whose
** predecessors are all in. The window (highest put minus lowest unreleased) is bounded by the
** caller; the buffer is a ring that grows to fit it, so put and release are O(1) amortized. */
#ifndef SRM_REORDER_H
#define SRM_REORDER_H

#include <stddef.h>
#include <stdint.h>

struct srm_reorder;

typedef void (*srm_reorder_emit_fn)(void *ud, const char *row, size_t len);

/* Returns NULL only when out of memory. */
struct srm_reorder *srm_reorder_new(uint64_t first_seq);
/* Frees the buffer and the rows still held. NULL is allowed. */
void srm_reorder_free(struct srm_reorder *r);
/* Stores the row for seq, taking ownership of row (malloc'ed; NULL means "this seq yields no
** row"). Returns 0, or -1 when seq was already stored or already released, or when out of
** memory; the row is then freed here. */
int srm_reorder_put(struct srm_reorder *r, uint64_t seq, char *row, size_t len);
/* Releases, in order, every seq whose predecessors have all been released: calls emit(ud, row,
** len) for each non-NULL row (emit does not own the row; it is freed after the call). emit may
** call srm_reorder_put, but not release or free. Returns how many seqs were released. */
size_t srm_reorder_release(struct srm_reorder *r, srm_reorder_emit_fn emit, void *ud);
/* The lowest seq not yet released. */
uint64_t srm_reorder_next(const struct srm_reorder *r);
/* How many seqs are stored but not released. */
size_t srm_reorder_held(const struct srm_reorder *r);

#endif
