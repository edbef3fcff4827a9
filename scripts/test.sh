#!/usr/bin/env bash
# Every test Stowage has, on a fresh machine: installs the tools the tests need (pnpm, and Debian
# packages for the real components the tests drive), builds, lints, typechecks, runs.
set -euo pipefail
cd "$(dirname "$0")/.."
# command → Debian package: the real clients (skopeo, podman, umoci), htpasswd and openssl for
# the auth and TLS tests, Redis for the replicas' locker, and Distribution itself for the
# benchmark smoke run.
declare -A package_of=(
	[skopeo]=skopeo [podman]=podman [umoci]=umoci [htpasswd]=apache2-utils
	[redis-server]=redis-server [docker-registry]=docker-registry [openssl]=openssl
)
need=()
for tool in "${!package_of[@]}"; do
	command -v "$tool" >/dev/null 2>&1 || need+=("${package_of[$tool]}")
done
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
log=$(mktemp)
set +e
pnpm exec turbo run test --concurrency=1 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
bash scripts/test-totals.sh "$log"
rm -f "$log"
exit "$status"
