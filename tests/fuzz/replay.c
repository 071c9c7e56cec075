/* srm fuzzing: the replay driver. Linked with one fuzz target instead of libFuzzer, it feeds
** LLVMFuzzerTestOneInput every regular file under the directories (or files) given on the
** command line, in sorted order, so the committed seed corpora and the regression inputs of
** tests/fuzz/regressions/ run in every normal build (ctest fuzz.replay_*). A missing directory
** is skipped; a crash, a sanitizer report or an abort from the target fails the test. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    perror(path);
    return -1;
  }
  size_t cap = 4096, n = 0;
  uint8_t *buf = malloc(cap);
  for (;;) {
    if (!buf) {
      fclose(f);
      fprintf(stderr, "%s: out of memory\n", path);
      return -1;
    }
    n += fread(buf + n, 1, cap - n, f);
    if (n < cap) break;
    cap *= 2;
    buf = realloc(buf, cap);
  }
  fclose(f);
  LLVMFuzzerTestOneInput(buf, n);
  free(buf);
  return 0;
}

static int by_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs path (a file, or every file of a directory tree); returns the number of inputs run, or
** -1 on an I/O error. */
static long run_path(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0) return 0; /* no corpus or no regressions for this target */
  if (!S_ISDIR(st.st_mode)) return run_file(path) == 0 ? 1 : -1;
  DIR *d = opendir(path);
  if (!d) {
    perror(path);
    return -1;
  }
  char **names = NULL;
  size_t n = 0, cap = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    if (n == cap) {
      cap = cap ? cap * 2 : 64;
      char **p = realloc(names, cap * sizeof *names);
      if (!p) break;
      names = p;
    }
    size_t len = strlen(path) + strlen(e->d_name) + 2;
    names[n] = malloc(len);
    if (!names[n]) break;
    snprintf(names[n], len, "%s/%s", path, e->d_name);
    n++;
  }
  closedir(d);
  if (n) qsort(names, n, sizeof *names, by_name);
  long total = 0;
  for (size_t i = 0; i < n; i++) {
    long got = total >= 0 ? run_path(names[i]) : 0;
    total = got < 0 ? -1 : total + got;
    free(names[i]);
  }
  free(names);
  return total;
}

int main(int argc, char **argv) {
  long total = 0;
  for (int i = 1; i < argc; i++) {
    long got = run_path(argv[i]);
    if (got < 0) return EXIT_FAILURE;
    total += got;
  }
  printf("replayed %ld inputs without a crash\n", total);
  return EXIT_SUCCESS;
}
