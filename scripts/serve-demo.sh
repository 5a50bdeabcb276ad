#!/usr/bin/env bash
# Serve the triage web UI over the demo store that scripts/demo.sh wrote (http://127.0.0.1:8000).
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/voiceminer --config corpora/demo/voiceminer.toml --data-dir "${VOICEMINER_DATA_DIR:-voiceminer-data}" \
    serve "$@"
