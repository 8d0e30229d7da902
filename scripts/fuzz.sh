#!/usr/bin/env bash
# Builds the RESP parser fuzz target, replays the saved regressions, then fuzzes for a while.
#
#   scripts/fuzz.sh            # 60 s of fuzzing
#   FUZZ_SECONDS=600 scripts/fuzz.sh
#
# A crash leaves its input in build-fuzz/; copy it to tests/fuzz/regressions/parser/ once fixed
# so every later run replays it.
set -euo pipefail

cd "$(dirname "$0")/.."
seconds="${FUZZ_SECONDS:-60}"
out=build-fuzz
regressions=tests/fuzz/regressions/parser
corpus="$out/corpus/parser"
binary="$out/parser_fuzz"
cxx="${CXX_FUZZ:-clang++}"

# libFuzzer ships with clang only; without it there is nothing to run, which is not a failure.
probe_dir="$(mktemp -d)"
trap 'rm -rf "$probe_dir"' EXIT
printf 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }\n' \
  >"$probe_dir/probe.cc"
if ! command -v "$cxx" >/dev/null 2>&1 ||
  ! "$cxx" -fsanitize=fuzzer "$probe_dir/probe.cc" -o "$probe_dir/probe" >/dev/null 2>&1; then
  echo "fuzz: $cxx with libFuzzer is not available; skipped"
  exit 0
fi

mkdir -p "$out" "$corpus"
echo "fuzz: building $binary"
"$cxx" -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -Isrc tests/fuzz/parser_fuzz.cc src/resp/parser.cc -o "$binary"

# Replay first: a fixed bug must stay fixed before time is spent looking for new ones.
shopt -s nullglob
saved=("$regressions"/*)
if ((${#saved[@]} > 0)); then
  echo "fuzz: replaying ${#saved[@]} regression inputs"
  if ! "$binary" "${saved[@]}" >"$out/regressions.log" 2>&1; then
    cat "$out/regressions.log"
    echo "fuzz: a regression input fails again (log: $out/regressions.log)"
    exit 1
  fi
fi

echo "fuzz: fuzzing for ${seconds}s (corpus: $corpus)"
rm -f "$out"/crash-* "$out"/leak-* "$out"/timeout-* "$out"/oom-*
status=0
"$binary" -max_total_time="$seconds" -max_len=4096 -timeout=10 -print_final_stats=1 \
  -artifact_prefix="$out/" "$corpus" "$regressions" >"$out/fuzz.log" 2>&1 || status=$?
tail -n 20 "$out/fuzz.log"
if ((status != 0)); then
  artifacts=("$out"/crash-* "$out"/leak-* "$out"/timeout-* "$out"/oom-*)
  echo "fuzz: FAILED (exit $status); log: $out/fuzz.log"
  for a in "${artifacts[@]}"; do echo "fuzz: crash input: $a"; done
  echo "fuzz: reproduce with: $binary <input>; after fixing, add the input to $regressions/"
  exit 1
fi
echo "fuzz: no crash in ${seconds}s"
