/*
 * earshot's native helper: per-thread scheduling for the audio worker.
 *
 * Every call acts on the *calling* thread (its kernel tid), never on the whole
 * process: on Linux nice, affinity and policy are per thread, and the audio
 * worker must change only itself. Errors are thrown as JS errors carrying
 * `errno`, `code` and a message that says which permission is missing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#ifndef P_PIDFD
#define P_PIDFD 3 /* linux/wait.h; older glibc headers lack it */
#endif
#include <unistd.h>
#include <node_api.h>

#define CALL(env, expr)                                                    \
  do {                                                                     \
    if ((expr) != napi_ok) {                                               \
      napi_throw_error((env), "EINTERNAL", "earshot_native: N-API failed"); \
      return NULL;                                                         \
    }                                                                      \
  } while (0)

static pid_t current_tid(void) { return (pid_t)syscall(SYS_gettid); }

static const char *errno_code(int e) {
  switch (e) {
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case EINVAL: return "EINVAL";
    case ESRCH: return "ESRCH";
    case EBADF: return "EBADF";
    case EBUSY: return "EBUSY";
    default: return "EUNKNOWN";
  }
}

/* Throw an Error whose message names the operation, the cause and the fix. */
static napi_value throw_errno(napi_env env, int e, const char *what, const char *hint) {
  char msg[512];
  snprintf(msg, sizeof msg, "%s failed: %s%s%s", what, strerror(e), hint ? " - " : "", hint ? hint : "");
  napi_value code, text, err, num;
  napi_create_string_utf8(env, errno_code(e), NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &text);
  napi_create_error(env, code, text, &err);
  napi_create_int32(env, e, &num);
  napi_set_named_property(env, err, "errno", num);
  napi_throw(env, err);
  return NULL;
}

/* Throw a TypeError (code EINVAL) for a bad argument; returns NULL for the caller to return. */
static napi_value type_error(napi_env env, const char *msg) {
  napi_throw_type_error(env, "EINVAL", msg);
  return NULL;
}

static int arg_int32(napi_env env, napi_callback_info info, size_t want, int32_t *out) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc <= want) return -1;
  return napi_get_value_int32(env, argv[want], out) == napi_ok ? 0 : -1;
}

/* The same for an optional argument: absent leaves *out as it is. */
static int opt_int32(napi_env env, napi_callback_info info, size_t want, int32_t *out) {
  size_t argc = 0;
  if (napi_get_cb_info(env, info, &argc, NULL, NULL, NULL) != napi_ok) return -1;
  return argc <= want ? 0 : arg_int32(env, info, want, out);
}

static napi_value js_int(napi_env env, int64_t v) {
  napi_value out;
  napi_create_int64(env, v, &out);
  return out;
}

static napi_value gettid_js(napi_env env, napi_callback_info info) {
  (void)info;
  return js_int(env, current_tid());
}

static napi_value get_nice(napi_env env, napi_callback_info info) {
  (void)info;
  errno = 0;
  int n = getpriority(PRIO_PROCESS, (id_t)current_tid());
  if (n == -1 && errno) return throw_errno(env, errno, "getpriority", NULL);
  return js_int(env, n);
}

static napi_value set_nice(napi_env env, napi_callback_info info) {
  int32_t n;
  if (arg_int32(env, info, 0, &n)) return type_error(env, "setNice(n): n must be an integer");
  if (setpriority(PRIO_PROCESS, (id_t)current_tid(), n) != 0) {
    int e = errno;
    return throw_errno(env, e, "setpriority (nice)",
                       e == EPERM || e == EACCES
                           ? "lowering nice needs CAP_SYS_NICE or a RLIMIT_NICE that allows it "
                             "(docker: --cap-add SYS_NICE or --ulimit nice=40)"
                           : NULL);
  }
  return js_int(env, n);
}

static napi_value get_affinity(napi_env env, napi_callback_info info) {
  (void)info;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(current_tid(), sizeof set, &set) != 0)
    return throw_errno(env, errno, "sched_getaffinity", NULL);
  napi_value arr;
  CALL(env, napi_create_array(env, &arr));
  uint32_t k = 0;
  for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
    if (CPU_ISSET(cpu, &set)) CALL(env, napi_set_element(env, arr, k++, js_int(env, cpu)));
  return arr;
}

static napi_value set_affinity(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  bool is_array = false;
  CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || napi_is_array(env, argv[0], &is_array) != napi_ok || !is_array)
    return type_error(env, "setAffinity(cpus): cpus must be an array of CPU numbers");
  uint32_t len;
  CALL(env, napi_get_array_length(env, argv[0], &len));
  cpu_set_t set;
  CPU_ZERO(&set);
  for (uint32_t i = 0; i < len; i++) {
    napi_value v;
    int32_t cpu;
    CALL(env, napi_get_element(env, argv[0], i, &v));
    if (napi_get_value_int32(env, v, &cpu) != napi_ok || cpu < 0 || cpu >= CPU_SETSIZE) {
      napi_throw_range_error(env, "EINVAL", "setAffinity(cpus): CPU number out of range");
      return NULL;
    }
    CPU_SET(cpu, &set);
  }
  if (sched_setaffinity(current_tid(), sizeof set, &set) != 0) {
    int e = errno;
    return throw_errno(env, e, "sched_setaffinity",
                       e == EINVAL ? "none of those CPUs is online or allowed by this cgroup's cpuset"
                                   : NULL);
  }
  return get_affinity(env, info);
}

static const char *policy_name(int p) {
  switch (p) {
    case SCHED_OTHER: return "other";
    case SCHED_FIFO: return "fifo";
    case SCHED_RR: return "rr";
#ifdef SCHED_BATCH
    case SCHED_BATCH: return "batch";
#endif
#ifdef SCHED_IDLE
    case SCHED_IDLE: return "idle";
#endif
    default: return "unknown";
  }
}

static napi_value get_scheduler(napi_env env, napi_callback_info info) {
  (void)info;
  pid_t tid = current_tid();
  int policy = sched_getscheduler(tid);
  if (policy < 0) return throw_errno(env, errno, "sched_getscheduler", NULL);
  struct sched_param sp;
  if (sched_getparam(tid, &sp) != 0) return throw_errno(env, errno, "sched_getparam", NULL);
  napi_value out, name;
  CALL(env, napi_create_object(env, &out));
  CALL(env, napi_create_string_utf8(env, policy_name(policy), NAPI_AUTO_LENGTH, &name));
  CALL(env, napi_set_named_property(env, out, "policy", name));
  CALL(env, napi_set_named_property(env, out, "priority", js_int(env, sp.sched_priority)));
  return out;
}

/* setScheduler(policy: 0 other | 1 fifo | 2 rr, priority) */
static napi_value set_scheduler(napi_env env, napi_callback_info info) {
  int32_t policy, prio;
  if (arg_int32(env, info, 0, &policy) || arg_int32(env, info, 1, &prio) ||
      (policy != SCHED_OTHER && policy != SCHED_FIFO && policy != SCHED_RR))
    return type_error(env, "setScheduler(policy, priority): policy must be 0 (other), 1 (fifo) or 2 (rr)");
  struct sched_param sp = {.sched_priority = prio};
  if (sched_setscheduler(current_tid(), policy, &sp) != 0) {
    int e = errno;
    return throw_errno(env, e, "sched_setscheduler",
                       e == EPERM ? "SCHED_FIFO/SCHED_RR need CAP_SYS_NICE or a RLIMIT_RTPRIO at least the "
                                    "priority asked (docker: --cap-add SYS_NICE or --ulimit rtprio=N)"
                       : e == EINVAL ? "priority must be 1..99 for fifo/rr and 0 for other"
                                     : NULL);
  }
  return get_scheduler(env, info);
}

/* setPipeSize(fd, bytes) -> the size the kernel granted (rounded up to pages). */
static napi_value set_pipe_size(napi_env env, napi_callback_info info) {
  int32_t fd, size;
  if (arg_int32(env, info, 0, &fd) || arg_int32(env, info, 1, &size))
    return type_error(env, "setPipeSize(fd, bytes): both must be integers");
  int got = fcntl(fd, F_SETPIPE_SZ, size);
  if (got < 0) {
    int e = errno;
    return throw_errno(env, e, "fcntl(F_SETPIPE_SZ)",
                       e == EPERM ? "above /proc/sys/fs/pipe-max-size needs CAP_SYS_RESOURCE"
                       : e == EBADF || e == EINVAL ? "the fd must be an open pipe"
                                                   : NULL);
  }
  return js_int(env, got);
}

static napi_value get_pipe_size(napi_env env, napi_callback_info info) {
  int32_t fd;
  if (arg_int32(env, info, 0, &fd))
    return type_error(env, "getPipeSize(fd): fd must be an integer");
  int got = fcntl(fd, F_GETPIPE_SZ);
  if (got < 0) return throw_errno(env, errno, "fcntl(F_GETPIPE_SZ)", "the fd must be an open pipe");
  return js_int(env, got);
}

/* getRlimit(0 nice | 1 rtprio) -> [soft, hard]; -1 means unlimited. */
static napi_value get_rlimit(napi_env env, napi_callback_info info) {
  int32_t which;
  if (arg_int32(env, info, 0, &which) || (which != 0 && which != 1))
    return type_error(env, "getRlimit(which): 0 for RLIMIT_NICE, 1 for RLIMIT_RTPRIO");
  struct rlimit rl;
  if (getrlimit(which == 0 ? RLIMIT_NICE : RLIMIT_RTPRIO, &rl) != 0)
    return throw_errno(env, errno, "getrlimit", NULL);
  napi_value arr;
  CALL(env, napi_create_array_with_length(env, 2, &arr));
  CALL(env, napi_set_element(env, arr, 0, js_int(env, rl.rlim_cur == RLIM_INFINITY ? -1 : (int64_t)rl.rlim_cur)));
  CALL(env, napi_set_element(env, arr, 1, js_int(env, rl.rlim_max == RLIM_INFINITY ? -1 : (int64_t)rl.rlim_max)));
  return arr;
}

/* poll(2) on fd (bit 0) and exit_fd (bit 1; -1 for none), readable or hung
 * up, for up to timeout ms: the mask, or -1 with errno set. */
static int poll_mask(int fd, int timeout, int exit_fd) {
  struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = exit_fd, .events = POLLIN}};
  int r;
  do r = poll(p, exit_fd >= 0 ? 2 : 1, timeout); while (r < 0 && errno == EINTR);
  if (r < 0) return -1;
  int mask = 0;
  if (r > 0 && (p[0].revents & (POLLIN | POLLHUP))) mask |= 1;
  if (r > 0 && exit_fd >= 0 && (p[1].revents & (POLLIN | POLLHUP))) mask |= 2;
  return mask;
}

/* pollIn(fd, timeoutMs) -> true when fd is readable (or hung up). The audio
 * worker sleeps here, in the kernel, until input arrives: the tightest wake-up
 * a thread can get, with no event loop in between. */
static napi_value poll_in(napi_env env, napi_callback_info info) {
  int32_t fd, timeout, exit_fd = -1;
  if (arg_int32(env, info, 0, &fd) || arg_int32(env, info, 1, &timeout) || opt_int32(env, info, 2, &exit_fd))
    return type_error(env, "pollIn(fd, timeoutMs, exitFd?): integers");
  int mask = poll_mask(fd, timeout, exit_fd);
  if (mask < 0) return throw_errno(env, errno, "poll", NULL);
  return js_int(env, mask);
}

/* pidfdOpen(pid): a pidfd (Linux 5.3+) that poll(2) sees readable when the
 * process exits, so the audio worker learns of its ingest's end from the
 * kernel, not from a main thread that may be busy. */
static napi_value pidfd_open_js(napi_env env, napi_callback_info info) {
  int32_t pid;
  if (arg_int32(env, info, 0, &pid))
    return type_error(env, "pidfdOpen(pid): pid must be an integer");
  int fd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (fd < 0) return throw_errno(env, errno, "pidfd_open", NULL);
  return js_int(env, fd);
}

/* closeFd(fd): closes a descriptor opened here (Node warns when fs closes one
 * it did not open in a worker). */
static napi_value close_fd(napi_env env, napi_callback_info info) {
  int32_t fd;
  if (arg_int32(env, info, 0, &fd)) return type_error(env, "closeFd(fd): fd must be an integer");
  if (close(fd) != 0) return throw_errno(env, errno, "close", NULL);
  return NULL;
}

/* childExit(pidfd): -1 while the child runs, its exit code once it exited, or
 * 128 + the signal that killed it; -2 when the kernel no longer knows (Node
 * already reaped it). WNOWAIT leaves the child for Node's own reaping. */
static napi_value child_exit(napi_env env, napi_callback_info info) {
  int32_t fd;
  if (arg_int32(env, info, 0, &fd))
    return type_error(env, "childExit(pidfd): pidfd must be an integer");
  siginfo_t si;
  memset(&si, 0, sizeof si);
  if (waitid(P_PIDFD, (id_t)fd, &si, WEXITED | WNOHANG | WNOWAIT) != 0) {
    if (errno == ECHILD) return js_int(env, -2);
    return throw_errno(env, errno, "waitid", NULL);
  }
  if (si.si_pid == 0) return js_int(env, -1);
  return js_int(env, si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status);
}

/* setThreadName(name): the calling thread's name in /proc (comm, 15 bytes), so
 * top -H, ps -L and our heartbeat can tell the audio thread from the rest. */
static napi_value set_thread_name(napi_env env, napi_callback_info info) {
  size_t argc = 1, len;
  napi_value argv[1];
  char name[16];
  CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], name, sizeof name, &len) != napi_ok)
    return type_error(env, "setThreadName(name): name must be a string");
  if (prctl(PR_SET_NAME, name, 0, 0, 0) != 0) return throw_errno(env, errno, "prctl(PR_SET_NAME)", NULL);
  return NULL;
}

/* mkfifo(path): the ingest pipe between ffmpeg and the audio worker. */
static napi_value mkfifo_js(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  char path[4096];
  size_t len;
  CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], path, sizeof path, &len) != napi_ok)
    return type_error(env, "mkfifo(path): path must be a string");
  if (mkfifo(path, 0600) != 0) return throw_errno(env, errno, "mkfifo", path);
  return NULL;
}

/* The run delay from an open /proc/<tid>/schedstat fd: nanoseconds the thread
 * has spent runnable but not running (its 2nd field), i.e. how long the
 * scheduler kept it off a CPU while it had work. pread on a file opened once,
 * no allocation, ~1 us. -1 when unknown (fd -1, or a kernel without it). */
static double read_run_delay(int fd) {
  if (fd < 0) return -1;
  char buf[96];
  ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return -1;
  buf[n] = 0;
  char *p = strchr(buf, ' ');
  return p ? strtod(p + 1, NULL) : -1;
}

static double mono_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t); /* the clock of process.hrtime */
  return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

/* sleepIn(fd, timeoutMs, exitFd, schedstatFd, times: Float64Array(4)) -> pollIn's mask.
 * The audio worker's whole wake in one call: the clock and the thread's run
 * delay just before poll(2) (times[0], times[1]) and just after (times[2],
 * times[3]; -1 for a run delay when schedstatFd is -1 or unreadable). One
 * crossing into C per wake instead of five (two clock reads, two schedstat
 * reads, the poll), and no BigInt. */
static napi_value sleep_in(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  int32_t fd, timeout, exit_fd, sched_fd;
  napi_typedarray_type type;
  size_t len;
  void *data;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 5 ||
      napi_get_value_int32(env, argv[0], &fd) != napi_ok || napi_get_value_int32(env, argv[1], &timeout) != napi_ok ||
      napi_get_value_int32(env, argv[2], &exit_fd) != napi_ok || napi_get_value_int32(env, argv[3], &sched_fd) != napi_ok ||
      napi_get_typedarray_info(env, argv[4], &type, &len, &data, NULL, NULL) != napi_ok || type != napi_float64_array || len < 4)
    return type_error(env, "sleepIn(fd, timeoutMs, exitFd, schedstatFd, times): integers and a Float64Array(4)");
  double *times = data;
  times[1] = read_run_delay(sched_fd);
  times[0] = mono_ns();
  int mask = poll_mask(fd, timeout, exit_fd);
  if (mask < 0) return throw_errno(env, errno, "poll", NULL);
  times[2] = mono_ns();
  times[3] = read_run_delay(sched_fd);
  napi_value out;
  CALL(env, napi_create_int32(env, mask, &out));
  return out;
}

/* readIn(fd, buffer) -> bytes read into buffer from its start (0 at end of
 * input, -1 when nothing is there on a non-blocking fd). fs.readSync without
 * its argument checks and error-context object: the audio worker reads once
 * per wake, after poll said readable. */
static napi_value read_in(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t fd;
  void *data;
  size_t len;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 ||
      napi_get_value_int32(env, argv[0], &fd) != napi_ok || napi_get_buffer_info(env, argv[1], &data, &len) != napi_ok)
    return type_error(env, "readIn(fd, buffer): an integer and a Buffer");
  ssize_t n;
  do n = read(fd, data, len); while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) n = -1;
  else if (n < 0) return throw_errno(env, errno, "read", NULL);
  napi_value out;
  CALL(env, napi_create_int32(env, (int32_t)n, &out));
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"gettid", NULL, gettid_js, NULL, NULL, NULL, napi_default, NULL},
      {"getNice", NULL, get_nice, NULL, NULL, NULL, napi_default, NULL},
      {"setNice", NULL, set_nice, NULL, NULL, NULL, napi_default, NULL},
      {"getAffinity", NULL, get_affinity, NULL, NULL, NULL, napi_default, NULL},
      {"setAffinity", NULL, set_affinity, NULL, NULL, NULL, napi_default, NULL},
      {"getScheduler", NULL, get_scheduler, NULL, NULL, NULL, napi_default, NULL},
      {"setScheduler", NULL, set_scheduler, NULL, NULL, NULL, napi_default, NULL},
      {"setPipeSize", NULL, set_pipe_size, NULL, NULL, NULL, napi_default, NULL},
      {"getPipeSize", NULL, get_pipe_size, NULL, NULL, NULL, napi_default, NULL},
      {"pollIn", NULL, poll_in, NULL, NULL, NULL, napi_default, NULL},
      {"pidfdOpen", NULL, pidfd_open_js, NULL, NULL, NULL, napi_default, NULL},
      {"childExit", NULL, child_exit, NULL, NULL, NULL, napi_default, NULL},
      {"closeFd", NULL, close_fd, NULL, NULL, NULL, napi_default, NULL},
      {"mkfifo", NULL, mkfifo_js, NULL, NULL, NULL, napi_default, NULL},
      {"setThreadName", NULL, set_thread_name, NULL, NULL, NULL, napi_default, NULL},
      {"sleepIn", NULL, sleep_in, NULL, NULL, NULL, napi_default, NULL},
      {"readIn", NULL, read_in, NULL, NULL, NULL, napi_default, NULL},
      {"getRlimit", NULL, get_rlimit, NULL, NULL, NULL, napi_default, NULL},
  };
  CALL(env, napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}

NAPI_MODULE_INIT() { return init(env, exports); }
