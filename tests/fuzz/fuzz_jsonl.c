/* srm fuzzing: the streaming JSONL reader (runtime/srm_jsonl.c) against a reference model.
** Input: byte 0 picks the line cap (0 = the default 64 MiB, else 1..255 bytes), byte 1 the read
** size (every read(2) of the reader returns at most that many bytes: 1..255, 0 = unlimited), the
** rest is the file. The reader's fd is /dev/null; read() is wrapped (-Wl,--wrap=read) so that
** reads from it come from the input in those chunks, which drives the refill, carry-over and
** long-line paths deterministically. Every line the reader returns must be the model's next
** non-blank line: same kind, content, length, line number and first bad UTF-8 offset. */
#include "srm_jsonl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
ssize_t __real_read(int fd, void *buf, size_t count);
ssize_t __wrap_read(int fd, void *buf, size_t count);

static struct {
  int fd; /* the reader's fd; -1 when no input is being served */
  const uint8_t *p;
  size_t left, chunk;
} feed = {-1, NULL, 0, 0};

ssize_t __wrap_read(int fd, void *buf, size_t count) {
  if (fd != feed.fd || feed.fd < 0) return __real_read(fd, buf, count);
  size_t n = count < feed.left ? count : feed.left;
  if (feed.chunk && n > feed.chunk) n = feed.chunk;
  memcpy(buf, feed.p, n);
  feed.p += n;
  feed.left -= n;
  return (ssize_t)n;
}

static void fail(const char *what, uint64_t lineno) {
  fprintf(stderr, "fuzz_jsonl: %s (line %llu)\n", what, (unsigned long long)lineno);
  abort();
}

/* Offset of the first ill-formed UTF-8 sequence (Unicode table 3-7), or n. Written apart from
** the reader's own check (bytewise, by code point ranges). */
static size_t ref_utf8(const uint8_t *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    uint32_t c = s[i];
    size_t need;
    uint32_t cp, min;
    if (c < 0x80) {
      i++;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      need = 1, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      need = 2, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      need = 3, cp = c & 0x07, min = 0x10000;
    } else {
      return i;
    }
    if (n - i <= need) return i;
    for (size_t k = 1; k <= need; k++) {
      if ((s[i + k] & 0xC0) != 0x80) return i;
      cp = cp << 6 | (s[i + k] & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
    i += need + 1;
  }
  return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2) return 0;
  size_t cap = data[0] ? data[0] : SRM_JSONL_DEFAULT_LINE_CAP;
  const uint8_t *file = data + 2;
  size_t flen = size - 2;
  int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail("cannot open /dev/null", 0);
  feed.fd = fd;
  feed.p = file;
  feed.left = flen;
  feed.chunk = data[1];
  struct srm_jsonl_reader *r = srm_jsonl_open_fd(fd, data[0]);
  if (!r) fail("srm_jsonl_open_fd returned NULL", 0);
  /* the model: physical lines split at \n; BOM stripped on line 1, one trailing \r stripped */
  size_t pos = 0;
  uint64_t lineno = 0;
  struct srm_jsonl_line line;
  for (;;) {
    const uint8_t *s = NULL;
    size_t n = 0;
    int have = 0;
    while (pos < flen) {
      const uint8_t *nl = memchr(file + pos, '\n', flen - pos);
      size_t end = nl ? (size_t)(nl - file) : flen;
      s = file + pos;
      n = end - pos;
      pos = nl ? end + 1 : flen;
      lineno++;
      if (lineno == 1 && n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) s += 3, n -= 3;
      if (n > 0 && s[n - 1] == '\r') n--;
      int blank = 1;
      for (size_t i = 0; i < n && blank; i++)
        blank = s[i] == ' ' || s[i] == '\t' || s[i] == '\r';
      if (!blank) {
        have = 1;
        break;
      }
    }
    enum srm_line_kind k = srm_jsonl_next(r, &line);
    if (!have) {
      if (k != SRM_LINE_EOF) fail("a line after the model's end of file", line.lineno);
      if (srm_jsonl_next(r, &line) != SRM_LINE_EOF) fail("EOF is not sticky", 0);
      break;
    }
    if (k != line.kind) fail("returned kind differs from line->kind", lineno);
    if (line.lineno != lineno) fail("wrong line number", lineno);
    if (line.len != n) fail("wrong length", lineno);
    if (n > cap) {
      if (k != SRM_LINE_TOO_LONG || line.data) fail("an over-long line is not TOO_LONG", lineno);
      continue;
    }
    size_t bad = ref_utf8(s, n);
    if (bad < n) {
      if (k != SRM_LINE_BAD_UTF8) fail("invalid UTF-8 is not BAD_UTF8", lineno);
      if (line.bad_offset != bad) fail("wrong bad_offset", lineno);
    } else if (k != SRM_LINE_OK) {
      fail("a valid line is not OK", lineno);
    }
    if (!line.data || memcmp(line.data, s, n) != 0) fail("wrong line content", lineno);
  }
  if (srm_jsonl_bytes_read(r) != flen) fail("bytes_read differs from the file size", 0);
  srm_jsonl_close(r);
  feed.fd = -1;
  close(fd);
  return 0;
}
