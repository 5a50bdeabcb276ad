#!/usr/bin/env bash
# Set up (if needed) and run the weekly mining job on the bundled demo corpus, then make sure the
# demo store has an admin for the triage web UI (`voiceminer serve`): on the first run a random
# password is generated and printed once.
# Extra arguments go to `voiceminer mine` (e.g. --json, --quiet).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
DATA="${VOICEMINER_DATA_DIR:-voiceminer-data}"
vm() { .venv/bin/voiceminer --config corpora/demo/voiceminer.toml --data-dir "$DATA" "$@"; }
vm mine corpora/demo/exports "$@"
exec 3>&1  # the admin note goes to stdout, or to stderr when stdout is JSON or quiet
case " $* " in *" --json "*|*" --quiet "*|*" -q "*) exec 3>&2 ;; esac
if ! vm users list --json | grep -q '"name": "demo-admin"'; then
  pw=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(12))')
  printf '%s\n' "$pw" | vm --quiet users add demo-admin --role admin --password-stdin
  {
    echo
    echo "triage web UI: scripts/serve-demo.sh  (or: .venv/bin/voiceminer --config corpora/demo/voiceminer.toml --data-dir $DATA serve)"
    echo "  open http://127.0.0.1:8000 and log in as demo-admin with the password $pw"
    echo "  (shown only now; set another with: .venv/bin/voiceminer --config corpora/demo/voiceminer.toml --data-dir $DATA users passwd demo-admin)"
  } >&3
fi
