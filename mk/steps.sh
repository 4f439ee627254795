#!/bin/bash
# mk/steps.sh NAME STEP... [-- STEP...]
# Run `$MAKE STEP` for each STEP, going on after a failure, then print a
# summary with the time of each step; exit 1 if any step failed.
#
# With "--", the steps before it and the steps after it run as two lanes
# at the same time, each lane in its order: the kernel builds in one, and
# in the other what needs no kernel or boots one that is built already
# (QEMU under TCG leaves a core idle most of the time).  Steps that share
# a build wait for each other on its lock (mk/kunit.sh, mk/series.sh).
# A lane's step prints its output when it ends, in one block; its log is
# build/logs/steps/STEP.log.
#
# Env: STEPS_BUDGET (seconds, default 3600): the summary warns when the
# whole run took longer.
set -uo pipefail
name=$1; shift
MAKE=${MAKE:-make}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LOGS=$ROOT/build/logs/steps
budget=${STEPS_BUDGET:-3600}
lane1=() lane2=() cur=1
for t in "$@"; do
	if [ "$t" = -- ]; then cur=2; continue; fi
	if [ $cur = 1 ]; then lane1+=("$t"); else lane2+=("$t"); fi
done

# run_step STEP: one step; prints its result line to fd 3
run_step() {
	local t=$1 t0 r
	t0=$(date +%s)
	if $MAKE --no-print-directory "$t"; then r=PASS; else r=FAIL; fi
	printf '%-20s %s %5d s  (from %5d s)\n' "$t" "$r" \
		$(( $(date +%s) - t0 )) $(( t0 - start )) >&3
}

# lane STEP...: the steps in order, each one's output as one block
lane() {
	local t
	for t in "$@"; do
		echo "==> $name: $t (started)"
		run_step "$t" > "$LOGS/$t.log" 2>&1
		echo "==> $name: $t (ended)"
		cat "$LOGS/$t.log"
	done
}

start=$(date +%s)
results=$(mktemp)
exec 3>>"$results"
if [ ${#lane2[@]} = 0 ]; then
	for t in "${lane1[@]}"; do
		echo "==> $name: $t"
		run_step "$t"
	done
else
	mkdir -p "$LOGS"
	echo "==> $name: two lanes: ${lane1[*]} | ${lane2[*]}"
	lane "${lane1[@]}" &
	p1=$!
	lane "${lane2[@]}" &
	p2=$!
	wait $p1 $p2
fi
exec 3>&-
total=$(( $(date +%s) - start ))
echo "==> $name summary:"
sed 's/^/    /' "$results"
printf '    %-20s %5d s (%d min)\n' total $total $(( (total + 59) / 60 ))
if [ $total -gt "$budget" ]; then
	echo "==> $name: WARNING: $total s is over the budget of $budget s ($(( budget / 60 )) min)"
fi
failed=0
grep -q ' FAIL ' "$results" && failed=1
rm -f "$results"
[ $failed = 0 ] && echo "==> $name: PASS" || echo "==> $name: FAIL"
exit $failed
