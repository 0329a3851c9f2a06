/*
 * The C floor under every shmbridge benchmark: the same syscalls a
 * SharedMemory makes (shm_open / ftruncate / [posix_fallocate] / mmap /
 * munmap / shm_unlink), with nothing around them. Nothing in JS or Python can
 * be faster than this; the benchmarks report how far above it each
 * implementation sits.
 *
 *   floor create <size> <samples> <reserve 0|1> <mmap flags> [tracker executable]
 *     one sample = shm_open(O_CREAT|O_EXCL|O_RDWR, 0600) + ftruncate
 *                  + [posix_fallocate] + mmap + close(fd) + munmap + shm_unlink;
 *     with a tracker, it is started once on a pipe and each sample adds what
 *     a tracked create does: fstat + a register line, an unregister line
 *   floor attach <name> <samples>
 *     one sample = shm_open(O_RDWR) + fstat + mmap + close(fd) + read one byte + munmap
 *   floor fill <size> <reserve 0|1> <mmap flags> <madvise 0|1>
 *     one create (as above, madvise(MADV_POPULATE_WRITE) if asked), then one
 *     memset of the whole block: the reserve strategies of bench/core/reserve.bench.ts
 *
 * Prints {"ns":[...]} (one figure per sample, after 3 warm-up samples) or,
 * for fill, {"create":ns,"fill":ns} on stdout; the caller computes the
 * statistics. Every block it creates it unlinks, also on failure.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define WARMUP 3

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14 */
#endif

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int fail(const char *what, const char *name, int err) {
  fprintf(stderr, "floor: %s '%s': %s\n", what, name, strerror(err));
  return 1;
}

/* The tracker pipe (write end) when creates are tracked, else -1. */
static int track_fd = -1;

/* A tracker message: "R <inode> <hex name>\n" or "U <hex name>\n". */
static void tell(const char *kind, const char *name, unsigned long long ino) {
  char line[600];
  int n = ino ? snprintf(line, sizeof line, "%s %llu ", kind, ino) : snprintf(line, sizeof line, "%s ", kind);
  for (const char *c = name + 1; *c && n < (int)sizeof line - 3; c++) n += snprintf(line + n, 3, "%02x", (unsigned char)*c);
  line[n++] = '\n';
  if (write(track_fd, line, (size_t)n) < 0) {}
}

/* Starts shmbridge's tracker on a pipe, as a tracked SharedMemory does: what a tracked create costs. */
static void start_tracker(const char *exe) {
  int p[2];
  if (pipe(p) < 0) return;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(p[0], 0);
    close(p[0]);
    close(p[1]);
    execl(exe, exe, "floor", (char *)NULL);
    _exit(127);
  }
  close(p[0]);
  track_fd = pid > 0 ? p[1] : -1;
}

/* One create + close + unlink; returns 0 or an errno, unlinking what it made. */
static int create_once(const char *name, size_t size, int reserve, int flags) {
  int fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
  if (fd < 0) return errno;
  int err = 0;
  if (ftruncate(fd, (off_t)size) < 0) err = errno;
  if (!err && track_fd >= 0) {
    struct stat st;
    if (fstat(fd, &st) < 0) err = errno;
    else tell("R", name, (unsigned long long)st.st_ino);
  }
  if (!err && reserve) err = posix_fallocate(fd, 0, (off_t)size);
  void *p = MAP_FAILED;
  if (!err) {
    p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | flags, fd, 0);
    if (p == MAP_FAILED) err = errno;
  }
  close(fd);
  if (p != MAP_FAILED) munmap(p, size);
  shm_unlink(name);
  if (track_fd >= 0) tell("U", name, 0);
  return err;
}

static volatile unsigned char sink;

static int attach_once(const char *name) {
  int fd = shm_open(name, O_RDWR, 0);
  if (fd < 0) return errno;
  struct stat st;
  if (fstat(fd, &st) < 0) {
    int err = errno;
    close(fd);
    return err;
  }
  void *p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  int err = p == MAP_FAILED ? errno : 0;
  close(fd);
  if (err) return err;
  sink = *(volatile unsigned char *)p;
  munmap(p, (size_t)st.st_size);
  return 0;
}

/* One create (+ optional prefault) and one full memset, each timed. */
static int fill_once(const char *name, size_t size, int reserve, int flags, int prefault) {
  long long t0 = now_ns();
  int fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
  if (fd < 0) return errno;
  int err = ftruncate(fd, (off_t)size) < 0 ? errno : 0;
  if (!err && reserve) err = posix_fallocate(fd, 0, (off_t)size);
  void *p = MAP_FAILED;
  if (!err) {
    p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | flags, fd, 0);
    if (p == MAP_FAILED) err = errno;
  }
  if (!err && prefault && madvise(p, size, MADV_POPULATE_WRITE) < 0) err = errno;
  close(fd);
  long long t1 = now_ns();
  if (!err) memset(p, 1, size);
  long long t2 = now_ns();
  if (p != MAP_FAILED) munmap(p, size);
  shm_unlink(name);
  if (!err) printf("{\"create\":%lld,\"fill\":%lld}\n", t1 - t0, t2 - t1);
  return err;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: floor create <size> <samples> <reserve> <mmap flags> [tracker] | floor attach <name> <samples> | floor fill <size> <reserve> <mmap flags> <madvise>\n");
    return 2;
  }
  if (strcmp(argv[1], "fill") == 0) {
    char name[64];
    snprintf(name, sizeof name, "/psm_floor_%d", (int)getpid());
    int err = fill_once(name, strtoull(argv[2], NULL, 10), atoi(argv[3]), argc > 4 ? atoi(argv[4]) : 0, argc > 5 ? atoi(argv[5]) : 0);
    return err ? fail("fill", name + 1, err) : 0;
  }
  int create = strcmp(argv[1], "create") == 0;
  int samples = atoi(argv[3]);
  size_t size = create ? strtoull(argv[2], NULL, 10) : 0;
  int reserve = create && argc > 4 ? atoi(argv[4]) : 0;
  int flags = create && argc > 5 ? atoi(argv[5]) : 0;
  if (create && argc > 6) start_tracker(argv[6]);
  char name[64];
  if (create) snprintf(name, sizeof name, "/psm_floor_%d", (int)getpid());
  else snprintf(name, sizeof name, "/%s", argv[2]);

  printf("{\"ns\":[");
  for (int s = 0; s < WARMUP + samples; s++) {
    long long t0 = now_ns();
    int err = create ? create_once(name, size, reserve, flags) : attach_once(name);
    long long t1 = now_ns();
    if (err) return fail(create ? "create" : "attach", name + 1, err);
    if (s >= WARMUP) printf("%s%lld", s > WARMUP ? "," : "", t1 - t0);
  }
  printf("]}\n");
  return 0;
}
