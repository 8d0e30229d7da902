#!/usr/bin/env bash
# Installs the Debian packages runnel needs to build and test (sourced by run.sh and test.sh).
# As root it uses apt-get; otherwise it names what is missing and stops.

RUNNEL_PACKAGES=(g++ meson ninja-build pkg-config libuv1-dev libhiredis-dev libzstd-dev
                 libfmt-dev libxxhash-dev doctest-dev)

runnel_install_deps() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "runnel: missing Debian packages: ${missing[*]}" >&2
    echo "runnel: install them with: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "runnel: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
