/*
 * The floor for a thread woken by a pipe, for bench:realtime: the smallest C
 * program that does what the audio worker does on each wake-up (poll(2) on
 * stdin, read, stamp CLOCK_MONOTONIC), on the same CPU, under the same load.
 * Prints each 20 ms frame's arrival time (CLOCK_MONOTONIC ns, one per line);
 * the bench measures it as it measures the worker's frames.
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

int main(int argc, char **argv) {
  int frames = (argc > 1 ? atoi(argv[1]) : 30) * 50, cpu = argc > 2 ? atoi(argv[2]) : 1;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  sched_setaffinity(0, sizeof set, &set);
  long long *arrival = calloc(frames, sizeof *arrival);
  static char buf[65536];
  long bytes = 0;
  int k = 0;
  struct pollfd p = {.fd = 0, .events = POLLIN};
  while (k < frames && poll(&p, 1, 1000) > 0) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    ssize_t n = read(0, buf, sizeof buf);
    if (n <= 0) break;
    for (bytes += n; k < frames && bytes >= 1920L * (k + 1); k++) arrival[k] = t.tv_sec * 1000000000LL + t.tv_nsec;
  }
  for (int i = 0; i < k; i++) printf("%lld\n", arrival[i]);
  return 0;
}
