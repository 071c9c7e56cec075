/* srm: a process sandbox for untrusted programs (pure C, no Lua). srm_proc_spawn() forks a child
** that runs one command under rlimits (CPU, address space, processes, file size, open files, no
** core), in its own session and process group, with an empty environment, a private working
** directory, no network and, where the kernel allows it, new user/network/pid/mount namespaces
** (a pid namespace so nothing outlives the run, a size-capped tmpfs as the working directory),
** Landlock (writes only below the working directory, reads only below system directories) and a
** seccomp filter (no sockets but AF_UNIX, no io_uring). When running as root the child also
** drops to a uid of its own, so runs cannot signal or count against each other.
**
** The parent never blocks: it gets non-blocking pipe ends for stdout, stderr and a status pipe
** (setup errors from the child) plus a pidfd that becomes readable when the child exits. The
** caller (runtime/lsrm_proc.c, or srm_proc_run for a blocking run) watches them, calls
** srm_proc_pump when one is readable, srm_proc_reap when the pidfd is, srm_proc_kill on its wall
** timeout, then srm_proc_finish and srm_proc_release. */
#ifndef SRM_PROC_H
#define SRM_PROC_H

#include <stddef.h>
#include <sys/resource.h>
#include <sys/types.h>

/* Why a run did not simply run to completion (SRM_PROC_OK: it ran; see exit_code/signal). */
enum srm_proc_reason {
  SRM_PROC_OK,
  SRM_PROC_TIMEOUT,      /* wall-clock timeout, or the CPU time limit */
  SRM_PROC_MEMORY,       /* the address-space limit (MemoryError, bad_alloc, ...) */
  SRM_PROC_KILLED,       /* ended by a signal other than a crash */
  SRM_PROC_CRASHED,      /* SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGSYS, SIGTRAP */
  SRM_PROC_OUTPUT_LIMIT, /* stdout or stderr over max_output (killed), or the file size limit */
  SRM_PROC_SPAWN_FAILED, /* the sandbox could not be set up or the command not executed */
};

/* What isolation the child actually got (srm_proc_result.isolation). */
enum {
  SRM_PROC_ISO_USERNS = 1 << 0,
  SRM_PROC_ISO_NETNS = 1 << 1,
  SRM_PROC_ISO_PIDNS = 1 << 2,
  SRM_PROC_ISO_TMPFS = 1 << 3,
  SRM_PROC_ISO_LANDLOCK = 1 << 4,
  SRM_PROC_ISO_SECCOMP = 1 << 5,
  SRM_PROC_ISO_UID = 1 << 6, /* ran under a uid of its own (srm runs as root) */
};

struct srm_proc_file {
  const char *name; /* [A-Za-z0-9._-]+, not "." or "..": created in the working directory */
  const char *data;
  size_t len;
};

struct srm_proc_spec {
  const char *const *argv; /* NULL-terminated; argv[0] without '/' is found in /usr/bin:/bin */
  const struct srm_proc_file *files;
  size_t nfiles;
  const char *stdin_data; /* NULL or empty: stdin is /dev/null */
  size_t stdin_len;
  double timeout_s;              /* wall clock, enforced by the caller (srm_proc_kill) */
  long cpu_s;                    /* RLIMIT_CPU (soft; hard is one second more) */
  long memory_mb;                /* RLIMIT_AS */
  long nproc;                    /* RLIMIT_NPROC */
  long file_mb;                  /* RLIMIT_FSIZE */
  long nofile;                   /* RLIMIT_NOFILE */
  long disk_mb;                  /* size of the private tmpfs (when namespaces are available) */
  size_t max_output;             /* bytes kept per stream; more kills the run */
  const char *const *read_paths; /* NULL-terminated extra readable directories, or NULL */
  const char *tmp_root;          /* where working directories go; NULL: $TMPDIR or /tmp */
  int no_namespaces;             /* 1: skip the namespaces (the fallback path, for tests) */
};

/* Default limits (srm_proc_spec_defaults). */
#define SRM_PROC_DEFAULT_TIMEOUT_S 10.0
#define SRM_PROC_DEFAULT_CPU_S 10
#define SRM_PROC_DEFAULT_MEMORY_MB 1024
#define SRM_PROC_DEFAULT_NPROC 64
#define SRM_PROC_DEFAULT_FILE_MB 64
#define SRM_PROC_DEFAULT_NOFILE 256
#define SRM_PROC_DEFAULT_DISK_MB 64
#define SRM_PROC_DEFAULT_MAX_OUTPUT (1u << 20)

struct srm_proc_buf {
  char *data;
  size_t len, cap;
};

enum { SRM_PROC_STDOUT, SRM_PROC_STDERR, SRM_PROC_STATUS, SRM_PROC_NSTREAMS };

/* One child. Zero it (or let srm_proc_spawn do it); everything is released by srm_proc_release. */
struct srm_proc {
  pid_t pid; /* the child (its pid is also its process group id) */
  int pidfd; /* readable when the child has exited; -1 if the kernel has no pidfd_open */
  int fd[SRM_PROC_NSTREAMS]; /* parent ends, non-blocking; -1 once at EOF */
  struct srm_proc_buf buf[SRM_PROC_NSTREAMS];
  size_t max_output;
  long cpu_s;
  double timeout_s;
  double started, ended;
  int exited; /* reaped: wstatus and usage are valid */
  int wstatus;
  struct rusage usage;
  int timed_out;  /* srm_proc_kill(p, 1) was called */
  int overflowed; /* a stream went over max_output: the run was killed */
  int uid_slot;   /* -1: none */
  char *workdir;  /* absolute path, removed by srm_proc_release */
};

struct srm_proc_result {
  enum srm_proc_reason reason;
  int exit_code;         /* -1 when ended by a signal */
  int signal;            /* 0 when it exited */
  const char *out, *err; /* the kept output (owned by the srm_proc) */
  size_t out_len, err_len;
  int truncated; /* some output was dropped (only with SRM_PROC_OUTPUT_LIMIT) */
  int timed_out;
  double wall_ms, cpu_ms;
  long max_rss_kb;
  unsigned isolation; /* SRM_PROC_ISO_* */
  char message[256];  /* one line: what happened ("exited with code 1", "CPU time limit ...") */
};

void srm_proc_spec_defaults(struct srm_proc_spec *spec);

/* Checks a file name for the working directory: 1 if acceptable. */
int srm_proc_valid_name(const char *name);

/* Starts the child. Returns 0, or -1 with a message in err when nothing was started (pipes or
** fork failed; p is left released). Setup failures inside the child arrive later on the status
** stream and end as SRM_PROC_SPAWN_FAILED. */
int srm_proc_spawn(struct srm_proc *p, const struct srm_proc_spec *spec, char *err, size_t errlen);

/* Reads what is available on one stream (SRM_PROC_STDOUT/STDERR/STATUS). Returns 1 when the
** stream reached EOF (its fd is closed and set to -1), else 0. Output past max_output kills the
** run and sets p->overflowed. */
int srm_proc_pump(struct srm_proc *p, int stream);

/* Non-blocking reap: 1 when the child has exited (then every stream has been drained and any
** process left in the group killed), else 0. */
int srm_proc_reap(struct srm_proc *p);

/* SIGKILLs the child's process group (timed_out marks a wall-clock timeout). */
void srm_proc_kill(struct srm_proc *p, int timed_out);

/* Classifies a reaped run. The result points into p's buffers. */
void srm_proc_finish(const struct srm_proc *p, struct srm_proc_result *r);

/* Kills what is left, reaps it (blocking only when the child is still alive, which only a
** cancelled run does), closes every fd, removes the working directory, frees the buffers. */
void srm_proc_release(struct srm_proc *p);

/* Runs a spec to completion, blocking (poll), for tools and tests. Returns 0 and fills r (which
** then points into *p: srm_proc_release(p) after use), or -1 with a message in r->message. */
int srm_proc_run(struct srm_proc *p, const struct srm_proc_spec *spec, struct srm_proc_result *r);

/* "ok", "timeout", "memory", "killed", "crashed", "output_limit", "spawn_failed" */
const char *srm_proc_reason_name(enum srm_proc_reason reason);

#endif
