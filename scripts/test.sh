#!/usr/bin/env bash
# Runs every check CI runs: setup, gen/ freshness, typecheck, lint, and all tests (unit tests in
# src/, end-to-end tests in test/). Every check runs even if an earlier one failed, so one run shows
# everything that is broken. The last line of output is always `N passed, N failed`: tests count one
# each, and setup/gen/typecheck/lint count as one check each.
#
#   bash scripts/test.sh        (or: bun run test:all; CI: .ci/run)
set -uo pipefail # no -e: a failing check is counted, not fatal

cd "$(dirname "${BASH_SOURCE[0]}")/.."
work=$(mktemp -d "${TMPDIR:-/tmp}/mgw-test.XXXXXX")
trap 'rm -rf "$work"' EXIT

passed=0
failed=0
failures=()

summary() {
  if [ "${#failures[@]}" -gt 0 ]; then
    echo "== failed: ${failures[*]}"
  fi
  echo "$passed passed, $failed failed"
}

# Runs one named check that counts as one passed or one failed.
check() {
  local name=$1
  shift
  echo "== $name: $*"
  local start=$SECONDS
  if "$@"; then
    passed=$((passed + 1))
    echo "== $name: ok ($((SECONDS - start)) s)"
  else
    failed=$((failed + 1))
    failures+=("$name")
    echo "== $name: FAILED ($((SECONDS - start)) s)"
  fi
}

check setup bash scripts/setup.sh
if [ "$failed" -gt 0 ]; then
  # Without the toolchain nothing below can run meaningfully.
  summary
  exit 1
fi
check gen:check bun run gen:check
check gen:crds:check bun run gen:crds:check
check typecheck bun run typecheck
check lint bun run lint
# Benchmarks are never timed assertions; their smoke runs (small N, exit 1 on any protocol error)
# keep the harnesses working.
check bench:smoke bun run bench -- --smoke

# ---- tests --------------------------------------------------------------------------------------
junit="$work/junit.xml"
log="$work/bun-test.log"
echo "== tests: bun test --reporter=junit"
start=$SECONDS
bun test --reporter=junit --reporter-outfile="$junit" 2>&1 | tee "$log"
test_status=${PIPESTATUS[0]}
echo "== tests: bun test exited $test_status ($((SECONDS - start)) s)"

# The first value of attribute $1 on the root <testsuites> element of the JUnit report.
junit_attr() {
  grep -o '<testsuites [^>]*>' "$junit" 2>/dev/null | head -n 1 | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"
}
# Bun's own summary line " N <word>" (e.g. " 3 fail"), 0 if absent; colour codes stripped.
console_count() {
  sed 's/\x1b\[[0-9;]*m//g' "$log" | sed -n "s/^ *\([0-9][0-9]*\) $1\$/\1/p" | tail -n 1 | grep . || echo 0
}

tests=$(junit_attr tests)
test_failures=$(junit_attr failures)
skipped=$(junit_attr skipped)
console_failures=$(console_count fail)
if [ -n "$tests" ]; then
  test_passed=$((tests - ${test_failures:-0} - ${skipped:-0}))
else
  echo "== tests: no JUnit report was written; counting from bun's summary"
  test_passed=$(console_count pass)
  test_failures=0
fi
test_failures=${test_failures:-0}
# Bun's JUnit report leaves out files that fail to load (an error outside any test); its console
# summary counts them, so take the larger of the two.
if [ "$console_failures" -gt "$test_failures" ]; then
  test_failures=$console_failures
fi
# A non-zero exit with no failed test (no test files, a crash, an error between tests) is a failure.
if [ "$test_status" -ne 0 ] && [ "$test_failures" -eq 0 ]; then
  test_failures=1
fi
passed=$((passed + test_passed))
failed=$((failed + test_failures))
if [ "$test_failures" -gt 0 ]; then
  failures+=("tests($test_failures)")
fi
echo "== tests: $test_passed passed, $test_failures failed, ${skipped:-0} skipped or todo"

summary
[ "$failed" -eq 0 ]
