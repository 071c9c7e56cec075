/* srm: JSON text helpers of srm-mock (see mock_json.c). */
#ifndef SRM_MOCK_JSON_H
#define SRM_MOCK_JSON_H

#include <stddef.h>
#include <stdint.h>

#define MAX_JSON_DEPTH 128

/* A byte range inside a request body or another buffer (not NUL-terminated). */
struct span {
  const char *p;
  size_t n;
};

/* A growable buffer; after an allocation failure oom is set and appends do nothing. */
struct buf {
  char *p;
  size_t len, cap;
  int oom;
};

int buf_reserve(struct buf *b, size_t extra);
void buf_add(struct buf *b, const char *s, size_t n);
void buf_str(struct buf *b, const char *s);
void buf_u64(struct buf *b, uint64_t v);
/* Appends s as the inside of a JSON string (no quotes). Bytes >= 0x80 pass through as they are. */
void buf_escape(struct buf *b, const char *s, size_t n);

int span_eq(struct span s, const char *lit);

/* A validating JSON scanner over [p, end): the functions below skip tokens, checking them, and
** never recurse deeper than MAX_JSON_DEPTH. The caller walks the members it needs. */
struct jp {
  const char *p, *end;
};

/* Next byte, or -1 at the end. */
int jpeek(struct jp *j);
void jws(struct jp *j);
/* Skips one string token (at '"'); 0, or -1 when it is not valid JSON or not UTF-8. */
int jstring(struct jp *j);
/* Skips one value at nesting depth `depth` (deeper than MAX_JSON_DEPTH is an error). */
int jvalue(struct jp *j, int depth);
/* Object iteration: call with *first = 1 just after '{'. Returns 1 with the key read and the
** scanner at the member's value, 0 after the closing '}', -1 on a syntax error. */
int jmember(struct jp *j, struct span *key, int *first);
/* Array iteration, same convention as jmember (call with *first = 1 just after '['). */
int jelement(struct jp *j, int *first);
/* Appends the decoded text of an already validated JSON string token s (with its quotes). Lone
** surrogates become U+FFFD. */
void unescape_into(struct buf *b, struct span s);

#endif
