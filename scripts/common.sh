# Shared by scripts/test and scripts/demo: install what is missing (Debian 12 packages only), build.
# shellcheck shell=bash

RAPPEL_PACKAGES=(
  g++ cmake ninja-build pkg-config
  libboost-dev libcurl4-openssl-dev libyaml-cpp-dev libspdlog-dev nlohmann-json3-dev
  libhiredis-dev libphonenumber-dev libprotobuf-dev libkainjow-mustache-dev
  libhowardhinnant-date-dev libcli11-dev libsystemd-dev prometheus-cpp-dev catch2 tzdata
  redis-server redis-sentinel redis-tools prometheus python3 python3-aiosmtpd python3-redis
  python3-icalendar ruby-redis openssl systemd groff-base man-db dpkg-dev
)
# Only for the suite: the public statistics page is checked in a real headless browser, and the
# Redis scripts with luacheck.
RAPPEL_TEST_PACKAGES=(chromium lua-check)
# Only for `scripts/test --fuzz`: clang is large, and the normal suite does not need it.
RAPPEL_FUZZ_PACKAGES=(clang libclang-rt-14-dev)

# install_missing_packages [extra packages...]
install_missing_packages() {
  local missing=()
  for p in "${RAPPEL_PACKAGES[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "Installing: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
}

# install_node_test_modules DIR: ical.js (Mozilla's calendar parser, from the npm registry) into
# DIR/node, where tests/integration/calendar_test.cpp reads calendar invitations with it (the test
# runs the same npm install itself when this has not been done).
install_node_test_modules() {
  [ -f "$1/node/node_modules/ical.js/package.json" ] && return 0
  npm install --prefix "$1/node" --no-audit --no-fund --no-save --loglevel=error ical.js@2.2.1
}

# build DIR TARGET [extra cmake args...]   (TARGET "all" for everything)
build_rappel() {
  local dir=$1 target=$2
  shift 2
  local launcher=()
  # ccache when the machine has it (developers' machines); CI builds without it, and so does
  # CCACHE_DISABLE=1 (to time a clean CI build on a developer's machine).
  if command -v ccache >/dev/null && [ -z "${CCACHE_DISABLE:-}" ]; then
    launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  fi
  cmake -S . -B "$dir" -G Ninja "${launcher[@]}" "$@" >/dev/null
  ninja -C "$dir" -j "$(nproc)" "$target"
}
