/*
 * The floor for a thread woken by a pipe, for bench:realtime: the smallest C
 * program that does what the audio worker does on each wake-up (poll(2) on
 * stdin, read, stamp CLOCK_MONOTONIC), on the same CPU, under the same load.
 * Lateness is measured like the worker's: each 20 ms frame's arrival phase
 * against the earliest seen. Prints JSON quantiles in ms.
 *
 *   poll-reader SECONDS CPU
 */
#define _GNU_SOURCE
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  int frames = (argc > 1 ? atoi(argv[1]) : 30) * 50, cpu = argc > 2 ? atoi(argv[2]) : 1;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  sched_setaffinity(0, sizeof set, &set);
  double *phase = calloc(frames, sizeof *phase);
  static char buf[65536];
  long bytes = 0;
  int k = 0;
  struct pollfd p = {.fd = 0, .events = POLLIN};
  while (k < frames && poll(&p, 1, 1000) > 0) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    ssize_t n = read(0, buf, sizeof buf);
    if (n <= 0) break;
    for (bytes += n; k < frames && bytes >= 1920L * (k + 1); k++) phase[k] = t.tv_sec * 1e3 + t.tv_nsec / 1e6 - (k + 1) * 20.0;
  }
  double min = 1e300;
  for (int i = 0; i < k; i++) min = phase[i] < min ? phase[i] : min;
  for (int i = 0; i < k; i++) phase[i] -= min;
  qsort(phase, k, sizeof *phase, cmp);
  if (k > 0) printf("{\"p50\":%.3f,\"p99\":%.3f,\"p999\":%.3f,\"max\":%.3f}\n", phase[k / 2], phase[k * 99 / 100], phase[k * 999 / 1000], phase[k - 1]);
  return 0;
}
