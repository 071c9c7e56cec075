/* srm: the hot-reload watcher (ARCHITECTURE §5): tells when any file of a set changed.
**
** It watches the files' directories with inotify, because editors save by writing a new file and
** renaming it over the old one, which a watch on the file itself would lose; it also compares
** each file's stat (inode, size, mtime) every STAT_POLL_S, the fallback where inotify is missing
** or out of watches; and it debounces, so one save (several events) is one reload. Not
** thread-safe: one thread polls it. */
#ifndef SRM_WATCH_H
#define SRM_WATCH_H

struct srm_watch;

/* debounce_s: quiet time after the last change before srm_watch_changed reports it. */
struct srm_watch *srm_watch_new(double debounce_s);
void srm_watch_free(struct srm_watch *w);
/* Forgets every file (before adding a reloaded skill's file list). */
void srm_watch_clear(struct srm_watch *w);
/* Watches path (a file). Returns 0, or -1 when out of memory. */
int srm_watch_add(struct srm_watch *w, const char *path);
/* Non-blocking: 1 once a change has been quiet for the debounce time (the change is then
** consumed), else 0. */
int srm_watch_changed(struct srm_watch *w);

#endif
