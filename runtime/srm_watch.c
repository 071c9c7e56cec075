/* srm: the hot-reload watcher (see srm_watch.h). */
#include "srm_watch.h"

#include "srm_sched.h" /* srm_now */

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define STAT_POLL_S 0.25
#define INOTIFY_EVENTS                                                                             \
  (IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_MODIFY | IN_ATTRIB | IN_MOVED_FROM)

struct watched_file {
  char *path;
  char *base; /* points into path */
  int wd;     /* inotify watch of its directory, or -1 */
  struct stat st;
  int exists;
};

struct srm_watch {
  int fd; /* inotify, or -1 */
  double debounce_s;
  struct watched_file *files;
  size_t nfiles, cap;
  int pending;        /* a change seen, not yet reported */
  double last_change; /* when the latest change was seen */
  double next_stat;   /* next stat poll */
};

struct srm_watch *srm_watch_new(double debounce_s) {
  struct srm_watch *w = calloc(1, sizeof *w);
  if (!w) return NULL;
  w->debounce_s = debounce_s;
  w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  return w;
}

void srm_watch_clear(struct srm_watch *w) {
  for (size_t i = 0; i < w->nfiles; i++) {
    /* A directory watch may be shared by several files: remove it once. */
    int wd = w->files[i].wd, shared = 0;
    for (size_t j = i + 1; j < w->nfiles && !shared; j++)
      shared = w->files[j].wd == wd;
    if (wd >= 0 && !shared) inotify_rm_watch(w->fd, wd);
    free(w->files[i].path);
  }
  w->nfiles = 0;
}

void srm_watch_free(struct srm_watch *w) {
  if (!w) return;
  srm_watch_clear(w);
  free(w->files);
  if (w->fd >= 0) close(w->fd);
  free(w);
}

static void take_stat(struct watched_file *f) {
  f->exists = stat(f->path, &f->st) == 0;
}

static int same_stat(const struct stat *a, const struct stat *b) {
  return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size &&
         a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

int srm_watch_add(struct srm_watch *w, const char *path) {
  for (size_t i = 0; i < w->nfiles; i++)
    if (strcmp(w->files[i].path, path) == 0) return 0;
  if (w->nfiles == w->cap) {
    size_t cap = w->cap ? w->cap * 2 : 8;
    struct watched_file *p = realloc(w->files, cap * sizeof *p);
    if (!p) return -1;
    w->files = p;
    w->cap = cap;
  }
  struct watched_file *f = &w->files[w->nfiles];
  memset(f, 0, sizeof *f);
  f->path = strdup(path);
  if (!f->path) return -1;
  char *slash = strrchr(f->path, '/');
  f->base = slash ? slash + 1 : f->path;
  f->wd = -1;
  if (w->fd >= 0) {
    char dir[PATH_MAX];
    if (slash) {
      size_t n = (size_t)(slash - f->path);
      if (n == 0) n = 1; /* "/x": the root */
      if (n >= sizeof dir) n = sizeof dir - 1;
      memcpy(dir, f->path, n);
      dir[n] = '\0';
    } else {
      strcpy(dir, ".");
    }
    f->wd = inotify_add_watch(w->fd, dir, INOTIFY_EVENTS); /* -1: stat polling covers it */
  }
  take_stat(f);
  w->nfiles++;
  return 0;
}

static void note_change(struct srm_watch *w) {
  w->pending = 1;
  w->last_change = srm_now();
}

/* Reads queued inotify events; an event naming a watched file (in its directory) is a change. */
static void drain_inotify(struct srm_watch *w) {
  if (w->fd < 0) return;
  char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
  for (;;) {
    ssize_t n = read(w->fd, buf, sizeof buf);
    if (n <= 0) return; /* EAGAIN: nothing more */
    for (char *p = buf; p < buf + n;) {
      const struct inotify_event *ev = (const struct inotify_event *)(void *)p;
      if (ev->mask & IN_Q_OVERFLOW) note_change(w);
      for (size_t i = 0; i < w->nfiles && ev->len > 0; i++)
        if (w->files[i].wd == ev->wd && strcmp(w->files[i].base, ev->name) == 0) note_change(w);
      p += sizeof *ev + ev->len;
    }
  }
}

static void poll_stats(struct srm_watch *w, double now) {
  if (now < w->next_stat) return;
  w->next_stat = now + STAT_POLL_S;
  for (size_t i = 0; i < w->nfiles; i++) {
    struct watched_file *f = &w->files[i];
    struct stat st;
    int exists = stat(f->path, &st) == 0;
    if (exists != f->exists || (exists && !same_stat(&st, &f->st))) {
      f->exists = exists;
      f->st = st;
      note_change(w);
    }
  }
}

/* Seconds since the newest modification of a watched file (wall clock, as mtimes are); a large
** value when none exists. */
static double quiet_for(struct srm_watch *w) {
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  double newest = 0;
  for (size_t i = 0; i < w->nfiles; i++) {
    struct stat st;
    if (stat(w->files[i].path, &st) != 0) continue;
    double t = (double)st.st_mtim.tv_sec + (double)st.st_mtim.tv_nsec * 1e-9;
    if (t > newest) newest = t;
  }
  return (double)now.tv_sec + (double)now.tv_nsec * 1e-9 - newest;
}

int srm_watch_changed(struct srm_watch *w) {
  double now = srm_now();
  drain_inotify(w);
  poll_stats(w, now);
  if (!w->pending) return 0;
  /* Quiet since the last write, judged by the files' mtimes: the caller may poll rarely (it
  ** blocks reading a pipe), so the time the change was noticed says little. */
  if (now - w->last_change < w->debounce_s && quiet_for(w) < w->debounce_s) return 0;
  w->pending = 0;
  for (size_t i = 0; i < w->nfiles; i++)
    take_stat(&w->files[i]); /* the reload reads this state: no second report for it */
  return 1;
}
