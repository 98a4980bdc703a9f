/*
 * A capture clock for bench:realtime, with cyclictest's method: SCHED_FIFO on
 * its own CPU, clock_nanosleep(TIMER_ABSTIME) on CLOCK_MONOTONIC, one 20 ms
 * period of a 440 Hz tone written to stdout at each tick (a sound card's DMA).
 * Like a device it never waits for its reader: a period that finds the pipe
 * full is dropped and counted (an overrun). At exit it prints its own lateness
 * (how late each write was) and the drops to stderr as JSON, so the source's
 * jitter is shown beside the worker's. It prepares itself as cyclictest does
 * (mlockall, and /dev/cpu_dma_latency held at 0 so that idle CPUs poll rather
 * than halt: in a VM a halted vCPU takes milliseconds to wake), so the source
 * is as steady as the floor it is compared with.
 *
 * With a third argument it also writes each period's write time (CLOCK_MONOTONIC
 * ns, one per line) to that file, so the reader's own wake-up latency can be
 * told apart from this source's jitter.
 *
 *   pacer SECONDS CPU [TIMES_FILE]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sched.h>
#include <sys/mman.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static int cmp(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  int seconds = argc > 1 ? atoi(argv[1]) : 30, cpu = argc > 2 ? atoi(argv[2]) : 0;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  sched_setaffinity(0, sizeof set, &set);
  struct sched_param sp = {.sched_priority = 50};
  if (sched_setscheduler(0, SCHED_FIFO, &sp)) fprintf(stderr, "pacer: no SCHED_FIFO, timing is best effort\n");
  if (mlockall(MCL_CURRENT | MCL_FUTURE)) fprintf(stderr, "pacer: no mlockall, page faults may add jitter\n");
  int qos = open("/dev/cpu_dma_latency", O_WRONLY), zero = 0;
  if (qos < 0 || write(qos, &zero, sizeof zero) != sizeof zero) fprintf(stderr, "pacer: /dev/cpu_dma_latency not writable, idle CPUs may wake slowly\n");
  signal(SIGPIPE, SIG_IGN); /* a closed reader ends the loop (EPIPE), and the figures still print */
  fcntl(1, F_SETFL, fcntl(1, F_GETFL) | O_NONBLOCK);
  int periods = seconds * 50 + 25, drops = 0;
  int64_t *late = calloc(periods, sizeof *late), *wrote = calloc(periods, sizeof *wrote);
  int16_t pcm[960];
  struct timespec t, now;
  clock_gettime(CLOCK_MONOTONIC, &t);
  int k;
  for (k = 0; k < periods; k++) {
    for (int i = 0; i < 960; i++) pcm[i] = (int16_t)lrint(8000 * sin(2 * M_PI * 440 * (k * 960.0 + i) / 48000));
    t.tv_nsec += 20000000;
    if (t.tv_nsec >= 1000000000) t.tv_nsec -= 1000000000, t.tv_sec++;
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL);
    clock_gettime(CLOCK_MONOTONIC, &now);
    late[k] = (now.tv_sec - t.tv_sec) * 1000000000LL + (now.tv_nsec - t.tv_nsec);
    wrote[k] = now.tv_sec * 1000000000LL + now.tv_nsec;
    if (write(1, pcm, sizeof pcm) < 0) {
      if (errno != EAGAIN) break; /* the reader finished (--duration) */
      drops++;
      wrote[k] = -1;
    }
  }
  if (argc > 3) {
    FILE *f = fopen(argv[3], "w");
    for (int i = 0; f && i < k; i++) fprintf(f, "%lld\n", (long long)wrote[i]);
    if (f) fclose(f);
  }
  qsort(late, k, sizeof *late, cmp);
  if (k > 0)
    fprintf(stderr, "{\"p50\":%.3f,\"p99\":%.3f,\"p999\":%.3f,\"max\":%.3f,\"drops\":%d}\n", late[k / 2] / 1e6,
            late[k * 99 / 100] / 1e6, late[k * 999 / 1000] / 1e6, late[k - 1] / 1e6, drops);
  return 0;
}
