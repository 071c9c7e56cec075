/* srm: the command-line subcommands. Each returns the process exit code (see docs/cli.md). */
#ifndef SRM_CMD_H
#define SRM_CMD_H

enum srm_exit {
  SRM_EXIT_OK = 0,
  SRM_EXIT_FAILURE = 1,    /* I/O error or internal failure */
  SRM_EXIT_USAGE = 2,      /* bad command line */
  SRM_EXIT_SKILL = 3,      /* the skill failed to load or its self-tests failed */
  SRM_EXIT_ERROR_RATE = 4, /* more failed rows than --max-error-rate allows */
};

int srm_cmd_run(int argc, char **argv);
int srm_cmd_check(int argc, char **argv);
int srm_cmd_serve(int argc, char **argv);
int srm_cmd_lua(int argc, char **argv);
int srm_cmd_eval(int argc, char **argv);  /* srm_cmd_eval.c */
int srm_cmd_bench(int argc, char **argv); /* srm_cmd_eval.c */
int srm_cmd_report(int argc, char **argv);
int srm_cmd_diff(int argc, char **argv);

#endif
