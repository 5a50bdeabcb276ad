#!/usr/bin/env bash
# Set up (if needed), make sure PostgreSQL is up, and run the whole test suite.
# Extra arguments go to pytest (e.g. -k ledger, -m "not postgres").
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
if command -v pg_isready >/dev/null && ! pg_isready -q -h 127.0.0.1 -p 5432; then
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  fi
fi
exec .venv/bin/python -m pytest "$@"
