#!/usr/bin/env bash
# Installs dependencies, builds with AddressSanitizer + UndefinedBehaviorSanitizer, runs every
# unit and integration test, a short crash test and a short fuzz run, and ends with
# "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
runnel_install_deps "${RUNNEL_PACKAGES[@]}" redis-tools clang libclang-rt-14-dev

set -e
if [ ! -f build/build.ninja ]; then
  meson setup build -Dbuildtype=debug -Db_sanitize=address,undefined >/dev/null
fi
ninja -C build -j"$(nproc)"
set +e

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
passed=0
failed=0

# Runs a doctest binary and adds its test-case counts to the totals.
run_doctest() {
  local name=$1; shift
  local log
  log=$(mktemp)
  "$@" 2>&1 | tee "$log"
  local status=${PIPESTATUS[0]}
  local line
  line=$(grep -E '^\[doctest\] test cases:' "$log" | tail -1)
  local p f
  p=$(echo "$line" | sed -E 's/.*\| *([0-9]+) passed.*/\1/')
  f=$(echo "$line" | sed -E 's/.*\| *([0-9]+) failed.*/\1/')
  if [ -z "$line" ]; then
    echo "$name: no test summary (crashed?)"
    p=0
    f=1
  elif [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then
    echo "$name: exited with status $status"
    f=1
  fi
  passed=$((passed + p))
  failed=$((failed + f))
  rm -f "$log"
}

run_doctest unit ./build/unit_tests
run_doctest integration ./build/integration_tests

# A short crash test: kill -9 a writing server, restart it, count acknowledged writes lost; with
# appendfsync always (replies wait for the fsync of their records), everysec (replies wait for
# the records' write to the kernel), and always with each kill made a simulated power loss (what
# was not yet durable is taken from the log).
for variant in always everysec powerloss; do
  policy=$variant
  loss=
  if [ "$variant" = powerloss ]; then policy=always loss=1; fi
  if POWERLOSS=$loss APPENDFSYNC=$policy CYCLES="${CRASH_CYCLES:-3}" scripts/crash-test.sh; then
    passed=$((passed + 1))
  else
    echo "crash-test ($variant): failed"
    failed=$((failed + 1))
  fi
done

# A bounded fuzz run of the request parser, replaying the stored regressions first.
if FUZZ_SECONDS="${FUZZ_SECONDS:-30}" scripts/fuzz.sh; then
  passed=$((passed + 1))
else
  echo "fuzz: failed"
  failed=$((failed + 1))
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
