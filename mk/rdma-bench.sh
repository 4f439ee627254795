#!/bin/bash
# mk/rdma-bench.sh [SIZE]: make bench-rdma.  Registers memory regions of
# SIZE bytes (1 GiB) on rxe with machine/rdma/bench.py, on pristine 6.12
# and on the series' kernel, both with the production config of make
# bench-phyr_map, and prints one table: ibv_reg_mr() and ibv_dereg_mr()
# time (median of 5 rounds in one boot, min-max in brackets) and the
# kernel memory one registered MR holds, for 4 KiB pages faulted in
# shuffled order, THP and hugetlb.  Ratios are pristine / phyr.
# Output: build/logs/rdma-bench.txt.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=$ROOT/build
say() { echo "==> rdma-bench: $*"; }

"$ROOT/mk/rdma.sh" --production --pristine bench
"$ROOT/mk/rdma.sh" --production bench

field() { # LOG CASE KEY
	sed -n "s/^rdma-bench: $2 .* $3=\([^ ]*\).*/\1/p" "$1" | head -n 1
}
p=$B/logs/rdma-pristine-production.log
q=$B/logs/rdma-phyr-production.log
{
	echo "MR of $(sed -n 's/^rdma-bench: [^ ]* size=\([0-9]*\).*/\1/p' "$q" | head -n 1) bytes on rxe, pristine 6.12 vs phyr, production config, median of 5"
	printf '%-12s %-28s %-28s %-8s %-24s %-24s %-8s %-12s %-12s %s\n' case \
		"reg ms pristine" "reg ms phyr" ratio "dereg ms pristine" \
		"dereg ms phyr" ratio "kmem pristine" "kmem phyr" ratio
	for c in 4k-shuffled thp hugetlb; do
		rp=$(field "$p" $c reg_ms) rq=$(field "$q" $c reg_ms)
		dp=$(field "$p" $c dereg_ms) dq=$(field "$q" $c dereg_ms)
		kp=$(field "$p" $c kmem_bytes) kq=$(field "$q" $c kmem_bytes)
		printf '%-12s %-28s %-28s %-8s %-24s %-24s %-8s %-12s %-12s %s\n' $c \
			"$rp [$(field "$p" $c reg_min)-$(field "$p" $c reg_max)]" \
			"$rq [$(field "$q" $c reg_min)-$(field "$q" $c reg_max)]" \
			"$(awk -v a="$rp" -v b="$rq" 'BEGIN { printf "%.1fx", a / b }')" \
			"$dp" "$dq" \
			"$(awk -v a="$dp" -v b="$dq" 'BEGIN { printf "%.1fx", a / b }')" \
			"$kp" "$kq" \
			"$(awk -v a="$kp" -v b="$kq" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "-" }')"
	done
} | tee "$B/logs/rdma-bench.txt"
