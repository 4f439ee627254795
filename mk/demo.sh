#!/bin/bash
# mk/demo.sh [MIB [P2P_MIB]]
# phyr vs scatterlist on the x86_64 test machine, from userspace: boot the
# selftest guest (mk/selftests.sh: same initramfs) on the production-config
# kernel of make bench-phyr_map (no KASAN, kmemleak, lockdep or dma-debug)
# twice, with the Intel IOMMU and with intel_iommu=off, and run
# /phyr/phyr_demo there.  It pins MIB MiB (default 1024) of 4 KiB
# pages, then of THP, and P2P_MIB MiB (default 32) of the NVMe CMB
# (mmap of the p2pdma sysfs "allocate" file, pinned with FOLL_PCI_P2PDMA),
# each into a phyr list and into an sg_table (as ib_umem_get() builds it),
# maps both for the edu behind the PCIe switch (phyr_map() vs
# dma_map_sgtable()), lets the edu DMA a pattern through the phyr mapping
# at 4 places, and unmaps and unpins; the numbers are the medians of 5
# rounds on the same buffer, after an untimed one.  Times are measured in
# the guest kernel (ktime) under TCG: compare the columns, not absolute
# numbers.  The same paths run on the debug kernel in make selftests.
# Table: build/logs/demo-table.txt.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=$ROOT/build
mib=${1:-${DEMO_MIB:-1024}}
p2p_mib=${2:-${DEMO_P2P_MIB:-32}}
say() { echo "==> demo: $*"; }

t0=$(date +%s)
PHYR_MAP_BUILD_ONLY=1 "$ROOT/mk/phyr_map.sh" bench || exit 1
export SELFTESTS_KDIR=$B/kunit-phyr_map-bench
"$ROOT/mk/selftests.sh" build || exit 1
rc=0
for p in iommu noiommu; do
	log=$B/logs/demo-$p.log
	say "booting the test machine ($p): phyr_demo $mib $p2p_mib"
	t1=$(date +%s)
	"$ROOT/mk/selftests.sh" boot "demo-$p" "$log" -- demo "$mib" "$p2p_mib" > /dev/null
	say "$p: $(( $(date +%s) - t1 )) s, log: ${log#$ROOT/}"
	grep -q '^phyr-guest: demo exit=0 ' "$log" || {
		say "$p: FAIL: $(grep -m1 -E '^phyr-guest: demo exit|error=' "$log" || echo 'phyr_demo did not finish')"
		rc=1
	}
	grep '^phyr-demo: .*error=' "$log" | sed 's/^/    /'
	# dma_debug=off is ours: its notice is not an error report
	grep -v '^DMA-API: debugging disabled on kernel command line$' "$log" > "$log.nodbg"
	"$ROOT/mk/logcheck.sh" "$log.nodbg" "demo-$p" > "$log.check" || {
		cat "$log.check"
		rc=1
	}
done

table=$B/logs/demo-table.txt
cat "$B"/logs/demo-iommu.log "$B"/logs/demo-noiommu.log 2>/dev/null |
	grep '^phyr-demo: path=' | grep -v 'error=' |
	awk -v mib="$mib" -v p2p="$p2p_mib" '
	function kv(   i, a) {
		delete v
		for (i = 2; i <= NF; i++) {
			split($i, a, "=")
			v[a[1]] = a[2]
		}
	}
	function ms(ns) { return sprintf(ns < 1e6 ? "%.3f" : "%.1f", ns / 1e6) }
	function x(sg, ph) { return ph > 0 ? sprintf("%.1fx", sg / ph) : "-" }
	function sz(b) {
		if (b >= 1048576) return sprintf("%.2f MiB", b / 1048576)
		if (b >= 10240) return sprintf("%.1f KiB", b / 1024)
		return b " B"
	}
	BEGIN {
		order["direct"] = 1; order["iommu"] = 2
		order["p2p-direct"] = 3; order["p2p-iommu"] = 4
		size = mib % 1024 ? mib " MiB" : mib / 1024 " GiB"
		label["4k"] = size " of 4 KiB pages"
		label["thp"] = size " of THP"
		label["cmb"] = p2p " MiB of NVMe CMB"
	}
	{
		kv()
		key = order[v["path"]] (v["mem"] == "4k" ? 1 : v["mem"] == "thp" ? 2 : 3)
		printf("%s ", key)
		printf("%-10s | %-20s | %7s / %-7s | %10s %10s %6s | %8s %8s %6s | %8s %8s %6s | %8s %8s %6s | %s",
			v["path"], label[v["mem"]], v["ranges"], v["sgt_nents"],
			sz(v["mem_bytes"]), sz(v["sgt_mem_bytes"]),
			x(v["sgt_mem_bytes"], v["mem_bytes"]),
			ms(v["pin_ns"]), ms(v["sgt_pin_ns"]),
			x(v["sgt_pin_ns"], v["pin_ns"]),
			ms(v["map_ns"]), ms(v["sgt_map_ns"]),
			x(v["sgt_map_ns"], v["map_ns"]),
			ms(v["unmap_ns"] + v["unpin_ns"]),
			ms(v["sgt_unmap_ns"] + v["sgt_unpin_ns"]),
			x(v["sgt_unmap_ns"] + v["sgt_unpin_ns"],
			  v["unmap_ns"] + v["unpin_ns"]),
			v["check"] (v["check"] == "n/a" ? "" : " (" v["samples"] " places)"))
		printf("\n")
	}
	END {
		printf("0 %-10s | %-20s | %-17s | %-28s | %-24s | %-24s | %-24s | %s\n",
			"path", "buffer", "ranges / sg ents", "storage: phyr, sg, sg/phyr",
			"pin+build ms: phyr, sg", "map ms: phyr, sg",
			"unmap+free ms: phyr, sg", "edu DMA check (phyr)")
	}' | sort -n | cut -d' ' -f2- > "$table"

say "phyr vs scatterlist, measured in the guest kernel (TCG, production-config kernel):"
cat "$table"
cat <<'EOF'
    storage: phyr_list_mem_bytes() + struct phyr_list, vs the sg_table's chunks + struct sg_append_table
    pin+build: phyr_pin_user() vs pin_user_pages_fast() + sg_alloc_append_table_from_pages() (ib_umem_get())
    map: phyr_map() vs dma_map_sgtable(); unmap+free: phyr_unmap() + phyr_unpin_user() vs
    dma_unmap_sgtable() + unpin per sg entry + sg_free_append_table(); ratio = sg / phyr
    p2p-iommu: QEMU sends the P2P bus addresses to its IOMMU, so the edu cannot DMA them (check n/a);
    p2p-direct is the real P2P data path into the CMB.
EOF
say "total $(( $(date +%s) - t0 )) s"
[ "$(wc -l < "$table")" -ge 7 ] || { say "FAIL: rows missing"; rc=1; }
grep -q ' FAIL' "$table" && { say "FAIL: an edu DMA check failed"; rc=1; }
exit $rc
