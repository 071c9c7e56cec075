/* Check tests of the process sandbox (runtime/srm_proc.c) through its blocking runner, with
** /bin/sh programs only (the Python cases are in tests/lua/test_code.lua). */
#include "srm_proc.h"

#include "check_main.h"

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct srm_proc proc;
static struct srm_proc_result res;

/* Runs `sh -c script` with the defaults changed by the caller through spec. */
static void run_sh(struct srm_proc_spec *spec, const char *script) {
  static const char *argv[4];
  argv[0] = "sh";
  argv[1] = "-c";
  argv[2] = script;
  argv[3] = NULL;
  spec->argv = argv;
  ck_assert_int_eq(srm_proc_run(&proc, spec, &res), 0);
}

static void defaults(struct srm_proc_spec *spec) {
  srm_proc_spec_defaults(spec);
  spec->timeout_s = 10;
}

static int out_is(const char *want) {
  return res.out_len == strlen(want) && memcmp(res.out, want, res.out_len) == 0;
}

START_TEST(output_streams_and_exit_code) {
  struct srm_proc_spec spec;
  defaults(&spec);
  spec.no_namespaces = _i;
  run_sh(&spec, "echo out; echo err >&2; exit 3");
  ck_assert_int_eq(res.reason, SRM_PROC_OK);
  ck_assert_int_eq(res.exit_code, 3);
  ck_assert_int_eq(res.signal, 0);
  ck_assert(out_is("out\n"));
  ck_assert_int_eq((int)res.err_len, 4);
  ck_assert(memcmp(res.err, "err\n", 4) == 0);
  ck_assert_str_eq(res.message, "exited with code 3");
  ck_assert(res.isolation & SRM_PROC_ISO_SECCOMP);
  srm_proc_release(&proc);
}
END_TEST

START_TEST(stdin_and_files_reach_the_program) {
  struct srm_proc_spec spec;
  defaults(&spec);
  spec.no_namespaces = _i;
  struct srm_proc_file files[] = {{"in.txt", "A-", 2}, {"two.txt", "", 0}};
  spec.files = files;
  spec.nfiles = 2;
  spec.stdin_data = "from stdin";
  spec.stdin_len = strlen("from stdin");
  run_sh(&spec, "cat in.txt two.txt -; ls");
  ck_assert_int_eq(res.reason, SRM_PROC_OK);
  ck_assert(out_is("A-from stdinin.txt\ntwo.txt\n"));
  srm_proc_release(&proc);
}
END_TEST

START_TEST(environment_is_empty_but_path_and_home) {
  struct srm_proc_spec spec;
  defaults(&spec);
  spec.no_namespaces = _i;
  setenv("SRM_TEST_SECRET", "hunter2", 1);
  static const char *argv[] = {"env", NULL};
  spec.argv = argv;
  ck_assert_int_eq(srm_proc_run(&proc, &spec, &res), 0);
  char want[4200];
  snprintf(want, sizeof want, "PATH=/usr/bin:/bin\nHOME=%s\n", proc.workdir);
  ck_assert_int_eq(res.reason, SRM_PROC_OK);
  ck_assert(out_is(want));
  srm_proc_release(&proc);
  unsetenv("SRM_TEST_SECRET");
}
END_TEST

START_TEST(wall_timeout_kills_the_group) {
  struct srm_proc_spec spec;
  defaults(&spec);
  spec.no_namespaces = _i;
  spec.timeout_s = 0.3;
  run_sh(&spec, "sleep 30 & sleep 30");
  ck_assert_int_eq(res.reason, SRM_PROC_TIMEOUT);
  ck_assert_int_eq(res.timed_out, 1);
  ck_assert_int_eq(res.signal, SIGKILL);
  ck_assert_msg(res.wall_ms >= 290 && res.wall_ms < 2000, "wall %f", res.wall_ms);
  ck_assert_str_eq(res.message, "wall-clock limit of 0.3 s exceeded");
  srm_proc_release(&proc);
}
END_TEST

START_TEST(cpu_limit_is_a_timeout) {
  struct srm_proc_spec spec;
  defaults(&spec);
  spec.no_namespaces = _i;
  spec.cpu_s = 1;
  run_sh(&spec, "while :; do :; done");
  ck_assert_int_eq(res.reason, SRM_PROC_TIMEOUT);
  ck_assert_int_eq(res.timed_out, 0);
  ck_assert_str_eq(res.message, "CPU time limit of 1 s exceeded");
  /* the kernel samples CPU time by ticks: on a loaded machine the child may be charged a little
  ** under the limit when SIGXCPU arrives */
  ck_assert_msg(res.cpu_ms >= 800, "cpu %f", res.cpu_ms);
  srm_proc_release(&proc);
}
END_TEST

START_TEST(output_over_the_cap_kills_and_keeps_the_head) {
  struct srm_proc_spec spec;
  defaults(&spec);
  spec.no_namespaces = _i;
  spec.max_output = 4096;
  run_sh(&spec, "yes");
  ck_assert_int_eq(res.reason, SRM_PROC_OUTPUT_LIMIT);
  ck_assert_int_eq((int)res.out_len, 4096);
  ck_assert_int_eq(res.truncated, 1);
  ck_assert(memcmp(res.out, "y\ny\ny\n", 6) == 0);
  srm_proc_release(&proc);
}
END_TEST

START_TEST(file_size_limit) {
  struct srm_proc_spec spec;
  defaults(&spec);
  spec.no_namespaces = _i;
  spec.file_mb = 1;
  run_sh(&spec, "exec head -c 3000000 /dev/zero > big");
  ck_assert_int_eq(res.reason, SRM_PROC_OUTPUT_LIMIT);
  ck_assert_int_eq(res.signal, SIGXFSZ);
  ck_assert_str_eq(res.message, "file size limit exceeded");
  srm_proc_release(&proc);
}
END_TEST

START_TEST(crash_and_kill_signals) {
  struct srm_proc_spec spec;
  defaults(&spec);
  spec.no_namespaces = _i;
  run_sh(&spec, "kill -SEGV $$");
  ck_assert_int_eq(res.reason, SRM_PROC_CRASHED);
  ck_assert_int_eq(res.signal, SIGSEGV);
  ck_assert_int_eq(res.exit_code, -1);
  srm_proc_release(&proc);
  run_sh(&spec, "kill -TERM $$");
  ck_assert_int_eq(res.reason, SRM_PROC_KILLED);
  ck_assert_int_eq(res.signal, SIGTERM);
  srm_proc_release(&proc);
}
END_TEST

START_TEST(missing_command_is_a_spawn_failure) {
  struct srm_proc_spec spec;
  defaults(&spec);
  spec.no_namespaces = _i;
  static const char *argv[] = {"no-such-command-srm", NULL};
  spec.argv = argv;
  ck_assert_int_eq(srm_proc_run(&proc, &spec, &res), 0);
  ck_assert_int_eq(res.reason, SRM_PROC_SPAWN_FAILED);
  ck_assert_str_eq(res.message,
                   "sandbox setup failed: exec no-such-command-srm: No such file or directory");
  srm_proc_release(&proc);
}
END_TEST

START_TEST(bad_file_names_are_refused) {
  ck_assert(!srm_proc_valid_name("../x"));
  ck_assert(!srm_proc_valid_name("a/b"));
  ck_assert(!srm_proc_valid_name(".."));
  ck_assert(!srm_proc_valid_name(""));
  ck_assert(srm_proc_valid_name("main.py"));
  struct srm_proc_spec spec;
  defaults(&spec);
  struct srm_proc_file files[] = {{"../escape", "x", 1}};
  spec.files = files;
  spec.nfiles = 1;
  static const char *argv[] = {"true", NULL};
  spec.argv = argv;
  ck_assert_int_eq(srm_proc_run(&proc, &spec, &res), -1);
  ck_assert_int_eq(res.reason, SRM_PROC_SPAWN_FAILED);
  ck_assert_str_eq(res.message, "bad file name '../escape'");
}
END_TEST

START_TEST(working_directory_is_removed) {
  struct srm_proc_spec spec;
  defaults(&spec);
  spec.no_namespaces = _i;
  run_sh(&spec, "mkdir -p a/b/c && echo x > a/b/c/f && ln -s / a/root && chmod 000 a/b");
  ck_assert_int_eq(res.reason, SRM_PROC_OK);
  ck_assert_int_eq(res.exit_code, 0);
  char dir[4200];
  snprintf(dir, sizeof dir, "%s", proc.workdir);
  struct stat st;
  ck_assert_int_eq(stat(dir, &st), 0);
  srm_proc_release(&proc);
  ck_assert_int_eq(stat(dir, &st), -1);
  ck_assert_int_eq(stat("/usr/bin", &st), 0); /* the symlink to / was not followed */
}
END_TEST

START_TEST(writes_outside_the_working_directory_fail) {
  struct srm_proc_spec spec;
  defaults(&spec);
  spec.no_namespaces = _i;
  char path[128];
  snprintf(path, sizeof path, "/tmp/srm-proc-escape-%ld", (long)getpid());
  unlink(path);
  char script[256];
  snprintf(script, sizeof script, "echo pwned > %s; echo rc=$?", path);
  run_sh(&spec, script);
  ck_assert_int_eq(res.reason, SRM_PROC_OK);
  ck_assert(out_is("rc=2\n"));
  ck_assert_int_eq(access(path, F_OK), -1);
  srm_proc_release(&proc);
}
END_TEST

int main(void) {
  Suite *s = suite_create("proc");
  TCase *tc = tcase_create("sandbox");
  tcase_set_timeout(tc, 60);
  /* Each test runs twice: _i = 0 with namespaces (when permitted), _i = 1 without. */
  tcase_add_loop_test(tc, output_streams_and_exit_code, 0, 2);
  tcase_add_loop_test(tc, stdin_and_files_reach_the_program, 0, 2);
  tcase_add_loop_test(tc, environment_is_empty_but_path_and_home, 0, 2);
  tcase_add_loop_test(tc, wall_timeout_kills_the_group, 0, 2);
  tcase_add_loop_test(tc, cpu_limit_is_a_timeout, 0, 2);
  tcase_add_loop_test(tc, output_over_the_cap_kills_and_keeps_the_head, 0, 2);
  tcase_add_loop_test(tc, file_size_limit, 0, 2);
  tcase_add_loop_test(tc, crash_and_kill_signals, 0, 2);
  tcase_add_loop_test(tc, missing_command_is_a_spawn_failure, 0, 2);
  tcase_add_test(tc, bad_file_names_are_refused);
  tcase_add_loop_test(tc, working_directory_is_removed, 0, 2);
  tcase_add_loop_test(tc, writes_outside_the_working_directory_fail, 0, 2);
  suite_add_tcase(s, tc);
  return srm_check_run(s);
}
