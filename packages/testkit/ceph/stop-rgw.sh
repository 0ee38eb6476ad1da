#!/usr/bin/env bash
# Stops the throwaway one-node Ceph cluster (mon + memstore OSD + radosgw) started by
# start-rgw.sh and removes its data folder. Idempotent: exits 0 when nothing is running.
#
#   packages/testkit/ceph/stop-rgw.sh            # CEPH_DIR defaults to /tmp/citrix-collector-ceph
#   KEEP_CEPH_DIR=1 packages/testkit/ceph/stop-rgw.sh   # stop the daemons but keep the folder (logs)
#
# Only processes started for this CEPH_DIR are touched: those named by its pid files and
# those whose command line names its ceph.conf.
set -euo pipefail

CEPH_DIR="${CEPH_DIR:-/tmp/citrix-collector-ceph}"
CEPH_DIR="${CEPH_DIR%/}"
MARKER=".citrix-collector-ceph"

log() { echo "[stop-rgw] $*" >&2; }

case "$CEPH_DIR" in
  "" | / | /tmp | /root | /home | /var | /usr | /etc | /work | /work/main)
    log "refusing to use CEPH_DIR='$CEPH_DIR'"
    exit 1
    ;;
esac

if [ ! -e "$CEPH_DIR" ]; then
  log "nothing to stop ($CEPH_DIR does not exist)"
  exit 0
fi

if [ -d "$CEPH_DIR" ] && [ ! -e "$CEPH_DIR/$MARKER" ] && [ -n "$(ls -A "$CEPH_DIR" 2>/dev/null)" ]; then
  log "refusing to touch $CEPH_DIR: it is not empty and has no $MARKER file (not made by start-rgw.sh)"
  exit 1
fi

# Pids of our daemons: from pid files, plus any process whose command line names our config
# (covers a daemon that died before writing its pid file or whose pid file was removed).
collect_pids() {
  local f pid
  for f in "$CEPH_DIR"/run/*.pid; do
    [ -f "$f" ] || continue
    pid="$(tr -dc '0-9' <"$f" || true)"
    [ -n "$pid" ] && [ -d "/proc/$pid" ] && echo "$pid"
  done
  pgrep -f -- "-c $CEPH_DIR/ceph.conf" || true
}

# running PID: the process exists and is not a zombie (an un-reaped zombie holds no ports or memory).
running() {
  local state
  state="$(sed -n 's/^[0-9]* (.*) \([A-Za-z]\) .*/\1/p' "/proc/$1/stat" 2>/dev/null || true)"
  [ -n "$state" ] && [ "$state" != Z ]
}

mapfile -t pids < <(collect_pids | sort -un)
# Keep only Ceph programs (guards against pid reuse, and against a shell or editor whose
# command line merely mentions the config path).
alive=()
for pid in "${pids[@]}"; do
  [ -n "$pid" ] || continue
  comm="$(cat "/proc/$pid/comm" 2>/dev/null || true)"
  case "$comm" in
    ceph-mon | ceph-osd | ceph-mgr | radosgw | radosgw-admin | ceph | monmaptool | ceph-authtool) alive+=("$pid") ;;
  esac
done

if [ "${#alive[@]}" -gt 0 ]; then
  log "stopping pids: ${alive[*]}"
  kill -TERM "${alive[@]}" 2>/dev/null || true
  # The cluster is throwaway (memstore keeps data in RAM), so a clean shutdown buys nothing:
  # give the daemons 2 s (they need ~1.5-2 s each), then SIGKILL.
  for _ in $(seq 1 10); do
    still=()
    for pid in "${alive[@]}"; do
      running "$pid" && still+=("$pid")
    done
    [ "${#still[@]}" -eq 0 ] && break
    sleep 0.2
  done
  if [ "${#still[@]}" -gt 0 ]; then
    log "still alive after SIGTERM, sending SIGKILL: ${still[*]}"
    kill -KILL "${still[@]}" 2>/dev/null || true
    # A killed OSD holding a lot of memstore data takes a moment to release it: wait until gone,
    # so that the ports are free for the next start.
    for _ in $(seq 1 50); do
      gone=1
      for pid in "${still[@]}"; do
        running "$pid" && gone=0
      done
      [ "$gone" -eq 1 ] && break
      sleep 0.2
    done
    [ "$gone" -eq 1 ] || log "warning: pids ${still[*]} still present 10 s after SIGKILL"
  fi
else
  log "no daemons running for $CEPH_DIR"
fi

if [ "${KEEP_CEPH_DIR:-0}" = 1 ]; then
  log "kept $CEPH_DIR (KEEP_CEPH_DIR=1)"
else
  rm -rf -- "$CEPH_DIR"
  log "removed $CEPH_DIR"
fi
