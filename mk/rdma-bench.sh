#!/bin/bash
# mk/rdma-bench.sh: make bench-rdma.  Registers memory regions of
# 1 GiB on rxe with machine/rdma/bench.py, on pristine 6.12
# and on the series' kernel, both with the production config of make
# bench-phyr_map, and prints one table: ibv_reg_mr() and ibv_dereg_mr()
# time (median of 5 rounds in one boot, min-max in brackets) and the
# kernel memory one registered MR holds, for 4 KiB pages faulted in
# shuffled order, THP and hugetlb.  Ratios are pristine / phyr.
# Then the datapath: perftest's bandwidth over rxe and siw
# (machine/rdma/init datapath), in boots that alternate the kernels, one
# pair of boots per word of ROUNDS ("3 2": 3 runs of every case in the
# first pair, 2 in the second), the kernel booted first alternating from
# pair to pair; per case the median and spread of each kernel's runs, and
# phyr / pristine.
# Env: WHAT ("reg datapath", or one of them; datapath_table reprints the
# datapath table from the logs).
# Output: build/logs/rdma-bench.txt, build/logs/rdma-datapath.txt.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=$ROOT/build
say() { echo "==> rdma-bench: $*"; }
# rdma KERNEL SET...: mk/rdma.sh on pristine or phyr, production config
rdma() {
	local k=$1
	shift
	if [ "$k" = phyr ]; then
		"$ROOT/mk/rdma.sh" --production "$@"
	else
		"$ROOT/mk/rdma.sh" --production --pristine "$@"
	fi
}

WHAT=${WHAT:-reg datapath}
# rounds of the datapath cases in each pair of boots; FIRST_BOOT > 1 adds
# pairs to the logs of an earlier run instead of starting afresh
ROUNDS=${ROUNDS:-3 2}
FIRST_BOOT=${FIRST_BOOT:-1}

reg() {
	# then one 8 GiB hugetlb MR in a 10 GiB guest of its own: more than 4 GiB
	# in one MR, and more page_info than kmalloc can give pristine rxe
	BIG=${BIG:-$((8 << 30))}
	for k in pristine phyr; do
		rdma $k bench
		cp "$B/logs/rdma-$k-production.log" "$B/logs/rdma-bench-$k.log"
	done
	for k in pristine phyr; do
		MEM=$(( (BIG >> 20) + 2048 )) rdma $k "bench-big=$BIG"
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
}

datapath() {
	local boot=$((FIRST_BOOT - 1)) r order
	[ "$FIRST_BOOT" != 1 ] || rm -f "$B/logs/rdma-datapath-"*-[0-9]*.log
	for r in $ROUNDS; do
		boot=$((boot + 1))
		# each kernel first in every other pair: no drift favours one
		order="pristine phyr"
		[ $((boot % 2)) = 1 ] || order="phyr pristine"
		for k in $order; do
			rdma $k "datapath=$r" || true
			cp "$B/logs/rdma-$k-production.log" "$B/logs/rdma-datapath-$k-$boot.log"
		done
	done
	datapath_table
}

# The table of the datapath boots' logs.  A run that failed, or reported
# 0 MB/s (perftest's clock, fitted under TCG, failed without an error),
# is left out and counted.
datapath_table() {
	# "rdma-bw: CASE round=R mbps=X" -> CASE KERNEL X
	for k in pristine phyr; do
		cat "$B/logs/rdma-datapath-$k-"[0-9]*.log |
			sed -n "s/^rdma-bw: \([^ ]*\) round=[0-9]* mbps=\([^ ]*\)$/\1 $k \2/p"
	done | awk '
		function median(a, n,    i, j, t) {
			for (i = 2; i <= n; i++)
				for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
					t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
				}
			return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
		}
		{ if (!($1 in seen)) { seen[$1] = 1; order[++nc] = $1 }
		  if ($3 + 0 > 0) v[$1, $2, ++n[$1, $2]] = $3; else bad[$1, $2]++ }
		END {
			print "perftest bandwidth (MB/s, BW average), pristine 6.12 vs phyr, production config, boots alternating; median [min-max] of the runs"
			printf "%-26s %-26s %-26s %s\n", "case", "pristine", "phyr", "phyr/pristine"
			for (c = 1; c <= nc; c++) {
				name = order[c]
				for (k = 1; k <= 2; k++) {
					kk = k == 1 ? "pristine" : "phyr"
					m = n[name, kk]
					delete a
					lo = hi = ""
					for (i = 1; i <= m; i++) {
						a[i] = v[name, kk, i] + 0
						if (lo == "" || a[i] < lo) lo = a[i]
						if (hi == "" || a[i] > hi) hi = a[i]
					}
					med[k] = m ? median(a, m) : 0
					cell[k] = m ? sprintf("%.1f [%.1f-%.1f] n=%d", med[k], lo, hi, m) : "none"
					if (bad[name, kk])
						cell[k] = cell[k] " (" bad[name, kk] " failed)"
				}
				printf "%-26s %-26s %-26s %s\n", name, cell[1], cell[2],
					(med[1] > 0 && med[2] > 0 ? sprintf("%.3f", med[2] / med[1]) : "-")
			}
		}' | tee "$B/logs/rdma-datapath.txt"
}

for w in $WHAT; do
	case $w in
	reg|datapath|datapath_table) $w ;;
	*) say "unknown part $w"; exit 1 ;;
	esac
done
