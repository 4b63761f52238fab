#!/usr/bin/env bash
# Quick start 2 (and CI): set up with test extras + Chromium, run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
exec .venv/bin/python -m pytest "$@"
