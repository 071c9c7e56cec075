/* srm: hot reload (see srm_reload.h). */
#include "srm_reload.h"

#include "srm_json.h"

#include <lauxlib.h>
#include <stdlib.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>

#define RELOAD_DEBOUNCE_S                                                                          \
  0.03 /* one save is several events; the first rows must still follow fast */

static volatile sig_atomic_t hangup = 0;

static void on_sighup(int sig) {
  (void)sig;
  hangup = 1;
}

static void add_file(void *ud, const char *path) {
  srm_watch_add(ud, path);
}

/* Watches the files every skill read while loading (the skill, its modules, its rubrics). */
static void watch_files(struct srm_reloader *r) {
  if (!r->watch) return;
  srm_watch_clear(r->watch);
  for (int i = 0; i < r->nskills; i++)
    srm_exec_skill_files(r->e, i, add_file, r->watch);
}

static void copy_status(struct srm_reloader *r, int i) {
  struct srm_skill_status *s = &r->status[i];
  snprintf(s->name, sizeof s->name, "%s", r->e->sk[i].name);
  snprintf(s->path, sizeof s->path, "%s", r->e->skill_path[i]);
  snprintf(s->sha256, sizeof s->sha256, "%s", r->e->sk[i].sha256);
  s->generation = r->e->generation[i];
}

/* Encodes the status with srm.json on the polling thread's state (the only Lua this has). Called
** with r->lock held. */
static void encode_status(struct srm_reloader *r) {
  lua_State *L = r->e->h.L;
  lua_createtable(L, 0, 1);
  lua_createtable(L, r->nskills, 0);
  for (int i = 0; i < r->nskills; i++) {
    const struct srm_skill_status *s = &r->status[i];
    lua_createtable(L, 0, 5);
    lua_pushstring(L, s->name);
    lua_setfield(L, -2, "name");
    lua_pushstring(L, s->path);
    lua_setfield(L, -2, "path");
    lua_pushstring(L, s->sha256);
    lua_setfield(L, -2, "sha256");
    lua_pushinteger(L, s->generation);
    lua_setfield(L, -2, "generation");
    if (s->last_error[0]) {
      lua_pushstring(L, s->last_error);
      lua_setfield(L, -2, "last_reload_error");
    }
    lua_rawseti(L, -2, i + 1);
  }
  lua_setfield(L, -2, "skills");
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  char err[200];
  int rc = srm_json_encode_value(L, -2, &b, err, sizeof err);
  luaL_pushresult(&b);
  if (rc == 0) {
    size_t len;
    const char *text = lua_tolstring(L, -1, &len);
    char *copy = malloc(len + 1);
    if (copy) {
      memcpy(copy, text, len + 1);
      free(r->skills_json);
      r->skills_json = copy;
    }
  }
  lua_pop(L, 2);
}

char *srm_reloader_skills_json(struct srm_reloader *r) {
  pthread_mutex_lock(&r->lock);
  char *copy = r->skills_json ? strdup(r->skills_json) : NULL;
  pthread_mutex_unlock(&r->lock);
  return copy;
}

int srm_reloader_init(struct srm_reloader *r, struct srm_exec *e, struct srm_workers *workers,
                      int watch) {
  memset(r, 0, sizeof *r);
  r->e = e;
  r->workers = workers;
  r->nskills = e->nskills;
  pthread_mutex_init(&r->lock, NULL);
  for (int i = 0; i < r->nskills; i++)
    copy_status(r, i);
  encode_status(r);
  if (watch) {
    r->watch = srm_watch_new(RELOAD_DEBOUNCE_S);
    if (!r->watch) return -1;
    watch_files(r);
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sighup;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGHUP, &sa, NULL);
  return 0;
}

void srm_reloader_free(struct srm_reloader *r) {
  signal(SIGHUP, SIG_DFL);
  srm_watch_free(r->watch);
  r->watch = NULL;
  free(r->skills_json);
  r->skills_json = NULL;
  pthread_mutex_destroy(&r->lock);
}

int srm_reloader_poll(struct srm_reloader *r) {
  int changed = r->watch && srm_watch_changed(r->watch);
  if (hangup) {
    hangup = 0;
    changed = 1;
  }
  if (!changed) return 0;
  int swapped = 0;
  for (int i = 0; i < r->nskills; i++) {
    long gen = r->e->generation[i] + 1;
    char err[1024];
    int rc = srm_exec_reload(r->e, i, gen, err, sizeof err);
    pthread_mutex_lock(&r->lock);
    if (rc < 0) {
      r->failures++;
      snprintf(r->status[i].last_error, sizeof r->status[i].last_error, "%s", err);
    } else {
      r->status[i].last_error[0] = '\0';
      if (rc == 0) r->reloads++;
      copy_status(r, i);
    }
    encode_status(r);
    pthread_mutex_unlock(&r->lock);
    if (rc < 0) {
      fprintf(stderr, "srm: reload of %s failed, keeping generation %ld: %s\n", r->e->skill_path[i],
              r->e->generation[i], err);
    } else if (rc == 0) {
      if (r->workers) srm_workers_reload(r->workers, i, gen);
      fprintf(stderr, "srm: reloaded %s: skill %s generation %ld, sha256 %.12s\n",
              r->e->skill_path[i], r->e->sk[i].name, gen, r->e->sk[i].sha256);
      swapped++;
    }
  }
  if (swapped) watch_files(r); /* the new version may read other files */
  return swapped;
}

void srm_reloader_status(struct srm_reloader *r, int i, struct srm_skill_status *out) {
  pthread_mutex_lock(&r->lock);
  *out = r->status[i];
  pthread_mutex_unlock(&r->lock);
}
