#!/usr/bin/env bash
# Quick start: install, build, and serve a registry on the filesystem driver
# (./data, 127.0.0.1:5000). Extra arguments go to `stowage serve` (e.g. a config.yml).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec pnpm --silent stowage serve "$@"
