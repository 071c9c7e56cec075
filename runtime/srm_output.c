/* srm: row output with whole-line writes and torn-tail repair (see srm_output.h). */
#include "srm_output.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Flush once this much is queued, so one write carries many rows without unbounded buffering. */
#define FLUSH_AT (64 * 1024)

int srm_output_open(struct srm_output *o, const char *path, int append) {
  memset(o, 0, sizeof *o);
  if (!path || strcmp(path, "-") == 0) {
    o->fd = STDOUT_FILENO;
    return 0;
  }
  int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC);
  o->fd = open(path, flags, 0644);
  if (o->fd < 0) {
    snprintf(o->error, sizeof o->error, "cannot open %s for writing: %s", path, strerror(errno));
    return -1;
  }
  o->owns_fd = 1;
  return 0;
}

static int write_all(struct srm_output *o, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(o->fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      snprintf(o->error, sizeof o->error, "cannot write the output: %s", strerror(errno));
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

int srm_output_flush(struct srm_output *o) {
  if (o->len == 0) return 0;
  int rc = write_all(o, o->buf, o->len);
  o->len = 0;
  return rc;
}

int srm_output_add(struct srm_output *o, const char *row, size_t len) {
  if (o->len + len + 1 > o->cap) {
    size_t cap = o->cap ? o->cap : 64 * 1024;
    while (cap < o->len + len + 1)
      cap *= 2;
    char *b = realloc(o->buf, cap);
    if (!b) {
      snprintf(o->error, sizeof o->error, "out of memory buffering output rows");
      return -1;
    }
    o->buf = b;
    o->cap = cap;
  }
  memcpy(o->buf + o->len, row, len);
  o->buf[o->len + len] = '\n';
  o->len += len + 1;
  o->rows++;
  if (o->len >= FLUSH_AT) return srm_output_flush(o);
  return 0;
}

int srm_output_close(struct srm_output *o) {
  int rc = srm_output_flush(o);
  if (o->owns_fd && close(o->fd) != 0 && rc == 0) {
    snprintf(o->error, sizeof o->error, "cannot close the output: %s", strerror(errno));
    rc = -1;
  }
  free(o->buf);
  o->buf = NULL;
  o->owns_fd = 0;
  return rc;
}

long srm_output_cut_torn_tail(const char *path, char *err, size_t errlen) {
  int fd = open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return 0;
    snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
    return -1;
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    snprintf(err, errlen, "cannot stat %s: %s", path, strerror(errno));
    close(fd);
    return -1;
  }
  off_t end = st.st_size, pos = end;
  char block[65536];
  off_t keep = 0;
  /* Scan backwards for the last newline. */
  while (pos > 0) {
    size_t n = pos >= (off_t)sizeof block ? sizeof block : (size_t)pos;
    pos -= (off_t)n;
    if (pread(fd, block, n, pos) != (ssize_t)n) {
      snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
      close(fd);
      return -1;
    }
    char *nl = memrchr(block, '\n', n);
    if (nl) {
      keep = pos + (nl - block) + 1;
      break;
    }
  }
  long removed = (long)(end - keep);
  if (removed > 0 && ftruncate(fd, keep) != 0) {
    snprintf(err, errlen, "cannot truncate %s: %s", path, strerror(errno));
    close(fd);
    return -1;
  }
  close(fd);
  return removed;
}
