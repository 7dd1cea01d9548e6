#!/usr/bin/env bash
# Runs every fuzz target (or those named) for FUZZ_SECONDS each: `make fuzz` builds them in build-fuzz/ and calls
# this. Inputs that find new coverage go to build-fuzz/fuzz-corpus/TARGET (not checked in); a crash, a timeout or
# an out-of-memory input is saved as tests/fuzz/regressions/TARGET/crash-SHA1 (timeout-, oom-) for the replay in
# `make test`, and the target keeps going (libFuzzer's fork mode), so one finding does not hide the next. Prints per
# target the executions run and libFuzzer's coverage (cov: edges, ft: features); exits 1 when any target found
# something.
#
#   tests/fuzz/run.sh build-fuzz 5                 # every target, 5 s each
#   tests/fuzz/run.sh build-fuzz 60 nvidia_smi     # one target, a minute
set -uo pipefail
cd "$(dirname "$0")/../.."
build=${1:?usage: run.sh BUILD_DIR SECONDS [TARGET...]}
seconds=${2:?usage: run.sh BUILD_DIR SECONDS [TARGET...]}
shift 2
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
  for d in tests/fuzz/corpus/*/; do targets+=("$(basename "$d")"); done
fi

found=()
for t in "${targets[@]}"; do
  exe="$build/tests/fuzz/wiresim_fuzz_$t"
  if [[ ! -x "$exe" ]]; then
    echo "fuzz: no target $t (built: $(ls "$build/tests/fuzz" | sed -n 's/^wiresim_fuzz_//p' | tr '\n' ' '))" >&2
    exit 2
  fi
  mkdir -p "$build/fuzz-corpus/$t" "tests/fuzz/regressions/$t" "$build/fuzz-logs"
  log="$build/fuzz-logs/$t.log"
  before=$(ls "tests/fuzz/regressions/$t" | sort)
  # -timeout: one input taking longer is a finding (a hang); -rss_limit_mb: so is one needing more memory.
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    "$exe" -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 -max_total_time="$seconds" -timeout=10 \
    -rss_limit_mb=2048 -max_len=16384 -dict="tests/fuzz/dict/$t.dict" -artifact_prefix="tests/fuzz/regressions/$t/" \
    "$build/fuzz-corpus/$t" "tests/fuzz/corpus/$t" >"$log" 2>&1
  rc=$?
  # Fork mode's progress lines: "#EXECS: cov: N ft: N corp: N exec/s N oom/timeout/crash: N/N/N time: Ns ...".
  last=$(grep -E '^#[0-9]+: cov:' "$log" | tail -n 1)
  execs=$(sed -E 's/^#([0-9]+):.*/\1/' <<<"$last")
  stats=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' <<<"$last")
  new=$(comm -13 <(echo "$before") <(ls "tests/fuzz/regressions/$t" | sort))
  if [[ -z "$new" && $rc -eq 0 ]]; then
    printf 'fuzz: %-20s %9s executions in %ss, %s\n' "$t" "${execs:-?}" "$seconds" "${stats:-no stats}"
  else
    printf 'fuzz: %-20s %9s executions in %ss, %s; FOUND (log: %s):\n' "$t" "${execs:-?}" "$seconds" \
      "${stats:-no stats}" "$log"
    # Fork mode keeps each child's report to itself: run each new input once more for its first line.
    for f in $new; do
      why=$("$exe" -timeout=10 -rss_limit_mb=2048 "tests/fuzz/regressions/$t/$f" 2>&1 |
        grep -m 1 -E 'fuzz finding|runtime error|Check failed|ERROR: (AddressSanitizer|libFuzzer)')
      echo "    tests/fuzz/regressions/$t/$f: $why"
    done
    found+=("$t")
  fi
done
if [[ ${#found[@]} -gt 0 ]]; then
  echo "fuzz: findings in ${found[*]}: each input is saved under tests/fuzz/regressions/ and replayed by make test" >&2
  exit 1
fi
