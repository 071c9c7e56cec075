/* srm: loading a skill into a host state (shared by `srm run`, `srm check` and later `srm
** serve`): the stdlib runner module does the work inside a budgeted task; this file keeps the
** resulting skill in the registry and turns failures into messages and exit codes. */
#ifndef SRM_SKILL_H
#define SRM_SKILL_H

#include "srm_host.h"
#include "srm_sched.h"

struct srm_setting {
  const char *key;
  const char *value;
};

struct srm_loaded_skill {
  int runner_ref; /* the srm.runner module */
  int skill_ref;  /* the skill table */
  char name[128];
  char sha256[65];
};

enum srm_load_result { SRM_LOAD_OK, SRM_LOAD_USAGE, SRM_LOAD_FAILED };

/* Loads path with the given --set overrides as `generation` (1 for the first load, one more
** per hot reload). On failure writes a message to err. */
enum srm_load_result srm_skill_load(struct srm_host *h, const char *path,
                                    const struct srm_setting *settings, int nsettings,
                                    const struct srm_task_limits *lim, long generation,
                                    struct srm_loaded_skill *out, char *err, size_t errlen);

/* Runs the skill's self-tests; prints each failure to stderr. Returns the number of failures
** (or -1 when the tests could not run), and the number of tests in *count. */
int srm_skill_self_test(struct srm_host *h, struct srm_loaded_skill *sk,
                        const struct srm_task_limits *lim, int *count);

/* As srm_skill_self_test, but reports into why (the first failure, or why the tests could not
** run) instead of stderr: for hot reloads. */
int srm_skill_self_test_quiet(struct srm_host *h, struct srm_loaded_skill *sk,
                              const struct srm_task_limits *lim, int *count, char *why,
                              size_t whylen);

/* Pushes runner[name] onto the host stack. */
void srm_skill_push_runner_fn(struct srm_host *h, struct srm_loaded_skill *sk, const char *name);

void srm_skill_release(struct srm_host *h, struct srm_loaded_skill *sk);

#endif
