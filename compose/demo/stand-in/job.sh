#!/bin/sh
# An init job like CLP's db-table-creator: does its work once and exits 0. FAIL=1 (the demo's
# BREAK_INIT_JOB=1) makes it exit 1 instead, so everything gated on it never starts.
set -u
echo "${SERVICE:-job}: working..."
sleep "${WORK_SECONDS:-1}"
if [ "${FAIL:-0}" = 1 ]; then
  echo "${SERVICE:-job}: failed on purpose (BREAK_INIT_JOB=1)" >&2
  exit 1
fi
echo "${SERVICE:-job}: done"
