/* bench/llm_fanout/curl_floor: the least CPU a libcurl client can spend per chat request, as a
** floor for srm's "CPU per request" figure. It sends one request per input line with N in
** flight through one curl multi handle, reusing easy handles and connections, and keeps only
** the reply's length: no JSON parsing, no per-record program, no rows. Whatever srm spends
** above this is srm's own work; what this spends is libcurl's and the kernel's.
** Usage: curl_floor BASE_URL DATA.jsonl [IN_FLIGHT]   (lines as bench/llm_fanout/gen.lua writes)
** Prints "requests failed user_s sys_s" on stdout. */
#define _GNU_SOURCE /* getline */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

struct slot {
  CURL *easy;
  char *body;
  size_t got;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud) {
  (void)data;
  struct slot *s = ud;
  s->got += size * nmemb;
  return size * nmemb;
}

/* The request body for one gen.lua line {"id":N,"prompt":"..."}: the prompt's JSON text is
** copied as it stands (it is already escaped). NULL when the line has no prompt. */
static char *make_body(const char *line, size_t len, size_t *out_len) {
  const char *p = strstr(line, "\"prompt\":");
  if (!p) return NULL;
  p += strlen("\"prompt\":");
  const char *end = line + len;
  while (end > p && end[-1] != '}')
    end--;
  if (end <= p) return NULL;
  end--; /* the record's closing brace */
  static const char head[] = "{\"model\":\"mock\",\"messages\":[{\"role\":\"user\",\"content\":";
  static const char tail[] = "}],\"temperature\":0}";
  size_t n = sizeof head - 1 + (size_t)(end - p) + sizeof tail - 1;
  char *b = malloc(n + 1);
  if (!b) return NULL;
  memcpy(b, head, sizeof head - 1);
  memcpy(b + sizeof head - 1, p, (size_t)(end - p));
  memcpy(b + sizeof head - 1 + (size_t)(end - p), tail, sizeof tail);
  *out_len = n;
  return b;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: curl_floor BASE_URL DATA.jsonl [IN_FLIGHT]\n");
    return 2;
  }
  int width = argc > 3 ? atoi(argv[3]) : 80;
  if (width < 1) width = 1;
  FILE *in = fopen(argv[2], "rb");
  if (!in) {
    perror(argv[2]);
    return 1;
  }
  char url[512];
  snprintf(url, sizeof url, "%s/chat/completions", argv[1]);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  CURLM *multi = curl_multi_init();
  struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
  struct slot *slots = calloc((size_t)width, sizeof *slots);
  struct slot **idle = calloc((size_t)width, sizeof *idle);
  int nidle = 0;
  for (int i = 0; i < width; i++) {
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &slots[i]);
    curl_easy_setopt(c, CURLOPT_PRIVATE, (char *)&slots[i]);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 120000L);
    slots[i].easy = c;
    idle[nidle++] = &slots[i];
  }
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  unsigned long requests = 0, failed = 0;
  int running = 0, input_done = 0;
  while (!input_done || nidle < width) {
    while (!input_done && nidle > 0) {
      if ((len = getline(&line, &cap, in)) <= 0) {
        input_done = 1;
        break;
      }
      size_t blen;
      char *body = make_body(line, (size_t)len, &blen);
      if (!body) continue;
      struct slot *s = idle[--nidle];
      s->body = body;
      s->got = 0;
      curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, body);
      curl_easy_setopt(s->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen);
      curl_multi_add_handle(multi, s->easy);
    }
    curl_multi_perform(multi, &running);
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(multi, &left))) {
      if (m->msg != CURLMSG_DONE) continue;
      struct slot *s;
      curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&s);
      long status = 0;
      curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &status);
      requests++;
      if (m->data.result != CURLE_OK || status != 200 || s->got == 0) failed++;
      curl_multi_remove_handle(multi, s->easy);
      free(s->body);
      s->body = NULL;
      idle[nidle++] = s;
    }
    if (nidle < width) curl_multi_poll(multi, NULL, 0, 100, NULL);
  }
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  printf("%lu %lu %.3f %.3f\n", requests, failed,
         (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6,
         (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6);
  for (int i = 0; i < width; i++)
    curl_easy_cleanup(slots[i].easy);
  curl_multi_cleanup(multi);
  curl_slist_free_all(headers);
  free(slots);
  free(idle);
  free(line);
  fclose(in);
  curl_global_cleanup();
  return failed ? 1 : 0;
}
