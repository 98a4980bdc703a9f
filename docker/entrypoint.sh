#!/bin/sh
# One meeting per container, configured only by environment variables: either the meeting itself
#
#   MEETING_ID            names the recording folder and the log file ([A-Za-z0-9._-])
#   EARSHOT_INPUT         an `earshot run --input` spec (url:..., pulse:..., lavfi:..., file:...)
#
# or the queue it comes from (`earshot run --queue`: id, input and partners come with the meeting)
#
#   EARSHOT_QUEUE         redis://HOST:PORT[/DB]; the password (if any) in EARSHOT_QUEUE_PASSWORD(_FILE)
#   EARSHOT_MEETINGS      meetings to take one after another before exiting (default 1: one per Job)
#   EARSHOT_IDLE, EARSHOT_LEASE   exit when none has come for this long (30s); lease length (30s)
#
# and for both:
#   EARSHOT_PARTNERS      optional; partner names, e.g. "deepgram assemblyai" (commas or spaces)
#     EARSHOT_PARTNER_<NAME>_URL          its endpoint
#     EARSHOT_PARTNER_<NAME>_KEY(_FILE)   its key, best from a secret file (never put keys in argv)
#   EARSHOT_RECORD_ROOT   default /recordings  -> recording in $EARSHOT_RECORD_ROOT/$MEETING_ID
#   EARSHOT_LOG_SINK      default file:$EARSHOT_LOG_DIR/$MEETING_ID.log (never the console)
#   EARSHOT_METRICS       default 0.0.0.0:9464 (/metrics, /healthz, /readyz)
#   EARSHOT_HEARTBEAT     default 10s
#   EARSHOT_RT_NICE, EARSHOT_RT_CPUS, EARSHOT_RT_POLICY, EARSHOT_RT_STRICT=1, EARSHOT_DURATION,
#   EARSHOT_WAV=1, EARSHOT_LOG_LEVEL  -> the `earshot run` flags of the same names
#   EARSHOT_UID/EARSHOT_GID  the user to drop to when started as root (default 10001)
#
# Any EARSHOT_..._FILE is read into EARSHOT_... (Docker/Kubernetes secrets), so keys never sit
# in the environment of `docker inspect` or in the pod spec. Only ours: other *_FILE variables
# (SSL_CERT_FILE...) name files for other programs.
#
# Priority for the audio thread, without running the bot as root:
#   - started as root with SYS_NICE: drop to EARSHOT_UID keeping only CAP_SYS_NICE, as an
#     ambient capability (works with no_new_privs / allowPrivilegeEscalation: false);
#   - started non-root with SYS_NICE in the bounding set: setpriv-sysnice (file capability
#     cap_sys_nice+ep; needs no_new_privs off) hands CAP_SYS_NICE to node as an ambient capability;
#   - otherwise plain node, with whatever RLIMIT_NICE/RLIMIT_RTPRIO allows (--ulimit nice=/rtprio=).
#
# SIGTERM: earshot is exec'd (no shell in between), so the orchestrator's SIGTERM
# reaches it directly; it stops ingest, drains the ring, finalises the recording
# and summary.json, and exits 0 within the grace period.
set -eu

die() {
  echo "earshot-entrypoint: $*" >&2
  exit 2
}

# ---- secrets: EARSHOT_..._FILE -> EARSHOT_... ----
for file_var in $(env | sed -n 's/^\(EARSHOT_[A-Za-z0-9_]*\)_FILE=.*/\1/p'); do
  eval "path=\${${file_var}_FILE}"
  eval "already=\${${file_var}+set}"
  [ "${already:-}" = set ] && die "both $file_var and ${file_var}_FILE are set - keep one"
  [ -r "$path" ] || die "${file_var}_FILE: cannot read $path - mount the secret there or unset ${file_var}_FILE"
  value=$(cat "$path")
  export "$file_var=$value"
  unset "${file_var}_FILE"
done
unset value path already

# ---- required settings ----
record_root="${EARSHOT_RECORD_ROOT:-/recordings}"
log_dir="${EARSHOT_LOG_DIR:-/var/log/earshot}"
if [ -n "${EARSHOT_QUEUE:-}" ]; then
  [ -z "${MEETING_ID:-}${EARSHOT_INPUT:-}" ] || die "EARSHOT_QUEUE is set, and so is MEETING_ID or EARSHOT_INPUT - the meeting comes from the queue: unset them (or EARSHOT_QUEUE)"
  [ -z "${EARSHOT_PARTNERS:-}" ] || die "EARSHOT_PARTNERS is set with EARSHOT_QUEUE - partners come with each meeting (earshot enqueue --partner ...): unset it"
  case "$EARSHOT_QUEUE" in
    *://*:*@*) die "EARSHOT_QUEUE carries a password - leave it out of the URL and set EARSHOT_QUEUE_PASSWORD_FILE (or EARSHOT_QUEUE_PASSWORD)" ;;
  esac
  record_dir="$record_root"
  log_sink="${EARSHOT_LOG_SINK:-file:$log_dir/${HOSTNAME:-bot}.log}"
else
  [ -n "${MEETING_ID:-}" ] || die "MEETING_ID is not set - set it to this meeting's id (or EARSHOT_QUEUE, to take meetings from a queue)"
  case "$MEETING_ID" in
    *[!A-Za-z0-9._-]* | .* ) die "MEETING_ID \"$MEETING_ID\" may hold only letters, digits, '.', '_' and '-' (and not start with '.')" ;;
  esac
  [ -n "${EARSHOT_INPUT:-}" ] || die "EARSHOT_INPUT is not set - e.g. url:https://..., pulse:meeting.monitor or lavfi:sine=f=440"
  record_dir="$record_root/$MEETING_ID"
  log_sink="${EARSHOT_LOG_SINK:-file:$log_dir/$MEETING_ID.log}"
fi
case "$log_sink" in
  console-sync*) die "EARSHOT_LOG_SINK=console-sync only reproduces the console stall - use file:PATH or socket:PATH" ;;
  file:/dev/console | file:/dev/tty*) die "EARSHOT_LOG_SINK=$log_sink writes to a console - use file:PATH or socket:PATH" ;;
  file:*) mkdir -p "$(dirname "${log_sink#file:}")" ;;
esac
mkdir -p "$record_dir"

# ---- the command line ----
if [ -n "${EARSHOT_QUEUE:-}" ]; then
  set -- run --queue "$EARSHOT_QUEUE" --record-root "$record_dir"
  [ -n "${EARSHOT_MEETINGS:-}" ] && set -- "$@" --meetings "$EARSHOT_MEETINGS"
  [ -n "${EARSHOT_IDLE:-}" ] && set -- "$@" --idle "$EARSHOT_IDLE"
  [ -n "${EARSHOT_LEASE:-}" ] && set -- "$@" --lease "$EARSHOT_LEASE"
else
  set -- run --input "$EARSHOT_INPUT" --record "$record_dir"
fi
set -- "$@" --log-sink "$log_sink" --metrics "${EARSHOT_METRICS:-0.0.0.0:9464}" --heartbeat "${EARSHOT_HEARTBEAT:-10s}"
[ -n "${EARSHOT_RT_NICE:-}" ] && set -- "$@" --rt-nice "$EARSHOT_RT_NICE"
[ -n "${EARSHOT_RT_CPUS:-}" ] && set -- "$@" --rt-cpus "$EARSHOT_RT_CPUS"
[ -n "${EARSHOT_RT_POLICY:-}" ] && set -- "$@" --rt-policy "$EARSHOT_RT_POLICY"
[ "${EARSHOT_RT_STRICT:-}" = 1 ] && set -- "$@" --rt-strict
[ -n "${EARSHOT_DURATION:-}" ] && set -- "$@" --duration "$EARSHOT_DURATION"
[ "${EARSHOT_WAV:-}" = 1 ] && set -- "$@" --wav
[ -n "${EARSHOT_LOG_LEVEL:-}" ] && set -- "$@" --log-level "$EARSHOT_LOG_LEVEL"

for name in $(echo "${EARSHOT_PARTNERS:-}" | tr ',' ' '); do
  upper=$(echo "$name" | tr 'a-z-' 'A-Z_')
  case "$upper" in *[!A-Z0-9_]*) die "EARSHOT_PARTNERS: \"$name\" is not a partner name (letters, digits, '-')" ;; esac
  eval "url=\${EARSHOT_PARTNER_${upper}_URL:-}"
  [ -n "$url" ] || die "EARSHOT_PARTNER_${upper}_URL is not set - the endpoint of partner $name"
  set -- "$@" --partner "$name" --partner-url "$url"
  eval "has_key=\${EARSHOT_PARTNER_${upper}_KEY+set}"
  # Only the variable's name goes on the command line; earshot reads the key from its environment.
  [ "${has_key:-}" = set ] && set -- "$@" --partner-key-env "EARSHOT_PARTNER_${upper}_KEY"
done

# ---- who runs it, with which priority rights ----
earshot_js="${EARSHOT_JS:-/app/bin/earshot}"
node_bin="${EARSHOT_NODE:-node}"
cap_sys_nice_in() { # $1: CapBnd | CapEff; CAP_SYS_NICE is bit 23
  mask=$(sed -n "s/^$1:[[:space:]]*//p" /proc/self/status)
  [ $(( (0x$mask >> 23) & 1 )) -eq 1 ]
}
no_new_privs=$(sed -n 's/^NoNewPrivs:[[:space:]]*//p' /proc/self/status)

# Say at once, in one line, when the audio thread's priority will be refused (the meeting runs
# without it; the log has the kernel's answer). Lowering nice to N needs CAP_SYS_NICE or an
# RLIMIT_NICE of at least 20 - N.
if { [ "$(id -u)" = 0 ] && cap_sys_nice_in CapBnd; } || cap_sys_nice_in CapEff ||
  { cap_sys_nice_in CapBnd && [ "$no_new_privs" = 0 ] && [ -x /usr/local/bin/setpriv-sysnice ]; }; then
  :
elif [ "${EARSHOT_RT_NICE:-0}" -lt 0 ]; then
  rlimit_nice=$(sed -n 's/^Max nice priority[[:space:]]*\([0-9]*\).*/\1/p' /proc/self/limits)
  if [ "${rlimit_nice:-0}" -lt $((20 - EARSHOT_RT_NICE)) ]; then
    echo "earshot-entrypoint: warning: no CAP_SYS_NICE and RLIMIT_NICE ${rlimit_nice:-0}: the audio thread cannot have nice $EARSHOT_RT_NICE and runs at nice 0 - give the container --cap-add SYS_NICE (or --ulimit nice=$((20 - EARSHOT_RT_NICE)))" >&2
  fi
fi

if [ "$(id -u)" = 0 ]; then
  uid="${EARSHOT_UID:-10001}"
  gid="${EARSHOT_GID:-10001}"
  chown "$uid:$gid" "$record_dir" 2>/dev/null || true
  [ "${log_sink#file:}" != "$log_sink" ] && chown "$uid:$gid" "$(dirname "${log_sink#file:}")" 2>/dev/null || true
  if cap_sys_nice_in CapBnd; then
    exec setpriv --reuid="$uid" --regid="$gid" --clear-groups \
      --inh-caps=-all,+sys_nice --ambient-caps=-all,+sys_nice --bounding-set=-all,+sys_nice \
      "$node_bin" "$earshot_js" "$@"
  fi
  exec setpriv --reuid="$uid" --regid="$gid" --clear-groups --inh-caps=-all --bounding-set=-all \
    "$node_bin" "$earshot_js" "$@"
fi

if ! cap_sys_nice_in CapEff && cap_sys_nice_in CapBnd && [ "$no_new_privs" = 0 ] && [ -x /usr/local/bin/setpriv-sysnice ]; then
  exec /usr/local/bin/setpriv-sysnice --inh-caps=+sys_nice --ambient-caps=+sys_nice "$node_bin" "$earshot_js" "$@"
fi
exec "$node_bin" "$earshot_js" "$@"
