#!/usr/bin/env bash
# scripts/fuzz.sh: build the libFuzzer targets of runtime/cpp/fuzz/ and run each for a while.
#
#   scripts/fuzz.sh [--seconds N | --cpu-seconds N] [--jobs N] [--timeout N] [--build DIR] [TARGET...]
#
#   --seconds N  how long each target runs (default 60): libFuzzer's -max_total_time
#   --cpu-seconds N  run each target until its process has used N seconds of CPU instead (then it is
#                interrupted, which libFuzzer ends cleanly with its final stats): a long fuzz on a
#                shared or niced machine still gets its full share ("20 CPU-minutes per target")
#   --jobs N     targets run N at a time (default 1); each fuzzer is one process on one core
#   --timeout N  seconds one input may take before it counts as a hang (default 10; README's test
#                command gives 60, as it fuzzes at low priority beside the Python suite)
#   --build DIR  the fuzz build folder (default build-fuzz): configured with CC=clang CXX=clang++,
#                Ninja, -DFROZENSEG_FUZZ=ON, tests off; ONNXRUNTIME_ROOT (environment) passes the SDK.
#                A folder already configured with FROZENSEG_FUZZ=ON is used as it is (README's test
#                command passes build-asan/, its sanitizer build, which has the fuzz targets too)
#   TARGET       names of runtime/cpp/fuzz/fuzz_<name>.cpp (default: all of them)
#
# Each target starts from a working corpus DIR/corpus/<target>/ seeded with runtime/cpp/fuzz/
# corpus/<target>/, regressions/<target>/ and the fixtures seeds.txt names (copies: the seeds are
# never modified; what a run adds stays in the working corpus for the next run), with
# dict/<target>.dict when there is one. A crash, leak, timeout (-timeout) or memory blow-up
# (-rss_limit_mb=2048) fails the target; its input is kept in DIR/crashes/<target>/ and its log in
# DIR/logs/<target>.log. Keep a finding as runtime/cpp/fuzz/regressions/<target>/<name>: the
# ordinary ctest suite then replays it (FuzzReplay.<target>).
#
# Prints one line per target (executions, libFuzzer's final cov: and ft:) and exits non-zero when
# any target failed. CMAKE_BUILD_PARALLEL_LEVEL limits the build's jobs.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
seconds=60
cpu_seconds=0
jobs=1
timeout=10
build=build-fuzz
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --cpu-seconds) cpu_seconds="$2"; shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    --timeout) timeout="$2"; shift 2 ;;
    --build) build="$2"; shift 2 ;;
    -h|--help) sed -n '2,28p' "$0"; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
# Absolute paths: a target may change the working folder, and libFuzzer reads corpus files lazily.
build="$(realpath -m "$build")"
fuzz_dir="$root/runtime/cpp/fuzz"
if [ ${#targets[@]} -eq 0 ]; then
  for source in "$fuzz_dir"/fuzz_*.cpp; do
    name="$(basename "$source" .cpp)"
    targets+=("${name#fuzz_}")
  done
fi
for target in "${targets[@]}"; do
  [ -f "$fuzz_dir/fuzz_$target.cpp" ] || { echo "fuzz.sh: no target '$target' ($fuzz_dir/fuzz_$target.cpp)" >&2; exit 2; }
done

command -v clang++ >/dev/null || { echo "fuzz.sh: clang++ is missing: apt-get install clang" >&2; exit 1; }
if [ ! -f "$build/build.ninja" ]; then
  CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DFROZENSEG_FUZZ=ON -DFROZENSEG_BUILD_TESTS=OFF -DFROZENSEG_WITH_TENSORRT=OFF \
    ${ONNXRUNTIME_ROOT:+-DONNXRUNTIME_ROOT="$ONNXRUNTIME_ROOT"}
fi
cmake --build "$build" --target $(printf 'fuzz_%s ' "${targets[@]}")

# The seeds of one target, one path a line.
seeds_of() {
  local target="$1" folder pattern
  for folder in corpus regressions; do
    [ -d "$fuzz_dir/$folder/$target" ] && find "$fuzz_dir/$folder/$target" -type f
  done
  while read -r name pattern; do
    [ "$name" = "$target" ] || continue
    compgen -G "$pattern" || true
  done < <(grep -v '^#' "$fuzz_dir/seeds.txt")
}

# CPU seconds (user + system) a process has used so far.
cpu_seconds_of() {
  local fields
  read -r -a fields < <(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
  # After the command name: field 12 is utime, 13 stime (clock ticks).
  echo $(( (fields[11] + fields[12]) / $(getconf CLK_TCK) ))
}

# Fuzz one target; its summary line goes to DIR/logs/<target>.result, the status is the exit code.
fuzz_one() {
  local target="$1" corpus="$build/corpus/$1" crashes="$build/crashes/$1" log="$build/logs/$1.log"
  local seed status=0 pid execs final cov ft used line
  mkdir -p "$corpus" "$crashes" "$(dirname "$log")"
  # Seeds are copied under their content's name, so running again adds nothing twice.
  while read -r seed; do
    [ -n "$seed" ] && cp "$seed" "$corpus/$(sha1sum "$seed" | cut -c1-40)"
  done < <(seeds_of "$target")
  local dict=()
  [ -f "$fuzz_dir/dict/$target.dict" ] && dict=("-dict=$fuzz_dir/dict/$target.dict")
  local limit=("-max_total_time=$seconds")
  if [ "$cpu_seconds" -gt 0 ]; then
    limit=()
    echo "[fuzz] $target: ${cpu_seconds} CPU-s"
  else
    echo "[fuzz] $target: ${seconds} s"
  fi
  "$build/fuzz_$target" "$corpus" "${limit[@]}" -timeout="$timeout" -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$crashes/" "${dict[@]}" > "$log" 2>&1 &
  pid=$!
  if [ "$cpu_seconds" -gt 0 ]; then
    while kill -0 "$pid" 2>/dev/null; do
      used="$(cpu_seconds_of "$pid")"
      if [ "$used" -ge "$cpu_seconds" ]; then
        kill -INT "$pid" 2>/dev/null || true
        break
      fi
      sleep 5
    done
  fi
  wait "$pid" || status=$?
  # libFuzzer exits 72 (its -interrupted_exit_code) when interrupted: that is how a CPU budget ends.
  if [ "$cpu_seconds" -gt 0 ] && [ "$status" -eq 72 ] && grep -q 'run interrupted' "$log"; then
    status=0
  fi
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
  final="$(grep -E '^#[0-9]+' "$log" | tail -1 || true)"
  cov="$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$final")"
  ft="$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$final")"
  line="$(printf '%-16s execs %10s  cov %6s  ft %6s' "$target" "${execs:-?}" "${cov:-?}" "${ft:-?}")"
  if [ "$cpu_seconds" -gt 0 ]; then
    line+="$(printf '  wall %5s s' "$(( $(date +%s) - $2 ))")"
  fi
  if [ "$status" -ne 0 ]; then
    line+="  FAILED (exit $status; input in $crashes/, log $log)"
    grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error:|.*Test unit written)' "$log" | head -5 | sed 's/^/    /' || true
  fi
  echo "[fuzz] $line"
  echo "$line" > "$build/logs/$target.result"
  return "$status"
}

declare -A running=()
failed=()
# Waits for one running target and records its outcome.
reap_one() {
  local pid target status=0
  wait -n -p pid "${!running[@]}" || status=$?
  target="${running[$pid]}"
  unset "running[$pid]"
  [ "$status" -eq 0 ] || failed+=("$target")
}
for target in "${targets[@]}"; do
  while [ "${#running[@]}" -ge "$jobs" ]; do reap_one; done
  fuzz_one "$target" "$(date +%s)" &
  running[$!]="$target"
done
while [ "${#running[@]}" -gt 0 ]; do reap_one; done

for target in "${targets[@]}"; do
  echo "[fuzz] $(cat "$build/logs/$target.result" 2>/dev/null || echo "$target  no result")"
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "[fuzz] FAILED: ${failed[*]}" >&2
  exit 1
fi
