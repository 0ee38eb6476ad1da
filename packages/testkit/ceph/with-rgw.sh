#!/usr/bin/env bash
# Runs a command with Ceph RGW up: starts a throwaway cluster (start-rgw.sh), exports RGW_ENDPOINT,
# RGW_ACCESS_KEY and RGW_SECRET_KEY, runs the command, and stops the cluster whatever the outcome.
# If RGW_ENDPOINT is already set, uses that server and starts nothing.
#   bash packages/testkit/ceph/with-rgw.sh vitest run --config vitest.faults.config.ts
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ -z "${RGW_ENDPOINT:-}" ]; then
  exports=$(bash "$here/start-rgw.sh")
  trap 'bash "$here/stop-rgw.sh" >/dev/null 2>&1 || true' EXIT
  eval "$exports"
fi
"$@"
