#!/usr/bin/env bash
# Every test Stowage has, on a fresh machine: installs the tools the tests need (pnpm, and the
# real container clients from Debian for the end-to-end tests), builds, lints, typechecks, runs.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
for tool in skopeo podman umoci; do command -v "$tool" >/dev/null 2>&1 || need+=("$tool"); done
if [ "${#need[@]}" -gt 0 ]; then
	if [ "$(id -u)" = 0 ]; then
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
	else
		sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
	fi
fi
bash scripts/bootstrap.sh
pnpm lint
pnpm typecheck
# A broken native hash build must fail loudly rather than run at a fifth of the speed.
export STOWAGE_REQUIRE_NATIVE_HASH=1
pnpm exec turbo run test --concurrency=1
