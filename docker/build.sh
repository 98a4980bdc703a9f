#!/usr/bin/env bash
# npm run container:build: the image `earshot` from docker/Dockerfile, on the local base images
# (docker/base-images.sh: made once from Debian's and npm's packages, since no container registry
# is reachable here). Starts a Docker engine if none runs (and stops it after). Prints the size.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)

engine=$(bash "$here/engine.sh" start)
trap '[ "$engine" != started ] || bash "$here/engine.sh" stop' EXIT

read -r _ runtime_image build_image < <(bash "$here/base-images.sh")
log=/tmp/earshot-container-build.log
t0=$SECONDS
docker build --network host -f "$here/Dockerfile" -t earshot \
  --build-arg BUILD_IMAGE="$build_image" --build-arg RUNTIME_IMAGE="$runtime_image" "$root" >"$log" 2>&1 ||
  { echo "container:build: docker build failed - the end of $log:" >&2; tail -30 "$log" >&2; exit 1; }
size=$(docker image inspect earshot --format '{{.Size}}')
echo "container:build: image earshot $(docker image inspect earshot --format '{{.Id}}' | cut -c8-19), $((size / 1000000)) MB, built in $((SECONDS - t0)) s on $runtime_image" >&2
