#!/usr/bin/env bash
# Quick start 1: set up, then sample data -> load -> jobs -> dashboard.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/seamline demo "$@"
