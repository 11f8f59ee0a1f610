#!/usr/bin/env bash
# Build the HTML documentation (runs the gallery, warnings are errors, offline),
# then check its internal links and that no page loads anything from the
# network (scripts/check_docs_links.py).
# Usage: bash scripts/build_docs.sh [extra sphinx-build options]
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python )}"
export MPLBACKEND=agg KERAS_BACKEND="${KERAS_BACKEND:-tensorflow}" TF_CPP_MIN_LOG_LEVEL=2
"$PYTHON" -m sphinx -W --keep-going -b html docs docs/_build/html "$@"
"$PYTHON" scripts/check_docs_links.py docs/_build/html
