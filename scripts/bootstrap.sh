#!/usr/bin/env bash
# Installs what Stowage needs on a fresh machine (Node 20 and npm are assumed): pnpm from the npm
# registry, the workspace's dependencies from the lockfile, then a build.
set -euo pipefail
cd "$(dirname "$0")/.."
PNPM_VERSION=10.34.8
if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version)" != "$PNPM_VERSION" ]; then
	npm install -g "pnpm@$PNPM_VERSION"
fi
pnpm install --frozen-lockfile
pnpm build
