#!/bin/bash
# mk/rdma-bench.sh: make bench-rdma.  Registers memory regions of
# 1 GiB on rxe with machine/rdma/bench.py, on pristine 6.12
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

# then one 8 GiB hugetlb MR in a 10 GiB guest of its own: more than 4 GiB
# in one MR, and more page_info than kmalloc can give pristine rxe
BIG=${BIG:-$((8 << 30))}
for k in pristine phyr; do
	"$ROOT/mk/rdma.sh" --production $([ $k = phyr ] || echo --pristine) bench
	cp "$B/logs/rdma-$k-production.log" "$B/logs/rdma-bench-$k.log"
done
for k in pristine phyr; do
	MEM=$(( (BIG >> 20) + 2048 )) "$ROOT/mk/rdma.sh" --production \
		$([ $k = phyr ] || echo --pristine) "bench-big=$BIG"
	cat "$B/logs/rdma-$k-production.log" >> "$B/logs/rdma-bench-$k.log"
done

field() { # LOG CASE KEY
	sed -n "s/^rdma-bench: $2 .* $3=\([^ ]*\).*/\1/p" "$1" | head -n 1
}
p=$B/logs/rdma-bench-pristine.log
q=$B/logs/rdma-bench-phyr.log
{
	echo "MR of $(sed -n 's/^rdma-bench: 4k-shuffled size=\([0-9]*\).*/\1/p' "$q" | head -n 1) bytes on rxe, pristine 6.12 vs phyr, production config, median of 5"
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
	for k in p q; do
		log=${!k}
		line=$(sed -n 's/^rdma-bench: hugetlb-big //p' "$log" | head -n 1)
		[ -n "$line" ] || continue
		echo "hugetlb-big $([ $k = p ] && echo pristine || echo phyr): $line"
	done
	rp=$(field "$p" hugetlb-big reg_ms) rq=$(field "$q" hugetlb-big reg_ms)
	[ -z "$rp" ] || [ -z "$rq" ] ||
		echo "hugetlb-big register ratio: $(awk -v a="$rp" -v b="$rq" 'BEGIN { printf "%.1fx", a / b }')"
} | tee "$B/logs/rdma-bench.txt"
