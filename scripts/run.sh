#!/usr/bin/env bash
# Builds runnel (release) and runs it in the foreground on 127.0.0.1:6379 with its data in ./data.
# Extra arguments go to runnel-server, e.g. scripts/run.sh --port 6380 --threads 4
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
runnel_install_deps "${RUNNEL_PACKAGES[@]}"

if [ ! -f build-release/build.ninja ]; then
  meson setup build-release -Dbuildtype=release -Dtests=false >/dev/null
fi
ninja -C build-release runnel-server >/dev/null
mkdir -p data
exec build-release/runnel-server --bind 127.0.0.1 --port 6379 --dir ./data "$@"
