/* srm: the output file. Rows are appended whole: each write() call carries only complete lines,
** so a crash can leave at most a torn last line, which --resume cuts off. Pure C. */
#ifndef SRM_OUTPUT_H
#define SRM_OUTPUT_H

#include <stddef.h>
#include <stdint.h>

struct srm_output {
  int fd;
  int owns_fd;
  char *buf;
  size_t len, cap;
  uint64_t rows;
  char error[256];
};

/* path NULL or "-" = stdout. append: keep existing content. Returns 0 or -1 (message in error). */
int srm_output_open(struct srm_output *o, const char *path, int append);
/* Queues one row (a line without its newline). */
int srm_output_add(struct srm_output *o, const char *row, size_t len);
/* Writes the queued rows. Returns 0 or -1 (message in error). */
int srm_output_flush(struct srm_output *o);
int srm_output_close(struct srm_output *o);

/* Cuts a torn last line (bytes after the last newline) off the file at path. Returns the number
** of bytes removed, 0 when the file is clean or missing, -1 on error (message in err). */
long srm_output_cut_torn_tail(const char *path, char *err, size_t errlen);

#endif
