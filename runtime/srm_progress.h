/* srm: progress reporting on stderr. On a terminal, a bar redrawn at most ten times a second
** (done/total, rate, ETA, errors); otherwise one log line every few seconds, so batch logs stay
** readable. Pure C. */
#ifndef SRM_PROGRESS_H
#define SRM_PROGRESS_H

#include <stdint.h>
#include <stdio.h>

struct srm_progress {
  FILE *out;
  int tty; /* draw a bar instead of log lines */
  int enabled;
  int64_t total; /* -1 when unknown (a pipe) */
  double started;
  double last_draw;
  double log_every; /* seconds between log lines without a TTY */
  int drawn;        /* a bar is on screen and must be cleared before other output */
};

void srm_progress_init(struct srm_progress *p, FILE *out, int enabled, int64_t total,
                       double log_every);
/* Reports progress; cheap to call often (draws only when due, or when force is set). */
void srm_progress_update(struct srm_progress *p, uint64_t done, uint64_t errors, int force);
/* Clears the bar (if any) so the summary prints on a clean line. */
void srm_progress_clear(struct srm_progress *p);

/* "1:02:03" / "4:05" style duration. */
void srm_format_duration(double seconds, char *buf, size_t len);

#endif
