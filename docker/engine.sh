#!/usr/bin/env bash
# A Docker engine for the scripts in docker/ and .ci/, on a machine where none may be running:
#   docker/engine.sh start   installs docker.io when missing (root, apt), starts dockerd unless
#                            one already answers, and waits until it does; prints "started"
#                            when it started one
#   docker/engine.sh stop    stops the dockerd that `start` started (by its pid), nothing else
# A daemon that was already running is used as it is and left running: a script stops the
# engine only when its own `start` printed "started".
set -euo pipefail

state=/run/earshot-dockerd
pidfile=$state/dockerd.pid
log=$state/dockerd.log

answers() { docker info >/dev/null 2>&1; }

start() {
  if ! command -v dockerd >/dev/null || ! command -v docker >/dev/null; then
    [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null ||
      { echo "docker/engine.sh: no Docker engine - install Debian's docker.io (apt-get install docker.io)" >&2; exit 1; }
    echo "docker/engine.sh: installing docker.io" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io >/dev/null
  fi
  answers && return 0
  [ "$(id -u)" = 0 ] || { echo "docker/engine.sh: no Docker engine answers, and starting one needs root" >&2; exit 1; }
  mkdir -p "$state"
  # The containers here run with --network host: no bridge, no iptables rules to add or clean up.
  # --cpu-rt-runtime: cgroup v1 with RT group scheduling gives /docker no real-time budget
  # otherwise, and SCHED_FIFO fails in every container (the suite and --rt-policy fifo use it).
  setsid dockerd --storage-driver overlay2 --bridge none --iptables=false --ip-masq=false \
    --cpu-rt-runtime 950000 \
    >"$log" 2>&1 </dev/null &
  echo $! >"$pidfile"
  for _ in $(seq 1 120); do
    answers && { echo started; return 0; }
    kill -0 "$(cat "$pidfile")" 2>/dev/null || break
    sleep 0.5
  done
  echo "docker/engine.sh: dockerd did not start - see $log:" >&2
  tail -5 "$log" >&2
  exit 1
}

stop() {
  [ -f "$pidfile" ] || return 0
  local pid
  pid=$(cat "$pidfile")
  rm -f "$pidfile"
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.5
  done
  echo "docker/engine.sh: dockerd $pid did not stop in 30 s" >&2
  return 1
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: docker/engine.sh start|stop" >&2; exit 2 ;;
esac
