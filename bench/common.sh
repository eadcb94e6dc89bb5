# Shared by the bench/* commands: build rappel and rappel_bench with optimisations (-O2, NDEBUG,
# with symbols for perf: CMake's RelWithDebInfo) in build-release/, then run one benchmark.
# shellcheck shell=bash
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/common.sh

run_bench() {
  RAPPEL_PACKAGES+=(nginx-light wrk linux-perf)
  install_missing_packages
  build_rappel build-release bench -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRAPPEL_TESTS=OFF >/dev/null
  echo "\$ build-release/bench/rappel_bench $*"
  build-release/bench/rappel_bench "$@"
}
