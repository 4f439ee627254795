#!/bin/bash
# mk/selftests.sh [PROFILE...]
# The phyr kselftests (tools/testing/selftests/phyr) from userspace in the
# x86_64 test machine (machine/x86_64.*, with -m 4096 and hugepages=16):
#
#   iommu     Intel IOMMU on (the machine as defined): every test; the map
#             tests of the "iommu" and "p2p" paths run, "direct" skips
#   noiommu   intel_iommu=off: the map tests only ("direct" and "p2p";
#             "iommu" skips)
#
# (default: both).  Boots the kernel of mk/kunit.sh x86_64 (the test
# machine's debug kernel, which also has machine/selftests/kernel.config),
# builds the selftests statically linked
# (make -C tools/testing/selftests TARGETS=phyr), and an initramfs whose
# /init (machine/selftests/init) runs them.  A profile fails on any
# "not ok" in the TAP, a test that must pass but was skipped, a sanitizer,
# lockdep, DMA-API or kmemleak report, or DMA-API error_count != 0.
#
# mk/selftests.sh build: only build kernel, selftests and initramfs.
# mk/selftests.sh boot PROFILE LOG -- GUEST ARGS: boot once (mk/demo.sh).
# Env: JOBS (2), TIMEOUT (seconds per boot, 1200).
# Logs: build/logs/selftests-PROFILE.log (the kernel: mk/kunit.sh).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=$ROOT/build
M=$ROOT/machine
# the debug kernel of every x86_64 test; make demo boots the production one
KDIR=${SELFTESTS_KDIR:-$B/kunit-x86_64}
UDIR=$B/selftests-user
INITRD=$B/initramfs-selftests.cpio.gz
JOBS=${JOBS:-2}
TIMEOUT=${TIMEOUT:-1200}
say() { echo "==> selftests: $*"; }

# Tests that must pass, not skip, in each profile.
declare -A MUST=(
	[iommu]="pin.pages_4k pin.thp_1g pin.hugetlb_2m pin.unaligned pin.readonly_write pin.hole pin.fail_nth pin.append_same_page pin.append_fail_nth pin.lengths pin.bad_arguments map.iommu.pages_4k map.iommu.unaligned map.iommu.thp map.iommu.hugetlb map.iommu.cow map.iommu.root_port map.iommu.fail_nth map.iommu.append_two map.iommu.example map.iommu.example_errors map.iommu.example_fail_nth map.iommu.close_mapped map.p2p.pages_4k map.p2p.unaligned map.p2p.root_port map.p2p.fail_nth map.p2p.append_two map.p2p.close_mapped"
	[noiommu]="map.direct.pages_4k map.direct.unaligned map.direct.thp map.direct.hugetlb map.direct.cow map.direct.root_port map.direct.fail_nth map.direct.append_two map.direct.example map.direct.example_errors map.direct.example_fail_nth map.direct.close_mapped map.p2p.pages_4k map.p2p.unaligned map.p2p.root_port map.p2p.fail_nth map.p2p.append_two map.p2p.close_mapped"
)
# Arguments of the selftest binary per profile (kselftest_harness -f).
declare -A TESTARGS=(
	[iommu]=""
	[noiommu]="-f map"
)

build_kernel() {
	# the kernel of every x86_64 test (mk/kunit.sh), which has the test
	# driver; its KUnit suites are switched off at boot (kunit.enable=0).
	# With SELFTESTS_KDIR, that kernel's own script builds it.
	[ -n "${SELFTESTS_KDIR:-}" ] || "$ROOT/mk/kunit.sh" x86_64 --build-only
}

build_user() {
	mkdir -p "$UDIR"
	say "building the selftests (make -C tools/testing/selftests TARGETS=phyr, static)"
	if ! make -C "$B/linux/tools/testing/selftests" TARGETS=phyr \
		O="$UDIR" LDFLAGS=-static > "$B/logs/selftests-user.log" 2>&1; then
		cat "$B/logs/selftests-user.log"
		say "FAIL: selftests build"
		exit 1
	fi
	grep -E 'warning|error' "$B/logs/selftests-user.log" | sed 's/^/    /' || true
	"$ROOT/mk/initramfs.sh" "$INITRD" "$M/selftests/init" \
		"/phyr/phyr_test=$UDIR/kselftest/phyr/phyr_test" \
		"/phyr/phyr_demo=$UDIR/kselftest/phyr/phyr_demo" \
		"/phyr/settings=$ROOT/tools/testing/selftests/phyr/settings"
}

# boot PROFILE LOG GUEST-ARGS...
boot() {
	local profile=$1 log=$2 cmdline mem=4096
	local -a qargs
	shift 2

	mapfile -t qargs < <(grep -v '^[[:space:]]*#' "$M/x86_64.qemu-args" | grep .)
	cmdline="$(grep -v '^#' "$M/x86_64.cmdline" | tr '\n' ' ') hugepages=16 kunit.enable=0"
	case $profile in
	iommu) ;;
	noiommu) cmdline=${cmdline/intel_iommu=on/intel_iommu=off} ;;
	demo-iommu) cmdline+=" dma_debug=off" ;;
	demo-noiommu) cmdline="${cmdline/intel_iommu=on/intel_iommu=off} dma_debug=off" ;;
	*) echo "unknown profile $profile" >&2; exit 2 ;;
	esac
	cmdline+=" rdinit=/init -- $*"
	echo "+ qemu-system-x86_64 ${qargs[*]} -m $mem -append '$cmdline'" > "$log"
	timeout --foreground -k 10 "$TIMEOUT" qemu-system-x86_64 -nodefaults \
		-nographic -serial stdio -no-reboot "${qargs[@]}" -m "$mem" \
		-kernel "$KDIR/arch/x86/boot/bzImage" -initrd "$INITRD" \
		-append "$cmdline" < /dev/null 2>&1 | tr -d '\r' >> "$log" || true
}

run_profile() {
	local p=$1 log=$B/logs/selftests-$1.log t0 rc=0 tap npass nfail nskip
	local nplan

	say "profile $p: booting"
	t0=$(date +%s)
	# shellcheck disable=SC2086
	boot "$p" "$log" selftests ${TESTARGS[$p]}
	say "profile $p: ran in $(( $(date +%s) - t0 )) s, log: ${log#$ROOT/}"

	tap=$(sed -n 's/^phyr-tap: //p' "$log" | sed '1{/^begin$/d};${/^end$/d}')
	if ! grep -q '^phyr-tap: end$' "$log"; then
		say "profile $p: FAIL: no complete TAP output"
		tail -n 40 "$log" | sed 's/^/    /'
		rc=1
	fi
	echo "$tap" | grep -E '^(not )?ok |^# (SKIP|FAIL|PASSED|Totals)|^#  RUN|^# +(OK|FAIL|SKIP)' |
		grep -Ev '^#  RUN|^# +OK ' | sed 's/^/    /' || true
	nplan=$(echo "$tap" | sed -n 's/^1\.\.\([0-9]*\)$/\1/p' | head -n 1)
	npass=$(echo "$tap" | grep -Ec '^ok [0-9]+ [^#]*$' || true)
	nskip=$(echo "$tap" | grep -Ec '^ok [0-9]+ .*# SKIP' || true)
	nfail=$(echo "$tap" | grep -Ec '^not ok ' || true)
	say "profile $p: TAP plan ${nplan:-?}: $npass passed, $nskip skipped, $nfail failed"
	if [ "$nfail" != 0 ] || [ -z "$nplan" ] ||
	   [ $((npass + nskip + nfail)) != "$nplan" ]; then
		echo "$tap" | grep -E '^not ok |^# .*(Expected|FAIL)|phyr_test\.c:[0-9]+' |
			head -n 40 | sed 's/^/    /' || true
		say "profile $p: FAIL: tests failed or did not all report"
		rc=1
	fi
	if ! grep -q '^phyr-guest: selftests exit=0 ' "$log"; then
		say "profile $p: FAIL: $(grep -m1 '^phyr-guest: selftests exit=' "$log" || echo 'no exit status')"
		rc=1
	fi
	for t in ${MUST[$p]}; do
		if ! echo "$tap" | grep -Eq "^ok [0-9]+ ${t//./\\.}\$"; then
			say "profile $p: FAIL: $t did not pass (skipped or missing)"
			echo "$tap" | grep -E "^ok [0-9]+ ${t//./\\.} # SKIP" | sed 's/^/    /' || true
			rc=1
		fi
	done
	"$ROOT/mk/logcheck.sh" "$log" "selftests-$p" || rc=1
	for what in 'dma-api mappings outstanding' 'pinned pages'; do
		line=$(grep -m1 "^phyr-guest: $what: " "$log" || true)
		if [[ $line =~ before\ ([0-9]+),\ after\ ([0-9]+)$ ]] &&
		   [ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ]; then
			echo "==> logcheck selftests-$p: ok: ${line#phyr-guest: }"
		else
			echo "==> logcheck selftests-$p: FAIL: ${line:-no '$what' line}"
			rc=1
		fi
	done
	for re in 'phyr-guest: dma-api error_count=0 disabled=N' \
		  'phyr-guest: kmemleak-scan: done, 0 leak reports' \
		  'phyr-guest: done'; do
		if grep -q "^$re" "$log"; then
			echo "==> logcheck selftests-$p: ok: $re"
		else
			echo "==> logcheck selftests-$p: FAIL: missing '$re'"
			grep '^phyr-guest: \(dma-api\|kmemleak\)' "$log" | head -n 20 | sed 's/^/    /' || true
			rc=1
		fi
	done
	[ $rc = 0 ] && say "profile $p: PASS" || say "profile $p: FAIL"
	return $rc
}

main() {
	local rc=0 t0
	t0=$(date +%s)
	if [ "${1:-}" = boot ]; then
		# boot PROFILE LOG -- GUEST ARGS: what `build` built
		boot "$2" "$3" "${@:5}"
		return 0
	fi
	# one build (and run) per build dir at a time
	mkdir -p "$B"
	exec 8>"$B/selftests.lock"
	if ! flock -n 8; then
		say "waiting for another run of mk/selftests.sh"
		flock 8
	fi
	"$ROOT/mk/tree.sh"
	build_kernel
	build_user
	[ "${1:-}" = build ] && return 0
	[ $# -gt 0 ] || set -- iommu noiommu
	for p in "$@"; do
		run_profile "$p" || rc=1
	done
	say "total $(( $(date +%s) - t0 )) s"
	[ $rc = 0 ] && say "PASS" || say "FAIL"
	return $rc
}

main "$@"
