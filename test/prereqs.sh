#!/usr/bin/env bash
# What `npm test` needs besides node_modules: the real programs and recordings the suite runs
# against. Installs whatever is missing when it can (root and apt-get: a bare Debian machine),
# otherwise prints one line naming the missing packages and exits 1. Quick when all is there.
# `prereqs.sh bench:NAME` adds what that benchmark alone needs (the detector's held-out speech).
set -euo pipefail
cd "$(dirname "$0")/.."
who=${1:-npm test}

# check (a shell test that passes when present) <TAB> Debian package
checks=$(cat <<'LIST'
command -v ffmpeg && ffmpeg -hide_banner -demuxers 2>/dev/null | grep -qw pulse	ffmpeg
command -v pulseaudio	pulseaudio
command -v paplay	pulseaudio-utils
command -v chromium	chromium
command -v cyclictest	rt-tests
command -v redis-server	redis-server
command -v espeak-ng	espeak-ng
command -v openssl	openssl
command -v setpriv	util-linux
command -v script	bsdutils
command -v python3 && python3 -c 'import scipy'	python3-scipy
ls /usr/share/asterisk/sounds/*/agent-newlocation.wav	asterisk-core-sounds-en-wav
test -f /usr/share/sounds/alsa/Front_Center.wav	alsa-utils
command -v make && command -v g++	build-essential
command -v promtool	prometheus
command -v pkg-config && pkg-config --exists opus	pkg-config libopus-dev
LIST
)
case $who in
  bench:detect*) checks+=$'\n''test -d /usr/share/asterisk/sounds/fr_CA_f_June	asterisk-core-sounds-fr-wav' ;;
esac

missing() {
  local out=()
  while IFS=$'\t' read -r check pkg; do
    bash -c "$check" >/dev/null 2>&1 || out+=("$pkg")
  done <<<"$checks"
  echo "${out[*]:-}"
}

need=$(missing)
if [ -n "$need" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "$who: installing $need" >&2
    apt-get update -qq >/dev/null
    # shellcheck disable=SC2086 # one word per package
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >/dev/null
    need=$(missing)
  fi
  if [ -n "$need" ]; then
    echo "$who: missing $need - install them (Debian: sudo apt-get install --no-install-recommends $need), or run $who as root to have it done" >&2
    exit 1
  fi
fi

# A fresh clone: the packages and the native helper (npm install runs node-gyp in native/).
if [ ! -x node_modules/.bin/uvu ] || [ ! -f native/build/Release/earshot_native.node ]; then
  echo "$who: installing node modules" >&2
  npm install --no-audit --no-fund >&2
elif [ ! -f native/build/Release/earshot_opus.node ]; then
  # libopus-dev came after the last native build: build the system-libopus encoder too.
  echo "$who: rebuilding native/ (libopus-dev is now installed)" >&2
  npm run --silent install >&2
fi
