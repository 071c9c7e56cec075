/* srm: a streaming JSONL line reader (pure C, no Lua). It hands out one record line at a time
** from a file, stdin or any fd, with bounded memory: a large read buffer that grows only as far
** as the line cap needs. Blank lines are skipped (but counted in line numbers), CRLF and a
** leading UTF-8 BOM are stripped, every returned line is UTF-8 validated, and an over-long line
** is consumed to its newline and reported once. JSON decoding is the caller's business. */
#ifndef SRM_JSONL_H
#define SRM_JSONL_H

#include <stddef.h>
#include <stdint.h>

/* The line cap used when srm_jsonl_open* is given 0. */
#define SRM_JSONL_DEFAULT_LINE_CAP ((size_t)64 << 20)

enum srm_line_kind {
  SRM_LINE_OK,       /* data/len hold the line without its terminator, BOM (first line) or
                        trailing \r */
  SRM_LINE_TOO_LONG, /* longer than the cap: the reader skipped to the next newline; data is
                        NULL, len = the line's length as it would have been for SRM_LINE_OK */
  SRM_LINE_BAD_UTF8, /* data/len hold the line (stripped as for SRM_LINE_OK, undecoded);
                        bad_offset = 0-based offset in data where the first ill-formed
                        sequence starts */
  SRM_LINE_EOF,
  SRM_LINE_IO_ERROR, /* errno-style message available from srm_jsonl_error(); sticky */
};

struct srm_jsonl_line {
  enum srm_line_kind kind;
  const char *data; /* valid until the next srm_jsonl_next or srm_jsonl_close call */
  size_t len;
  uint64_t lineno; /* 1-based physical line number in the file (0 for EOF/IO_ERROR) */
  size_t bad_offset;
};

struct srm_jsonl_reader;

/* Opens path for reading ("-" = stdin, which is not closed by srm_jsonl_close). line_cap is the
** longest line (after stripping) returned as data; 0 = SRM_JSONL_DEFAULT_LINE_CAP. Returns NULL
** and writes a message "path: reason" into err on failure. */
struct srm_jsonl_reader *srm_jsonl_open(const char *path, size_t line_cap, char *err,
                                        size_t errlen);
/* Reads from fd, which stays owned by the caller: srm_jsonl_close does not close it. Returns
** NULL only when out of memory. */
struct srm_jsonl_reader *srm_jsonl_open_fd(int fd, size_t line_cap);
/* Fills *line with the next non-blank line and returns its kind (also in line->kind). Blank
** lines (empty, or only spaces, tabs and \r), including over-long ones, are never returned. */
enum srm_line_kind srm_jsonl_next(struct srm_jsonl_reader *r, struct srm_jsonl_line *line);
/* The message of the last SRM_LINE_IO_ERROR, or "" when there was none. */
const char *srm_jsonl_error(const struct srm_jsonl_reader *r);
/* Bytes read from the underlying fd so far (includes buffered, not yet returned data). */
uint64_t srm_jsonl_bytes_read(const struct srm_jsonl_reader *r);
/* Frees the reader and closes the fd it opened (never one given to srm_jsonl_open_fd, nor
** stdin). NULL is allowed. */
void srm_jsonl_close(struct srm_jsonl_reader *r);

/* Counts the records (non-blank lines, as srm_jsonl_next would return them, over-long and
** invalid ones included) of a regular file quickly. Returns -1 for "-", a non-regular file
** (pipe, FIFO, device) or on any error. */
int64_t srm_jsonl_count_records(const char *path);

#endif
