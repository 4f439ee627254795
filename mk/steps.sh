#!/bin/bash
# mk/steps.sh NAME TARGET...
# Run `$MAKE TARGET` for each TARGET, going on after a failure, then print a
# summary with the time of each step; exit 1 if any step failed.
set -uo pipefail
name=$1; shift
MAKE=${MAKE:-make}
results=() failed=0
for t in "$@"; do
	echo "==> $name: $t"
	t0=$(date +%s)
	if $MAKE --no-print-directory "$t"; then r=PASS; else r=FAIL; failed=1; fi
	results+=("$(printf '%-20s %s %5d s' "$t" "$r" $(( $(date +%s) - t0 )))")
done
echo "==> $name summary:"
printf '    %s\n' "${results[@]}"
[ $failed = 0 ] && echo "==> $name: PASS" || echo "==> $name: FAIL"
exit $failed
