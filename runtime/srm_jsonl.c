/* srm: the streaming JSONL reader (see srm_jsonl.h). One buffer holds [start, end) unread
** bytes; lines are found with memchr and handed out in place, so a line is copied only when a
** refill has to move its unfinished head to the front of the buffer (or the buffer grows). The
** buffer starts at 256 KiB and grows, for long lines only, up to line_cap + 256 KiB; a line that
** outgrows the cap is then read through to its newline without being kept. */
#include "srm_jsonl.h"

#include "srm_utf8.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define READ_CHUNK ((size_t)256 << 10) /* small: RSS matters at hundreds of requests in flight */
/* Bytes a line may carry beyond its stripped length: a BOM (3) and a \r (1). */
#define LINE_SLACK 4

struct srm_jsonl_reader {
  int fd;
  int owns_fd;
  char *buf;
  size_t cap;     /* allocated size of buf */
  size_t max_cap; /* buf never grows past this */
  size_t start;   /* first unread byte */
  size_t end;     /* one past the last buffered byte */
  size_t scan;    /* [start, scan) is known to hold no newline */
  size_t line_cap;
  uint64_t lineno;
  uint64_t bytes;
  int at_start; /* no line handed out or skipped yet: a BOM may still be dropped */
  int eof;
  int failed;
  char err[256];
};

enum { LINE_SKIP = -1 };

static const unsigned char BOM[3] = {0xEF, 0xBB, 0xBF};

/* ---- helpers ---- */

/* Offset of the first ill-formed UTF-8 sequence in s[0..n), or n when s is valid. Follows
** Unicode table 3-7: no overlongs, no surrogates, nothing above U+10FFFF, no truncation. */
static size_t utf8_check(const unsigned char *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    /* Records are mostly ASCII: 32 bytes per step while no byte has its high bit set. */
    while (n - i >= 32) {
      uint64_t w[4];
      memcpy(w, s + i, 32);
      if ((w[0] | w[1] | w[2] | w[3]) & UINT64_C(0x8080808080808080)) break;
      i += 32;
    }
    while (n - i >= 8) {
      uint64_t w;
      memcpy(&w, s + i, 8);
      if (w & UINT64_C(0x8080808080808080)) break;
      i += 8;
    }
    if (i >= n) break;
    if (s[i] < 0x80) {
      i++;
      continue;
    }
    size_t bad;
    size_t seq = srm_utf8_seq(s + i, s + n, &bad);
    if (!seq) return i;
    i += seq;
  }
  return n;
}

static int is_blank(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r') return 0;
  return 1;
}

static int has_bom(const char *s, size_t n) {
  return n >= 3 && memcmp(s, BOM, 3) == 0;
}

static void set_errno_error(struct srm_jsonl_reader *r, const char *what, int err) {
  snprintf(r->err, sizeof r->err, "%s: %s", what, strerror(err));
  r->failed = 1;
}

/* read(2) with EINTR retried; returns bytes read, 0 at EOF, -1 with errno set. */
static ssize_t read_some(int fd, char *dst, size_t n) {
  for (;;) {
    ssize_t got = read(fd, dst, n);
    if (got >= 0 || errno != EINTR) return got;
  }
}

/* Reads until n bytes or EOF; returns the count, or -1 on error. */
static ssize_t read_full(int fd, char *dst, size_t n) {
  size_t done = 0;
  while (done < n) {
    ssize_t got = read_some(fd, dst + done, n - done);
    if (got < 0) return -1;
    if (got == 0) break;
    done += (size_t)got;
  }
  return (ssize_t)done;
}

static enum srm_line_kind fail_line(struct srm_jsonl_reader *r, struct srm_jsonl_line *line) {
  line->kind = r->failed ? SRM_LINE_IO_ERROR : SRM_LINE_EOF;
  line->data = NULL;
  line->len = 0;
  line->lineno = 0;
  line->bad_offset = 0;
  return line->kind;
}

/* Classifies the complete line s[0..n) (no \n); returns LINE_SKIP for a blank line. */
static int finish_line(struct srm_jsonl_reader *r, const char *s, size_t n,
                       struct srm_jsonl_line *line) {
  if (r->at_start) {
    r->at_start = 0;
    if (has_bom(s, n)) {
      s += 3;
      n -= 3;
    }
  }
  if (n > 0 && s[n - 1] == '\r') n--;
  if (is_blank(s, n)) return LINE_SKIP;
  line->lineno = r->lineno;
  line->bad_offset = 0;
  line->len = n;
  if (n > r->line_cap) {
    line->data = NULL;
    line->kind = SRM_LINE_TOO_LONG;
    return line->kind;
  }
  line->data = s;
  size_t bad = utf8_check((const unsigned char *)s, n);
  if (bad < n) {
    line->bad_offset = bad;
    line->kind = SRM_LINE_BAD_UTF8;
  } else {
    line->kind = SRM_LINE_OK;
  }
  return line->kind;
}

/* The buffered, unfinished line is over the cap: reads through to its newline (or EOF) reusing
** the whole buffer, keeping only its length, whether it has a non-blank byte, and its last byte.
** Returns LINE_SKIP when the line turns out blank. */
static int skip_long_line(struct srm_jsonl_reader *r, struct srm_jsonl_line *line) {
  const char *head = r->buf + r->start;
  size_t seen = r->end - r->start;
  size_t strip = 0;
  if (r->at_start) {
    r->at_start = 0;
    if (has_bom(head, seen)) {
      head += 3;
      strip = 3;
    }
  }
  int nonblank = !is_blank(head, seen - strip);
  char last = r->buf[r->end - 1];
  r->start = r->end = r->scan = 0;
  for (;;) {
    ssize_t got = read_some(r->fd, r->buf, r->cap);
    if (got < 0) {
      set_errno_error(r, "read", errno);
      return fail_line(r, line);
    }
    if (got == 0) {
      r->eof = 1;
      break;
    }
    r->bytes += (uint64_t)got;
    size_t n = (size_t)got;
    char *nl = memchr(r->buf, '\n', n);
    size_t part = nl ? (size_t)(nl - r->buf) : n;
    seen += part;
    if (!nonblank) nonblank = !is_blank(r->buf, part);
    if (part > 0) last = r->buf[part - 1];
    if (nl) {
      r->start = r->scan = part + 1;
      r->end = n;
      break;
    }
  }
  r->lineno++;
  if (!nonblank) return LINE_SKIP;
  line->kind = SRM_LINE_TOO_LONG;
  line->data = NULL;
  line->len = seen - strip - (last == '\r' ? 1 : 0);
  line->lineno = r->lineno;
  line->bad_offset = 0;
  return line->kind;
}

/* Makes room after end (moving the unfinished line to the front or growing the buffer) and
** reads once. Returns 0, or -1 with the reader marked failed. */
static int refill(struct srm_jsonl_reader *r) {
  size_t pending = r->end - r->start;
  if (r->end == r->cap || r->cap - r->end < r->cap / 16) {
    int can_grow = r->cap < r->max_cap;
    if (r->start > 0 && (pending <= r->cap / 2 || !can_grow)) {
      memmove(r->buf, r->buf + r->start, pending);
      r->scan -= r->start;
      r->end = pending;
      r->start = 0;
    } else if (can_grow) {
      if (r->start > 0) {
        memmove(r->buf, r->buf + r->start, pending);
        r->scan -= r->start;
        r->end = pending;
        r->start = 0;
      }
      size_t ncap = r->cap > r->max_cap / 2 ? r->max_cap : r->cap * 2;
      char *nbuf = realloc(r->buf, ncap);
      if (nbuf == NULL) {
        set_errno_error(r, "read buffer", ENOMEM);
        return -1;
      }
      r->buf = nbuf;
      r->cap = ncap;
    }
  }
  ssize_t got = read_some(r->fd, r->buf + r->end, r->cap - r->end);
  if (got < 0) {
    set_errno_error(r, "read", errno);
    return -1;
  }
  if (got == 0) r->eof = 1;
  r->end += (size_t)got;
  r->bytes += (uint64_t)got;
  return 0;
}

/* ---- public API ---- */

struct srm_jsonl_reader *srm_jsonl_open_fd(int fd, size_t line_cap) {
  struct srm_jsonl_reader *r = calloc(1, sizeof *r);
  if (r == NULL) return NULL;
  if (line_cap == 0) line_cap = SRM_JSONL_DEFAULT_LINE_CAP;
  if (line_cap > SIZE_MAX / 4) line_cap = SIZE_MAX / 4;
  r->fd = fd;
  r->line_cap = line_cap;
  r->max_cap = line_cap + LINE_SLACK + READ_CHUNK;
  r->cap = READ_CHUNK;
  r->buf = malloc(r->cap);
  if (r->buf == NULL) {
    free(r);
    return NULL;
  }
  r->at_start = 1;
  return r;
}

struct srm_jsonl_reader *srm_jsonl_open(const char *path, size_t line_cap, char *err,
                                        size_t errlen) {
  int is_stdin = strcmp(path, "-") == 0;
  int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (err && errlen) snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return NULL;
  }
  struct stat st;
  if (fstat(fd, &st) == 0) {
    if (S_ISDIR(st.st_mode)) {
      if (err && errlen) snprintf(err, errlen, "%s: %s", path, strerror(EISDIR));
      if (!is_stdin) close(fd);
      return NULL;
    }
    if (S_ISREG(st.st_mode)) (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  }
  struct srm_jsonl_reader *r = srm_jsonl_open_fd(fd, line_cap);
  if (r == NULL) {
    if (err && errlen) snprintf(err, errlen, "%s: %s", path, strerror(ENOMEM));
    if (!is_stdin) close(fd);
    return NULL;
  }
  r->owns_fd = !is_stdin;
  return r;
}

enum srm_line_kind srm_jsonl_next(struct srm_jsonl_reader *r, struct srm_jsonl_line *line) {
  if (r->failed) return fail_line(r, line);
  for (;;) {
    char *nl = r->scan < r->end ? memchr(r->buf + r->scan, '\n', r->end - r->scan) : NULL;
    if (nl != NULL) {
      size_t at = r->start, n = (size_t)(nl - (r->buf + at));
      r->start = r->scan = n + at + 1;
      r->lineno++;
      int kind = finish_line(r, r->buf + at, n, line);
      if (kind != LINE_SKIP) return (enum srm_line_kind)kind;
      continue;
    }
    r->scan = r->end;
    if (r->eof) {
      if (r->start == r->end) return fail_line(r, line);
      size_t at = r->start, n = r->end - at;
      r->start = r->scan = r->end;
      r->lineno++;
      int kind = finish_line(r, r->buf + at, n, line);
      if (kind != LINE_SKIP) return (enum srm_line_kind)kind;
      continue;
    }
    if (r->end - r->start > r->line_cap + LINE_SLACK) {
      int kind = skip_long_line(r, line);
      if (kind != LINE_SKIP) return (enum srm_line_kind)kind;
      continue;
    }
    if (refill(r) != 0) return fail_line(r, line);
  }
}

const char *srm_jsonl_error(const struct srm_jsonl_reader *r) {
  return r->err;
}

uint64_t srm_jsonl_bytes_read(const struct srm_jsonl_reader *r) {
  return r->bytes;
}

void srm_jsonl_close(struct srm_jsonl_reader *r) {
  if (r == NULL) return;
  if (r->owns_fd) close(r->fd);
  free(r->buf);
  free(r);
}

int64_t srm_jsonl_count_records(const char *path) {
  struct stat st;
  /* stat first: opening a FIFO would block until a writer shows up */
  if (strcmp(path, "-") == 0 || stat(path, &st) != 0 || !S_ISREG(st.st_mode)) return -1;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return -1;
  }
  (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  char *buf = malloc(READ_CHUNK);
  if (buf == NULL) {
    close(fd);
    return -1;
  }
  int64_t count = 0;
  int nonblank = 0; /* the current line has a byte other than space, tab or \r */
  int first = 1;
  for (;;) {
    ssize_t got = read_full(fd, buf, READ_CHUNK);
    if (got < 0) {
      count = -1;
      break;
    }
    if (got == 0) break;
    const char *p = buf, *stop = buf + got;
    if (first) {
      first = 0;
      if (has_bom(p, (size_t)got)) p += 3;
    }
    while (p < stop) {
      const char *nl = memchr(p, '\n', (size_t)(stop - p));
      const char *seg_end = nl ? nl : stop;
      if (!nonblank) nonblank = !is_blank(p, (size_t)(seg_end - p));
      if (nl == NULL) break;
      count += nonblank;
      nonblank = 0;
      p = nl + 1;
    }
  }
  if (count >= 0) count += nonblank;
  free(buf);
  close(fd);
  return count;
}
