#!/usr/bin/env bash
# Builds the libFuzzer target for the request decoder with clang-14 (in
# build-fuzz/) and runs it for SECONDS (default 60) on one core.
#
#   scripts/fuzz.sh [SECONDS]
#
# It starts from the seed corpus in fuzz/corpus/request_decoder/, which it
# never writes to: inputs that find new coverage go to a temporary directory
# (FUZZ_CORPUS_OUT to keep them somewhere else), removed at the end unless
# set. A crash, leak, timeout or memory blow-up stops the run with a non-zero
# exit and leaves the input in build-fuzz/crashes/request_decoder/; rerun it
# with the command printed. Each one found belongs in tests/codec_test.cpp as
# a regression test.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
seconds="${1:-60}"
build="$root/${FUZZ_BUILD_DIR:-build-fuzz}"

"$root/scripts/setup.sh" clang-14 libfuzzer-14-dev

CC=clang-14 CXX=clang++-14 cmake -S "$root" -B "$build" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAUTHNODE_FUZZ=ON \
  -DAUTHNODE_TESTS=OFF -DAUTHNODE_BENCH=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target request_decoder_fuzz

seeds="$root/fuzz/corpus/request_decoder"
crashes="$build/crashes/request_decoder"
mkdir -p "$crashes"
if [ -n "${FUZZ_CORPUS_OUT:-}" ]; then
  corpus="$FUZZ_CORPUS_OUT"
  mkdir -p "$corpus"
else
  corpus="$(mktemp -d "${TMPDIR:-/tmp}/authnode-fuzz-corpus.XXXXXX")"
  trap 'rm -rf "$corpus"' EXIT
fi

# As in the test suite (tests/CMakeLists.txt): stop at the first report.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"

binary="$build/fuzz/request_decoder_fuzz"
echo "fuzz: request_decoder for ${seconds}s (new inputs in $corpus)" >&2
status=0
# -max_len: lines up to the fuzzer's max_line (512) and past it, several per
# input. -rss_limit_mb bounds memory; -timeout flags any input that takes
# over 10 s (a hang).
"$binary" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
  -max_len=4096 -print_final_stats=1 -artifact_prefix="$crashes/" \
  "$corpus" "$seeds" || status=$?
if [ "$status" -ne 0 ]; then
  echo "fuzz: FAILED (exit $status). Inputs in $crashes/:" >&2
  ls -1 "$crashes" >&2 || true
  echo "fuzz: reproduce with: $binary $crashes/<file>" >&2
  exit "$status"
fi
echo "fuzz: no crash in ${seconds}s" >&2
