#!/bin/bash
# mk/phyr_map.sh [PROFILE...]
# The phyr_map and dma_iova KUnit suites on the x86_64 test machine, in
# the kernel of mk/kunit.sh x86_64 (build/kunit-x86_64, built there once
# for every x86_64 test), booted once per profile of
# machine/qemu_x86_64.py:
#   iommu     Intel IOMMU: IOVA mapping, iommu_iova_to_phys() of every page
#   noiommu   intel_iommu=off, 5 GiB: identity mapping, real P2P DMA into
#             the CMB, swiotlb for the part of a list above a 32-bit mask
#   swiotlb   intel_iommu=off swiotlb=force: bounce buffering
#   amd       the AMD IOMMU in place of the Intel one, 5 GiB: the iommu
#             cases but P2P, with the edu on the root bus, untrusted
#             devices bouncing for real through swiotlb
#   fq        the Intel IOMMU with the flush queue (iommu.strict=0, no
#             caching-mode): IOVA freed lazily, unmapped at once
# (default: noiommu, swiotlb, amd and fq; `make kunit-x86_64` boots the machine as
# defined, which is the iommu profile, runs the suite there and checks it
# with "mk/phyr_map.sh check iommu LOG").  Each console log
# (build/logs/phyr_map-PROFILE.log) must pass mk/logcheck.sh and show the
# cases of its profile passed, not skipped, the guest's DMA-API error
# count equal to what the dma-debug cases provoked, and a clean kmemleak
# scan.
#
# mk/phyr_map.sh bench [MiB]: the phyr_map_bench table (default 1024 MiB
# lists) in the iommu, noiommu and amd profiles, each booted twice, on a
# kernel without the debug config (build/kunit-phyr_map-bench), into
# build/logs/phyr_map-bench-PROFILE-RUN.txt; mk/bench-plot.sh turns those
# into the README's table and plots.
# Env: JOBS (2), TIMEOUT (seconds per boot, 1200).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=$ROOT/build
M=$ROOT/machine
JOBS=${JOBS:-2}
TIMEOUT=${TIMEOUT:-1200}
say() { echo "==> phyr_map: $*"; }

# Cases that must pass (not be skipped) in each profile.
oracle_all="phyr_test_list_p2p_providers phyr_test_map_dma_regions phyr_test_map_ops phyr_test_oracle_direct phyr_test_oracle_edu phyr_test_oracle_edu32"
debug_all="phyr_test_debug_clean phyr_test_debug_map_overlap phyr_test_debug_unmap_stale phyr_test_debug_sync_stale phyr_test_debug_sync_outside phyr_test_debug_unbind_leak"
# dma_map_phys() and the IOVA link API (suite dma_iova, all in one list: a
# case that needs what a profile lacks skips and is not listed there)
iova_all="dma_iova_test_try_alloc dma_iova_test_map_phys dma_iova_test_mmio"
iova_iommu="$iova_all dma_iova_test_link_pages dma_iova_test_link_unaligned dma_iova_test_destroy_frees dma_iova_test_link_fail"
declare -A must=(
	[iommu]="$iova_iommu phyr_test_map_linear phyr_test_iommu_map_phyr phyr_test_iommu_map_phyr_fallback phyr_test_iommu_map_phyr_fail phyr_test_iommu_map_phyr_top phyr_test_map_untrusted phyr_test_map_pages phyr_test_map_folios phyr_test_map_unaligned phyr_test_map_p2p phyr_test_map_p2p_unreachable phyr_test_map_fail_nth phyr_test_map_fail_nth_p2p phyr_test_seg_iter phyr_test_seg_limits phyr_test_map_no_alloc phyr_test_unmap_remap $debug_all $oracle_all phyr_test_oracle_untrusted phyr_test_iommu_permissions"
	[noiommu]="$iova_all phyr_test_map_pages phyr_test_map_identity phyr_test_map_folios phyr_test_map_unaligned phyr_test_map_p2p phyr_test_map_p2p_unreachable phyr_test_map_fail_nth_p2p phyr_test_seg_iter phyr_test_seg_limits phyr_test_map_no_alloc phyr_test_unmap_remap $debug_all $oracle_all phyr_test_map_swiotlb_overflow"
	[swiotlb]="$iova_all phyr_test_map_pages phyr_test_map_bounce phyr_test_map_folios phyr_test_map_unaligned phyr_test_map_fail_nth phyr_test_map_fail_nth_p2p phyr_test_sync_for_cpu_window phyr_test_sync_for_device_window phyr_test_unmap_remap phyr_test_seg_limits phyr_test_debug_clean phyr_test_debug_map_overlap phyr_test_debug_sync_outside phyr_test_debug_unbind_leak ${oracle_all/phyr_test_map_dma_regions /} phyr_test_map_swiotlb_overflow"
)

# the iommu cases but P2P: the NVMe behind the switch does not probe under
# QEMU's AMD IOMMU (machine/qemu_x86_64.py), so no CMB is registered
# (phyr_test_list_p2p_providers has fake P2P memory of its own); with
# swiotlb (5 GiB of RAM) for the overflow case
must[fq]="$iova_iommu $oracle_all phyr_test_oracle_untrusted phyr_test_iommu_permissions phyr_test_iommu_map_phyr_top phyr_test_map_pages phyr_test_map_folios phyr_test_map_unaligned phyr_test_map_linear phyr_test_map_p2p phyr_test_map_fail_nth phyr_test_unmap_remap $debug_all"
must[amd]="$(tr ' ' '\n' <<< "${must[iommu]}" | grep -v _p2p | tr '\n' ' ') phyr_test_list_p2p_providers phyr_test_map_swiotlb_overflow dma_iova_test_link_bounce"

# check_log PROFILE LOG: the cases a profile must pass (mk/logcheck.sh
# checks the guest's lines: kmemleak, DMA-API error count)
check_log() {
	local p=$1 log=$2 c rc=0
	for c in ${must[$p]}; do
		if grep -Eq "(^|\])[[:space:]]*ok [0-9]+ $c\$" "$log"; then
			echo "==> logcheck phyr_map-$p: ok: $c passed"
		else
			echo "==> logcheck phyr_map-$p: FAIL: $c did not pass (or was skipped)"
			rc=1
		fi
	done
	return $rc
}

if [ "${1:-}" = check ]; then
	check_log "$2" "$3"
	exit
fi

bench=0
if [ "${1:-}" = bench ]; then
	bench=${2:-1024}
	# every profile twice, to see how far the ratios move between boots
	set -- iommu noiommu amd iommu noiommu amd
fi
[ $# -gt 0 ] || set -- noiommu swiotlb amd fq

bdir=$B/kunit-x86_64
frags=(phyr.config debug.config phyr_map.config ../selftests/kernel.config
       ../rdma/kernel.config ib_umem.config)
if [ $bench != 0 ]; then
	# KASAN, kmemleak, lockdep and dma-debug would be most of the time;
	# the production-config kernel of make bench-rdma (mk/rdma.sh) and
	# make demo (mk/demo.sh: the test driver) too
	bdir=$B/kunit-phyr_map-bench
	frags=(phyr.config phyr_map.config ../rdma/kernel.config
	       ../selftests/kernel.config tracing.config)
fi
if [ "${PHYR_MAP_BUILD_ONLY:-0}" = 1 ]; then
	set -- # build, run no profile
fi
mkdir -p "$bdir" "$B/logs"
args=(--build_dir="$bdir" --qemu_config="$M/qemu_x86_64.py")
for f in "${frags[@]}"; do
	args+=(--kunitconfig="$M/kunit/$f")
done
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$ROOT}
build_args=(--make_options="CC=ccache gcc" --make_options="HOSTCC=ccache gcc" --jobs="$JOBS")

initrd=$B/initramfs-phyr_map.cpio.gz
"$ROOT/mk/initramfs.sh" "$initrd" "$M/guest/kunit-init"
export PHYR_KUNIT_INITRD=$initrd

if [ $bench = 0 ]; then
	# the kernel of every x86_64 test, built (or found up to date) there
	"$ROOT/mk/tree.sh"
	"$ROOT/mk/kunit.sh" x86_64 --build-only
fi
# one run per build dir; build/linux must not change under the build and
# the boots (mk/tree.sh waits for shared holders of build/.lock-tree)
exec 8>"$bdir.lock"
flock -n 8 || { say "waiting for another run in $bdir"; flock 8; }
"$ROOT/mk/tree.sh"
exec 7>"$B/.lock-tree"
flock -s 7
cd "$B/linux"
kunit=(python3 tools/testing/kunit/kunit.py)
if [ $bench != 0 ]; then
	say "building ($bdir)"
	t0=$(date +%s)
	if ! "${kunit[@]}" build "${args[@]}" "${build_args[@]}" > "$B/logs/phyr_map-build.log" 2>&1; then
		tail -n 40 "$B/logs/phyr_map-build.log"
		say "FAIL: build (build/logs/phyr_map-build.log)"
		exit 1
	fi
	say "built in $(( $(date +%s) - t0 )) s"
fi

# The suites phyr_map, phyr_map_debug, phyr_map_bench and dma_iova: the
# kernel takes one glob, and this one matches no other suite of ours.
suites='*_[im][ao]*'
rc=0
declare -A runs=()
for p in "$@"; do
	runs[$p]=$(( ${runs[$p]:-0} + 1 ))
	log=$B/logs/phyr_map-$p.log
	[ $bench != 0 ] && log=$B/logs/phyr_map-bench-$p-${runs[$p]}.log
	say "running profile $p"
	t0=$(date +%s)
	prc=0
	PHYR_MAP_PROFILE=$p PHYR_MAP_BENCH_MB=$([ $bench != 0 ] && echo $bench) \
		"${kunit[@]}" exec "${args[@]}" --timeout="$TIMEOUT" "$suites" \
		> "$B/logs/phyr_map-$p.kunit.txt" 2>&1 || prc=$?
	cp "$bdir/test.log" "$log"
	tr -d '\r' < "$log" > "$log.tmp" && mv "$log.tmp" "$log"
	say "profile $p ran in $(( $(date +%s) - t0 )) s, log: ${log#$ROOT/}"
	grep -E 'phyr_map: |# phyr_test|phyr_map_bench|^\[[ 0-9.]+\] +(not )?ok ' "$log" |
		sed 's/^/    /' | head -n 80 || true
	# the benchmark kernel has no kmemleak or dma-debug to check
	"$ROOT/mk/logcheck.sh" "$log" "$([ $bench = 0 ] || echo bench-)phyr_map-$p" \
		phyr_map dma_iova || prc=1
	if [ $bench = 0 ]; then
		check_log "$p" "$log" || prc=1
	elif ! grep -q 'phyr-guest: done' "$log"; then
		echo "==> logcheck phyr_map-$p: FAIL: missing 'phyr-guest: done'"
		prc=1
	fi
	if [ $bench != 0 ]; then
		grep -E 'phyr_map_bench' "$log" | sed -E 's/^\[[ 0-9.]+\] +//' \
			> "${log%.log}.txt" || true
	fi
	[ $prc = 0 ] && say "profile $p: PASS" || { say "profile $p: FAIL"; rc=1; }
done
[ $rc = 0 ] && say "PASS" || say "FAIL"
exit $rc
