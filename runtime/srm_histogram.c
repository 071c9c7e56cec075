/* srm: the text score histogram of the `srm run` summary (see srm_histogram.h). */
#include "srm_histogram.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

int srm_histogram_bin(double score) {
  if (isnan(score)) return -2;
  if (score < 0) return -1;
  if (score > 1) return SRM_HISTOGRAM_BINS;
  double b = floor(score * SRM_HISTOGRAM_BINS);
  if (b >= SRM_HISTOGRAM_BINS) return SRM_HISTOGRAM_BINS - 1; /* 1.0 closes the last bin */
  return (int)b;
}

void srm_histogram_add(struct srm_histogram *h, double score) {
  int b = srm_histogram_bin(score);
  if (b == -2) return;
  if (b == -1)
    h->below++;
  else if (b == SRM_HISTOGRAM_BINS)
    h->above++;
  else
    h->bins[b]++;
}

uint64_t srm_histogram_total(const struct srm_histogram *h) {
  uint64_t n = h->below + h->above;
  for (int i = 0; i < SRM_HISTOGRAM_BINS; i++)
    n += h->bins[i];
  return n;
}

/* An snprintf-style appender that keeps counting past the end of the buffer. */
struct out {
  char *buf;
  size_t cap, len;
};

static void put(struct out *o, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  size_t room = o->len < o->cap ? o->cap - o->len : 0;
  int n = vsnprintf(room ? o->buf + o->len : NULL, room, fmt, ap);
  va_end(ap);
  if (n > 0) o->len += (size_t)n;
}

static int digits(uint64_t v) {
  int d = 1;
  while (v >= 10) {
    v /= 10;
    d++;
  }
  return d;
}

/* One bar row: label, '#' bar scaled to the largest count (at least one '#' for a non-zero
** count), the count and its share. */
static void bar(struct out *o, const char *label, uint64_t count, uint64_t max, uint64_t total,
                int width) {
  int n = 0;
  if (count > 0 && max > 0) {
    n = (int)((count * (uint64_t)SRM_HISTOGRAM_WIDTH + max / 2) / max);
    if (n < 1) n = 1;
  }
  char bars[SRM_HISTOGRAM_WIDTH + 1];
  memset(bars, '#', (size_t)n);
  memset(bars + n, ' ', (size_t)(SRM_HISTOGRAM_WIDTH - n));
  bars[SRM_HISTOGRAM_WIDTH] = '\0';
  put(o, "    %-9s %s  %*llu %5.1f%%\n", label, bars, width, (unsigned long long)count,
      100.0 * (double)count / (double)total);
}

size_t srm_histogram_format(const struct srm_histogram *h, char *buf, size_t cap) {
  struct out o = {buf, cap, 0};
  if (cap > 0) buf[0] = '\0';
  uint64_t total = srm_histogram_total(h);
  if (total == 0) return 0;
  uint64_t max = h->below > h->above ? h->below : h->above;
  for (int i = 0; i < SRM_HISTOGRAM_BINS; i++)
    if (h->bins[i] > max) max = h->bins[i];
  int width = digits(max);
  put(&o, "  score histogram of the ok rows:\n");
  if (h->below) bar(&o, "< 0", h->below, max, total, width);
  for (int i = 0; i < SRM_HISTOGRAM_BINS; i++) {
    char label[16];
    snprintf(label, sizeof label, "%.1f-%.1f", (double)i / SRM_HISTOGRAM_BINS,
             (double)(i + 1) / SRM_HISTOGRAM_BINS);
    bar(&o, label, h->bins[i], max, total, width);
  }
  if (h->above) bar(&o, "> 1", h->above, max, total, width);
  return o.len;
}

void srm_histogram_print(const struct srm_histogram *h, FILE *f) {
  char buf[2048]; /* 13 rows of under 100 characters */
  size_t n = srm_histogram_format(h, buf, sizeof buf);
  fwrite(buf, 1, n < sizeof buf ? n : sizeof buf - 1, f);
}
