#!/usr/bin/env bash
# Builds the fuzz targets (the RESP parser; the WAL reader, command payloads and checkpoint data;
# a stream's serialized form), replays each one's saved regressions, then fuzzes each for a while.
#
#   scripts/fuzz.sh            # 60 s of fuzzing per target
#   FUZZ_SECONDS=600 scripts/fuzz.sh
#
# A crash leaves its input in build-fuzz/ as <target>-crash-*; copy it to
# tests/fuzz/regressions/<target>/ once fixed so every later run replays it.
set -euo pipefail

cd "$(dirname "$0")/.."
seconds="${FUZZ_SECONDS:-60}"
out=build-fuzz
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

mkdir -p "$out"
shopt -s nullglob

# fuzz_target NAME LIBS SOURCES...: builds $out/NAME_fuzz, replays, fuzzes.
fuzz_target() {
  local name="$1" libs="$2"
  shift 2
  local regressions="tests/fuzz/regressions/$name"
  local corpus="$out/corpus/$name"
  local binary="$out/${name}_fuzz"
  mkdir -p "$corpus"
  echo "fuzz: building $binary"
  # shellcheck disable=SC2086  # libs is a word list
  "$cxx" -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -Isrc "$@" -o "$binary" $libs

  # Replay first: a fixed bug must stay fixed before time is spent looking for new ones.
  local saved=("$regressions"/*)
  if ((${#saved[@]} > 0)); then
    echo "fuzz: $name: replaying ${#saved[@]} regression inputs"
    if ! "$binary" "${saved[@]}" >"$out/$name-regressions.log" 2>&1; then
      cat "$out/$name-regressions.log"
      echo "fuzz: $name: a regression input fails again (log: $out/$name-regressions.log)"
      exit 1
    fi
  fi

  echo "fuzz: $name: fuzzing for ${seconds}s (corpus: $corpus)"
  rm -f "$out/$name"-crash-* "$out/$name"-leak-* "$out/$name"-timeout-* "$out/$name"-oom-*
  local status=0
  local dirs=("$corpus")
  [[ -d "$regressions" ]] && dirs+=("$regressions")
  "$binary" -max_total_time="$seconds" -max_len=4096 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$out/$name-" "${dirs[@]}" >"$out/$name-fuzz.log" 2>&1 || status=$?
  tail -n 20 "$out/$name-fuzz.log"
  if ((status != 0)); then
    local artifacts=("$out/$name"-crash-* "$out/$name"-leak-* "$out/$name"-timeout-* "$out/$name"-oom-*)
    echo "fuzz: $name: FAILED (exit $status); log: $out/$name-fuzz.log"
    for a in "${artifacts[@]}"; do echo "fuzz: crash input: $a"; done
    echo "fuzz: reproduce with: $binary <input>; after fixing, add the input to $regressions/"
    exit 1
  fi
  echo "fuzz: $name: no crash in ${seconds}s"
}

fuzz_target parser "" tests/fuzz/parser_fuzz.cc src/resp/parser.cc
fuzz_target wal "-lxxhash" tests/fuzz/wal_fuzz.cc \
  src/persist/command_codec.cc src/persist/crc32c.cc src/persist/file_util.cc \
  src/persist/segment.cc src/persist/wal_reader.cc \
  src/engine/snapshot.cc src/engine/dict.cc src/engine/entry.cc src/engine/keyspace.cc \
  src/engine/slot.cc src/common/util.cc
fuzz_target stream "" tests/fuzz/stream_fuzz.cc \
  src/engine/stream.cc src/engine/stream_serialize.cc src/engine/stream_group.cc \
  src/common/util.cc
