#!/usr/bin/env bash
# The README's two commands on a bare Debian 12 + Node 20 machine, start to end: a brand-new
# container from earshot-local/node:20-bookworm (debootstrap + Node + the python3/make/g++ that
# node-gyp needs, as in the official node:20-bookworm; no ffmpeg, PulseAudio, chromium or anything
# else), a fresh `git clone` of this checkout's HEAD copied in, then
#   npm install && npm start
#   npm test
# as root, with the rights the suite uses (SCHED_FIFO, PulseAudio, chromium --no-sandbox).
# Prints each command's time and the test summary; the whole log is kept in /tmp.
# usage: npm run test:bare   (takes a while: run it under `flock /work/locks/cpu` on shared machines)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(git -C "$here" rev-parse --show-toplevel)
commit=$(git -C "$root" rev-parse HEAD)

engine=$(bash "$here/engine.sh" start)
name=earshot-bare-$$
work=$(mktemp -d /tmp/earshot-bare-XXXXXX)
log=/tmp/earshot-bare-$(date +%Y%m%d-%H%M%S).log
cleanup() {
  docker rm -f "$name" >/dev/null 2>&1 || true
  rm -rf "$work"
  [ "$engine" != started ] || bash "$here/engine.sh" stop
}
trap cleanup EXIT

read -r _ _ node_image < <(bash "$here/base-images.sh")
git clone -q "$root" "$work/earshot"
git -C "$work/earshot" checkout -q "$commit"
docker create --name "$name" --network host --cap-add ALL --cap-drop SYS_RESOURCE \
  --cpu-rt-runtime 900000 --shm-size 1g -w /root/earshot "$node_image" sleep infinity >/dev/null
docker cp "$work/earshot/." "$name:/root/earshot"
docker start "$name" >/dev/null
echo "bare machine: $node_image, $(docker exec "$name" node -v), clone of ${commit:0:12}; log $log" >&2

step() { # $1: the command, run in the clone as a newcomer would
  local t0=$SECONDS rc=0
  echo "\$ $1" >>"$log"
  docker exec "$name" bash -lc "$1" >>"$log" 2>&1 || rc=$?
  printf 'bare machine: %-30s exit %d, %d s\n' "$1" "$rc" $((SECONDS - t0)) >&2
  return "$rc"
}
status=0
step 'npm install && npm start' || status=1
if [ "$status" = 0 ]; then
  step 'npm test' || status=1
fi
# uvu's closing lines: Total / Passed / Skipped / Duration
summary=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '^ *(Total|Passed|Skipped|Duration):' | tail -4 | tr -s ' ' | paste -sd' ' - || true)
echo "bare machine: ${summary:-no test summary}" >&2
[ "$status" = 0 ] || { echo "bare machine: FAILED - the end of $log:" >&2; tail -25 "$log" >&2; }
exit "$status"
