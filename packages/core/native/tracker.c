/*
 * shmbridge-tracker: unlinks the shared memory blocks a process created and
 * never unlinked, once that process is gone, however it ended (exit, crash,
 * SIGKILL).
 *
 * The model is CPython's multiprocessing/resource_tracker.py: the owner holds
 * the write end of a pipe whose read end is our stdin. The owner writes
 *   "R <inode> <hex name>\n"   after creating a block,
 *   "U <hex name>\n"           after unlinking one,
 * and the kernel closes its end when it dies, so EOF here means "owner gone".
 * Names travel hex-encoded because POSIX allows any byte but '/' and NUL in
 * them. A block is unlinked only if its inode is still the one registered, so
 * a block someone else re-created under the same name is left alone.
 *
 * Like CPython's tracker it ignores SIGINT and SIGTERM: a Ctrl-C that kills
 * the owner's process group must not kill the cleanup with it.
 *
 * Usage: shmbridge-tracker <owner pid>   (stdin: the pipe)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct entry {
  char *name; /* "/name", decoded */
  unsigned long long ino;
};

static struct entry *entries;
static size_t count, capacity;

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

/* Decodes hex into "/name"; NULL when malformed. */
static char *decode(const char *hex) {
  size_t n = strcspn(hex, "\n");
  if (n == 0 || n % 2) return NULL;
  char *out = malloc(n / 2 + 2);
  if (!out) return NULL;
  out[0] = '/';
  for (size_t i = 0; i < n / 2; i++) {
    int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
    if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
      free(out);
      return NULL;
    }
    out[1 + i] = (char)(hi * 16 + lo);
  }
  out[1 + n / 2] = '\0';
  return out;
}

/* Newest first: blocks are usually unlinked in reverse order of creation. */
static long find(const char *name) {
  for (size_t i = count; i-- > 0;)
    if (strcmp(entries[i].name, name) == 0) return (long)i;
  return -1;
}

static void add(char *name, unsigned long long ino) {
  long i = find(name);
  if (i >= 0) { /* re-created under the same name: the newest inode counts */
    free(name);
    entries[i].ino = ino;
    return;
  }
  if (count == capacity) {
    size_t cap = capacity ? capacity * 2 : 64;
    struct entry *grown = realloc(entries, cap * sizeof *grown);
    if (!grown) { free(name); return; }
    entries = grown;
    capacity = cap;
  }
  entries[count].name = name;
  entries[count].ino = ino;
  count++;
}

static void removeName(char *name) {
  long i = find(name);
  free(name);
  if (i < 0) return;
  free(entries[i].name);
  entries[i] = entries[--count];
}

/* 1 if the block still exists with the registered inode. */
static int stillOurs(const struct entry *e) {
  int fd = shm_open(e->name, O_RDONLY, 0);
  if (fd < 0) return 0;
  struct stat st;
  int same = fstat(fd, &st) == 0 && (unsigned long long)st.st_ino == e->ino;
  close(fd);
  return same;
}

/* One message, without its newline. */
static void handle(char *line) {
  if (line[0] == 'R' && line[1] == ' ') {
    char *end;
    unsigned long long ino = strtoull(line + 2, &end, 10);
    if (*end != ' ') return;
    char *name = decode(end + 1);
    if (name) add(name, ino);
  } else if (line[0] == 'U' && line[1] == ' ') {
    char *name = decode(line + 2);
    if (name) removeName(name);
  }
}

int main(int argc, char **argv) {
  signal(SIGINT, SIG_IGN);
  signal(SIGTERM, SIG_IGN);
  signal(SIGPIPE, SIG_IGN);
  const char *owner = argc > 1 ? argv[1] : "?";

  /* A bigger pipe, so the owner never waits on us (best effort; Linux only). */
#ifdef F_SETPIPE_SZ
  fcntl(0, F_SETPIPE_SZ, 1 << 20);
#endif
  static char buf[1 << 16];
  size_t have = 0;
  for (;;) {
    ssize_t n = read(0, buf + have, sizeof buf - have);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break; /* EOF: the owner is gone */
    have += (size_t)n;
    char *start = buf, *nl;
    while ((nl = memchr(start, '\n', have - (size_t)(start - buf))) != NULL) {
      *nl = '\0';
      handle(start);
      start = nl + 1;
    }
    have -= (size_t)(start - buf);
    if (have == sizeof buf) have = 0; /* a line longer than any valid message: drop it */
    memmove(buf, start, have);
    /* Let messages pile up for a moment. While we sleep we are not waiting on
     * the pipe, so the owner's writes wake nobody: a wake-up of this process
     * per message cost the owner ~10 us per create and per unlink on a 2-vCPU
     * VM (bench/core/tracker.bench.ts). Cleanup after a crash starts at most
     * this much later. */
    struct timespec pause = {0, 5 * 1000 * 1000};
    nanosleep(&pause, NULL);
  }

  size_t unlinked = 0;
  for (size_t i = 0; i < count; i++) {
    if (!stillOurs(&entries[i]) || shm_unlink(entries[i].name) != 0) continue;
    if (unlinked++ == 0)
      fprintf(stderr, "shmbridge: process %s exited without unlinking shared memory it created; unlinked:", owner);
    fprintf(stderr, " %s", entries[i].name + 1);
  }
  if (unlinked) fprintf(stderr, "\n");
  return 0;
}
