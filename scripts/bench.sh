#!/usr/bin/env bash
# Benchmarks runnel against Debian's redis-server in the same run, with redis-benchmark.
#
#   scripts/bench.sh                          # 3 rounds, SET GET INCR MSET PING at -P 1 and -P 16
#   ROUNDS=5 TESTS="set get" scripts/bench.sh
#   RUNNEL_BIN=/path/to/runnel-server scripts/bench.sh   # use that binary, build nothing
#
# Both servers run on free loopback ports with persistence off. Each round runs every workload
# against runnel, then against redis, so slow drift of the machine hits both alike. For each run
# the server's CPU time (utime+stime of the whole process, /proc/PID/stat) is read before and
# after, giving server CPU microseconds per request. The summary gives medians over the rounds
# and runnel/redis ratios (median of the per-round ratios); it ends with a markdown table for
# docs/PERFORMANCE.md and the command line used.
#
# Environment (defaults in brackets):
#   ROUNDS [3]   N_P1 [200000]   N_P16 [2000000]   CLIENTS [50]
#   TESTS ["set get incr mset ping"]   (redis-benchmark -t names; "ping" means ping_mbulk)
#   THREADS [nproc]   runnel --threads (passed only when the binary is runnel)
#   RUNNEL_BIN   server binary to use instead of building build-release/runnel-server
#   RUN_TIMEOUT [300]   seconds after which one redis-benchmark run counts as hung
set -euo pipefail

cd "$(dirname "$0")/.."
repo="$(pwd)"

ROUNDS="${ROUNDS:-3}"
N_P1="${N_P1:-200000}"
N_P16="${N_P16:-2000000}"
CLIENTS="${CLIENTS:-50}"
TESTS="${TESTS:-set get incr mset ping}"
THREADS="${THREADS:-$(nproc)}"
RUN_TIMEOUT="${RUN_TIMEOUT:-300}"
PIPELINES=(1 16)

die() { echo "bench: $*" >&2; exit 1; }
note() { echo "bench: $*" >&2; }

for v in ROUNDS N_P1 N_P16 CLIENTS THREADS RUN_TIMEOUT; do
  [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer (got '${!v}')"
done
read -r -a tests <<<"$TESTS"
((${#tests[@]} > 0)) || die "TESTS is empty"

# ---------------------------------------------------------------------------------------------
# Packages: redis-server and redis-tools always; the build dependencies unless RUNNEL_BIN is set.

need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
{ command -v redis-benchmark && command -v redis-cli; } >/dev/null 2>&1 || need+=(redis-tools)
if [[ -z "${RUNNEL_BIN:-}" ]]; then
  build_pkgs=(g++ meson ninja-build pkg-config libuv1-dev libhiredis-dev libzstd-dev libfmt-dev
              libxxhash-dev doctest-dev)
  if [[ -f scripts/deps.sh ]]; then
    # The shared list of build dependencies, if run.sh/test.sh's helper is there.
    # shellcheck disable=SC1091
    read -r -a build_pkgs <<<"$(source scripts/deps.sh >/dev/null 2>&1; echo "${RUNNEL_PACKAGES[@]:-${build_pkgs[@]}}")"
  fi
  for p in "${build_pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
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
for c in redis-server redis-benchmark redis-cli getconf awk timeout; do
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
# Servers.

work="$(mktemp -d "${TMPDIR:-/tmp}/runnel-bench.XXXXXX")"
runnel_pid=""
redis_pid=""
started_pid=""

stop_server() { # pid
  local pid="$1" i
  [[ -n "$pid" ]] || return 0
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  stop_server "$runnel_pid"
  stop_server "$redis_pid"
  stop_server "$started_pid"
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

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

# start_server NAME BIN DIR AVOID_PORT [extra args...]: starts it on a free port, waits until it
# answers PING; sets started_pid and started_port. Retries on another port if the port was taken.
start_server() {
  local name="$1" bin="$2" dir="$3" avoid="$4" attempt i port
  shift 4
  mkdir -p "$dir"
  for ((attempt = 1; attempt <= 5; attempt++)); do
    port="$(free_port "$avoid")"
    "$bin" --port "$port" --bind 127.0.0.1 --dir "$dir" --appendonly no --save '' "$@" \
      >"$dir/server.log" 2>&1 &
    started_pid=$!
    started_port=$port
    for ((i = 0; i < 200; i++)); do
      if ! kill -0 "$started_pid" 2>/dev/null; then
        wait "$started_pid" 2>/dev/null || true
        if grep -qi "address already in use" "$dir/server.log" && ((attempt < 5)); then
          note "$name: port $port was taken; trying another"
          continue 2
        fi
        tail -n 20 "$dir/server.log" >&2 || true
        die "$name exited during start-up (log above; command: $bin --port $port ... $*)"
      fi
      if [[ "$(redis-cli -h 127.0.0.1 -p "$port" PING 2>/dev/null)" == PONG ]]; then
        return 0
      fi
      sleep 0.05
    done
    tail -n 20 "$dir/server.log" >&2 || true
    die "$name did not answer PING on port $port within 10 s"
  done
}

runnel_args=()
if ((is_runnel)); then runnel_args=(--threads "$THREADS"); fi
start_server runnel "$RUNNEL_BIN" "$work/runnel" "" "${runnel_args[@]}"
runnel_pid=$started_pid
runnel_port=$started_port

start_server redis "$REDIS_BIN" "$work/redis" "$runnel_port" --daemonize no
redis_pid=$started_pid
redis_port=$started_port

runnel_cmd="$RUNNEL_BIN --port $runnel_port --bind 127.0.0.1 --dir TMP1 --appendonly no --save '' ${runnel_args[*]}"
redis_cmd="$REDIS_BIN --port $redis_port --bind 127.0.0.1 --dir TMP2 --appendonly no --save '' --daemonize no"
note "runnel: $runnel_cmd (pid $runnel_pid)"
note "redis:  $redis_cmd (pid $redis_pid)"

alive() { # name pid dir
  kill -0 "$2" 2>/dev/null && return 0
  tail -n 20 "$3/server.log" >&2 || true
  die "$1 (pid $2) has died (server log above)"
}

# Every workload's command must work on both servers: redis-benchmark counts error replies as
# requests served, which would make a broken command look fast.
expect() { # name port expected command...
  local name="$1" port="$2" want="$3" got
  shift 3
  got="$(redis-cli -h 127.0.0.1 -p "$port" "$@" 2>&1)" || true
  [[ "$got" == "$want" ]] || die "$name: '$*' replied '$got', expected '$want'"
}
preflight() { # name port
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
  redis-cli -h 127.0.0.1 -p "$2" DEL bench:check:set bench:check:get bench:check:incr \
    bench:check:m1 bench:check:m2 >/dev/null 2>&1 || true
}
preflight runnel "$runnel_port"
preflight redis "$redis_port"

# ---------------------------------------------------------------------------------------------
# Runs.

clk_tck="$(getconf CLK_TCK)"
cpu_ticks() { # pid -> utime+stime of the whole process (fields 14, 15), in clock ticks
  local s
  s="$(<"/proc/$1/stat")" || return 1
  s="${s##*) }" # the command name (field 2) may contain spaces; field 3 follows ") "
  read -r -a f <<<"$s"
  echo $((f[11] + f[12]))
}

results="$work/results.tsv" # test pipeline round server rps cpu_us_per_op
: >"$results"

bench_one() { # name port pid dir test pipeline n round
  local name="$1" port="$2" pid="$3" dir="$4" t="$5" p="$6" n="$7" round="$8"
  local bt="$t" out="$work/bench.out" err="$work/bench.err" before after rps cpu bpid rc=0
  [[ "$t" != ping ]] || bt=ping_mbulk
  alive "$name" "$pid" "$dir"
  before="$(cpu_ticks "$pid")" || die "$name (pid $pid): cannot read /proc/$pid/stat"
  timeout "$RUN_TIMEOUT" redis-benchmark -h 127.0.0.1 -p "$port" -c "$CLIENTS" -n "$n" -P "$p" \
    -t "$bt" --csv >"$out" 2>"$err" &
  bpid=$!
  # redis-benchmark can hang when its server goes away; watch the server meanwhile.
  while kill -0 "$bpid" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then
      kill "$bpid" 2>/dev/null || true
      wait "$bpid" 2>/dev/null || true
      alive "$name" "$pid" "$dir"
    fi
    sleep 0.1
  done
  wait "$bpid" || rc=$?
  alive "$name" "$pid" "$dir"
  after="$(cpu_ticks "$pid")" || die "$name (pid $pid): cannot read /proc/$pid/stat"
  if ((rc != 0)); then
    cat "$err" "$out" >&2
    if ((rc == 124)); then die "$name: redis-benchmark -t $bt -P $p hung for ${RUN_TIMEOUT}s"; fi
    die "$name: redis-benchmark -t $bt -P $p failed (exit $rc)"
  fi
  rps="$(awk -F'","' 'NR == 2 { print $2 }' "$out")"
  if ! [[ "$rps" =~ ^[0-9]+(\.[0-9]+)?$ ]] || ! awk -v r="$rps" 'BEGIN { exit !(r > 0) }'; then
    cat "$err" "$out" >&2
    die "$name: no requests-per-second figure in redis-benchmark's output"
  fi
  cpu="$(awk -v d="$((after - before))" -v hz="$clk_tck" -v n="$n" \
    'BEGIN { printf "%.4f", d / hz * 1e6 / n }')"
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$p" "$round" "$name" "$rps" "$cpu" >>"$results"
  printf 'bench: round %d/%d  %-5s -P %-2s %-6s %12.0f ops/s  %8.3f us/op CPU\n' \
    "$round" "$ROUNDS" "$t" "$p" "$name" "$rps" "$cpu" >&2
}

for ((round = 1; round <= ROUNDS; round++)); do
  for p in "${PIPELINES[@]}"; do
    if ((p == 1)); then n="$N_P1"; else n="$N_P16"; fi
    for t in "${tests[@]}"; do
      bench_one runnel "$runnel_port" "$runnel_pid" "$work/runnel" "$t" "$p" "$n" "$round"
      bench_one redis "$redis_port" "$redis_pid" "$work/redis" "$t" "$p" "$n" "$round"
    done
  done
done

# ---------------------------------------------------------------------------------------------
# Summary: medians over rounds; ratios are medians of the per-round ratios.

summary="$(awk -F'\t' '
  function median(s,    a, n, i, j, x) {
    n = split(s, a, " ")
    for (i = 2; i <= n; i++) { x = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
    return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  {
    k = $1 SUBSEP $2
    if (!(k in seen)) { seen[k] = 1; order[++nk] = k }
    rps[k, $3, $4] = $5; cpu[k, $3, $4] = $6; rounds[k, $3] = 1
  }
  END {
    for (i = 1; i <= nk; i++) {
      k = order[i]; split(k, kp, SUBSEP)
      rr = ""; dr = ""; rc = ""; dc = ""; ratio = ""; cratio = ""
      for (r = 1; (k SUBSEP r) in rounds; r++) {
        rr = rr " " rps[k, r, "runnel"]; dr = dr " " rps[k, r, "redis"]
        rc = rc " " cpu[k, r, "runnel"]; dc = dc " " cpu[k, r, "redis"]
        ratio = ratio " " rps[k, r, "runnel"] / rps[k, r, "redis"]
        cratio = cratio " " ((cpu[k, r, "redis"] > 0) ? cpu[k, r, "runnel"] / cpu[k, r, "redis"] : "nan")
      }
      # cratio: a run too short for one clock tick gives 0 CPU; such rounds are left out.
      cr = ""; nc = split(cratio, ca, " ")
      for (j = 1; j <= nc; j++) if (ca[j] != "nan") cr = cr " " ca[j]
      printf "%s\t%s\t%.0f\t%.0f\t%.2f\t%.3f\t%.3f\t%s\n", toupper(kp[1]), kp[2],
        median(rr), median(dr), median(ratio), median(rc), median(dc),
        (cr == "") ? "n/a" : sprintf("%.2f", median(cr))
    }
  }' "$results")"

cmdline="ROUNDS=$ROUNDS N_P1=$N_P1 N_P16=$N_P16 CLIENTS=$CLIENTS TESTS=\"$TESTS\" THREADS=$THREADS"
if [[ "$RUNNEL_BIN" != "$repo/build-release/runnel-server" ]]; then cmdline+=" RUNNEL_BIN=$RUNNEL_BIN"; fi
cmdline+=" scripts/bench.sh"
cpu_model="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)"

echo
echo "runnel vs redis-server: redis-benchmark -c $CLIENTS, median of $ROUNDS rounds"
echo "(-P 1: -n $N_P1, -P 16: -n $N_P16; CPU = server utime+stime per request)"
echo
{
  printf 'workload\tpipeline\trunnel ops/s\tredis ops/s\tops ratio\trunnel CPU us/op\tredis CPU us/op\tCPU ratio\n'
  echo "$summary"
} | awk -F'\t' '{ printf "%-9s %8s %13s %13s %10s %17s %16s %10s\n", $1, $2, $3, $4, $5, $6, $7, $8 }'
echo
echo "ops ratio = runnel/redis ops/s (higher is better for runnel); CPU ratio = runnel/redis"
echo "CPU µs/op (lower is better for runnel); both are medians of the per-round ratios."
echo
echo "----- markdown (for docs/PERFORMANCE.md) -----"
echo
threads_note=""
if ((is_runnel)); then threads_note=" --threads $THREADS"; fi
echo "$(date -u +%Y-%m-%d), $(nproc) CPUs (${cpu_model:-unknown CPU}), runnel: ${runnel_version%% sha=*}$threads_note," \
  "redis: ${redis_version%% sha=*}; redis-benchmark -c $CLIENTS, -n $N_P1 at -P 1 and $N_P16 at -P 16," \
  "median of $ROUNDS rounds."
echo
echo "| workload | pipeline | runnel ops/s | redis ops/s | runnel/redis | runnel CPU µs/op | redis CPU µs/op | CPU runnel/redis |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
echo "$summary" | awk -F'\t' '{ printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8 }'
echo
echo "Command: \`$cmdline\`"
echo
echo "----- end of markdown -----"
echo
echo "command line: $cmdline"
echo "runnel: $runnel_cmd"
echo "redis:  $redis_cmd"
echo "each run: redis-benchmark -h 127.0.0.1 -p PORT -c $CLIENTS -n N -P P -t TEST --csv"
