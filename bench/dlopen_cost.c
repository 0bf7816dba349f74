/* gate-bench-dlopen: what loading a shared object (and everything it needs)
 * costs a fresh process, as pam_gate pays it for a plugin on every
 * authentication: dlopen(RTLD_NOW | RTLD_LOCAL), timed, in a new process each
 * run (fork + exec of this program), the files interleaved run by run.
 *
 * C, not C++: pamtester and sshd do not have libstdc++ loaded, so the
 * measuring process must not either, or a plugin's libstdc++ would look free.
 *
 * Usage: gate-bench-dlopen [--runs N] FILE...   (prints a Markdown table) */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double NowMs(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* The child: load file, print the milliseconds it took. */
static int Child(const char* file) {
  const double start = NowMs();
  void* handle = dlopen(file, RTLD_NOW | RTLD_LOCAL);
  const double took = NowMs() - start;
  if (handle == NULL) {
    fprintf(stderr, "gate-bench-dlopen: %s\n", dlerror());
    return 1;
  }
  printf("%.4f\n", took);
  return 0;
}

/* One run in a fresh process; the time in ms, or a negative value on failure. */
static double RunOnce(const char* self, const char* file) {
  int fds[2];
  if (pipe(fds) != 0) return -1;
  const pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    execl(self, "gate-bench-dlopen", "--child", file, (char*)NULL);
    _exit(127);
  }
  close(fds[1]);
  char buf[64] = {0};
  ssize_t n = read(fds[0], buf, sizeof(buf) - 1);
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (n <= 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return -1;
  return strtod(buf, NULL);
}

static int CompareDoubles(const void* a, const void* b) {
  const double x = *(const double*)a;
  const double y = *(const double*)b;
  return (x > y) - (x < y);
}

int main(int argc, char** argv) {
  if (argc == 3 && strcmp(argv[1], "--child") == 0) return Child(argv[2]);
  int runs = 200;
  int first = 1;
  if (argc > 2 && strcmp(argv[1], "--runs") == 0) {
    runs = atoi(argv[2]);
    first = 3;
  }
  if (first >= argc || runs < 1) {
    fprintf(stderr, "usage: gate-bench-dlopen [--runs N] FILE...\n");
    return 2;
  }
  const int files = argc - first;
  double* times = calloc((size_t)files * (size_t)runs, sizeof(double));
  if (times == NULL) return 1;
  char self[4096];
  const ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (len <= 0) return 1;
  self[len] = '\0';
  for (int r = 0; r < runs; ++r) {
    for (int f = 0; f < files; ++f) {
      const double t = RunOnce(self, argv[first + f]);
      if (t < 0) {
        fprintf(stderr, "gate-bench-dlopen: cannot load %s\n", argv[first + f]);
        return 1;
      }
      times[f * runs + r] = t;
    }
  }
  printf("| dlopen (RTLD_NOW), %d fresh processes | p50 | p90 |\n| --- | ---: | ---: |\n", runs);
  for (int f = 0; f < files; ++f) {
    double* t = times + f * runs;
    qsort(t, (size_t)runs, sizeof(double), CompareDoubles);
    printf("| `%s` | %.2f ms | %.2f ms |\n", argv[first + f], t[runs / 2], t[runs * 9 / 10]);
  }
  free(times);
  return 0;
}
