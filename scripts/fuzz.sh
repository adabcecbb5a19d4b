#!/usr/bin/env bash
# scripts/fuzz.sh: build the libFuzzer targets of runtime/cpp/fuzz/ and run each for a while.
#
#   scripts/fuzz.sh [--seconds N] [--timeout N] [--build DIR] [TARGET...]
#
#   --seconds N  how long each target runs (default 60): libFuzzer's -max_total_time
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
timeout=10
build=build-fuzz
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --timeout) timeout="$2"; shift 2 ;;
    --build) build="$2"; shift 2 ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
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

failed=()
results=()
for target in "${targets[@]}"; do
  corpus="$build/corpus/$target"
  crashes="$build/crashes/$target"
  log="$build/logs/$target.log"
  mkdir -p "$corpus" "$crashes" "$(dirname "$log")"
  # Seeds are copied under their content's name, so running again adds nothing twice.
  while read -r seed; do
    [ -n "$seed" ] && cp "$seed" "$corpus/$(sha1sum "$seed" | cut -c1-40)"
  done < <(seeds_of "$target")
  dict=()
  [ -f "$fuzz_dir/dict/$target.dict" ] && dict=("-dict=$fuzz_dir/dict/$target.dict")
  echo "[fuzz] $target: ${seconds} s"
  status=0
  "$build/fuzz_$target" "$corpus" -max_total_time="$seconds" -timeout="$timeout" -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$crashes/" "${dict[@]}" > "$log" 2>&1 || status=$?
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
  final="$(grep -E '^#[0-9]+' "$log" | tail -1 || true)"
  cov="$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$final")"
  ft="$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$final")"
  line="$(printf '%-16s execs %10s  cov %6s  ft %6s' "$target" "${execs:-?}" "${cov:-?}" "${ft:-?}")"
  if [ "$status" -ne 0 ]; then
    line+="  FAILED (exit $status; input in $crashes/, log $log)"
    failed+=("$target")
    grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error:|.*Test unit written)' "$log" | head -5 | sed 's/^/    /' || true
  fi
  echo "[fuzz] $line"
  results+=("$line")
done

printf '[fuzz] %s\n' "${results[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "[fuzz] FAILED: ${failed[*]}" >&2
  exit 1
fi
