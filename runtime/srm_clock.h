/* srm: the monotonic clock shared by the scheduler, progress and timing (pure C). */
#ifndef SRM_CLOCK_H
#define SRM_CLOCK_H

/* Monotonic clock in seconds. */
double srm_now(void);

#endif
