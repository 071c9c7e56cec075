/* srm: progress bar and periodic progress log (see srm_progress.h). */
#include "srm_progress.h"

#include "srm_clock.h"

#include <string.h>
#include <unistd.h>

void srm_progress_init(struct srm_progress *p, FILE *out, int enabled, int64_t total,
                       double log_every) {
  memset(p, 0, sizeof *p);
  p->out = out;
  p->enabled = enabled;
  p->tty = enabled && isatty(fileno(out));
  p->total = total;
  p->started = srm_now();
  p->last_draw = p->started;
  p->log_every = log_every > 0 ? log_every : 10.0;
}

void srm_format_duration(double seconds, char *buf, size_t len) {
  if (seconds < 0 || seconds > 1e8) {
    snprintf(buf, len, "?");
    return;
  }
  long s = (long)(seconds + 0.5);
  if (s >= 3600)
    snprintf(buf, len, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  else
    snprintf(buf, len, "%ld:%02ld", s / 60, s % 60);
}

static void draw(struct srm_progress *p, uint64_t done, uint64_t errors, double now) {
  double elapsed = now - p->started;
  double rate = elapsed > 0 ? (double)done / elapsed : 0;
  char eta[32] = "?";
  if (p->total >= 0 && rate > 0 && (int64_t)done <= p->total)
    srm_format_duration((double)(p->total - (int64_t)done) / rate, eta, sizeof eta);
  char spent[32];
  srm_format_duration(elapsed, spent, sizeof spent);
  if (p->tty) {
    char bar[31];
    double frac = p->total > 0 ? (double)done / (double)p->total : 0;
    if (frac > 1) frac = 1;
    int filled = (int)(frac * 30);
    for (int i = 0; i < 30; i++)
      bar[i] = i < filled ? '#' : '-';
    bar[30] = '\0';
    if (p->total >= 0)
      fprintf(p->out, "\r[%s] %llu/%lld %5.1f%% %.0f rec/s ETA %s errors %llu\x1b[K", bar,
              (unsigned long long)done, (long long)p->total, frac * 100, rate, eta,
              (unsigned long long)errors);
    else
      fprintf(p->out, "\r%llu rows %.0f rec/s elapsed %s errors %llu\x1b[K",
              (unsigned long long)done, rate, spent, (unsigned long long)errors);
    p->drawn = 1;
  } else {
    if (p->total >= 0)
      fprintf(p->out, "srm: %llu/%lld rows, %.0f rec/s, elapsed %s, ETA %s, %llu errors\n",
              (unsigned long long)done, (long long)p->total, rate, spent, eta,
              (unsigned long long)errors);
    else
      fprintf(p->out, "srm: %llu rows, %.0f rec/s, elapsed %s, %llu errors\n",
              (unsigned long long)done, rate, spent, (unsigned long long)errors);
  }
  fflush(p->out);
  p->last_draw = now;
}

void srm_progress_update(struct srm_progress *p, uint64_t done, uint64_t errors, int force) {
  if (!p->enabled) return;
  double now = srm_now();
  double every = p->tty ? 0.1 : p->log_every;
  if (!force && now - p->last_draw < every) return;
  if (force && !p->tty) return; /* the summary follows; no extra log line */
  draw(p, done, errors, now);
}

void srm_progress_clear(struct srm_progress *p) {
  if (p->drawn) {
    fputs("\r\x1b[K", p->out);
    fflush(p->out);
    p->drawn = 0;
  }
}
