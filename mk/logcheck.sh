#!/bin/bash
# mk/logcheck.sh LOG PROFILE [SUITE...]
# Fails (exit 1) when the console log of a test-machine boot shows a
# sanitizer/lockdep/DMA-API/WARN/panic report, when one of the SUITEs did not
# run, or (x86_64 machine) when the machine did not come up as defined.
set -uo pipefail
log=$1 profile=$2; shift 2
fail=0
tag="==> logcheck $profile"

# Reports that must never appear.  KASAN/UBSAN fail the running KUnit test
# by themselves; lockdep, DMA-API debug, kmemleak and WARN only print (and
# with panic_on_warn=1 a WARN/UBSAN report also panics the guest).
BAD='BUG:|WARNING:|DMA-API:|UBSAN:|KASAN|possible circular|inconsistent lock|kmemleak:.*(unreferenced|suspected memory leak)|Kernel panic|Call Trace|Call trace:|Internal error:|Oops|general protection fault'
# ... except these informational lines of a healthy boot
BENIGN='DMA-API: preallocated [0-9]+ debug entries$|DMA-API: debugging enabled by kernel config$'
# A test that provokes DMA-API debug reports on purpose (phyr_map's
# dma-debug cases) brackets them with these lines and then says how many
# errors it caused: reports inside a bracket are expected, and the guest's
# error_count must be exactly the sum of what the tests said.
BEGIN='phyr_map: expected DMA-API reports: begin'
END='phyr_map: expected DMA-API reports: end'
unbracketed() {
	awk -v b="$BEGIN" -v e="$END" '
		index($0, b) { skip = 1 } !skip { print NR ":" $0 } index($0, e) { skip = 0 }' "$log"
}
provoked=$(sed -nE 's/.*phyr_map: provoked ([0-9]+) DMA-API errors.*/\1/p' "$log" |
	   awk '{ n += $1 } END { print n + 0 }')
hits=$(unbracketed | grep -E "$BAD" | grep -Ev "$BENIGN" || true)
if [ -n "$hits" ]; then
	echo "$tag: FAIL: the log has kernel error reports:"
	echo "$hits" | head -n 20 | sed 's/^/    /'
	first=${hits%%:*}
	echo "    --- context (from line $((first > 3 ? first - 3 : 1))):"
	sed -n "$((first > 3 ? first - 3 : 1)),$((first + 40))p" "$log" | sed 's/^/    /'
	fail=1
fi

for s in "$@"; do
	if ! grep -Eq "# Subtest: $s\$" "$log"; then
		echo "$tag: FAIL: KUnit suite '$s' did not run"
		fail=1
	fi
done

require() { # REGEX DESCRIPTION [COUNT]
	local n
	n=$(grep -Ec -- "$1" "$log")
	if [ "$n" -lt "${3:-1}" ]; then
		echo "$tag: FAIL: missing in log: $2 (/$1/ seen $n times, want >= ${3:-1})"
		fail=1
	else
		echo "$tag: ok: $2"
	fi
}

case $profile in
x86_64*)
	require 'DMAR: IOMMU enabled' 'Intel IOMMU enabled'
	require 'DMAR-IR: Enabled IRQ remapping' 'IRQ remapping enabled'
	require 'nvme .*added peer-to-peer DMA memory' 'NVMe CMB registered as p2pdma memory'
	require 'phyr-guest: pci .* 0x1234:0x11e8 ' 'both edu devices visible' 2
	require 'phyr-guest: pci .* 0x1234:0x11e8 .*iommu_group=[0-9]' 'edu devices in IOMMU groups' 2
	require 'kmemleak: Kernel memory leak detector initialized' 'kmemleak on'
	require "phyr-guest: dma-api error_count=$provoked disabled=N" "DMA-API debug on, $provoked errors, all provoked"
	require 'phyr-guest: kmemleak-scan: done, 0 leak reports' 'kmemleak scan clean'
	require 'phyr-guest: done' 'guest /init finished'
	;;
arm64-*)	# the arm64 machine (mk/arm64.sh)
	[ "$profile" = arm64-smmuv3 ] &&
		require 'arm-smmu-v3 .*: ias [0-9]+-bit, oas' 'SMMUv3 probed'
	require 'nvme .*added peer-to-peer DMA memory' 'NVMe CMB registered as p2pdma memory'
	require 'kmemleak: Kernel memory leak detector initialized' 'kmemleak on'
	require "phyr-guest: dma-api error_count=$provoked disabled=N" "DMA-API debug on, $provoked errors, all provoked"
	require 'phyr-guest: kmemleak-scan: done, 0 leak reports' 'kmemleak scan clean'
	require 'phyr-guest: done' 'guest /init finished'
	;;
phyr_map-*)	# the same machine in another profile (mk/phyr_map.sh)
	case $profile in
	phyr_map-amd)
		require 'AMD-Vi: Extended features' 'AMD IOMMU found'
		;;
	phyr_map-fq)
		require 'DMAR: IOMMU enabled' 'Intel IOMMU enabled'
		require 'TLB invalidation policy: lazy mode' 'iommu.strict=0'
		if grep -Eq 'batching disallowed|Using strict mode' "$log"; then
			echo "$tag: FAIL: the IOMMU driver forced strict mode: no flush queue"
			fail=1
		fi
		;;
	esac
	case $profile in
	phyr_map-amd|phyr_map-noiommu)
		require 'software bounce buffering|software IO TLB: mapped' 'swiotlb for memory above 4 GiB'
		;;
	esac
	require 'phyr-guest: kmemleak-scan: done, 0 leak reports' 'kmemleak scan clean'
	require "phyr-guest: dma-api error_count=$provoked disabled=N" "DMA-API debug on, $provoked errors, all provoked"
	require 'phyr-guest: done' 'guest /init finished'
	;;
esac

[ $fail = 0 ] && echo "$tag: PASS ($log)"
exit $fail
