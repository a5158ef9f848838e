// FSYNC-EIO's fault (RELIABILITY.md §7.2): an LD_PRELOAD shim over fsync(2) and fdatasync(2). While the
// file named by COFFER_TEST_FSYNC_EIO does not exist, both pass through. Once it appears, the first call in
// any thread renames it to "<name>.done" (so exactly one call fails), writes {"ms", "call", "fd"} there
// (CLOCK_REALTIME, comparable with the test's Date.now()) and returns -1 with errno EIO, as a disk that
// lost the write would. Built by test/fsync-eio.test.ts with gcc.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int maybe_fail(int fd, const char *which) {
  const char *trigger = getenv("COFFER_TEST_FSYNC_EIO");
  if (trigger == NULL || access(trigger, F_OK) != 0) return 0;
  char done[4096];
  snprintf(done, sizeof done, "%s.done", trigger);
  if (rename(trigger, done) != 0) return 0; /* another thread won the race: only one failure */
  struct timespec ts; clock_gettime(CLOCK_REALTIME, &ts);
  FILE *f = fopen(done, "w");
  if (f) { fprintf(f, "{\"ms\":%lld,\"call\":\"%s\",\"fd\":%d}\n", (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, which, fd); fclose(f); }
  return 1;
}
int fsync(int fd) {
  if (!real_fsync) real_fsync = dlsym(RTLD_NEXT, "fsync");
  if (maybe_fail(fd, "fsync")) { errno = EIO; return -1; }
  return real_fsync(fd);
}
int fdatasync(int fd) {
  if (!real_fdatasync) real_fdatasync = dlsym(RTLD_NEXT, "fdatasync");
  if (maybe_fail(fd, "fdatasync")) { errno = EIO; return -1; }
  return real_fdatasync(fd);
}
