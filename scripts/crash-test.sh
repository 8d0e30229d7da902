#!/usr/bin/env bash
# Crash test of the write-ahead log: scripts/crash-test.sh [CYCLES] (default 20, or $CYCLES).
#
# Each cycle: 16 connections of tools/crash_writer.cc write (SET, INCR, XADD *, DEL, with BGSAVE
# now and then) to runnel-server running with appendfsync always on a data directory kept across
# cycles, journaling every acknowledged reply; the server gets SIGKILL after a random 0.5-3 s;
# it is restarted on the same directory and `crash-writer verify` checks every journal so far
# against it. Prints one line per cycle and at the end "cycles: N, acknowledged writes: W,
# lost: L"; exits non-zero if anything acknowledged was lost or the data is wrong.
#
# Builds with `ninja -C build` (or build-release if there is no build/); BUILD_DIR overrides.
# APPENDFSYNC=everysec|no runs the same test under that policy (a kill -9 loses nothing there
# either: replies wait until the record is written to the kernel). SERVER_ARGS adds server
# options, e.g. "--auto-aof-rewrite-min-size 1mb" for checkpoints between BGSAVEs. KEEP=1
# keeps the work directory (data, journals, logs) even when nothing was lost.
#
# POWERLOSS=1 (appendfsync always only) makes each kill a simulated power loss: the server runs
# with tools/powerloss_shim.cc preloaded, which notes what every fsync and direct (RWF_DSYNC) write
# made durable, and after the kill `crash-writer powerloss` zeroes what none of them covered in
# each log segment (half the time keeping a random front part of it, a torn tail). Directory
# entries and checkpoint files are not taken back; the server fsyncs both before it relies on them.
set -uo pipefail
cd "$(dirname "$0")/.."

cycles=${1:-${CYCLES:-20}}
read -r -a server_args <<<"${SERVER_ARGS:-}"
build=${BUILD_DIR:-}
if [ -z "$build" ]; then
  if [ -d build ]; then build=build; else build=build-release; fi
fi
if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" -Dbuildtype=release >/dev/null || exit 2
fi
powerloss=${POWERLOSS:-}
if [ -n "$powerloss" ] && [ "${APPENDFSYNC:-always}" != always ]; then
  echo "crash-test: POWERLOSS needs appendfsync always (everysec and no may lose the last second)"
  exit 2
fi
shim=$build/libpowerloss-shim.so
ninja -C "$build" runnel-server crash-writer ${powerloss:+libpowerloss-shim.so} >/dev/null ||
  { echo "build failed"; exit 2; }
server_bin=$build/runnel-server
writer=$build/crash-writer

work=$(mktemp -d /tmp/runnel-crash-XXXXXX)
data=$work/data
mkdir -p "$data"
server_pid=
port=

server_env=()
if [ -n "$powerloss" ]; then
  # An ASan build wants its runtime first among the libraries; the shim comes before it.
  server_env=(LD_PRELOAD="$(realpath "$shim")" POWERLOSS_JOURNAL="$work/synced"
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0")
fi

# Starts the server on the data directory and waits until it has loaded the data.
start_server() {
  port=$("$writer" free-port) || return 1
  env "${server_env[@]}" "$server_bin" --port "$port" --dir "$data" --logfile "$work/server.log" \
    --appendfsync "${APPENDFSYNC:-always}" --wal-segment-size 1mb "${server_args[@]}" &
  server_pid=$!
  "$writer" wait --port "$port" --pid "$server_pid" --seconds 60
}

fail() {
  echo "crash-test: $1 (data, journals and server.log kept in $work)"
  [ -n "$server_pid" ] && kill -9 "$server_pid" 2>/dev/null
  exit 1
}

start=$(date +%s)
start_server || fail "the server did not start"
total_acked=0
journals=()
for ((i = 1; i <= cycles; i++)); do
  delay_ms=$((500 + RANDOM % 2501))
  "$writer" run --port "$port" --journal "$work/journal.$i" --prefix "c$i" --connections 16 \
    --seconds 60 --seed "$RANDOM" --bgsave-ms 700 >"$work/run.$i.out" 2>&1 &
  writer_pid=$!
  sleep "$(awk "BEGIN { print $delay_ms / 1000 }")"
  kill -9 "$server_pid"
  wait "$server_pid" 2>/dev/null
  # The writers stop as soon as their connections drop.
  wait "$writer_pid" || fail "cycle $i: crash-writer run failed: $(cat "$work/run.$i.out")"
  [ "$i" -eq 1 ] && grep '^note:' "$work/run.$i.out"
  acked=$(sed -n 's/^acknowledged writes: //p' "$work/run.$i.out")
  total_acked=$((total_acked + ${acked:-0}))
  journals+=("$work/journal.$i")
  loss=
  if [ -n "$powerloss" ]; then
    "$writer" powerloss --dir "$data" --journal "$work/synced" --seed "$RANDOM" \
      >"$work/powerloss.$i.out" 2>&1 ||
      fail "cycle $i: powerloss failed: $(cat "$work/powerloss.$i.out")"
    loss=", power loss took $(sed -n 's/^powerloss: \([0-9]*\) bytes taken$/\1/p' \
      "$work/powerloss.$i.out") bytes of the log"
  fi

  start_server || fail "cycle $i: the server did not come back after kill -9"
  "$writer" verify --port "$port" "${journals[@]}" >"$work/verify.$i.out" 2>&1
  status=$?
  [ "$status" -gt 1 ] && fail "cycle $i: verify failed: $(cat "$work/verify.$i.out")"
  grep -E '^(LOST|WRONG) ' "$work/verify.$i.out" >>"$work/problems"
  lost=$(grep -c '^LOST ' "$work/verify.$i.out")
  wrong=$(grep -c '^WRONG ' "$work/verify.$i.out")
  echo "cycle $i: killed after ${delay_ms} ms$loss, acknowledged writes: ${acked:-0}," \
    "lost: $lost, wrong: $wrong (all $i journals checked)"
done
kill -TERM "$server_pid"
wait "$server_pid" 2>/dev/null
server_pid=

touch "$work/problems"
lost=$(grep '^LOST ' "$work/problems" | sort -u | wc -l)
wrong=$(grep '^WRONG ' "$work/problems" | sort -u | wc -l)
echo "cycles: $cycles, acknowledged writes: $total_acked, lost: $lost"
[ "$wrong" -gt 0 ] && echo "wrong (values no write could have left): $wrong"
echo "($(($(date +%s) - start)) s)"
if [ "$lost" -gt 0 ] || [ "$wrong" -gt 0 ]; then
  sort -u "$work/problems" | head -20
  fail "acknowledged writes were lost or changed"
fi
if [ -n "${KEEP:-}" ]; then echo "work directory kept: $work"; else rm -rf "$work"; fi
