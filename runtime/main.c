/* srm: command-line entry point; dispatches to the subcommands in srm_cmd_*.c. */
#include "srm_cmd.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

static void usage(FILE *out) {
  fputs(
      "srm " SRM_VERSION " - reward skills for LLM outputs\n"
      "\n"
      "usage:\n"
      "  srm run SKILL DATA [-o OUT] [options]   score every record of a JSONL file\n"
      "  srm serve SKILL... [--port P]           serve rewards over HTTP, reloading edited skills\n"
      "  srm check SKILL                         load a skill, run its self-tests, show its plan\n"
      "  srm lua SCRIPT [args...]                run a trusted Lua script with srm's modules\n"
      "  srm eval BENCH PREDICTIONS [-o FILE]    official benchmark metrics from rows\n"
      "  srm bench expand BENCH IN OUT           expand a benchmark file into judge tasks\n"
      "  srm report OUT [-o FILE.html]           an HTML page of plots about a run's rows\n"
      "  srm diff A B [--fail-on-change]         compare two runs' rows, joined by id\n"
      "  srm version\n"
      "\n"
      "`srm run --help` lists the run options. Exit codes: 0 ok, 1 I/O or internal error,\n"
      "2 usage error, 3 skill failed to load or self-test, 4 error rate above the limit.\n",
      out);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return SRM_EXIT_USAGE;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
    usage(stdout);
    return SRM_EXIT_OK;
  }
  if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
    printf("srm %s\n", SRM_VERSION);
    return SRM_EXIT_OK;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  int rc;
  if (strcmp(cmd, "run") == 0)
    rc = srm_cmd_run(argc - 1, argv + 1);
  else if (strcmp(cmd, "serve") == 0)
    rc = srm_cmd_serve(argc - 1, argv + 1);
  else if (strcmp(cmd, "check") == 0)
    rc = srm_cmd_check(argc - 1, argv + 1);
  else if (strcmp(cmd, "lua") == 0)
    rc = srm_cmd_lua(argc - 1, argv + 1);
  else if (strcmp(cmd, "eval") == 0)
    rc = srm_cmd_eval(argc - 1, argv + 1);
  else if (strcmp(cmd, "bench") == 0)
    rc = srm_cmd_bench(argc - 1, argv + 1);
  else if (strcmp(cmd, "report") == 0)
    rc = srm_cmd_report(argc - 1, argv + 1);
  else if (strcmp(cmd, "diff") == 0)
    rc = srm_cmd_diff(argc - 1, argv + 1);
  else {
    fprintf(stderr, "srm: unknown command '%s'\n\n", cmd);
    usage(stderr);
    rc = SRM_EXIT_USAGE;
  }
  curl_global_cleanup();
  return rc;
}
