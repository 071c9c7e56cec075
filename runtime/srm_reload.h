/* srm: hot reload (ARCHITECTURE §5), one path for `srm run --watch`, `srm serve` and SIGHUP.
** The thread that owns the main executor polls the reloader: when a watched file changed (or
** SIGHUP came), each skill is loaded again in that executor, validated and self-tested, then
** swapped in, and only then are the workers told to do the same. On failure the old version
** stays and the error (file:line) is kept for reporting (stderr, /v1/skills, metrics). */
#ifndef SRM_RELOAD_H
#define SRM_RELOAD_H

#include "srm_exec.h"
#include "srm_watch.h"
#include "srm_workers.h"

#include <pthread.h>

struct srm_skill_status {
  char name[128];
  char path[1024];
  char sha256[65];
  long generation;
  char last_error[1024]; /* the latest failed reload's message; empty after a good one */
};

struct srm_reloader {
  struct srm_exec *e;          /* the executor on the polling thread */
  struct srm_workers *workers; /* NULL: e runs every record */
  struct srm_watch *watch;     /* NULL: SIGHUP only */
  pthread_mutex_t lock;        /* guards status and the counters (read by other threads) */
  struct srm_skill_status status[SRM_MAX_SKILLS];
  int nskills;
  unsigned long reloads, failures;
  char *skills_json; /* encoded on the polling thread whenever the status changes */
};

/* watch: also watch the skills' files (else only SIGHUP reloads). Installs the SIGHUP handler.
** Returns 0, or -1 when out of memory. */
int srm_reloader_init(struct srm_reloader *r, struct srm_exec *e, struct srm_workers *workers,
                      int watch);
void srm_reloader_free(struct srm_reloader *r);
/* Reloads if a watched file changed or SIGHUP came since the last call; reports each reload or
** failure on stderr. Returns the number of skills swapped in. */
int srm_reloader_poll(struct srm_reloader *r);
/* {"skills": [{name, path, sha256, generation, last_reload_error}, ...]} as a malloc'ed string
** (NULL when out of memory); callable from any thread. */
char *srm_reloader_skills_json(struct srm_reloader *r);
/* A consistent copy of skill i's status. */
void srm_reloader_status(struct srm_reloader *r, int i, struct srm_skill_status *out);

#endif
