#!/bin/bash
# mk/kunit.sh PROFILE [FILTER_GLOB | --build-only]
# Build the KUnit kernel of PROFILE out of tree (build/kunit-PROFILE) from
# build/linux with kunit.py, boot it, run every suite it has (glob "*" by
# default; the kernels have only ours: phyr*, and ib_umem on x86_64), and
# check the console log with mk/logcheck.sh.  Profiles:
#   x86_64    THE test machine (machine/qemu_x86_64.py) + debug config; the
#             guest continues into machine/guest/kunit-init after the suites
#             (kmemleak scan, DMA-API error count, PCI listing).  Its kernel
#             has everything the x86_64 tests need (the phyr_map suite, the
#             test driver): mk/phyr_map.sh and mk/selftests.sh boot the same
#             build (--build-only builds it), so it is built once.  The
#             phyr_map suite runs here in the IOMMU profile, checked by
#             mk/phyr_map.sh check iommu.
#   i386      kunit's i386 machine, no PAE (32-bit phys_addr_t), UBSAN,
#             no ACPI, block layer or VT (machine/kunit/i386.config),
#             fault injection (machine/kunit/fault.config)
#   i386-pae  same with HIGHMEM64G (64-bit phys_addr_t), 5 GiB RAM
# Env: JOBS (2), TIMEOUT (seconds for the boot, 600), KUNIT_SUITES (suites
# that must have run; default: all of ours in the kernel), KUNIT_EXTRA_ARGS (more kunit.py args),
# LOG_TAG (suffix of the saved log names).
# Logs: build/logs/kunit-PROFILE-build.log (kunit.py build: compiler
# warnings), build/logs/kunit-PROFILE.log (guest console).
set -euo pipefail

main() {
	ROOT=$(cd "$(dirname "$0")/.." && pwd)
	B=$ROOT/build
	M=$ROOT/machine
	profile=$1
	glob=${2:-*}
	build_only=0
	[ "$glob" = --build-only ] && build_only=1
	JOBS=${JOBS:-2}
	TIMEOUT=${TIMEOUT:-600}

	case $profile in
	x86_64)
		qemu_config=$M/qemu_x86_64.py
		frags=("$M/kunit/phyr.config" "$M/kunit/debug.config"
		       "$M/kunit/phyr_map.config" "$M/selftests/kernel.config"
		       "$M/rdma/kernel.config" "$M/kunit/ib_umem.config")
		initrd=$B/initramfs-kunit.cpio.gz
		suites="phyr phyr_storage phyr_map phyr_map_debug dma_iova ib_umem siw_mem"
		;;
	i386)
		qemu_config=$M/qemu_i386.py
		frags=("$M/kunit/phyr.config" "$M/kunit/ubsan.config"
		       "$M/kunit/i386.config" "$M/kunit/fault.config")
		initrd=
		suites="phyr phyr_storage"
		;;
	i386-pae)
		qemu_config=$M/qemu_i386_pae.py
		frags=("$M/kunit/phyr.config" "$M/kunit/ubsan.config"
		       "$M/kunit/i386.config" "$M/kunit/fault.config")
		initrd=
		suites="phyr phyr_storage"
		;;
	*) echo "unknown profile $profile" >&2; exit 2 ;;
	esac

	bdir=$B/kunit-$profile
	log=$B/logs/kunit-$profile${LOG_TAG:-}.log
	blog=$B/logs/kunit-$profile${LOG_TAG:-}-build.log
	mkdir -p "$bdir" "$B/logs"

	# one run per build dir at a time
	exec 8>"$bdir.lock"
	if ! flock -n 8; then
		say "waiting for another run in $bdir"
		flock 8
	fi

	args=(--build_dir="$bdir" --qemu_config="$qemu_config")
	for f in "${frags[@]}"; do args+=(--kunitconfig="$f"); done
	# ccache: the default cache dir (~/.cache/ccache, or $CCACHE_DIR)
	# persists across runs and `make clean`; CCACHE_BASEDIR makes hits
	# independent of the checkout path
	export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$ROOT}
	args+=(--make_options="CC=ccache gcc" --make_options="HOSTCC=ccache gcc")
	# shellcheck disable=SC2206
	args+=(${KUNIT_EXTRA_ARGS:-})

	if [ -n "$initrd" ]; then
		"$ROOT/mk/initramfs.sh" "$initrd" "$M/guest/kunit-init"
		export PHYR_KUNIT_INITRD=$initrd
	fi

	cd "$B/linux"
	kunit=(python3 tools/testing/kunit/kunit.py)

	say "building ($bdir)"
	t0=$(date +%s)
	echo "+ ${kunit[*]} build ${args[*]} --jobs=$JOBS"
	rc=0
	"${kunit[@]}" build "${args[@]}" --jobs="$JOBS" > "$blog" 2>&1 || rc=$?
	nwarn=$(grep -c ': warning: ' "$blog" || true)
	if [ $rc != 0 ]; then
		tail -n 60 "$blog"
		say "FAIL: build (log: ${blog#$ROOT/})"
		exit 1
	fi
	t1=$(date +%s)
	say "built in $((t1 - t0)) s, $nwarn compiler warnings (log: ${blog#$ROOT/})"
	if [ "$nwarn" != 0 ]; then
		grep -A3 ': warning: ' "$blog" | head -n 40 | sed 's/^/    /'
	fi

	[ $build_only = 1 ] && exit 0

	say "running '$glob' in QEMU"
	echo "+ ${kunit[*]} exec ${args[*]} --timeout=$TIMEOUT '$glob'"
	rm -f "$bdir/test.log"
	rc=0
	"${kunit[@]}" exec "${args[@]}" --timeout="$TIMEOUT" "$glob" || rc=$?
	t2=$(date +%s)
	if [ ! -f "$bdir/test.log" ]; then
		say "FAIL: QEMU produced no console log"
		exit 1
	fi
	cp "$bdir/test.log" "$log"
	say "ran in $((t2 - t1)) s (kunit.py exit $rc), console log: ${log#$ROOT/}"

	# shellcheck disable=SC2086
	"$ROOT/mk/logcheck.sh" "$log" "$profile" ${KUNIT_SUITES:-$suites} || rc=1
	if [ "$profile" = x86_64 ] && [ "$glob" = '*' ]; then
		"$ROOT/mk/phyr_map.sh" check iommu "$log" || rc=1
	fi
	# every kernel has fault injection: no allocation-failure case skips
	if grep -q 'SKIP needs CONFIG_FAULT_INJECTION' "$log"; then
		say "FAIL: cases skipped for want of fault injection"
		rc=1
	fi
	if [ $rc != 0 ]; then
		say "FAIL"
		exit 1
	fi
	say "PASS"
}

say() { echo "==> kunit $profile: $*"; }

# everything runs from main(): editing this file during a run is safe
main "$@"
exit
