#!/bin/bash
# mk/arm64.sh [PROFILE...]
# The phyr KUnit suites on the arm64 test machine (machine/qemu_arm64.py,
# QEMU "virt" under TCG): a debug kernel (KASAN, kmemleak, lockdep,
# dma-debug: machine/kunit/{phyr,debug,phyr_map}.config) cross-built with
# clang (LLVM=1, through ccache) in build/kunit-arm64, booted once per
# profile:
#   smmuv3   the edu and the NVMe CMB behind an SMMUv3 (iommu=smmuv3)
#   direct   no IOMMU; KUnit devices are non-coherent, so cache
#            maintenance and kmalloc() bouncing really run
# (default: both).  The guest's /init is machine/guest/init-nolibc.c,
# built against the kernel's tools/include/nolibc: it prints the DMA-API
# error count and runs a kmemleak scan.  Each console log
# (build/logs/arm64-PROFILE.log) must pass mk/logcheck.sh and show the
# cases of its profile passed, not skipped.
# Env: JOBS (2), TIMEOUT (seconds per boot, 1500).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=$ROOT/build
M=$ROOT/machine
JOBS=${JOBS:-2}
TIMEOUT=${TIMEOUT:-1500}
say() { echo "==> arm64: $*"; }

oracle="phyr_test_list_p2p_providers phyr_test_map_dma_regions phyr_test_oracle_direct phyr_test_oracle_edu phyr_test_oracle_edu32"
# dma_map_phys() and the IOVA link API (suite dma_iova)
iova_all="dma_iova_test_try_alloc dma_iova_test_map_phys dma_iova_test_mmio"
iova_iommu="$iova_all dma_iova_test_link_pages dma_iova_test_link_unaligned dma_iova_test_destroy_frees dma_iova_test_link_fail"
common="phyr_test_map_pages phyr_test_map_folios phyr_test_map_unaligned phyr_test_map_p2p phyr_test_map_p2p_unreachable phyr_test_seg_iter phyr_test_seg_limits phyr_test_map_no_alloc phyr_test_unmap_remap phyr_test_debug_clean $oracle"
declare -A must=(
	[smmuv3]="$common $iova_iommu dma_iova_test_link_bounce phyr_test_map_linear phyr_test_iommu_map_phyr_fallback phyr_test_iommu_map_phyr_top phyr_test_map_untrusted phyr_test_map_fail_nth phyr_test_oracle_untrusted phyr_test_iommu_permissions"
	[direct]="$common $iova_all phyr_test_map_identity phyr_test_oracle_noncoherent"
)

[ $# -gt 0 ] || set -- smmuv3 direct
for p in "$@"; do
	[ -n "${must[$p]:-}" ] || { say "unknown profile $p"; exit 2; }
done

bdir=$B/kunit-arm64
mkdir -p "$bdir" "$B/logs"
args=(--build_dir="$bdir" --qemu_config="$M/qemu_arm64.py"
      --kunitconfig="$M/kunit/phyr.config" --kunitconfig="$M/kunit/debug.config"
      --kunitconfig="$M/kunit/phyr_map.config")
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$ROOT}
build_args=(--make_options=LLVM=1 --make_options="CC=ccache clang"
	    --make_options="HOSTCC=ccache clang" --jobs="$JOBS")

"$ROOT/mk/tree.sh"
exec 8>"$bdir.lock"
flock -n 8 || { say "waiting for another run in $bdir"; flock 8; }
exec 7>"$B/.lock-tree"
flock -s 7
cd "$B/linux"
kunit=(python3 tools/testing/kunit/kunit.py)

say "building ($bdir)"
t0=$(date +%s)
blog=$B/logs/kunit-arm64-build.log
if ! "${kunit[@]}" build "${args[@]}" "${build_args[@]}" > "$blog" 2>&1; then
	tail -n 40 "$blog"
	say "FAIL: build (log: ${blog#$ROOT/})"
	exit 1
fi
nwarn=$(grep -c ': warning: ' "$blog" || true)
say "built in $(( $(date +%s) - t0 )) s, $nwarn compiler warnings"
[ "$nwarn" = 0 ] || { grep -A3 ': warning: ' "$blog" | head -n 40; exit 1; }

# /init: nolibc and the uapi headers of this tree, for arm64
hdr=$B/arm64-headers
make -s -C "$B/linux" O="$hdr" ARCH=arm64 headers_install \
	INSTALL_HDR_PATH="$hdr/usr" > /dev/null
init=$B/arm64-init
clang --target=aarch64-linux-gnu -static -nostdlib -nostdinc -ffreestanding \
	-fno-stack-protector -fuse-ld=lld -O2 -Wall -Werror \
	-isystem "$B/linux/tools/include/nolibc" -isystem "$hdr/usr/include" \
	-o "$init.new" "$M/guest/init-nolibc.c"
cmp -s "$init.new" "$init" && rm "$init.new" || mv "$init.new" "$init"
initrd=$B/initramfs-arm64.cpio.gz
"$ROOT/mk/initramfs.sh" "$initrd" "$init"
export PHYR_KUNIT_INITRD=$initrd

# the suites phyr*, and dma_iova: the kernel takes one glob
suites='[pd][hm][ya]*'
rc=0
for p in "$@"; do
	log=$B/logs/arm64-$p.log
	say "running profile $p"
	t0=$(date +%s)
	prc=0
	PHYR_MAP_PROFILE=$p "${kunit[@]}" exec "${args[@]}" --timeout="$TIMEOUT" \
		"$suites" > "$B/logs/arm64-$p.kunit.txt" 2>&1 || prc=$?
	tr -d '\r' < "$bdir/test.log" > "$log"
	say "profile $p ran in $(( $(date +%s) - t0 )) s, log: ${log#$ROOT/}"
	grep -E '^\[[ 0-9.]+\] +(not )?ok |# phyr_test.*(SKIP|fail)' "$log" |
		sed 's/^/    /' | head -n 80 || true
	"$ROOT/mk/logcheck.sh" "$log" "arm64-$p" phyr phyr_map phyr_map_debug \
		phyr_map_oracle dma_iova || prc=1
	for c in ${must[$p]}; do
		if ! grep -Eq "(^|\])[[:space:]]*ok [0-9]+ $c\$" "$log"; then
			echo "==> logcheck arm64-$p: FAIL: $c did not pass (or was skipped)"
			prc=1
		fi
	done
	[ $prc = 0 ] && say "profile $p: PASS" || { say "profile $p: FAIL"; rc=1; }
done
[ $rc = 0 ] && say "PASS" || say "FAIL"
exit $rc
