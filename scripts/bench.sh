#!/usr/bin/env bash
# Benchmarks runnel against Debian's redis-server in the same run, with redis-benchmark,
# redis-cli and two small tools built here with g++: a poller (bench/wait_loaded.cc) and a
# Pub/Sub fan-out client (bench/pubsub_fanout.cc, with hiredis).
#
#   scripts/bench.sh                               # every suite, 3 rounds
#   SUITES="streams memory" scripts/bench.sh       # some suites
#   ROUNDS=5 SUITES=core TESTS="set get" scripts/bench.sh
#   RUNNEL_BIN=/path/to/runnel-server scripts/bench.sh   # use that binary, build nothing
#
# Suites (SUITES, default "core streams types pubsub durability restart memory"), each against
# both servers:
#   core        SET GET INCR MSET PING; redis-benchmark -c 50 at -P 1 and -P 16; persistence off
#   streams     XADD (auto ID, 2 fields with 16-byte values) and XRANGE key - + COUNT 10 on a
#               1,000,000-entry stream; -c 50 at -P 1 and -P 16; persistence off
#   types       redis-benchmark's LPUSH RPOP SADD HSET ZADD LRANGE_100; -c 50 at -P 1 and -P 16;
#               persistence off; ZADD is reported n/a when runnel answers it "unknown command"
#   pubsub      PUBLISH fan-out to 50 subscribers (bench/pubsub_fanout): deliveries per second and
#               server CPU per delivery; persistence off
#   durability  SET and XADD with appendonly yes + appendfsync always (runnel also with appendonly
#               no, for its always/no ratio); 1-client SET latency with always; SET and XADD with
#               appendfsync everysec
#   restart     1,000,000 keys + a 1,000,000-entry stream, kill -9, time from process start until
#               the data is served: (a) default persistence, (b) right after SAVE (runnel) and
#               BGREWRITEAOF (redis)
#   memory      RSS per stream entry (1,000,000 entries "f1 v1 f2 v2" in one stream), per
#               pending entry (100,000 delivered to a consumer group, not acknowledged) and per
#               small hash (1,000,000 hashes of 5 fields, on a fresh server)
#
# Throughput runs alternate runnel and redis inside each round, so slow drift of the machine hits
# both alike. For each run the server's CPU time (utime+stime of the whole process,
# /proc/PID/stat) is read before and after, giving server CPU microseconds per request. Figures
# are medians over the rounds; runnel/redis ratios are medians of the per-round ratios. Each suite
# prints a plain table, a markdown block for docs/PERFORMANCE.md and the command line.
# Other jobs on the machine disturb the figures: the CPU they use is measured for one second before
# each suite and during every throughput run (/proc/stat minus the server and redis-benchmark);
# above 15% of the CPUs, the suite's notes carry a warning and the progress line says so.
#
# Environment (defaults in brackets):
#   SUITES ["core streams types pubsub durability restart memory"]   ROUNDS [3]   CLIENTS [50]
#   N_P1 [200000]  N_P16 [2000000]   requests per run at -P 1 / -P 16 (core, streams, types)
#   TESTS ["set get incr mset ping"]  core: redis-benchmark -t names ("ping" means ping_mbulk)
#   TYPE_TESTS ["lpush rpop sadd hset zadd lrange_100"]   types: the workloads, in this order
#   PUBSUB_MESSAGES [200000]  PUBLISHes per pubsub run    PUBSUB_SUBSCRIBERS [50]
#   PUBSUB_PUBLISHERS [1]  publisher connections          PUBSUB_PIPELINE [64]  PUBLISHes in flight each
#   PUBSUB_PAYLOAD [16]  message bytes                    PUBSUB_READERS [1]  threads reading subscribers
#   HASHES [1000000]   5-field hashes loaded for the memory suite
#   STREAM_ENTRIES [1000000]   entries in the XRANGE stream, the memory stream, the restart stream
#   N_DUR_P1 [N_P1]  N_DUR_P16 [N_P16]   requests per durability run at -P 1 / -P 16
#   N_LAT [20000]       requests of the 1-client appendfsync-always latency run
#   RESTART_KEYS [1000000]   string keys loaded before the restart runs
#   PENDING [100000]   entries delivered to the consumer group and left pending (memory)
#   THREADS [nproc]    runnel --threads (passed only when the binary is runnel)
#   RUNNEL_BIN         server binary to use instead of building build-release/runnel-server
#   RUNNEL_ARGS        more runnel-server arguments, e.g. "--auto-aof-rewrite-percentage 0"
#   RUN_TIMEOUT [300]  seconds after which one redis-benchmark or redis-cli --pipe run counts as hung
#   LOAD_TIMEOUT [600] seconds a restarted server may take to serve its data
set -euo pipefail
# $EPOCHREALTIME and awk must use "." as the decimal separator.
if [[ -n "${LC_ALL:-}" ]]; then export LC_ALL=C; fi
export LC_NUMERIC=C

cd "$(dirname "$0")/.."
repo="$(pwd)"

SUITES="${SUITES:-core streams types pubsub durability restart memory}"
ROUNDS="${ROUNDS:-3}"
N_P1="${N_P1:-200000}"
N_P16="${N_P16:-2000000}"
CLIENTS="${CLIENTS:-50}"
TESTS="${TESTS:-set get incr mset ping}"
TYPE_TESTS="${TYPE_TESTS:-lpush rpop sadd hset zadd lrange_100}"
PUBSUB_MESSAGES="${PUBSUB_MESSAGES:-200000}"
PUBSUB_SUBSCRIBERS="${PUBSUB_SUBSCRIBERS:-50}"
PUBSUB_PUBLISHERS="${PUBSUB_PUBLISHERS:-1}"
PUBSUB_PIPELINE="${PUBSUB_PIPELINE:-64}"
PUBSUB_PAYLOAD="${PUBSUB_PAYLOAD:-16}"
PUBSUB_READERS="${PUBSUB_READERS:-1}"
HASHES="${HASHES:-1000000}"
STREAM_ENTRIES="${STREAM_ENTRIES:-1000000}"
N_DUR_P1="${N_DUR_P1:-$N_P1}"
N_DUR_P16="${N_DUR_P16:-$N_P16}"
N_LAT="${N_LAT:-20000}"
RESTART_KEYS="${RESTART_KEYS:-1000000}"
PENDING="${PENDING:-100000}"
THREADS="${THREADS:-$(nproc)}"
RUN_TIMEOUT="${RUN_TIMEOUT:-300}"
LOAD_TIMEOUT="${LOAD_TIMEOUT:-600}"
PIPELINES=(1 16)

die() { echo "bench: $*" >&2; exit 1; }
note() { echo "bench: $*" >&2; }

for v in ROUNDS N_P1 N_P16 CLIENTS STREAM_ENTRIES N_DUR_P1 N_DUR_P16 N_LAT RESTART_KEYS PENDING \
         THREADS RUN_TIMEOUT LOAD_TIMEOUT PUBSUB_MESSAGES PUBSUB_SUBSCRIBERS PUBSUB_PUBLISHERS \
         PUBSUB_PIPELINE PUBSUB_PAYLOAD PUBSUB_READERS HASHES; do
  [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer (got '${!v}')"
done
read -r -a tests <<<"$TESTS"
read -r -a type_tests <<<"$TYPE_TESTS"
read -r -a suites <<<"$SUITES"
((${#suites[@]} > 0)) || die "SUITES is empty"
for s in "${suites[@]}"; do
  case "$s" in
    core | streams | types | pubsub | durability | restart | memory) ;;
    *) die "unknown suite '$s' in SUITES (known: core streams types pubsub durability restart memory)" ;;
  esac
done
want_suite() { [[ " ${suites[*]} " == *" $1 "* ]]; }
if want_suite core; then ((${#tests[@]} > 0)) || die "TESTS is empty"; fi
if want_suite types; then ((${#type_tests[@]} > 0)) || die "TYPE_TESTS is empty"; fi
if want_suite memory && ((PENDING > STREAM_ENTRIES)); then
  die "PENDING ($PENDING) must not exceed STREAM_ENTRIES ($STREAM_ENTRIES)"
fi
[[ -n "${EPOCHREALTIME:-}" ]] || die "bash 5 or later is needed (\$EPOCHREALTIME)"

# ---------------------------------------------------------------------------------------------
# Packages: redis-server and redis-tools always; g++ for the restart suite's poller and (with
# libhiredis-dev) the pubsub suite's client; the build dependencies unless RUNNEL_BIN is set.

dpkg_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
{ command -v redis-benchmark && command -v redis-cli; } >/dev/null 2>&1 || need+=(redis-tools)
if { want_suite restart || want_suite pubsub; } && ! command -v g++ >/dev/null 2>&1; then need+=(g++); fi
if want_suite pubsub && ! dpkg_installed libhiredis-dev; then need+=(libhiredis-dev); fi
if [[ -z "${RUNNEL_BIN:-}" ]]; then
  build_pkgs=(g++ meson ninja-build pkg-config libuv1-dev libhiredis-dev libzstd-dev libfmt-dev
              libxxhash-dev doctest-dev)
  if [[ -f scripts/deps.sh ]]; then
    # The shared list of build dependencies, if run.sh/test.sh's helper is there.
    # shellcheck disable=SC1091
    read -r -a build_pkgs <<<"$(source scripts/deps.sh >/dev/null 2>&1; echo "${RUNNEL_PACKAGES[@]:-${build_pkgs[@]}}")"
  fi
  for p in "${build_pkgs[@]}"; do
    dpkg_installed "$p" || [[ " ${need[*]} " == *" $p "* ]] || need+=("$p")
  done
fi
if ((${#need[@]} > 0)); then
  if [[ "$(id -u)" -ne 0 ]]; then
    echo "bench: missing Debian packages: ${need[*]}" >&2
    echo "bench: install them with: sudo apt-get install -y ${need[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  # apt-get update only when the package lists do not know a package we need.
  for p in "${need[@]}"; do
    if ! apt-cache policy "$p" 2>/dev/null | grep -q 'Candidate: [^(]'; then
      note "updating the apt package lists"
      apt-get update -qq >/dev/null
      break
    fi
  done
  note "installing ${need[*]}"
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
for c in redis-server redis-benchmark redis-cli getconf awk timeout du; do
  command -v "$c" >/dev/null 2>&1 || die "'$c' not found"
done
REDIS_BIN="$(command -v redis-server)"

# ---------------------------------------------------------------------------------------------
# The runnel binary: RUNNEL_BIN, or the release build.

if [[ -n "${RUNNEL_BIN:-}" ]]; then
  if [[ "$RUNNEL_BIN" != */* ]]; then RUNNEL_BIN="$(command -v "$RUNNEL_BIN" || true)"; fi
  [[ -n "$RUNNEL_BIN" && -x "$RUNNEL_BIN" ]] || die "RUNNEL_BIN is not an executable: ${RUNNEL_BIN:-?}"
  RUNNEL_BIN="$(cd "$(dirname "$RUNNEL_BIN")" && pwd)/$(basename "$RUNNEL_BIN")"
else
  if [[ ! -f build-release/build.ninja ]]; then
    note "configuring build-release"
    meson setup build-release -Dbuildtype=release -Dtests=false >/dev/null
  fi
  note "building build-release/runnel-server"
  if ! build_log="$(ninja -C build-release -j2 runnel-server 2>&1)"; then
    tail -n 30 <<<"$build_log" >&2
    die "the release build failed (ninja -C build-release -j2 runnel-server; output above)"
  fi
  RUNNEL_BIN="$repo/build-release/runnel-server"
fi
runnel_version="$("$RUNNEL_BIN" --version 2>/dev/null | head -n1 || true)"
redis_version="$("$REDIS_BIN" --version 2>/dev/null | head -n1 || true)"
is_runnel=0
if grep -q runnel <<<"$runnel_version"; then is_runnel=1; fi
if ((!is_runnel)); then
  note "RUNNEL_BIN ($RUNNEL_BIN) is not runnel ('$runnel_version'): not passing --threads;"
  note "its column is still labelled 'runnel'"
fi

# ---------------------------------------------------------------------------------------------
# Work directory (both servers' data directories live in it, so on the same file system), and
# process bookkeeping: only processes this script started are ever signalled.

work="$(mktemp -d "${TMPDIR:-/tmp}/runnel-bench.XXXXXX")"
declare -A live=() # pid -> 1 for every server process started and not yet reaped
bench_pid=""

kill_server() { # pid: SIGKILL and reap (the data of a benchmark server is thrown away)
  local pid="$1"
  [[ -n "$pid" ]] || return 0
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  unset "live[$pid]"
}
cleanup() {
  local pid
  if [[ -n "$bench_pid" ]]; then kill "$bench_pid" 2>/dev/null || true; fi
  for pid in "${!live[@]}"; do kill_server "$pid"; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

work_fs="$(df -PT "$work" | awk 'NR == 2 { print $1 " (" $2 ") mounted on " $7 }')"
note "work directory $work on $work_fs"

port_in_use() { # port
  if command -v ss >/dev/null 2>&1; then
    [[ -n "$(ss -Htan "sport = :$1" 2>/dev/null)" ]]
  else
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
  fi
}
# Ports below the kernel's ephemeral range, so no client connection can be holding one.
read -r eph_lo eph_hi </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || { eph_lo=32768; eph_hi=60999; }
if ((eph_lo > 11000)); then port_lo=10000; port_hi=$((eph_lo - 1)); else port_lo=$((eph_hi + 1)); port_hi=65535; fi
((port_hi > port_lo)) || { port_lo=20000; port_hi=60000; }
free_port() { # port to avoid
  local p i
  for ((i = 0; i < 200; i++)); do
    p=$((port_lo + (RANDOM * 32768 + RANDOM) % (port_hi - port_lo + 1)))
    [[ "$p" != "${1:-}" ]] || continue
    port_in_use "$p" || { echo "$p"; return 0; }
  done
  die "no free loopback port found"
}

# launch BIN DIR PORT [args...]: starts the server in the background, its output appended to
# DIR/server.log after a "===" line; sets launched_pid and launch_time ($EPOCHREALTIME taken just
# before the fork).
launch() {
  local bin="$1" dir="$2" port="$3"
  shift 3
  mkdir -p "$dir"
  echo "=== $(date -u +%FT%TZ) $bin --port $port --bind 127.0.0.1 --dir $dir $*" >>"$dir/server.log"
  launch_time=$EPOCHREALTIME
  "$bin" --port "$port" --bind 127.0.0.1 --dir "$dir" "$@" >>"$dir/server.log" 2>&1 &
  launched_pid=$!
  live[$launched_pid]=1
}
last_log() { # dir: the server log since the last launch
  awk '/^=== / { n = 0 } { l[++n] = $0 } END { for (i = 1; i <= n; i++) print l[i] }' "$1/server.log" 2>/dev/null
}

# start_server NAME BIN DIR AVOID_PORT [args...]: starts it on a free port and waits until it
# answers PING; sets started_pid and started_port. Retries on another port if the port was taken.
start_server() {
  local name="$1" bin="$2" dir="$3" avoid="$4" attempt i port
  shift 4
  for ((attempt = 1; attempt <= 5; attempt++)); do
    port="$(free_port "$avoid")"
    launch "$bin" "$dir" "$port" "$@"
    started_pid=$launched_pid
    started_port=$port
    for ((i = 0; i < 200; i++)); do
      if ! kill -0 "$started_pid" 2>/dev/null; then
        wait "$started_pid" 2>/dev/null || true
        unset "live[$started_pid]"
        if last_log "$dir" | grep -qi "address already in use" && ((attempt < 5)); then
          note "$name: port $port was taken; trying another"
          continue 2
        fi
        last_log "$dir" | tail -n 20 >&2 || true
        die "$name exited during start-up (log above; command: $bin --port $port ... $*)"
      fi
      if [[ "$(redis-cli -h 127.0.0.1 -p "$port" PING 2>/dev/null)" == PONG ]]; then
        return 0
      fi
      sleep 0.05
    done
    last_log "$dir" | tail -n 20 >&2 || true
    die "$name did not answer PING on port $port within 10 s"
  done
}

runnel_args=()
if ((is_runnel)); then
  runnel_args=(--threads "$THREADS")
  read -r -a extra_args <<<"${RUNNEL_ARGS:-}"
  runnel_args+=("${extra_args[@]}")
fi
quoted() { # args... -> shell-quoted, for printing command lines (--save '' stays visible)
  local a out=""
  for a in "$@"; do out+=" $(printf '%q' "$a")"; done
  echo "${out# }"
}
redis_args=(--daemonize no)
persist_off=(--appendonly no --save '')

alive() { # name pid dir
  kill -0 "$2" 2>/dev/null && return 0
  last_log "$3" | tail -n 20 >&2 || true
  die "$1 (pid $2) has died (server log above)"
}

rcli() { # port command... (a failing redis-cli gives its error text, never a failed status)
  local port="$1"
  shift
  redis-cli -h 127.0.0.1 -p "$port" "$@" 2>&1 || true
}

# Every workload's command must work on both servers: redis-benchmark counts error replies as
# requests served, which would make a broken command look fast.
expect() { # name port expected command...
  local name="$1" port="$2" want="$3" got
  shift 3
  got="$(rcli "$port" "$@")"
  [[ "$got" == "$want" ]] || die "$name: '$*' replied '$got', expected '$want'"
}
expect_match() { # name port regex command...
  local name="$1" port="$2" re="$3" got
  shift 3
  got="$(rcli "$port" "$@")"
  [[ "$got" =~ $re ]] || die "$name: '$*' replied '$got', expected a reply matching /$re/"
}
expect_config() { # name port parameter value: CONFIG GET shows the setting took effect
  local got
  got="$(rcli "$2" CONFIG GET "$3" | tr '\n' ' ')"
  [[ "$got" == "$3 $4 " ]] || die "$1: CONFIG GET $3 replied '$got', expected '$3 $4'"
}

# The values of the stream workloads: 2 fields, 16-byte values.
V16=0123456789abcdef
ID_RE='^[0-9]+-[0-9]+$'
xadd_cmd=(XADD bench:xadd '*' f1 "$V16" f2 "$V16")
xrange_cmd=(XRANGE bench:stream - + COUNT 10)

clk_tck="$(getconf CLK_TCK)"
sys_ticks() { awk '/^cpu / { t = 0; for (i = 2; i <= NF; i++) t += $i; print t, $5 + $6 }' /proc/stat; }
kids_now() { # sets kids: CPU of this shell's reaped children (bash's times), in clock ticks
  times >"$work/times.txt" # in this shell, not a subshell: line 2 is "0m1.234s 0m0.567s"
  kids="$(awk -v hz="$clk_tck" 'NR == 2 { s = 0
    for (i = 1; i <= NF; i++) { split($i, m, "m"); sub(/s$/, "", m[2]); s += m[1] * 60 + m[2] }
    printf "%.0f", s * hz }' "$work/times.txt")"
}
# Throughput runs during which other processes used more than FOREIGN_WARN% of the CPUs are
# counted, and the suite's notes say so.
FOREIGN_WARN=15
foreign_runs=0
foreign_max=0
cpu_ticks() { # pid -> utime+stime of the whole process (fields 14, 15), in clock ticks; not its
              # children's (redis-server's AOF rewrites and RDB saves run in a forked child)
  local s
  s="$(<"/proc/$1/stat")" || return 1
  s="${s##*) }" # the command name (field 2) may contain spaces; field 3 follows ") "
  read -r -a f <<<"$s"
  echo $((f[11] + f[12]))
}
child_ticks() { # pid -> CPU of its reaped children (fields 16, 17), in clock ticks
  local s
  s="$(<"/proc/$1/stat")" || return 1
  s="${s##*) }"
  read -r -a f <<<"$s"
  echo $((f[13] + f[14]))
}
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# Pipe files for redis-cli --pipe (RESP, generated once).
pipe_dir="$work/pipe"
mkdir -p "$pipe_dir"
gen_stream_pipe() { # file key count f1-value f2-value
  [[ -s "$1" ]] && return 0
  LC_ALL=C awk -v key="$2" -v n="$3" -v a="$4" -v b="$5" 'BEGIN {
    s = sprintf("*7\r\n$4\r\nXADD\r\n$%d\r\n%s\r\n$1\r\n*\r\n$2\r\nf1\r\n$%d\r\n%s\r\n$2\r\nf2\r\n$%d\r\n%s\r\n",
                length(key), key, length(a), a, length(b), b)
    for (i = 0; i < n; i++) printf "%s", s
  }' >"$1"
}
gen_strings_pipe() { # file count value: SET key:0000001 ... key:<count>
  [[ -s "$1" ]] && return 0
  LC_ALL=C awk -v n="$2" -v v="$3" 'BEGIN {
    for (i = 1; i <= n; i++) { k = sprintf("key:%07d", i)
      printf "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", length(k), k, length(v), v }
  }' >"$1"
}
# pipe_in NAME PORT PID DIR FILE COUNT: sends FILE with redis-cli --pipe; all COUNT replies
# must come back without errors.
pipe_in() {
  local name="$1" port="$2" pid="$3" dir="$4" file="$5" count="$6" out rc=0
  out="$(timeout "$RUN_TIMEOUT" redis-cli -h 127.0.0.1 -p "$port" --pipe <"$file" 2>&1)" || rc=$?
  alive "$name" "$pid" "$dir"
  if ((rc != 0)) || ! grep -q "errors: 0, replies: $count\$" <<<"$out"; then
    echo "$out" | tail -n 5 >&2
    die "$name: redis-cli --pipe <$(basename "$file") failed (exit $rc; expected 'errors: 0, replies: $count')"
  fi
}

results="$work/results.tsv" # suite workload pipeline round server rps cpu_us_per_op avg_ms p50_ms
: >"$results"

# measured_run NAME PORT PID DIR WHAT -- command...: runs one client command (stdout in
# $work/bench.out, stderr in $work/bench.err) while watching the server, which must survive it.
# Sets run_ticks (the server's CPU during the run, clock ticks) and run_foreign (the CPU used
# by other processes, % of all CPUs). A failing or hung
# command stops the script; WHAT names it in the message.
measured_run() {
  local name="$1" port="$2" pid="$3" dir="$4" what="$5"
  shift 6
  local out="$work/bench.out" err="$work/bench.err" before after rc=0
  local sys_a kids_a sys_b kids_b srvkids_a srvkids_b
  alive "$name" "$pid" "$dir"
  before="$(cpu_ticks "$pid")" || die "$name (pid $pid): cannot read /proc/$pid/stat"
  sys_a="$(sys_ticks)"; kids_now; kids_a=$kids; srvkids_a="$(child_ticks "$pid")"
  timeout "$RUN_TIMEOUT" "$@" >"$out" 2>"$err" &
  bench_pid=$!
  # A client can hang when its server goes away; watch the server meanwhile.
  while kill -0 "$bench_pid" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then
      kill "$bench_pid" 2>/dev/null || true
      wait "$bench_pid" 2>/dev/null || true
      bench_pid=""
      alive "$name" "$pid" "$dir"
    fi
    sleep 0.1
  done
  wait "$bench_pid" || rc=$?
  bench_pid=""
  alive "$name" "$pid" "$dir"
  after="$(cpu_ticks "$pid")" || die "$name (pid $pid): cannot read /proc/$pid/stat"
  sys_b="$(sys_ticks)"; kids_now; kids_b=$kids; srvkids_b="$(child_ticks "$pid")"
  run_ticks=$((after - before))
  # CPU used by neither this server (nor its reaped children) nor the client (our reaped
  # child), as a share of all CPUs.
  run_foreign="$(awk -v a="$sys_a" -v b="$sys_b" -v s="$((run_ticks + srvkids_b - srvkids_a))" -v k="$kids_a" -v l="$kids_b" 'BEGIN {
    split(a, x, " "); split(b, y, " "); t = y[1] - x[1]; busy = t - (y[2] - x[2])
    o = busy - s - (l - k); printf "%.0f", (t > 0 && o > 0) ? 100 * o / t : 0 }')"
  if ((run_foreign > FOREIGN_WARN)); then
    foreign_runs=$((foreign_runs + 1))
    if ((run_foreign > foreign_max)); then foreign_max=$run_foreign; fi
  fi
  if ((rc != 0)); then
    cat "$err" "$out" >&2
    if ((rc == 124)); then die "$name: $what hung for ${RUN_TIMEOUT}s"; fi
    die "$name: $what failed (exit $rc)"
  fi
}

# record_run SUITE WORKLOAD PIPELINE ROUND NAME RATE CPU_US AVG_MS P50_MS SHAPE UNIT: one result
# row, and the progress line (SHAPE: the client set-up, e.g. "-c 50 -P 16"; UNIT: what RATE counts).
record_run() {
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$6" "$7" "$8" "$9" >>"$results"
  local p50=""
  if [[ "$9" != nan ]]; then p50="  p50 $9 ms"; fi
  printf 'bench: %-10s round %d/%d  %-10s %-12s %-15s %10.0f %-12s %8.3f us/%s CPU%s  other CPU %s%%%s\n' \
    "$1" "$4" "$ROUNDS" "$2" "${10}" "$5" "$6" "${11}/s" "$7" "${11}" "$p50" "$run_foreign" \
    "$( ((run_foreign > FOREIGN_WARN)) && echo '  <- other jobs running?' )" >&2
}

# bench_run SUITE NAME PORT PID DIR WORKLOAD PIPELINE N ROUND CLIENTS -- redis-benchmark args
# (a -t test, or a command). One redis-benchmark run, its rate, latency and the server's CPU.
bench_run() {
  local suite="$1" name="$2" port="$3" pid="$4" dir="$5" wl="$6" p="$7" n="$8" round="$9" c="${10}"
  shift 11
  local out="$work/bench.out" err="$work/bench.err" rps avg p50 cpu
  measured_run "$name" "$port" "$pid" "$dir" "redis-benchmark $* -P $p" -- \
    redis-benchmark -h 127.0.0.1 -p "$port" -c "$c" -n "$n" -P "$p" --csv "$@"
  # The first row after the header: every run here is one redis-benchmark test.
  read -r rps avg p50 < <(awk -F'","' 'NR == 2 { print $2, $3, $5 }' "$out") || true
  if ! [[ "${rps:-}" =~ ^[0-9]+(\.[0-9]+)?$ ]] || ! awk -v r="$rps" 'BEGIN { exit !(r > 0) }'; then
    cat "$err" "$out" >&2
    die "$name: no requests-per-second figure in redis-benchmark's output ($*)"
  fi
  cpu="$(awk -v d="$run_ticks" -v hz="$clk_tck" -v n="$n" 'BEGIN { printf "%.4f", d / hz * 1e6 / n }')"
  record_run "$suite" "$wl" "$p" "$round" "$name" "$rps" "$cpu" "${avg:-nan}" "${p50:-nan}" "-c $c -P $p" op
}

# The list workloads of the types suite work on redis-benchmark's key "mylist". list_fill NAME
# PORT PID DIR MIN: LPUSHes 3-byte elements (redis-benchmark's default value "xxx", 1000 per
# command, redis-cli --pipe, not timed) until the list holds at least MIN elements.
list_fill() {
  local name="$1" port="$2" pid="$3" dir="$4" min="$5" len need cmds file
  len="$(rcli "$port" LLEN mylist)"
  [[ "$len" =~ ^[0-9]+$ ]] || die "$name: 'LLEN mylist' replied '$len'"
  need=$((min - len))
  ((need > 0)) || return 0
  cmds=$(((need + 999) / 1000))
  file="$pipe_dir/lpush-$cmds.resp"
  if [[ ! -s "$file" ]]; then
    LC_ALL=C awk -v n="$cmds" 'BEGIN {
      s = "*1002\r\n$5\r\nLPUSH\r\n$6\r\nmylist\r\n"; for (i = 0; i < 1000; i++) s = s "$3\r\nxxx\r\n"
      for (i = 0; i < n; i++) printf "%s", s }' >"$file"
  fi
  pipe_in "$name" "$port" "$pid" "$dir" "$file" "$cmds"
  expect_match "$name" "$port" '^[0-9]+$' LLEN mylist
  (($(rcli "$port" LLEN mylist) >= min)) || die "$name: mylist has fewer than $min elements after filling it"
}

# run_workload SUITE NAME PORT PID DIR WORKLOAD PIPELINE N ROUND [CLIENTS]: a named workload.
run_workload() {
  local suite="$1" name="$2" port="$3" pid="$4" dir="$5" wl="$6" p="$7" n="$8" round="$9"
  local c="${10:-$CLIENTS}" args=() len
  case "$wl" in
    ping) args=(-t ping_mbulk) ;;
    xadd) args=("${xadd_cmd[@]}")
          # Each XADD run starts from an empty stream (deleting it is not timed).
          rcli "$port" DEL bench:xadd >/dev/null ;;
    xrange) args=("${xrange_cmd[@]}") ;;
    # Every RPOP must find an element (a nil reply would look fast): enough elements for all
    # requests, plus a pipeline per client, as redis-benchmark may round up to whole pipelines.
    rpop) list_fill "$name" "$port" "$pid" "$dir" $((n + p * c))
          args=(-t rpop) ;;
    # redis-benchmark -t lrange_100 would first run n LPUSHes in the same run (its own table row,
    # and CPU in ours); its LRANGE command is run on its own, on a list filled beforehand.
    lrange_100) list_fill "$name" "$port" "$pid" "$dir" 100
                args=(LRANGE mylist 0 99) ;;
    *) args=(-t "$wl") ;;
  esac
  bench_run "$suite" "$name" "$port" "$pid" "$dir" "$wl" "$p" "$n" "$round" "$c" -- "${args[@]}"
  if [[ "$wl" == rpop ]]; then
    len="$(rcli "$port" LLEN mylist)"
    [[ "$len" =~ ^[1-9][0-9]*$ ]] || die "$name: mylist ran empty during the RPOP run (LLEN '$len')"
  fi
}

# ---------------------------------------------------------------------------------------------
# Summaries and output.

AWK_LIB='
function median(s,    a, n, i, j, x) {
  n = split(s, a, " ")
  if (n == 0) return "nan"
  for (i = 2; i <= n; i++) { x = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
  return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function fmt(f, v) { return (v == "nan") ? "n/a" : sprintf(f, v) }
'

# summarize_pair SUITE A B [C]: one TSV row per workload and pipeline: A ops/s, B ops/s, A/B,
# A CPU us/op, B CPU us/op, CPU A/B [, C ops/s, A/C]. Ratios are medians of per-round ratios; a
# round whose CPU delta was under one clock tick is left out of the CPU ratio.
summarize_pair() {
  awk -F'\t' -v S="$1" -v A="$2" -v B="$3" -v C="${4:-}" "$AWK_LIB"'
  $1 == S {
    k = $2 SUBSEP $3
    if (!(k in seen)) { seen[k] = 1; order[++nk] = k }
    rps[k, $4, $5] = $6; cpu[k, $4, $5] = $7; has[k, $4, $5] = 1
    if ($4 + 0 > maxr) maxr = $4 + 0
  }
  END {
    for (i = 1; i <= nk; i++) {
      k = order[i]; split(k, kp, SUBSEP)
      ra = ""; rb = ""; rc = ""; ca = ""; cb = ""; ratio = ""; cratio = ""; aratio = ""
      for (r = 1; r <= maxr; r++) {
        ha = ((k, r, A) in has); hb = ((k, r, B) in has); hc = (C != "" && ((k, r, C) in has))
        if (ha) { ra = ra " " rps[k, r, A]; ca = ca " " cpu[k, r, A] }
        if (hb) { rb = rb " " rps[k, r, B]; cb = cb " " cpu[k, r, B] }
        if (ha && hb) {
          ratio = ratio " " rps[k, r, A] / rps[k, r, B]
          if (cpu[k, r, B] > 0) cratio = cratio " " cpu[k, r, A] / cpu[k, r, B]
        }
        if (hc) { rc = rc " " rps[k, r, C]; if (ha) aratio = aratio " " rps[k, r, A] / rps[k, r, C] }
      }
      printf "%s\t-P %s\t%s\t%s\t%s\t%s\t%s\t%s", toupper(kp[1]), kp[2], fmt("%.0f", median(ra)),
        fmt("%.0f", median(rb)), fmt("%.2f", median(ratio)), fmt("%.3f", median(ca)),
        fmt("%.3f", median(cb)), fmt("%.2f", median(cratio))
      if (C != "") printf "\t%s\t%s", fmt("%.0f", median(rc)), fmt("%.2f", median(aratio))
      printf "\n"
    }
  }' "$results"
}

plain_table() { # TSV on stdin, header first -> aligned columns
  awk -F'\t' '
    { for (i = 1; i <= NF; i++) { c[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) }
      if (NF > nf) nf = NF; n = NR }
    END {
      for (r = 1; r <= n; r++) {
        line = ""
        for (i = 1; i <= nf; i++)
          line = line sprintf(i == 1 ? "%-" w[i] "s" : "  %" w[i] "s", c[r, i])
        print line
      }
    }'
}
md_table() { # TSV on stdin, header first -> markdown (first column left, the rest right)
  awk -F'\t' '
    NR == 1 { h = "|"; s = "|"; for (i = 1; i <= NF; i++) { h = h " " $i " |"; s = s (i == 1 ? "---|" : "---:|") }
              print h; print s; next }
    { l = "|"; for (i = 1; i <= NF; i++) l = l " " $i " |"; print l }'
}

cpu_model="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)"
threads_note=""
if ((is_runnel)); then threads_note=" --threads $THREADS"; fi
machine_line="$(date -u +%Y-%m-%d), $(nproc) CPUs (${cpu_model:-unknown CPU}), runnel: ${runnel_version%% sha=*}$threads_note, redis: ${redis_version%% sha=*}"

cmdline_for() { # suite [VAR ...]: the command line that reruns this suite as configured
  local s="$1" v line
  shift
  line="SUITES=$s ROUNDS=$ROUNDS"
  for v in "$@"; do line+=" $v=${!v}"; done
  if ((is_runnel)); then line+=" THREADS=$THREADS"; fi
  if ((is_runnel)) && [[ -n "${RUNNEL_ARGS:-}" ]]; then line+=" RUNNEL_ARGS=\"$RUNNEL_ARGS\""; fi
  if [[ "$RUNNEL_BIN" != "$repo/build-release/runnel-server" ]]; then line+=" RUNNEL_BIN=$RUNNEL_BIN"; fi
  echo "$line scripts/bench.sh"
}

# busy_pct: how busy the CPUs were over one second (all processes), in percent. Taken before
# each suite, while none of our servers runs, to catch other jobs competing with the benchmark.
busy_pct() {
  local a b
  a="$(awk '/^cpu / { t = 0; for (i = 2; i <= NF; i++) t += $i; print t, $5 + $6 }' /proc/stat)"
  sleep 1
  b="$(awk '/^cpu / { t = 0; for (i = 2; i <= NF; i++) t += $i; print t, $5 + $6 }' /proc/stat)"
  awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " "); t = y[1] - x[1]
    printf "%.0f", (t > 0) ? 100 * (t - (y[2] - x[2])) / t : 0 }'
}
busy_warning=""

# report SUITE TITLE TSV_FILE INTRO NOTES CMDLINE DETAILS: the plain table, then markdown.
report() {
  local suite="$1" title="$2" tsv="$3" intro="$4" notes="$5" cmd="$6" details="$7"
  if [[ -n "$busy_warning" ]]; then notes="${notes:+$notes }$busy_warning"; fi
  if ((foreign_runs > 0)); then
    notes="${notes:+$notes }Warning: in $foreign_runs runs other processes used more than ${FOREIGN_WARN}% of the CPUs (up to ${foreign_max}%); the figures may be disturbed."
  fi
  echo
  echo "=== $suite: $title ==="
  echo
  plain_table <"$tsv"
  echo
  if [[ -n "$notes" ]]; then echo "$notes"; echo; fi
  echo "command line: $cmd"
  echo "$details"
  echo
  echo "----- markdown ($suite, for docs/PERFORMANCE.md) -----"
  echo
  echo "### $title"
  echo
  echo "$machine_line; $intro"
  echo
  md_table <"$tsv"
  echo
  if [[ -n "$notes" ]]; then echo "$notes"; echo; fi
  echo "Command: \`$cmd\`"
  echo
  echo "----- end of markdown ($suite) -----"
}

pair_header='workload\tpipeline\trunnel ops/s\tredis ops/s\tops runnel/redis\trunnel CPU us/op\tredis CPU us/op\tCPU runnel/redis'
ratio_notes="ops runnel/redis above 1 means runnel is faster; CPU runnel/redis (server CPU µs per request) below 1 means runnel is cheaper. Both are medians of the per-round ratios."

# ---------------------------------------------------------------------------------------------
# Suite: core. SET GET INCR MSET PING, persistence off.

preflight_core() { # name port
  local t
  for t in "${tests[@]}"; do
    case "$t" in
      set) expect "$1" "$2" OK SET bench:check:set xyz ;;
      get) expect "$1" "$2" OK SET bench:check:get abc
           expect "$1" "$2" abc GET bench:check:get ;;
      incr) expect "$1" "$2" 1 INCR bench:check:incr ;;
      mset) expect "$1" "$2" OK MSET bench:check:m1 1 bench:check:m2 2 ;;
      ping | ping_mbulk | ping_inline) expect "$1" "$2" PONG PING ;;
      *) note "$1: no reply check for test '$t'" ;;
    esac
  done
  rcli "$2" DEL bench:check:set bench:check:get bench:check:incr bench:check:m1 bench:check:m2 >/dev/null
}

suite_core() {
  local d="$work/core" rp rport dp dport round p n t
  start_server runnel "$RUNNEL_BIN" "$d/runnel" "" "${persist_off[@]}" "${runnel_args[@]}"
  rp=$started_pid; rport=$started_port
  start_server redis "$REDIS_BIN" "$d/redis" "$rport" "${persist_off[@]}" "${redis_args[@]}"
  dp=$started_pid; dport=$started_port
  preflight_core runnel "$rport"
  preflight_core redis "$dport"
  for ((round = 1; round <= ROUNDS; round++)); do
    for p in "${PIPELINES[@]}"; do
      if ((p == 1)); then n="$N_P1"; else n="$N_P16"; fi
      for t in "${tests[@]}"; do
        run_workload core runnel "$rport" "$rp" "$d/runnel" "$t" "$p" "$n" "$round"
        run_workload core redis "$dport" "$dp" "$d/redis" "$t" "$p" "$n" "$round"
      done
    done
  done
  kill_server "$rp"
  kill_server "$dp"
  { echo -e "$pair_header"; summarize_pair core runnel redis; } >"$work/core.tsv"
  report core "Core commands (persistence off)" "$work/core.tsv" \
    "redis-benchmark -c $CLIENTS, -n $N_P1 at -P 1 and $N_P16 at -P 16, median of $ROUNDS rounds; both servers with \`--appendonly no --save ''\`." \
    "$ratio_notes" "$(cmdline_for core N_P1 N_P16 CLIENTS TESTS)" \
    "each run: redis-benchmark -h 127.0.0.1 -p PORT -c $CLIENTS -n N -P P -t TEST --csv (ping = ping_mbulk)"
}

# ---------------------------------------------------------------------------------------------
# Suite: streams. XADD and XRANGE - + COUNT 10 on a STREAM_ENTRIES-entry stream, persistence off.

preflight_streams() { # name port
  local got lines
  expect_match "$1" "$2" "$ID_RE" XADD bench:check:x '*' f1 "$V16" f2 "$V16"
  rcli "$2" DEL bench:check:x >/dev/null
  expect "$1" "$2" "$STREAM_ENTRIES" XLEN bench:stream
  got="$(rcli "$2" "${xrange_cmd[@]}")"
  lines="$(wc -l <<<"$got")"
  local want_lines=$((STREAM_ENTRIES < 10 ? STREAM_ENTRIES * 5 : 50))
  if ((lines != want_lines)) || ! [[ "$(head -n1 <<<"$got")" =~ $ID_RE ]] ||
     [[ "$(sed -n 2,5p <<<"$got" | tr '\n' ' ')" != "f1 $V16 f2 $V16 " ]]; then
    die "$1: '${xrange_cmd[*]}' replied '$(head -n 6 <<<"$got" | tr '\n' ' ')...' ($lines lines), expected $want_lines lines of entries"
  fi
}

suite_streams() {
  local d="$work/streams" rp rport dp dport round p n t
  local fill="$pipe_dir/stream16.resp"
  gen_stream_pipe "$fill" bench:stream "$STREAM_ENTRIES" "$V16" "$V16"
  start_server runnel "$RUNNEL_BIN" "$d/runnel" "" "${persist_off[@]}" "${runnel_args[@]}"
  rp=$started_pid; rport=$started_port
  start_server redis "$REDIS_BIN" "$d/redis" "$rport" "${persist_off[@]}" "${redis_args[@]}"
  dp=$started_pid; dport=$started_port
  note "streams: filling bench:stream with $STREAM_ENTRIES entries on both servers"
  pipe_in runnel "$rport" "$rp" "$d/runnel" "$fill" "$STREAM_ENTRIES"
  pipe_in redis "$dport" "$dp" "$d/redis" "$fill" "$STREAM_ENTRIES"
  preflight_streams runnel "$rport"
  preflight_streams redis "$dport"
  for ((round = 1; round <= ROUNDS; round++)); do
    for p in "${PIPELINES[@]}"; do
      if ((p == 1)); then n="$N_P1"; else n="$N_P16"; fi
      for t in xadd xrange; do
        run_workload streams runnel "$rport" "$rp" "$d/runnel" "$t" "$p" "$n" "$round"
        run_workload streams redis "$dport" "$dp" "$d/redis" "$t" "$p" "$n" "$round"
      done
    done
  done
  # The XRANGE stream must be untouched by the runs.
  expect runnel "$rport" "$STREAM_ENTRIES" XLEN bench:stream
  expect redis "$dport" "$STREAM_ENTRIES" XLEN bench:stream
  kill_server "$rp"
  kill_server "$dp"
  { echo -e "$pair_header"; summarize_pair streams runnel redis; } >"$work/streams.tsv"
  report streams "Streams (persistence off)" "$work/streams.tsv" \
    "redis-benchmark -c $CLIENTS, -n $N_P1 at -P 1 and $N_P16 at -P 16, median of $ROUNDS rounds; both servers with \`--appendonly no --save ''\`. XADD: \`${xadd_cmd[*]}\` (16-byte values), each run on a new stream. XRANGE: \`${xrange_cmd[*]}\` on a stream of $STREAM_ENTRIES such entries (filled with redis-cli --pipe before the runs)." \
    "$ratio_notes" "$(cmdline_for streams N_P1 N_P16 CLIENTS STREAM_ENTRIES)" \
    "each run: redis-benchmark -h 127.0.0.1 -p PORT -c $CLIENTS -n N -P P --csv XADD bench:xadd '*' f1 $V16 f2 $V16 | XRANGE bench:stream - + COUNT 10"
}

# ---------------------------------------------------------------------------------------------
# Suite: types. redis-benchmark's list, set, hash and sorted-set workloads, persistence off.

# preflight_types NAME PORT: every workload's command gives the right reply. ZADD may be missing
# from runnel (sorted sets are newer): then zadd_unsupported=1 and the workload is reported n/a.
preflight_types() {
  local t got
  for t in "${type_tests[@]}"; do
    case "$t" in
      lpush) expect "$1" "$2" 1 LPUSH bench:check:l xxx ;;
      rpop) expect "$1" "$2" 1 LPUSH bench:check:r xxx
            expect "$1" "$2" xxx RPOP bench:check:r ;;
      sadd) expect "$1" "$2" 1 SADD bench:check:s element:__rand_int__ ;;
      hset) expect "$1" "$2" 1 HSET bench:check:h element:__rand_int__ xxx ;;
      zadd) got="$(rcli "$2" ZADD bench:check:z 0 element:__rand_int__)"
            if [[ "$1" == runnel && "$got" == *"unknown command"* ]]; then
              zadd_unsupported=1
              note "$1: ZADD is not supported ('$got'); the ZADD workload is reported as n/a"
            elif [[ "$got" != 1 ]]; then
              die "$1: 'ZADD bench:check:z 0 element:__rand_int__' replied '$got', expected '1'"
            fi ;;
      lrange_100) expect "$1" "$2" 3 RPUSH bench:check:lr a b c
                  expect "$1" "$2" $'a\nb\nc' LRANGE bench:check:lr 0 99 ;;
      *) note "$1: no reply check for test '$t'" ;;
    esac
  done
  rcli "$2" DEL bench:check:l bench:check:r bench:check:s bench:check:h bench:check:z bench:check:lr >/dev/null
}

suite_types() {
  local d="$work/types" rp rport dp dport round p n t
  start_server runnel "$RUNNEL_BIN" "$d/runnel" "" "${persist_off[@]}" "${runnel_args[@]}"
  rp=$started_pid; rport=$started_port
  start_server redis "$REDIS_BIN" "$d/redis" "$rport" "${persist_off[@]}" "${redis_args[@]}"
  dp=$started_pid; dport=$started_port
  zadd_unsupported=0
  preflight_types runnel "$rport"
  preflight_types redis "$dport"
  for ((round = 1; round <= ROUNDS; round++)); do
    for p in "${PIPELINES[@]}"; do
      if ((p == 1)); then n="$N_P1"; else n="$N_P16"; fi
      for t in "${type_tests[@]}"; do
        if [[ "$t" == zadd ]] && ((zadd_unsupported)); then continue; fi
        run_workload types runnel "$rport" "$rp" "$d/runnel" "$t" "$p" "$n" "$round"
        run_workload types redis "$dport" "$dp" "$d/redis" "$t" "$p" "$n" "$round"
      done
    done
  done
  kill_server "$rp"
  kill_server "$dp"
  {
    echo -e "$pair_header"
    summarize_pair types runnel redis
    if ((zadd_unsupported)) && [[ " ${type_tests[*]} " == *" zadd "* ]]; then
      for p in "${PIPELINES[@]}"; do echo -e "ZADD\t-P $p\tn/a (ZADD unsupported)\t-\t-\t-\t-\t-"; done
    fi
  } >"$work/types.tsv"
  report types "Lists, sets, hashes, sorted sets (persistence off)" "$work/types.tsv" \
    "redis-benchmark -c $CLIENTS, -n $N_P1 at -P 1 and $N_P16 at -P 16, median of $ROUNDS rounds; both servers with \`--appendonly no --save ''\`. redis-benchmark's own workloads (\`-t lpush\` etc., 3-byte values, no \`-r\`): \`LPUSH mylist xxx\`, \`RPOP mylist\` (the list is filled beforehand so that no RPOP finds it empty, checked after the run), \`SADD myset element:__rand_int__\`, \`HSET myhash element:__rand_int__ xxx\`, \`ZADD myzset 0 element:__rand_int__\` (without \`-r\` every SADD, HSET and ZADD writes the same member), and LRANGE_100 as \`LRANGE mylist 0 99\` on a list of at least 100 elements (\`-t lrange_100\` would time its list-filling LPUSHes in the same run)." \
    "$ratio_notes" "$(cmdline_for types N_P1 N_P16 CLIENTS TYPE_TESTS)" \
    "each run: redis-benchmark -h 127.0.0.1 -p PORT -c $CLIENTS -n N -P P --csv (-t TEST | LRANGE mylist 0 99)"
}

# ---------------------------------------------------------------------------------------------
# Suite: pubsub. PUBLISH fan-out to PUBSUB_SUBSCRIBERS subscribers (bench/pubsub_fanout.cc),
# persistence off.

fanout="$work/pubsub_fanout"
pubsub_tool_tsv="$work/pubsub-tool.tsv" # round server seconds tool_cpu_s publish_seconds

pubsub_run() { # name port pid dir round
  local name="$1" port="$2" pid="$3" dir="$4" round="$5" secs rate tool pubs cpu
  local deliveries=$((PUBSUB_MESSAGES * PUBSUB_SUBSCRIBERS))
  measured_run "$name" "$port" "$pid" "$dir" "pubsub_fanout" -- \
    "$fanout" "$port" -s "$PUBSUB_SUBSCRIBERS" -p "$PUBSUB_PUBLISHERS" -n "$PUBSUB_MESSAGES" \
    -d "$PUBSUB_PAYLOAD" -w "$PUBSUB_PIPELINE" -r "$PUBSUB_READERS" -c bench:fanout \
    -t "$((RUN_TIMEOUT > 10 ? RUN_TIMEOUT - 5 : RUN_TIMEOUT))"
  read -r secs rate tool pubs <"$work/bench.out" || true
  if ! [[ "${rate:-}" =~ ^[1-9][0-9]*$ ]]; then
    die "$name: no deliveries/s figure from pubsub_fanout: '$(cat "$work/bench.out")'"
  fi
  cpu="$(awk -v d="$run_ticks" -v hz="$clk_tck" -v n="$deliveries" 'BEGIN { printf "%.4f", d / hz * 1e6 / n }')"
  record_run pubsub "publish-to-$PUBSUB_SUBSCRIBERS" "$PUBSUB_PIPELINE" "$round" "$name" "$rate" "$cpu" nan nan \
    "-p $PUBSUB_PUBLISHERS -w $PUBSUB_PIPELINE" delivery
  printf '%s\t%s\t%s\t%s\t%s\n' "$round" "$name" "$secs" "$tool" "$pubs" >>"$pubsub_tool_tsv"
}

suite_pubsub() {
  local d="$work/pubsub" rp rport dp dport round tool_note
  g++ -O2 -std=c++20 -Wall -o "$fanout" bench/pubsub_fanout.cc -lhiredis -pthread ||
    die "building bench/pubsub_fanout.cc failed"
  start_server runnel "$RUNNEL_BIN" "$d/runnel" "" "${persist_off[@]}" "${runnel_args[@]}"
  rp=$started_pid; rport=$started_port
  start_server redis "$REDIS_BIN" "$d/redis" "$rport" "${persist_off[@]}" "${redis_args[@]}"
  dp=$started_pid; dport=$started_port
  expect runnel "$rport" 0 PUBLISH bench:check:p x
  expect redis "$dport" 0 PUBLISH bench:check:p x
  : >"$pubsub_tool_tsv"
  for ((round = 1; round <= ROUNDS; round++)); do
    pubsub_run runnel "$rport" "$rp" "$d/runnel" "$round"
    pubsub_run redis "$dport" "$dp" "$d/redis" "$round"
  done
  kill_server "$rp"
  kill_server "$dp"
  { echo -e "${pair_header//ops/deliveries}" | sed 's/us\/op/us\/delivery/g'; summarize_pair pubsub runnel redis; } >"$work/pubsub.tsv"
  # How busy the tool was: its CPU over the timed part, as a share of one CPU.
  tool_note="$(awk -F'\t' "$AWK_LIB"'
    $3 > 0 { u[$2] = u[$2] " " 100 * $4 / $3; pub[$2] = pub[$2] " " $5 / $3 }
    END { printf "pubsub_fanout itself used %s%% of one CPU against runnel and %s%% against redis (its CPU over the timed part, all its threads; medians); the last PUBLISH reply came at %s and %s of the time.",
      fmt("%.0f", median(u["runnel"])), fmt("%.0f", median(u["redis"])), fmt("%.2f", median(pub["runnel"])), fmt("%.2f", median(pub["redis"])) }' "$pubsub_tool_tsv")"
  report pubsub "Pub/Sub fan-out (persistence off)" "$work/pubsub.tsv" \
    "bench/pubsub_fanout: $PUBSUB_SUBSCRIBERS subscriber connections on one channel (all registered, checked with PUBSUB NUMSUB, before the clock starts), $PUBSUB_PUBLISHERS publisher connection(s) sending $PUBSUB_MESSAGES \`PUBLISH bench:fanout <$PUBSUB_PAYLOAD bytes>\` in all, $PUBSUB_PIPELINE in flight each (the pipeline column); time from the first PUBLISH until every subscriber has received every message, checked in order by the sequence number in each body; every PUBLISH must reply $PUBSUB_SUBSCRIBERS. Deliveries/s = $PUBSUB_MESSAGES × $PUBSUB_SUBSCRIBERS / time; CPU per delivery = server CPU / ($PUBSUB_MESSAGES × $PUBSUB_SUBSCRIBERS). $PUBSUB_READERS reader thread(s) read the subscriber sockets (epoll). Median of $ROUNDS rounds; both servers with \`--appendonly no --save ''\`." \
    "deliveries runnel/redis above 1 means runnel delivers faster; CPU runnel/redis below 1 means runnel is cheaper per delivery (medians of the per-round ratios). $tool_note" \
    "$(cmdline_for pubsub PUBSUB_MESSAGES PUBSUB_SUBSCRIBERS PUBSUB_PUBLISHERS PUBSUB_PIPELINE PUBSUB_PAYLOAD PUBSUB_READERS)" \
    "each run: $(basename "$fanout") PORT -s $PUBSUB_SUBSCRIBERS -p $PUBSUB_PUBLISHERS -n $PUBSUB_MESSAGES -d $PUBSUB_PAYLOAD -w $PUBSUB_PIPELINE -r $PUBSUB_READERS -c bench:fanout (bench/pubsub_fanout.cc, built with g++ -O2 -lhiredis)"
}

# ---------------------------------------------------------------------------------------------
# Suite: durability. appendfsync always (and runnel with appendonly no), 1-client latency with
# always, appendfsync everysec.

# The durability servers, all running side by side in each round so that every run of a workload
# is next to the others in time (as in core): label -> binary and persistence arguments.
dur_labels=(runnel-always redis-always runnel-no runnel-everysec redis-everysec)
declare -A dur_aof=([runnel-always]=yes [redis-always]=yes [runnel-no]=no [runnel-everysec]=yes [redis-everysec]=yes)
declare -A dur_fsync=([runnel-always]=always [redis-always]=always [runnel-everysec]=everysec [redis-everysec]=everysec)
declare -A dur_pid=() dur_port=() dur_rewrites=()

dur_start() { # dir: starts every durability server, checks its CONFIG and the workloads' replies
  local d="$1" l bin avoid="" args
  for l in "${dur_labels[@]}"; do
    args=(--appendonly "${dur_aof[$l]}")
    if [[ -n "${dur_fsync[$l]:-}" ]]; then args+=(--appendfsync "${dur_fsync[$l]}"); fi
    args+=(--save '')
    if [[ "$l" == runnel-* ]]; then
      start_server "$l" "$RUNNEL_BIN" "$d/$l" "$avoid" "${args[@]}" "${runnel_args[@]}"
    else
      start_server "$l" "$REDIS_BIN" "$d/$l" "$avoid" "${args[@]}" "${redis_args[@]}"
    fi
    dur_pid[$l]=$started_pid; dur_port[$l]=$started_port
    avoid=$started_port
    expect_config "$l" "$started_port" appendonly "${dur_aof[$l]}"
    if [[ -n "${dur_fsync[$l]:-}" ]]; then expect_config "$l" "$started_port" appendfsync "${dur_fsync[$l]}"; fi
    expect "$l" "$started_port" OK SET bench:check:set xyz
    expect_match "$l" "$started_port" "$ID_RE" XADD bench:check:x '*' f1 "$V16" f2 "$V16"
    rcli "$started_port" DEL bench:check:set bench:check:x >/dev/null
  done
}
dur_idle() { # dir: no server has a background AOF rewrite (redis-server forks for it) running
  local l
  for l in "${dur_labels[@]}"; do wait_idle "$l" "${dur_port[$l]}" "${dur_pid[$l]}" "$1/$l"; done
}
dur_stop() { # dir
  local l n
  dur_idle "$1" # a kill -9 would orphan redis-server's rewrite child
  for l in "${dur_labels[@]}"; do
    # The rewrites' CPU (in a forked child) is not in redis-server's CPU per op; count them.
    n="$(rcli "${dur_port[$l]}" INFO persistence | tr -d '\r' | awk -F: '$1 == "aof_rewrites" { print $2 }')"
    dur_rewrites[$l]=$(( ${dur_rewrites[$l]:-0} + ${n:-0} ))
    kill_server "${dur_pid[$l]}"
  done
  rm -rf "$1"
}
dur_run() { # suite label dir workload pipeline n round [clients]
  local l="$2"
  dur_idle "$3"
  run_workload "$1" "$l" "${dur_port[$l]}" "${dur_pid[$l]}" "$3/$l" "$4" "$5" "$6" "$7" "${8:-$CLIENTS}"
}

suite_durability() {
  local d="$work/dur" round p n t
  note "durability: data directories under $work (${work_fs})"
  for ((round = 1; round <= ROUNDS; round++)); do
    dur_start "$d"
    for p in "${PIPELINES[@]}"; do
      if ((p == 1)); then n="$N_DUR_P1"; else n="$N_DUR_P16"; fi
      for t in set xadd; do
        dur_run dur-always runnel-always "$d" "$t" "$p" "$n" "$round"
        dur_run dur-always redis-always "$d" "$t" "$p" "$n" "$round"
        dur_run dur-always runnel-no "$d" "$t" "$p" "$n" "$round"
        dur_run dur-everysec runnel-everysec "$d" "$t" "$p" "$n" "$round"
        dur_run dur-everysec redis-everysec "$d" "$t" "$p" "$n" "$round"
      done
    done
    dur_run dur-lat runnel-always "$d" set 1 "$N_LAT" "$round" 1
    dur_run dur-lat redis-always "$d" set 1 "$N_LAT" "$round" 1
    dur_stop "$d"
  done

  local hdr="$pair_header"'\trunnel appendonly-no ops/s\trunnel always/no'
  local rw_note="redis-server's CPU is its own process's: the CPU of its AOF rewrites (a forked child; auto-aof-rewrite is on by default) is not counted; it ran ${dur_rewrites[redis-always]:-0} rewrites with always and ${dur_rewrites[redis-everysec]:-0} with everysec over the $ROUNDS rounds."
  { echo -e "$hdr"; summarize_pair dur-always runnel-always redis-always runnel-no; } >"$work/dur-always.tsv"
  report durability-always "Durability: appendfsync always" "$work/dur-always.tsv" \
    "redis-benchmark -c $CLIENTS, -n $N_DUR_P1 at -P 1 and $N_DUR_P16 at -P 16, median of $ROUNDS rounds. Both servers with \`--appendonly yes --appendfsync always --save ''\`; the last two columns are runnel with \`--appendonly no --save ''\` and runnel's always/no ratio (median of per-round ratios). The five durability servers (these three and the two of the everysec table) run side by side on fresh data directories in each round, and each workload runs on each of them in turn; before every run the script waits until no server is rewriting its AOF. SET: \`redis-benchmark -t set\` (one key); XADD: \`${xadd_cmd[*]}\`, each run on a new stream. Data directories on $work_fs." \
    "$ratio_notes $rw_note" "$(cmdline_for durability N_DUR_P1 N_DUR_P16 N_LAT CLIENTS)" \
    "each run: redis-benchmark -h 127.0.0.1 -p PORT -c $CLIENTS -n N -P P --csv (-t set | XADD bench:xadd '*' f1 $V16 f2 $V16)"

  awk -F'\t' "$AWK_LIB"'
    $1 == "dur-lat" { r = $4; s = $5; rps[r, s] = $6; avg[r, s] = $8; p50[r, s] = $9; has[r, s] = 1; if (r + 0 > maxr) maxr = r + 0 }
    END {
      split("runnel-always redis-always", names, " ")
      print "server\twrites/s\tµs per write (1/rate)\tavg latency ms\tp50 latency ms"
      for (i = 1; i <= 2; i++) {
        s = names[i]; a = ""; b = ""; c = ""; d = ""
        for (r = 1; r <= maxr; r++) if ((r, s) in has) { a = a " " rps[r, s]; b = b " " 1e6 / rps[r, s]; c = c " " avg[r, s]; d = d " " p50[r, s] }
        printf "%s\t%s\t%s\t%s\t%s\n", s, fmt("%.0f", median(a)), fmt("%.0f", median(b)), fmt("%.3f", median(c)), fmt("%.3f", median(d))
      }
      a = ""; b = ""; c = ""; d = ""
      for (r = 1; r <= maxr; r++) if (((r, "runnel-always") in has) && ((r, "redis-always") in has)) {
        R = "runnel-always"; D = "redis-always"
        a = a " " rps[r, R] / rps[r, D]; b = b " " rps[r, D] / rps[r, R]
        if (avg[r, D] > 0) c = c " " avg[r, R] / avg[r, D]
        if (p50[r, D] > 0) d = d " " p50[r, R] / p50[r, D]
      }
      printf "runnel/redis\t%s\t%s\t%s\t%s\n", fmt("%.2f", median(a)), fmt("%.2f", median(b)), fmt("%.2f", median(c)), fmt("%.2f", median(d))
    }' "$results" >"$work/dur-lat.tsv"
  report durability-latency "Durability: 1 client, appendfsync always" "$work/dur-lat.tsv" \
    "\`redis-benchmark -c 1 -P 1 -n $N_LAT -t set\`, median of $ROUNDS rounds; both servers with \`--appendonly yes --appendfsync always --save ''\`. Latency columns are redis-benchmark's; µs per write is 1/rate. Data directories on $work_fs." \
    "Each write waits for its own fsync; lower is better for runnel in the ratio row (except writes/s)." \
    "$(cmdline_for durability N_LAT)" \
    "each run: redis-benchmark -h 127.0.0.1 -p PORT -c 1 -n $N_LAT -P 1 -t set --csv"

  { echo -e "$pair_header"; summarize_pair dur-everysec runnel-everysec redis-everysec; } >"$work/dur-everysec.tsv"
  report durability-everysec "Durability: appendfsync everysec" "$work/dur-everysec.tsv" \
    "redis-benchmark -c $CLIENTS, -n $N_DUR_P1 at -P 1 and $N_DUR_P16 at -P 16, median of $ROUNDS rounds; both servers with \`--appendonly yes --appendfsync everysec --save ''\`. Workloads as for always." \
    "$ratio_notes $rw_note" "$(cmdline_for durability N_DUR_P1 N_DUR_P16 CLIENTS)" \
    "each run: redis-benchmark -h 127.0.0.1 -p PORT -c $CLIENTS -n N -P P --csv (-t set | XADD bench:xadd '*' f1 $V16 f2 $V16)"
}

# ---------------------------------------------------------------------------------------------
# Suite: restart. RESTART_KEYS keys + a STREAM_ENTRIES-entry stream, kill -9, time to serve.

restart_tsv="$work/restart.tsv" # scenario round server seconds cpu_s bytes accept_s prep_s

# wait_idle NAME PORT PID DIR: until INFO persistence shows no AOF rewrite or RDB save running or
# scheduled (fields a server does not report count as 0). redis-server does these in a forked
# child, which a SIGKILL of the server would leave running; a failed rewrite stops the script.
wait_idle() {
  local i info busy
  for ((i = 0; i < LOAD_TIMEOUT * 20; i++)); do
    alive "$1" "$3" "$4"
    info="$(rcli "$2" INFO persistence | tr -d '\r')"
    if grep -q '^aof_last_bgrewrite_status:err' <<<"$info"; then die "$1: an AOF rewrite failed (INFO persistence: aof_last_bgrewrite_status:err)"; fi
    if grep -q '^rdb_last_bgsave_status:err' <<<"$info"; then die "$1: an RDB save failed (INFO persistence: rdb_last_bgsave_status:err)"; fi
    busy="$(grep -E '^(aof_rewrite_in_progress|aof_rewrite_scheduled|rdb_bgsave_in_progress):[1-9]' <<<"$info" || true)"
    if [[ -z "$busy" ]]; then
      if ((i > 0)); then note "$1: waited $(awk -v i="$i" 'BEGIN { printf "%.2f", i / 20 }') s for its background save or rewrite to finish"; fi
      return 0
    fi
    sleep 0.05
  done
  die "$1: a background AOF rewrite or RDB save did not finish within ${LOAD_TIMEOUT}s"
}
waiter="$work/wait_loaded"

# restart_measure NAME BIN DIR PORT SCENARIO ROUND PREP_S args...: starts the server on its old
# data, times it until it serves the data, checks the data, leaves it running (restart_pid).
restart_measure() {
  local name="$1" bin="$2" dir="$3" port="$4" scen="$5" round="$6" prep="$7"
  shift 7
  local bytes out rc=0 t_accept t_served secs acc cpu
  bytes="$(du -sb --exclude=server.log "$dir" | awk '{ print $1 }')"
  launch "$bin" "$dir" "$port" "$@"
  restart_pid=$launched_pid
  out="$("$waiter" "$port" "$restart_pid" "$LOAD_TIMEOUT" "$restart_dbsize" bench:last "$restart_token" 2>&1)" || rc=$?
  if ((rc != 0)); then
    echo "$out" >&2
    last_log "$dir" | tail -n 20 >&2 || true
    case "$rc" in
      2) die "$name: the restarted server died before serving its data (log above)" ;;
      4) die "$name: after the restart the data is incomplete: $out" ;;
      *) die "$name: the restarted server did not serve DBSIZE $restart_dbsize and bench:last within ${LOAD_TIMEOUT}s (wait_loaded exit $rc)" ;;
    esac
  fi
  cpu="$(cpu_ticks "$restart_pid")" || die "$name: cannot read /proc/$restart_pid/stat"
  read -r t_accept _ t_served <<<"$out" # (the middle one: first reply that was not an error)
  secs="$(awk -v a="$launch_time" -v b="$t_served" 'BEGIN { printf "%.3f", b - a }')"
  acc="$(awk -v a="$launch_time" -v b="$t_accept" 'BEGIN { printf "%.3f", b - a }')"
  cpu="$(awk -v t="$cpu" -v hz="$clk_tck" 'BEGIN { printf "%.2f", t / hz }')"
  # The data must be all there, not just the count.
  expect "$name" "$port" "$STREAM_ENTRIES" XLEN bench:stream
  expect "$name" "$port" "$V16" GET key:0000001
  expect "$name" "$port" "$V16" GET "$(printf 'key:%07d' "$RESTART_KEYS")"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$scen" "$round" "$name" "$secs" "$cpu" "$bytes" "$acc" "$prep" >>"$restart_tsv"
  note "restart ($scen) round $round/$ROUNDS $name: served after $secs s (accepting connections after $acc s), CPU $cpu s, $((bytes / 1000000)) MB on disk"
}

suite_restart() {
  local d="$work/restart" round rp rport dp dport t0 prep_r prep_d
  local keys_pipe="$pipe_dir/strings.resp" stream_pipe="$pipe_dir/stream16.resp"
  local -a r_persist=() d_persist=(--appendonly yes)
  if ((!is_runnel)); then r_persist=(--appendonly yes); fi
  gen_strings_pipe "$keys_pipe" "$RESTART_KEYS" "$V16"
  gen_stream_pipe "$stream_pipe" bench:stream "$STREAM_ENTRIES" "$V16" "$V16"
  g++ -O2 -std=c++20 -Wall -o "$waiter" bench/wait_loaded.cc || die "building bench/wait_loaded.cc failed"
  restart_dbsize=$((RESTART_KEYS + 2))
  : >"$restart_tsv"
  for ((round = 1; round <= ROUNDS; round++)); do
    rm -rf "$d"
    restart_token="run-$round-$RANDOM"
    start_server runnel "$RUNNEL_BIN" "$d/runnel" "" "${r_persist[@]}" "${runnel_args[@]}"
    rp=$started_pid; rport=$started_port
    start_server redis "$REDIS_BIN" "$d/redis" "$rport" "${d_persist[@]}" "${redis_args[@]}"
    dp=$started_pid; dport=$started_port
    if ((round == 1)); then
      expect_config runnel "$rport" appendonly yes
      expect_config runnel "$rport" appendfsync everysec
      expect_config redis "$dport" appendonly yes
      expect_config redis "$dport" appendfsync everysec
      cfg() { local v; v="$(rcli "$1" CONFIG GET "$2" | sed -n 2p)"; echo "$2 '${v:-?}'"; }
      restart_settings="runnel's settings: $(cfg "$rport" save), $(cfg "$rport" checkpoint-interval), $(cfg "$rport" wal-max-size), $(cfg "$rport" wal-segment-size), $(cfg "$rport" auto-aof-rewrite-percentage), $(cfg "$rport" auto-aof-rewrite-min-size); redis-server's: $(cfg "$dport" save), $(cfg "$dport" aof-use-rdb-preamble), $(cfg "$dport" auto-aof-rewrite-percentage), $(cfg "$dport" auto-aof-rewrite-min-size) (CONFIG GET)"
      note "restart: $restart_settings"
    fi
    note "restart round $round/$ROUNDS: loading $RESTART_KEYS keys and $STREAM_ENTRIES stream entries into both servers"
    pipe_in runnel "$rport" "$rp" "$d/runnel" "$keys_pipe" "$RESTART_KEYS"
    pipe_in runnel "$rport" "$rp" "$d/runnel" "$stream_pipe" "$STREAM_ENTRIES"
    expect runnel "$rport" OK SET bench:last "$restart_token"
    pipe_in redis "$dport" "$dp" "$d/redis" "$keys_pipe" "$RESTART_KEYS"
    pipe_in redis "$dport" "$dp" "$d/redis" "$stream_pipe" "$STREAM_ENTRIES"
    expect redis "$dport" OK SET bench:last "$restart_token"
    expect runnel "$rport" "$restart_dbsize" DBSIZE
    expect redis "$dport" "$restart_dbsize" DBSIZE

    # (a) default persistence: everything acknowledged; 2 s for everysec's fsync; no background
    # save or rewrite running (redis-server's forked child would outlive a kill -9); kill -9.
    sleep 2
    wait_idle runnel "$rport" "$rp" "$d/runnel"
    wait_idle redis "$dport" "$dp" "$d/redis"
    kill_server "$rp"
    kill_server "$dp"
    restart_measure runnel "$RUNNEL_BIN" "$d/runnel" "$rport" a "$round" 0 "${r_persist[@]}" "${runnel_args[@]}"
    rp=$restart_pid
    kill_server "$rp" # one server loads at a time; both are dead during the other's load
    restart_measure redis "$REDIS_BIN" "$d/redis" "$dport" a "$round" 0 "${d_persist[@]}" "${redis_args[@]}"
    dp=$restart_pid

    # (b) right after SAVE on runnel and BGREWRITEAOF on redis.
    launch "$RUNNEL_BIN" "$d/runnel" "$rport" "${r_persist[@]}" "${runnel_args[@]}"
    rp=$launched_pid
    "$waiter" "$rport" "$rp" "$LOAD_TIMEOUT" "$restart_dbsize" bench:last "$restart_token" >/dev/null ||
      die "runnel: did not serve its data again before SAVE"
    # A server may start a background rewrite or checkpoint of its own right after loading.
    wait_idle runnel "$rport" "$rp" "$d/runnel"
    wait_idle redis "$dport" "$dp" "$d/redis"
    t0=$EPOCHREALTIME
    if ((is_runnel)); then
      expect runnel "$rport" OK SAVE
    else
      expect_match runnel "$rport" "^Background append only file rewriting" BGREWRITEAOF
      wait_idle runnel "$rport" "$rp" "$d/runnel"
    fi
    prep_r="$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }')"
    t0=$EPOCHREALTIME
    expect_match redis "$dport" "^Background append only file rewriting" BGREWRITEAOF
    wait_idle redis "$dport" "$dp" "$d/redis"
    prep_d="$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }')"
    alive runnel "$rp" "$d/runnel"
    kill_server "$rp"
    kill_server "$dp"
    restart_measure runnel "$RUNNEL_BIN" "$d/runnel" "$rport" b "$round" "$prep_r" "${r_persist[@]}" "${runnel_args[@]}"
    kill_server "$restart_pid"
    restart_measure redis "$REDIS_BIN" "$d/redis" "$dport" b "$round" "$prep_d" "${d_persist[@]}" "${redis_args[@]}"
    kill_server "$restart_pid"
  done
  rm -rf "$d"

  awk -F'\t' "$AWK_LIB"'
    { k = $1; if (!(k in seen)) { seen[k] = 1; order[++nk] = k }
      secs[k, $2, $3] = $4; cpu[k, $2, $3] = $5; mb[k, $2, $3] = $6 / 1e6; prep[k, $2, $3] = $8
      has[k, $2, $3] = 1; if ($2 + 0 > maxr) maxr = $2 + 0 }
    END {
      print "scenario\trunnel s\tredis s\ttime runnel/redis\trunnel CPU s\tredis CPU s\trunnel MB on disk\tredis MB on disk\trunnel SAVE s\tredis BGREWRITEAOF s"
      for (i = 1; i <= nk; i++) {
        k = order[i]; a = ""; b = ""; q = ""; ca = ""; cb = ""; ma = ""; mb2 = ""; pa = ""; pb = ""
        for (r = 1; r <= maxr; r++) {
          ha = ((k, r, "runnel") in has); hb = ((k, r, "redis") in has)
          if (ha) { a = a " " secs[k, r, "runnel"]; ca = ca " " cpu[k, r, "runnel"]; ma = ma " " mb[k, r, "runnel"]; pa = pa " " prep[k, r, "runnel"] }
          if (hb) { b = b " " secs[k, r, "redis"]; cb = cb " " cpu[k, r, "redis"]; mb2 = mb2 " " mb[k, r, "redis"]; pb = pb " " prep[k, r, "redis"] }
          if (ha && hb && secs[k, r, "redis"] > 0) q = q " " secs[k, r, "runnel"] / secs[k, r, "redis"]
        }
        label = (k == "a") ? "(a) default persistence, kill -9" : "(b) after SAVE / BGREWRITEAOF, kill -9"
        printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", label, fmt("%.2f", median(a)), fmt("%.2f", median(b)),
          fmt("%.2f", median(q)), fmt("%.2f", median(ca)), fmt("%.2f", median(cb)), fmt("%.0f", median(ma)),
          fmt("%.0f", median(mb2)), (k == "b") ? fmt("%.2f", median(pa)) : "-", (k == "b") ? fmt("%.2f", median(pb)) : "-"
      }
    }' "$restart_tsv" >"$work/restart-summary.tsv"
  local rdesc="runnel with its defaults (\`${runnel_args[*]}\`; appendonly yes, appendfsync everysec)"
  if ((!is_runnel)); then rdesc="runnel column with \`--appendonly yes\`"; fi
  report restart "Restart: $RESTART_KEYS keys + a $STREAM_ENTRIES-entry stream" "$work/restart-summary.tsv" \
    "median of $ROUNDS runs. Data: $RESTART_KEYS \`SET key:NNNNNNN <16 bytes>\` and $STREAM_ENTRIES \`XADD bench:stream * f1 <16 bytes> f2 <16 bytes>\` (redis-cli --pipe), then \`SET bench:last <token>\`. Servers: $rdesc; redis-server \`--appendonly yes --daemonize no\` (everything else default: appendfsync everysec, aof-use-rdb-preamble yes, auto-aof-rewrite at 100%/64mb, default save points); $restart_settings. (a): 2 s after the last acknowledged write, and once neither server runs a background save or AOF rewrite, kill -9, restart. (b): on the restarted servers, SAVE on runnel / BGREWRITEAOF on redis (until aof_rewrite_in_progress:0), kill -9, restart. Time = process start until DBSIZE = $restart_dbsize and GET bench:last returns the token (polled every 2 ms by bench/wait_loaded); the servers restart one at a time; every restart is then checked with XLEN and GETs of the first and last key. CPU s = server CPU time (user+system) at that moment; MB on disk = data directory before the restart. Data directories on $work_fs." \
    "time runnel/redis below 1 means runnel serves its data sooner (median of per-run ratios)." \
    "$(cmdline_for restart RESTART_KEYS STREAM_ENTRIES)" \
    "servers (start and restart): $(quoted "$RUNNEL_BIN" --port P --bind 127.0.0.1 --dir D "${r_persist[@]}" "${runnel_args[@]}"); $(quoted "$REDIS_BIN" --port P --bind 127.0.0.1 --dir D "${d_persist[@]}" "${redis_args[@]}")"
}



# ---------------------------------------------------------------------------------------------
# Suite: memory. RSS per stream entry, per pending entry and per small hash, persistence off.

memory_tsv="$work/memory.tsv" # measure round server rss_before_kb rss_after_kb count

memory_row() { # measure round name before_kb after_kb count
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$memory_tsv"
}
rss_settled() { # pid: VmRSS in kB, after half a second for the allocator to settle
  sleep 0.5
  rss_kb "$1"
}

memory_one() { # name bin dir avoid round args...: one server's stream and pending measurements
  local name="$1" bin="$2" dir="$3" avoid="$4" round="$5"
  shift 5
  local pid port r0 r1 r2 r3
  start_server "$name" "$bin" "$dir" "$avoid" "$@"
  pid=$started_pid; port=$started_port
  # Every command used must work (this touches the allocator before the first reading, as
  # the rest of the run will).
  expect_match "$name" "$port" "$ID_RE" XADD bench:check:m '*' f1 v1 f2 v2
  expect "$name" "$port" OK XGROUP CREATE bench:check:m g 0
  expect_match "$name" "$port" "^bench:check:m" XREADGROUP GROUP g c COUNT 1 STREAMS bench:check:m '>'
  expect_match "$name" "$port" "^1" XPENDING bench:check:m g
  rcli "$port" DEL bench:check:m >/dev/null
  r0="$(rss_settled "$pid")"
  pipe_in "$name" "$port" "$pid" "$dir" "$pipe_dir/stream_short.resp" "$STREAM_ENTRIES"
  expect "$name" "$port" "$STREAM_ENTRIES" XLEN bench:mem
  r1="$(rss_settled "$pid")"
  expect "$name" "$port" OK XGROUP CREATE bench:mem g 0
  sleep 0.2
  r2="$(rss_kb "$pid")"
  pipe_in "$name" "$port" "$pid" "$dir" "$pipe_dir/xreadgroup.resp" "$xrg_count"
  expect_match "$name" "$port" "^$PENDING"$'\n' XPENDING bench:mem g
  r3="$(rss_settled "$pid")"
  memory_row "$STREAM_ENTRIES stream entries (f1 v1 f2 v2)" "$round" "$name" "$r0" "$r1" "$STREAM_ENTRIES"
  memory_row "$PENDING pending entries (1 group, 1 consumer)" "$round" "$name" "$r2" "$r3" "$PENDING"
  note "memory round $round/$ROUNDS $name: RSS ${r0} kB, after $STREAM_ENTRIES entries ${r1} kB, after XGROUP CREATE ${r2} kB, after $PENDING pending ${r3} kB"
  memory_port=$port
  kill_server "$pid"
}

memory_hashes() { # name bin dir avoid round args...: RSS of HASHES 5-field hashes, fresh server
  local name="$1" bin="$2" dir="$3" avoid="$4" round="$5"
  shift 5
  local pid port r0 r1
  start_server "$name" "$bin" "$dir" "$avoid" "$@"
  pid=$started_pid; port=$started_port
  expect "$name" "$port" 5 HSET bench:check:h f1 v1 f2 v2 f3 v3 f4 v4 f5 v5
  rcli "$port" DEL bench:check:h >/dev/null
  r0="$(rss_settled "$pid")"
  pipe_in "$name" "$port" "$pid" "$dir" "$pipe_dir/hashes.resp" "$HASHES"
  expect "$name" "$port" "$HASHES" DBSIZE
  expect "$name" "$port" 5 HLEN "$(printf 'hash:%07d' "$HASHES")"
  expect "$name" "$port" v5 HGET hash:0000001 f5
  r1="$(rss_settled "$pid")"
  memory_row "$HASHES hashes of 5 fields (f1 v1 ... f5 v5)" "$round" "$name" "$r0" "$r1" "$HASHES"
  note "memory round $round/$ROUNDS $name: RSS ${r0} kB, after $HASHES hashes ${r1} kB"
  memory_port=$port
  kill_server "$pid"
}

suite_memory() {
  local d="$work/memory" round left c
  gen_stream_pipe "$pipe_dir/stream_short.resp" bench:mem "$STREAM_ENTRIES" v1 v2
  if [[ ! -s "$pipe_dir/hashes.resp" ]]; then
    LC_ALL=C awk -v n="$HASHES" 'BEGIN {
      for (i = 1; i <= n; i++) { k = sprintf("hash:%07d", i)
        printf "*12\r\n$4\r\nHSET\r\n$%d\r\n%s\r\n", length(k), k
        for (f = 1; f <= 5; f++) printf "$2\r\nf%d\r\n$2\r\nv%d\r\n", f, f }
    }' >"$pipe_dir/hashes.resp"
  fi
  # XREADGROUP in batches of 1000, so no big reply buffer inflates the RSS.
  xrg_count=0
  : >"$pipe_dir/xreadgroup.resp"
  for ((left = PENDING; left > 0; left -= c)); do
    c=$((left < 1000 ? left : 1000))
    printf '*9\r\n$10\r\nXREADGROUP\r\n$5\r\nGROUP\r\n$1\r\ng\r\n$1\r\nc\r\n$5\r\nCOUNT\r\n$%d\r\n%d\r\n$7\r\nSTREAMS\r\n$9\r\nbench:mem\r\n$1\r\n>\r\n' \
      "${#c}" "$c" >>"$pipe_dir/xreadgroup.resp"
    xrg_count=$((xrg_count + 1))
  done
  : >"$memory_tsv"
  for ((round = 1; round <= ROUNDS; round++)); do
    memory_one runnel "$RUNNEL_BIN" "$d/runnel" "" "$round" "${persist_off[@]}" "${runnel_args[@]}"
    memory_one redis "$REDIS_BIN" "$d/redis" "$memory_port" "$round" "${persist_off[@]}" "${redis_args[@]}"
    rm -rf "$d"
    memory_hashes runnel "$RUNNEL_BIN" "$d/runnel" "" "$round" "${persist_off[@]}" "${runnel_args[@]}"
    memory_hashes redis "$REDIS_BIN" "$d/redis" "$memory_port" "$round" "${persist_off[@]}" "${redis_args[@]}"
    rm -rf "$d"
  done
  awk -F'\t' "$AWK_LIB"'
    { m = $1; r = $2; s = $3; if (!(m in seen)) { seen[m] = 1; order[++nm] = m }
      per[m, r, s] = ($5 - $4) * 1024 / $6; before[m, r, s] = $4 / 1024; after[m, r, s] = $5 / 1024
      has[m, r, s] = 1; if (r + 0 > maxr) maxr = r + 0 }
    END {
      print "measure\trunnel RSS before MB\trunnel RSS after MB\tredis RSS before MB\tredis RSS after MB\trunnel bytes each\tredis bytes each\trunnel/redis"
      for (i = 1; i <= nm; i++) {
        m = order[i]; ea = ""; eb = ""; q = ""; b0 = ""; b1 = ""; d0 = ""; d1 = ""
        for (r = 1; r <= maxr; r++) {
          ha = ((m, r, "runnel") in has); hb = ((m, r, "redis") in has)
          if (ha) { ea = ea " " per[m, r, "runnel"]; b0 = b0 " " before[m, r, "runnel"]; b1 = b1 " " after[m, r, "runnel"] }
          if (hb) { eb = eb " " per[m, r, "redis"]; d0 = d0 " " before[m, r, "redis"]; d1 = d1 " " after[m, r, "redis"] }
          if (ha && hb && per[m, r, "redis"] > 0) q = q " " per[m, r, "runnel"] / per[m, r, "redis"]
        }
        printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", m, fmt("%.1f", median(b0)), fmt("%.1f", median(b1)),
          fmt("%.1f", median(d0)), fmt("%.1f", median(d1)), fmt("%.1f", median(ea)), fmt("%.1f", median(eb)), fmt("%.2f", median(q))
      }
    }' "$memory_tsv" >"$work/memory-summary.tsv"
  report memory "Memory: stream entries, pending entries, small hashes" "$work/memory-summary.tsv" \
    "median of $ROUNDS runs, each on fresh servers with \`--appendonly no --save ''\`. RSS is VmRSS from /proc/PID/status. Entries: $STREAM_ENTRIES \`XADD bench:mem * f1 v1 f2 v2\` (redis-cli --pipe); bytes each = RSS delta / $STREAM_ENTRIES. Pending: \`XGROUP CREATE bench:mem g 0\`, then $xrg_count \`XREADGROUP GROUP g c COUNT 1000 STREAMS bench:mem >\` without XACK (checked with XPENDING); bytes each = RSS delta / $PENDING (that row's 'before' columns are the RSS after XGROUP CREATE). Hashes: on another fresh server, $HASHES \`HSET hash:NNNNNNN f1 v1 f2 v2 f3 v3 f4 v4 f5 v5\` (redis-cli --pipe, checked with DBSIZE, HLEN, HGET); bytes each = (RSS after - RSS of the empty server) / $HASHES." \
    "runnel/redis below 1 means runnel uses less memory (median of per-run ratios)." \
    "$(cmdline_for memory STREAM_ENTRIES PENDING HASHES)" \
    "servers: $(quoted "$RUNNEL_BIN" --port P --bind 127.0.0.1 --dir D "${persist_off[@]}" "${runnel_args[@]}"); $(quoted "$REDIS_BIN" --port P --bind 127.0.0.1 --dir D "${persist_off[@]}" "${redis_args[@]}")"
}

# ---------------------------------------------------------------------------------------------

note "runnel: $RUNNEL_BIN ($runnel_version)"
note "redis:  $REDIS_BIN ($redis_version)"
note "suites: ${suites[*]}; $ROUNDS rounds"
started_all=$EPOCHREALTIME
for s in "${suites[@]}"; do
  t_suite=$EPOCHREALTIME
  note "===== suite $s ====="
  busy="$(busy_pct)"
  busy_warning=""
  foreign_runs=0
  foreign_max=0
  if ((busy > 15)); then
    busy_warning="Warning: before this suite the CPUs were ${busy}% busy with other work; the figures may be disturbed."
    note "$busy_warning"
  fi
  "suite_$s"
  note "suite $s took $(awk -v a="$t_suite" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }') s"
done
echo
echo "all suites: $(awk -v a="$started_all" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }') s;" \
  "command line: SUITES=\"$SUITES\" ROUNDS=$ROUNDS scripts/bench.sh (see each suite for its variables)"
