#!/usr/bin/env bash
# npm run test:container: the checks of test/container.checks.ts against the image `earshot`
# (npm run container:build makes it), on a Docker engine started here if none runs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)

engine=$(bash "$here/engine.sh" start)
trap '[ "$engine" != started ] || bash "$here/engine.sh" stop' EXIT
docker image inspect earshot >/dev/null 2>&1 ||
  { echo "test:container: no image earshot here - run npm run container:build first" >&2; exit 1; }
t0=$SECONDS
cd "$root"
node node_modules/uvu/bin.js dist/test 'container\.checks\.js$'
echo "test:container: checks ran in $((SECONDS - t0)) s" >&2
