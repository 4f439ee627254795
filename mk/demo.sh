#!/bin/bash
# Boot the x86_64 test machine running only the KUnit suite phyr_storage and
# print what that suite printed (its kunit_info lines, prefixes stripped).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
suite=${DEMO_SUITE:-phyr_storage}
log=$ROOT/build/logs/kunit-x86_64-demo.log

rc=0
LOG_TAG=-demo KUNIT_SUITES=$suite "$ROOT/mk/kunit.sh" x86_64 "$suite" || rc=$?
if ! grep -Eq "# Subtest: $suite\$" "$log" 2>/dev/null; then
	echo "==> demo: FAIL: KUnit suite '$suite' does not exist (yet) or did not run"
	exit 1
fi
echo "==> demo: output of KUnit suite $suite:"
# from "# Subtest: SUITE" to its "ok N SUITE" line; keep the diagnostic
# lines ("# test: text") and results, drop the indentation and "# test: "
awk -v s="$suite" '
	$0 ~ "# Subtest: " s "$" { on = 1; next }
	on && $0 ~ "^(not )?ok [0-9]+ " s "$" { exit }
	on' "$log" |
	sed -E -e 's/^\[ *[0-9.]+\] //' -e 's/^[[:space:]]+//' |
	grep -Ev '^(# (module|Subtest|[a-z_0-9]+\.speed):|KTAP version|[0-9]+\.\.[0-9]+$)' |
	sed -E -e 's/^# [A-Za-z0-9_]+: //'
exit $rc
