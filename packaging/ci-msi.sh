#!/usr/bin/env bash
# CI entry point for the Windows installer: builds and checks the MSI
# (packaging/build-msi.sh), then installs, runs and uninstalls it under Wine
# (packaging/smoke-test-msi.sh). Exits non-zero if either fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

start=$SECONDS
msi="$(bash packaging/build-msi.sh | tail -n 1)"
build_s=$((SECONDS - start))

start=$SECONDS
bash packaging/smoke-test-msi.sh "$msi"
smoke_s=$((SECONDS - start))

echo "ci-msi: built $msi ($(($(stat -c %s "$msi") / 1024)) KiB) in ${build_s} s; Wine smoke test took ${smoke_s} s"
