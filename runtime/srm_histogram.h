/* srm: the small text histogram of scores at the end of `srm run`: ten fixed bins over [0, 1]
** plus counts below 0 and above 1 (penalties can push a weighted score under 0). Pure C, no Lua;
** the summary feeds it every ok row's score and prints it after the mean. */
#ifndef SRM_HISTOGRAM_H
#define SRM_HISTOGRAM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SRM_HISTOGRAM_BINS 10
#define SRM_HISTOGRAM_WIDTH 30 /* characters of the longest bar */

struct srm_histogram {
  uint64_t bins[SRM_HISTOGRAM_BINS]; /* bin i holds [i/10, (i+1)/10); the last one includes 1 */
  uint64_t below;                    /* scores < 0 */
  uint64_t above;                    /* scores > 1 */
};

/* The bin of a score: 0..SRM_HISTOGRAM_BINS-1, -1 below 0, SRM_HISTOGRAM_BINS above 1, and -2
** for NaN (not counted). */
int srm_histogram_bin(double score);

/* Counts one score (NaN is ignored). A zeroed struct is an empty histogram. */
void srm_histogram_add(struct srm_histogram *h, double score);

/* Total number of scores counted. */
uint64_t srm_histogram_total(const struct srm_histogram *h);

/* Writes the histogram as text lines into buf (always NUL-terminated when cap > 0, cut short
** when it does not fit) and returns the length the whole text needs, like snprintf. Nothing
** (length 0) for an empty histogram. Each line is indented by two spaces:
**   "  scores   0.0-0.1 ##########                       12  40.0%" */
size_t srm_histogram_format(const struct srm_histogram *h, char *buf, size_t cap);

/* Writes srm_histogram_format's text to f. */
void srm_histogram_print(const struct srm_histogram *h, FILE *f);

#endif
