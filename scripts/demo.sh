#!/usr/bin/env bash
# Set up (if needed) and run the weekly mining job on the bundled demo corpus.
# Extra arguments go to `voiceminer mine` (e.g. --json, --quiet).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/voiceminer --config corpora/demo/voiceminer.toml --data-dir "${VOICEMINER_DATA_DIR:-voiceminer-data}" \
    mine corpora/demo/exports "$@"
