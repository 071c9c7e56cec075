/* srm: the process sandbox (see srm_proc.h). The parent side opens three pipes and forks; the
** child sets itself up step by step (session, uid, namespaces, working directory, files, stdin,
** Landlock, seccomp, rlimits) and reports each failure as a fixed-size message on the status
** pipe before exiting with 127. With a new pid namespace the direct child stays outside as a
** small reaper that mirrors the exit status of the namespace's first process, so when that
** process ends the kernel kills everything it left behind. */
#include "srm_proc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- Landlock ABI (declared here: Debian 12's kernel headers predate ABI 4) ---- */

#define LL_CREATE_RULESET_VERSION (1u << 0)
#define LL_RULE_PATH_BENEATH 1
#define LL_FS_EXECUTE (1ull << 0)
#define LL_FS_WRITE_FILE (1ull << 1)
#define LL_FS_READ_FILE (1ull << 2)
#define LL_FS_READ_DIR (1ull << 3)
#define LL_FS_ALL_V1 ((1ull << 13) - 1) /* EXECUTE .. MAKE_SYM */
#define LL_FS_REFER (1ull << 13)        /* ABI 2 */
#define LL_FS_TRUNCATE (1ull << 14)     /* ABI 3 */
#define LL_NET_BIND_TCP (1ull << 0)     /* ABI 4 */
#define LL_NET_CONNECT_TCP (1ull << 1)
#define LL_SCOPE_ABSTRACT_UNIX (1ull << 0) /* ABI 6 */
#define LL_SCOPE_SIGNAL (1ull << 1)

struct ll_ruleset_attr {
  uint64_t handled_access_fs;
  uint64_t handled_access_net;
  uint64_t scoped;
};

struct ll_path_beneath_attr {
  uint64_t allowed_access;
  int32_t parent_fd;
} __attribute__((packed));

#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#define SYS_landlock_add_rule 445
#define SYS_landlock_restrict_self 446
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1u << 2)
#endif

/* ---- status messages from the child ---- */

enum { MSG_READY, MSG_FAILED, MSG_EXIT };

struct status_msg {
  int32_t kind; /* MSG_READY: about to exec; MSG_FAILED: a step failed; MSG_EXIT: wait status */
  int32_t err;  /* errno of the failed step, or the program's wait status */
  uint32_t isolation;
  char stage[52];
};

/* Directories the child may read below (besides its working directory and read_paths). */
static const char *const system_read_paths[] = {
    "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/dev", "/proc", "/sys",
};

/* ---- uid slots: when srm runs as root, each concurrent run gets a uid of its own ---- */

#define UID_SLOTS 65536
static pthread_mutex_t slot_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned char slot_used[UID_SLOTS / 8];
static unsigned slot_next;
static uid_t slot_base;

static int slot_acquire(void) {
  pthread_mutex_lock(&slot_lock);
  if (slot_base == 0) /* per process, so two srm processes rarely share uids */
    slot_base = (uid_t)(0x40000000u + ((unsigned)getpid() % 8192u) * (unsigned)UID_SLOTS);
  int slot = -1;
  for (unsigned i = 0; i < UID_SLOTS; i++) {
    unsigned k = (slot_next + i) % UID_SLOTS;
    if (!(slot_used[k / 8] & (1u << (k % 8)))) {
      slot_used[k / 8] |= (unsigned char)(1u << (k % 8));
      slot_next = k + 1;
      slot = (int)k;
      break;
    }
  }
  pthread_mutex_unlock(&slot_lock);
  return slot;
}

static void slot_release(int slot) {
  if (slot < 0) return;
  pthread_mutex_lock(&slot_lock);
  slot_used[slot / 8] &= (unsigned char)~(1u << (slot % 8));
  pthread_mutex_unlock(&slot_lock);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void srm_proc_spec_defaults(struct srm_proc_spec *spec) {
  memset(spec, 0, sizeof *spec);
  spec->timeout_s = SRM_PROC_DEFAULT_TIMEOUT_S;
  spec->cpu_s = SRM_PROC_DEFAULT_CPU_S;
  spec->memory_mb = SRM_PROC_DEFAULT_MEMORY_MB;
  spec->nproc = SRM_PROC_DEFAULT_NPROC;
  spec->file_mb = SRM_PROC_DEFAULT_FILE_MB;
  spec->nofile = SRM_PROC_DEFAULT_NOFILE;
  spec->disk_mb = SRM_PROC_DEFAULT_DISK_MB;
  spec->max_output = SRM_PROC_DEFAULT_MAX_OUTPUT;
}

int srm_proc_valid_name(const char *name) {
  if (!name || !*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) return 0;
  size_t n = 0;
  for (const char *c = name; *c; c++, n++) {
    int ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
             *c == '.' || *c == '_' || *c == '-';
    if (!ok) return 0;
  }
  return n <= 128;
}

/* ---- the child ---- */

struct child_ctx {
  const struct srm_proc_spec *spec;
  const char *workdir;
  pid_t parent;
  int drop_uid; /* srm runs as root: switch to uid/gid */
  uid_t uid;
  gid_t gid;
  int out_w, err_w, status_w;
};

static void write_all(int fd, const void *data, size_t len) {
  const char *p = data;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    p += n;
    len -= (size_t)n;
  }
}

static void send_status(int fd, int kind, int err, unsigned isolation, const char *stage) {
  struct status_msg m;
  memset(&m, 0, sizeof m);
  m.kind = kind;
  m.err = err;
  m.isolation = isolation;
  snprintf(m.stage, sizeof m.stage, "%s", stage);
  write_all(fd, &m, sizeof m);
}

__attribute__((noreturn)) static void child_fail(const struct child_ctx *c, const char *stage,
                                                 int err) {
  send_status(c->status_w, MSG_FAILED, err, 0, stage);
  _exit(127);
}

static int write_text(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = write(fd, text, strlen(text));
  int saved = errno;
  close(fd);
  errno = saved;
  return n == (ssize_t)strlen(text) ? 0 : -1;
}

static void reset_signals(void) {
  for (int sig = 1; sig < NSIG; sig++) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    signal(sig, SIG_DFL);
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
}

/* The direct child when a pid namespace exists: waits for the namespace's first process and
** ends the same way, so the parent's wait4 sees the usage of everything below it. */
__attribute__((noreturn)) static void reaper(pid_t inner) {
  if (syscall(SYS_close_range, 0u, ~0u, 0u) != 0) {
    for (int fd = 0; fd < 1024; fd++)
      close(fd);
  }
  int st = 0;
  while (waitpid(inner, &st, 0) < 0) {
    if (errno != EINTR) _exit(126);
  }
  if (WIFEXITED(st)) _exit(WEXITSTATUS(st));
  if (WIFSIGNALED(st)) {
    int sig = WTERMSIG(st);
    signal(sig, SIG_DFL);
    raise(sig);
    _exit(128 + sig);
  }
  _exit(126);
}

/* The first process of the pid namespace. The program runs as its child, not as pid 1, so it
** keeps ordinary signal semantics (a pid 1 ignores SIGXCPU, SIGXFSZ and signals it sends itself).
** Reaps everything, then reports the program's wait status on the status pipe and exits, which
** makes the kernel kill whatever is left in the namespace. */
__attribute__((noreturn)) static void ns_init(const struct child_ctx *c, pid_t program) {
  int keep = c->status_w;
  if (keep > 0) syscall(SYS_close_range, 0u, (unsigned)keep - 1, 0u);
  syscall(SYS_close_range, (unsigned)keep + 1, ~0u, 0u);
  int st = 0;
  for (;;) {
    int s = 0;
    pid_t w = waitpid(-1, &s, 0);
    if (w == program) {
      st = s;
      break;
    }
    if (w < 0 && errno != EINTR) {
      st = 0xff00;
      break;
    }
  }
  send_status(keep, MSG_EXIT, st, 0, "exit");
  _exit(0);
}

/* New user, network, pid, mount, IPC and UTS namespaces, when the kernel permits them.
** Returns the isolation bits gained; with SRM_PROC_ISO_PIDNS the caller is now the first process
** of the new pid namespace (its parent, the reaper, never returns). */
static unsigned enter_namespaces(const struct child_ctx *c) {
  prctl(PR_SET_DUMPABLE, 1); /* a changed uid clears it; /proc/self/uid_map needs it */
  uid_t uid = geteuid();     /* before unshare: unmapped ids read as the overflow id after */
  gid_t gid = getegid();
  if (unshare(CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC |
              CLONE_NEWUTS) != 0)
    return 0;
  char map[64];
  if (write_text("/proc/self/setgroups", "deny") != 0) child_fail(c, "setgroups deny", errno);
  snprintf(map, sizeof map, "%u %u 1", (unsigned)uid, (unsigned)uid);
  if (write_text("/proc/self/uid_map", map) != 0) child_fail(c, "uid_map", errno);
  snprintf(map, sizeof map, "%u %u 1", (unsigned)gid, (unsigned)gid);
  if (write_text("/proc/self/gid_map", map) != 0) child_fail(c, "gid_map", errno);
  unsigned iso = SRM_PROC_ISO_USERNS | SRM_PROC_ISO_NETNS;
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0) {
    char opts[128];
    snprintf(opts, sizeof opts, "size=%ldm,nr_inodes=%ld,mode=0700,uid=%u,gid=%u", c->spec->disk_mb,
             c->spec->disk_mb * 64 + 64, (unsigned)uid, (unsigned)gid);
    if (mount("tmpfs", c->workdir, "tmpfs", MS_NOSUID | MS_NODEV, opts) == 0)
      iso |= SRM_PROC_ISO_TMPFS;
  }
  pid_t init = fork();
  if (init < 0) child_fail(c, "fork into the pid namespace", errno);
  if (init > 0) reaper(init);
  prctl(PR_SET_PDEATHSIG, SIGKILL); /* dies with the reaper */
  /* Our own /proc, so the program sees only its namespace's processes. */
  mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
  pid_t program = fork();
  if (program < 0) child_fail(c, "fork the program", errno);
  if (program > 0) ns_init(c, program);
  prctl(PR_SET_PDEATHSIG, SIGKILL); /* dies with the namespace's init */
  iso |= SRM_PROC_ISO_PIDNS;
  return iso;
}

static void add_path_rule(int ruleset, const char *path, uint64_t access) {
  int fd = open(path, O_PATH | O_CLOEXEC);
  if (fd < 0) return;
  struct stat st;
  if (fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode)) /* files take file rights only */
    access &= LL_FS_EXECUTE | LL_FS_WRITE_FILE | LL_FS_READ_FILE | LL_FS_TRUNCATE;
  struct ll_path_beneath_attr rule = {access, fd};
  syscall(SYS_landlock_add_rule, ruleset, LL_RULE_PATH_BENEATH, &rule, 0);
  close(fd);
}

/* Writes only below the working directory, reads only below the system directories; with ABI 4
** no TCP, with ABI 6 no signals or abstract sockets outside the sandbox. 1 when applied. */
static int apply_landlock(const struct child_ctx *c) {
  long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LL_CREATE_RULESET_VERSION);
  if (abi < 1) return 0;
  struct ll_ruleset_attr attr;
  memset(&attr, 0, sizeof attr);
  uint64_t fs = LL_FS_ALL_V1;
  if (abi >= 2) fs |= LL_FS_REFER;
  if (abi >= 3) fs |= LL_FS_TRUNCATE;
  attr.handled_access_fs = fs;
  size_t size = sizeof(uint64_t);
  if (abi >= 4) {
    attr.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
    size = 2 * sizeof(uint64_t);
  }
  if (abi >= 6) {
    attr.scoped = LL_SCOPE_ABSTRACT_UNIX | LL_SCOPE_SIGNAL;
    size = sizeof attr;
  }
  int ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0u);
  if (ruleset < 0) return 0;
  uint64_t read = LL_FS_READ_FILE | LL_FS_READ_DIR | LL_FS_EXECUTE;
  for (size_t i = 0; i < sizeof system_read_paths / sizeof system_read_paths[0]; i++)
    add_path_rule(ruleset, system_read_paths[i], read);
  if (c->spec->read_paths) {
    for (const char *const *p = c->spec->read_paths; *p; p++)
      add_path_rule(ruleset, *p, read);
  }
  add_path_rule(ruleset, "/dev/null", read | LL_FS_WRITE_FILE | (abi >= 3 ? LL_FS_TRUNCATE : 0));
  add_path_rule(ruleset, ".", fs); /* the working directory (cwd by now) */
  int ok = syscall(SYS_landlock_restrict_self, ruleset, 0u) == 0;
  close(ruleset);
  return ok;
}

/* No sockets except AF_UNIX, no io_uring (it can open sockets), no foreign syscall ABIs. */
static int apply_seccomp(void) {
#if defined(__x86_64__) || defined(__aarch64__)
#if defined(__x86_64__)
#define SRM_AUDIT_ARCH AUDIT_ARCH_X86_64
#else
#define SRM_AUDIT_ARCH AUDIT_ARCH_AARCH64
#endif
  struct sock_filter filter[] = {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SRM_AUDIT_ARCH, 1, 0),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
#if defined(__x86_64__)
    BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u /* x32 */, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
#endif
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_socket, 1, 0),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_UNIX, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EAFNOSUPPORT & SECCOMP_RET_DATA)),
  };
  struct sock_fprog prog = {(unsigned short)(sizeof filter / sizeof filter[0]), filter};
  return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) == 0;
#else
  return 0;
#endif
}

static void set_limit(const struct child_ctx *c, int resource, rlim_t soft, rlim_t hard,
                      const char *what) {
  struct rlimit rl = {soft, hard};
  if (setrlimit(resource, &rl) != 0) child_fail(c, what, errno);
}

static void write_files(const struct child_ctx *c) {
  for (size_t i = 0; i < c->spec->nfiles; i++) {
    const struct srm_proc_file *f = &c->spec->files[i];
    int fd = open(f->name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) child_fail(c, "create a file", errno);
    const char *p = f->data;
    size_t left = f->len;
    while (left > 0) {
      ssize_t n = write(fd, p, left);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) child_fail(c, "write a file", n < 0 ? errno : ENOSPC);
      p += n;
      left -= (size_t)n;
    }
    close(fd);
  }
}

static void setup_stdin(const struct child_ctx *c) {
  int fd;
  if (c->spec->stdin_len > 0) {
    fd = memfd_create("stdin", MFD_CLOEXEC);
    if (fd < 0) child_fail(c, "memfd_create", errno);
    const char *p = c->spec->stdin_data;
    size_t left = c->spec->stdin_len;
    while (left > 0) {
      ssize_t n = write(fd, p, left);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) child_fail(c, "write stdin", n < 0 ? errno : ENOSPC);
      p += n;
      left -= (size_t)n;
    }
    if (lseek(fd, 0, SEEK_SET) != 0) child_fail(c, "rewind stdin", errno);
  } else {
    fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0) child_fail(c, "open /dev/null", errno);
  }
  if (dup2(fd, 0) < 0) child_fail(c, "dup2 stdin", errno);
  close(fd);
}

__attribute__((noreturn)) static void child_main(const struct child_ctx *c) {
  const struct srm_proc_spec *spec = c->spec;
  reset_signals();
  if (setsid() < 0) child_fail(c, "setsid", errno);
  set_limit(c, RLIMIT_CORE, 0, 0, "setrlimit core");
  if (mkdir(c->workdir, 0700) != 0) child_fail(c, "mkdir the working directory", errno);
  unsigned iso = 0;
  if (c->drop_uid) {
    if (chown(c->workdir, c->uid, c->gid) != 0) child_fail(c, "chown", errno);
    if (setgroups(0, NULL) != 0) child_fail(c, "setgroups", errno);
    if (setresgid(c->gid, c->gid, c->gid) != 0) child_fail(c, "setresgid", errno);
    if (setresuid(c->uid, c->uid, c->uid) != 0) child_fail(c, "setresuid", errno);
    iso |= SRM_PROC_ISO_UID;
  }
  prctl(PR_SET_PDEATHSIG, SIGKILL); /* after the uid change, which clears it */
  if (getppid() != c->parent) _exit(127);
  if (!spec->no_namespaces) iso |= enter_namespaces(c);
  if (chdir(c->workdir) != 0) child_fail(c, "chdir to the working directory", errno);
  write_files(c);
  setup_stdin(c);
  if (dup2(c->out_w, 1) < 0 || dup2(c->err_w, 2) < 0) child_fail(c, "dup2", errno);
  /* Everything else (the parent's sockets, other runs' pipes) closes at exec; the status pipe
  ** stays usable until then. */
  if (syscall(SYS_close_range, 3u, ~0u, CLOSE_RANGE_CLOEXEC) != 0) {
    for (int fd = 3; fd < 65536; fd++)
      if (fd != c->status_w) close(fd);
  }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) child_fail(c, "no_new_privs", errno);
  if (apply_landlock(c)) iso |= SRM_PROC_ISO_LANDLOCK;
  if (apply_seccomp()) iso |= SRM_PROC_ISO_SECCOMP;
  if (!(iso & (SRM_PROC_ISO_NETNS | SRM_PROC_ISO_SECCOMP)))
    child_fail(c, "no network isolation (neither a network namespace nor seccomp)", ENOSYS);
  rlim_t mb = 1024 * 1024;
  set_limit(c, RLIMIT_CPU, (rlim_t)spec->cpu_s, (rlim_t)spec->cpu_s + 1, "setrlimit cpu");
  /* In a pid namespace the reaper and the init count too (the count is per user namespace). */
  rlim_t nproc = (rlim_t)spec->nproc + ((iso & SRM_PROC_ISO_PIDNS) ? 2 : 0);
  set_limit(c, RLIMIT_NPROC, nproc, nproc, "setrlimit nproc");
  set_limit(c, RLIMIT_FSIZE, (rlim_t)spec->file_mb * mb, (rlim_t)spec->file_mb * mb,
            "setrlimit fsize");
  set_limit(c, RLIMIT_NOFILE, (rlim_t)spec->nofile, (rlim_t)spec->nofile, "setrlimit nofile");

  char home[4200];
  snprintf(home, sizeof home, "HOME=%s", c->workdir);
  char *envp[] = {"PATH=/usr/bin:/bin", home, NULL};
  char *const *argv = (char *const *)spec->argv;
  const char *name = spec->argv[0];
  /* The address-space limit last: nothing below allocates. */
  set_limit(c, RLIMIT_AS, (rlim_t)spec->memory_mb * mb, (rlim_t)spec->memory_mb * mb,
            "setrlimit as");
  send_status(c->status_w, MSG_READY, 0, iso, "exec");
  int err = ENOENT;
  if (strchr(name, '/')) {
    execve(name, argv, envp);
    err = errno;
  } else {
    static const char *const dirs[] = {"/usr/bin/", "/bin/"};
    char path[4200];
    for (size_t i = 0; i < 2; i++) {
      snprintf(path, sizeof path, "%s%s", dirs[i], name);
      execve(path, argv, envp);
      if (errno != ENOENT) err = errno;
    }
  }
  char stage[52];
  snprintf(stage, sizeof stage, "exec %s", name);
  child_fail(c, stage, err);
}

/* ---- the parent ---- */

static void close_fd(int *fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

int srm_proc_spawn(struct srm_proc *p, const struct srm_proc_spec *spec, char *err, size_t errlen) {
  memset(p, 0, sizeof *p);
  p->pid = -1;
  p->pidfd = -1;
  p->uid_slot = -1;
  for (int i = 0; i < SRM_PROC_NSTREAMS; i++)
    p->fd[i] = -1;
  p->max_output = spec->max_output;
  p->cpu_s = spec->cpu_s;
  p->timeout_s = spec->timeout_s;
  if (!spec->argv || !spec->argv[0] || !spec->argv[0][0]) {
    snprintf(err, errlen, "no command");
    return -1;
  }
  for (size_t i = 0; i < spec->nfiles; i++) {
    if (!srm_proc_valid_name(spec->files[i].name)) {
      snprintf(err, errlen, "bad file name '%s'", spec->files[i].name ? spec->files[i].name : "");
      return -1;
    }
  }
  const char *root = spec->tmp_root;
  if (!root || !*root) root = getenv("TMPDIR");
  if (!root || root[0] != '/') root = "/tmp";
  static _Atomic unsigned long counter;
  unsigned long long rnd = 0;
  if (getrandom(&rnd, sizeof rnd, GRND_NONBLOCK) != (ssize_t)sizeof rnd)
    rnd = (unsigned long long)(now_s() * 1e9);
  size_t wlen = strlen(root) + 64;
  p->workdir = malloc(wlen);
  if (!p->workdir) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  snprintf(p->workdir, wlen, "%s/srm-code-%ld-%lu-%016llx", root, (long)getpid(), ++counter, rnd);
  if (strlen(p->workdir) > 4000) {
    snprintf(err, errlen, "temporary directory path too long");
    srm_proc_release(p);
    return -1;
  }

  int pipes[SRM_PROC_NSTREAMS][2];
  int made = 0;
  for (; made < SRM_PROC_NSTREAMS; made++) {
    if (pipe2(pipes[made], O_CLOEXEC) != 0) break;
  }
  if (made < SRM_PROC_NSTREAMS) {
    snprintf(err, errlen, "pipe: %s", strerror(errno));
    for (int i = 0; i < made; i++) {
      close(pipes[i][0]);
      close(pipes[i][1]);
    }
    srm_proc_release(p);
    return -1;
  }
  struct child_ctx c;
  memset(&c, 0, sizeof c);
  c.spec = spec;
  c.workdir = p->workdir;
  c.parent = getpid();
  if (geteuid() == 0) {
    p->uid_slot = slot_acquire();
    if (p->uid_slot < 0) {
      snprintf(err, errlen, "too many concurrent sandboxed runs");
      for (int i = 0; i < SRM_PROC_NSTREAMS; i++) {
        close(pipes[i][0]);
        close(pipes[i][1]);
      }
      srm_proc_release(p);
      return -1;
    }
    c.drop_uid = 1;
    c.uid = slot_base + (uid_t)p->uid_slot;
    c.gid = (gid_t)c.uid;
  }
  c.out_w = pipes[SRM_PROC_STDOUT][1];
  c.err_w = pipes[SRM_PROC_STDERR][1];
  c.status_w = pipes[SRM_PROC_STATUS][1];
  p->started = now_s();
  pid_t pid = fork();
  if (pid == 0) child_main(&c);
  int fork_errno = errno;
  for (int i = 0; i < SRM_PROC_NSTREAMS; i++) {
    close(pipes[i][1]);
    p->fd[i] = pipes[i][0];
  }
  if (pid < 0) {
    snprintf(err, errlen, "fork: %s", strerror(fork_errno));
    srm_proc_release(p);
    return -1;
  }
  p->pid = pid;
  for (int i = 0; i < SRM_PROC_NSTREAMS; i++)
    fcntl(p->fd[i], F_SETFL, fcntl(p->fd[i], F_GETFL) | O_NONBLOCK);
  p->pidfd = (int)syscall(SYS_pidfd_open, pid, 0u);
  if (p->pidfd >= 0) fcntl(p->pidfd, F_SETFD, FD_CLOEXEC);
  return 0;
}

/* Appends to a stream's buffer, keeping at most cap bytes; 1 when bytes were dropped. */
static int buf_append(struct srm_proc_buf *b, const char *data, size_t n, size_t cap) {
  size_t keep = b->len < cap ? cap - b->len : 0;
  if (keep > n) keep = n;
  if (keep > 0) {
    if (b->len + keep > b->cap) {
      size_t want = b->cap ? b->cap * 2 : 4096;
      while (want < b->len + keep)
        want *= 2;
      if (want > cap) want = cap;
      char *d = realloc(b->data, want);
      if (!d) return 1;
      b->data = d;
      b->cap = want;
    }
    memcpy(b->data + b->len, data, keep);
    b->len += keep;
  }
  return keep < n;
}

int srm_proc_pump(struct srm_proc *p, int stream) {
  int fd = p->fd[stream];
  if (fd < 0) return 1;
  size_t cap = stream == SRM_PROC_STATUS ? 16 * sizeof(struct status_msg) : p->max_output;
  char chunk[16384];
  /* Bounded work per call: the poll loop calls again while the pipe stays readable. */
  for (int round = 0; round < 64; round++) {
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n > 0) {
      if (buf_append(&p->buf[stream], chunk, (size_t)n, cap) && stream != SRM_PROC_STATUS &&
          !p->overflowed) {
        p->overflowed = 1;
        srm_proc_kill(p, 0);
      }
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return 0;
    close_fd(&p->fd[stream]);
    return 1;
  }
  return 0;
}

void srm_proc_kill(struct srm_proc *p, int timed_out) {
  if (timed_out && !p->exited) p->timed_out = 1;
  if (p->pid <= 0 || p->exited) return;
  kill(-p->pid, SIGKILL);
  kill(p->pid, SIGKILL); /* in case it has not called setsid yet */
}

int srm_proc_reap(struct srm_proc *p) {
  if (p->exited) return 1;
  if (p->pid <= 0) return 0;
  int st = 0;
  struct rusage ru;
  memset(&ru, 0, sizeof ru);
  pid_t r = wait4(p->pid, &st, WNOHANG, &ru);
  if (r == 0 || (r < 0 && errno == EINTR)) return 0;
  if (r < 0) st = 0xff00; /* reaped elsewhere (SIGCHLD ignored): unknown, report exit 255 */
  p->ended = now_s();
  kill(-p->pid, SIGKILL); /* whatever the program left in its group */
  p->exited = 1;
  p->wstatus = st;
  p->usage = ru;
  /* Everything the child wrote is in the pipes now; a process that escaped the group may keep
  ** them open, so read what is there and stop. */
  for (int i = 0; i < SRM_PROC_NSTREAMS; i++) {
    for (int k = 0; k < 1024 && p->fd[i] >= 0; k++) {
      if (srm_proc_pump(p, i)) break;
      struct pollfd pfd = {p->fd[i], POLLIN, 0};
      if (poll(&pfd, 1, 0) <= 0) break;
    }
    close_fd(&p->fd[i]);
  }
  return 1;
}

/* Reads the status messages (the buffer is malloc'ed, so they are aligned): the isolation bits,
** the failed step (or NULL) and the program's wait status reported by the namespace's init. */
static unsigned status_isolation(const struct srm_proc *p, const struct status_msg **failure,
                                 const struct status_msg **exit_report) {
  unsigned iso = 0;
  *failure = NULL;
  if (exit_report) *exit_report = NULL;
  const struct srm_proc_buf *b = &p->buf[SRM_PROC_STATUS];
  for (size_t off = 0; off + sizeof(struct status_msg) <= b->len;
       off += sizeof(struct status_msg)) {
    const struct status_msg *m = (const struct status_msg *)(const void *)(b->data + off);
    if (m->kind == MSG_FAILED)
      *failure = m;
    else if (m->kind == MSG_EXIT && exit_report)
      *exit_report = m;
    else if (m->kind == MSG_READY)
      iso = m->isolation;
  }
  return iso;
}

/* The tail of stderr mentions running out of memory (Python, C++, glibc, Go, Java). */
static int mentions_memory(const char *s, size_t len) {
  static const char *const needles[] = {"MemoryError", "std::bad_alloc", "Cannot allocate memory",
                                        "out of memory", "OutOfMemoryError"};
  size_t from = len > 4096 ? len - 4096 : 0;
  for (size_t i = 0; i < sizeof needles / sizeof needles[0]; i++) {
    size_t nl = strlen(needles[i]);
    for (size_t k = from; k + nl <= len; k++)
      if (s[k] == needles[i][0] && memcmp(s + k, needles[i], nl) == 0) return 1;
  }
  return 0;
}

void srm_proc_finish(const struct srm_proc *p, struct srm_proc_result *r) {
  memset(r, 0, sizeof *r);
  const struct status_msg *failure, *exit_report;
  r->isolation = status_isolation(p, &failure, &exit_report);
  r->out = p->buf[SRM_PROC_STDOUT].data ? p->buf[SRM_PROC_STDOUT].data : "";
  r->out_len = p->buf[SRM_PROC_STDOUT].len;
  r->err = p->buf[SRM_PROC_STDERR].data ? p->buf[SRM_PROC_STDERR].data : "";
  r->err_len = p->buf[SRM_PROC_STDERR].len;
  r->timed_out = p->timed_out;
  r->truncated = p->overflowed;
  double end = p->exited ? p->ended : now_s();
  r->wall_ms = (end - p->started) * 1000.0;
  r->cpu_ms = ((double)p->usage.ru_utime.tv_sec + (double)p->usage.ru_stime.tv_sec) * 1000.0 +
              ((double)p->usage.ru_utime.tv_usec + (double)p->usage.ru_stime.tv_usec) / 1000.0;
  r->max_rss_kb = p->usage.ru_maxrss;
  int st = exit_report ? exit_report->err : p->wstatus; /* the program's own status */
  r->exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  r->signal = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
  int sig = r->signal;
  if (failure) {
    char what[64];
    snprintf(what, sizeof what, "%.*s", (int)sizeof failure->stage, failure->stage);
    r->reason = SRM_PROC_SPAWN_FAILED;
    snprintf(r->message, sizeof r->message, "sandbox setup failed: %s: %s", what,
             strerror(failure->err));
  } else if (!p->exited) {
    r->reason = SRM_PROC_KILLED;
    snprintf(r->message, sizeof r->message, "the run was cancelled");
  } else if (p->timed_out) {
    r->reason = SRM_PROC_TIMEOUT;
    snprintf(r->message, sizeof r->message, "wall-clock limit of %g s exceeded", p->timeout_s);
  } else if (p->overflowed) {
    r->reason = SRM_PROC_OUTPUT_LIMIT;
    snprintf(r->message, sizeof r->message, "output over %zu bytes (the program was killed)",
             p->max_output);
  } else if (sig == SIGXCPU || (sig == SIGKILL && r->cpu_ms >= (double)p->cpu_s * 1000.0)) {
    r->reason = SRM_PROC_TIMEOUT;
    snprintf(r->message, sizeof r->message, "CPU time limit of %ld s exceeded", p->cpu_s);
  } else if (sig == SIGXFSZ) {
    r->reason = SRM_PROC_OUTPUT_LIMIT;
    snprintf(r->message, sizeof r->message, "file size limit exceeded");
  } else if (sig != 0) {
    int crash = sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE ||
                sig == SIGABRT || sig == SIGSYS || sig == SIGTRAP;
    if (crash && mentions_memory(r->err, r->err_len))
      r->reason = SRM_PROC_MEMORY;
    else
      r->reason = crash ? SRM_PROC_CRASHED : SRM_PROC_KILLED;
    snprintf(r->message, sizeof r->message, "%s by signal %d (%s)", crash ? "crashed" : "killed",
             sig, strsignal(sig));
  } else if (r->exit_code != 0 && mentions_memory(r->err, r->err_len)) {
    r->reason = SRM_PROC_MEMORY;
    snprintf(r->message, sizeof r->message, "out of memory (limit %s), exit code %d",
             "address space", r->exit_code);
  } else {
    r->reason = SRM_PROC_OK;
    snprintf(r->message, sizeof r->message, "exited with code %d", r->exit_code);
  }
}

/* ---- cleanup ---- */

/* Removes dirfd/name recursively without following links; bounded depth and entry count. */
static int remove_tree_at(int dirfd, const char *name, int depth, long *budget) {
  if (depth > 64 || --*budget < 0) return -1;
  fchmodat(dirfd, name, 0700, 0); /* the program may have made it unreadable */
  int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return -1;
  DIR *d = fdopendir(fd);
  if (!d) {
    close(fd);
    return -1;
  }
  int rc = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    if (--*budget < 0) {
      rc = -1;
      break;
    }
    if (unlinkat(fd, e->d_name, 0) == 0) continue;
    if (errno == EISDIR || errno == EPERM) {
      if (remove_tree_at(fd, e->d_name, depth + 1, budget) != 0) rc = -1;
    } else {
      rc = -1;
    }
  }
  closedir(d);
  if (rc == 0 && unlinkat(dirfd, name, AT_REMOVEDIR) != 0) rc = -1;
  return rc;
}

/* Hands a tree that was too deep or too large to `rm -rf` in a detached process. */
static void remove_tree_detached(const char *path) {
  pid_t pid = fork();
  if (pid == 0) {
    if (fork() == 0) {
      syscall(SYS_close_range, 3u, ~0u, 0u);
      execl("/bin/rm", "rm", "-rf", "--one-file-system", "--", path, (char *)NULL);
      _exit(127);
    }
    _exit(0);
  }
  if (pid > 0) waitpid(pid, NULL, 0);
}

static void remove_workdir(const char *path) {
  if (rmdir(path) == 0 || errno == ENOENT) return;
  long budget = 4096;
  if (remove_tree_at(AT_FDCWD, path, 0, &budget) != 0) remove_tree_detached(path);
}

/* Without a pid namespace, a process that left the group (setsid) may still run under the
** run's uid: kill every process of that uid from a helper that takes the uid. */
static void sweep_uid(uid_t uid) {
  pid_t pid = fork();
  if (pid == 0) {
    if (setresgid(uid, uid, uid) == 0 && setresuid(uid, uid, uid) == 0) kill(-1, SIGKILL);
    _exit(0);
  }
  if (pid > 0) {
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
    }
  }
}

void srm_proc_release(struct srm_proc *p) {
  const struct status_msg *failure;
  unsigned iso = status_isolation(p, &failure, NULL);
  if (p->pid > 0 && !p->exited) {
    srm_proc_kill(p, 0);
    int st;
    while (waitpid(p->pid, &st, 0) < 0 && errno == EINTR) {
    }
    p->exited = 1;
  }
  if (p->pid > 0 && p->uid_slot >= 0 && !(iso & SRM_PROC_ISO_PIDNS))
    sweep_uid(slot_base + (uid_t)p->uid_slot);
  for (int i = 0; i < SRM_PROC_NSTREAMS; i++) {
    close_fd(&p->fd[i]);
    free(p->buf[i].data);
    p->buf[i].data = NULL;
    p->buf[i].len = p->buf[i].cap = 0;
  }
  close_fd(&p->pidfd);
  if (p->workdir) {
    if (p->pid > 0) remove_workdir(p->workdir);
    free(p->workdir);
    p->workdir = NULL;
  }
  slot_release(p->uid_slot);
  p->uid_slot = -1;
  p->pid = -1;
}

/* ---- blocking runner ---- */

int srm_proc_run(struct srm_proc *p, const struct srm_proc_spec *spec, struct srm_proc_result *r) {
  memset(r, 0, sizeof *r);
  if (srm_proc_spawn(p, spec, r->message, sizeof r->message) != 0) {
    r->reason = SRM_PROC_SPAWN_FAILED;
    return -1;
  }
  double deadline = p->started + (spec->timeout_s > 0 ? spec->timeout_s : 1e9);
  while (!p->exited) {
    struct pollfd pfd[SRM_PROC_NSTREAMS + 1];
    int map[SRM_PROC_NSTREAMS + 1];
    nfds_t n = 0;
    for (int i = 0; i < SRM_PROC_NSTREAMS; i++) {
      if (p->fd[i] < 0) continue;
      pfd[n] = (struct pollfd){p->fd[i], POLLIN, 0};
      map[n++] = i;
    }
    if (p->pidfd >= 0) {
      pfd[n] = (struct pollfd){p->pidfd, POLLIN, 0};
      map[n++] = -1;
    }
    double left = deadline - now_s();
    int wait_ms = p->pidfd >= 0 ? (int)(left * 1000.0) + 1 : 5;
    if (wait_ms < 0) wait_ms = 0;
    if (left <= 0 && !p->timed_out) {
      srm_proc_kill(p, 1);
      wait_ms = p->pidfd >= 0 ? 1000 : 5;
    }
    if (poll(pfd, n, wait_ms) < 0 && errno != EINTR) break;
    for (nfds_t i = 0; i < n; i++) {
      if (pfd[i].revents && map[i] >= 0) srm_proc_pump(p, map[i]);
    }
    srm_proc_reap(p);
  }
  srm_proc_finish(p, r);
  return 0;
}

const char *srm_proc_reason_name(enum srm_proc_reason reason) {
  switch (reason) {
  case SRM_PROC_OK:
    return "ok";
  case SRM_PROC_TIMEOUT:
    return "timeout";
  case SRM_PROC_MEMORY:
    return "memory";
  case SRM_PROC_KILLED:
    return "killed";
  case SRM_PROC_CRASHED:
    return "crashed";
  case SRM_PROC_OUTPUT_LIMIT:
    return "output_limit";
  case SRM_PROC_SPAWN_FAILED:
    return "spawn_failed";
  }
  return "unknown";
}
