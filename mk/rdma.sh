#!/bin/bash
# mk/rdma.sh [--production] [--pristine] SET...
# rdma-core's unmodified clients against soft-RoCE (rxe) and soft-iWARP
# (siw) in the x86_64 test machine.  The kernel is build/linux (pristine
# 6.12 + the series, with machine/rdma/kernel.config): the debug kernel of
# mk/kunit.sh x86_64, or with --production the kernel of make
# bench-phyr_map (no KASAN, kmemleak, lockdep or dma-debug).  SETs, run in
# one boot, in order:
#   tools        ibv_devinfo; ibv_{rc,uc,ud,srq}_pingpong -c; rping -V over
#                rxe and siw; ucmatose; udaddy; ib_{write,read,send,atomic}_bw,
#                ib_write_lat, -R (rdma_cm), hugetlbfs MRs (--mmap)
#   pyverbs      rdma-core's own test suite (python3-pyverbs), in full
#   pyverbs-mr   its MR-related part: test_mr test_qpex test_atomic
#                test_rdmacm test_cq_events test_cqex test_relaxed_ordering
#   bench        machine/rdma/bench.py: ibv_reg_mr/ibv_dereg_mr time and
#                kernel memory per MR, 1 GiB of 4 KiB pages, THP, hugetlb
#   bigmr        machine/rdma/bigmr.py: RDMA WRITE and READ between two
#                1 GiB MRs (4 KiB pages, hugetlb), data checked
# On the series' kernel, except for bench, rxe also maps every user MR
# for a DMA device through the test-only rxe_dma_check
# (machine/test-only/drivers/infiniband/sw/rxe/rxe_dma_check.c, not in the
# series): the edu behind the IOMMU and a dma-direct device in turn, each
# DMA block checked against the page rxe uses; both must have seen MRs and
# no mismatch.
# Every tool must pass.  pyverbs' per-test results are compared with
# machine/rdma/pyverbs-pristine.txt, the same suite's results on pristine
# 6.12 built with the same config (make rdma-pristine): every test that
# passes there and ran here must pass here.  The guest must also end with
# as many pages unpinned as pinned (nr_foll_pin_*), and with no DMA-API
# error, kmemleak or sanitizer report (mk/logcheck.sh).
#
# --pristine: build pristine 6.12 (build/linux-pristine) with the .config
# of the chosen kernel in build/pristine-x86_64-{debug,production}, run the
# SETs on it and write machine/rdma/pyverbs-pristine.txt.
# Env: TIMEOUT (seconds for the boot, 2400), JOBS (2), MEM (guest MiB, 4096).
# Logs: build/logs/rdma-{phyr,pristine}-{debug,production}.log.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=$ROOT/build
M=$ROOT/machine
TIMEOUT=${TIMEOUT:-2400}
MEM=${MEM:-4096}
JOBS=${JOBS:-2}
say() { echo "==> rdma: $*"; }

kernel=phyr
config=debug
while [ $# -gt 0 ]; do
	case $1 in
	--pristine) kernel=pristine; shift ;;
	--production) config=production; shift ;;
	*) break ;;
	esac
done
[ $# -gt 0 ] || set -- tools pyverbs-mr
mkdir -p "$B/logs"
# pyverbs-mr: the tests whose names contain one of these (unittest -k)
PYVERBS_MR="test_mr test_qpex test_atomic test_rdmacm test_cq_events test_cqex test_relaxed_ordering"
sets=() kpat='' dmacheck='' nowarnpanic=''
[ $kernel = pristine ] || dmacheck=rdma_rxe.dma_check=1
for s in "$@"; do
	case $s in
	bench|bench-big=*) sets+=("$s"); dmacheck='' nowarnpanic=1 ;;
	datapath=*) sets+=("$s"); dmacheck='' ;;
	pyverbs-mr) sets+=("pyverbs=${PYVERBS_MR// /,}"); kpat=${PYVERBS_MR// /|} ;;
	pyverbs) sets+=(pyverbs); kpat=. ;;
	*) sets+=("$s") ;;
	esac
done

if [ $config = debug ]; then
	"$ROOT/mk/kunit.sh" x86_64 --build-only
	KDIR=$B/kunit-x86_64
else
	# the kernel of make bench-phyr_map: no KASAN, kmemleak, lockdep
	# or dma-debug
	PHYR_MAP_BUILD_ONLY=1 "$ROOT/mk/phyr_map.sh" bench
	KDIR=$B/kunit-phyr_map-bench
fi
if [ $kernel = pristine ]; then
	src=$KDIR
	KDIR=$B/pristine-x86_64-$config
	mkdir -p "$KDIR"
	cp "$src/.config" "$KDIR/.config.new"
	cmp -s "$KDIR/.config.new" "$KDIR/.config.src" ||
		cp "$KDIR/.config.new" "$KDIR/.config"
	mv "$KDIR/.config.new" "$KDIR/.config.src"
	say "building pristine 6.12 with the same .config (${KDIR#"$ROOT"/})"
	export CCACHE_BASEDIR=$ROOT
	make -C "$B/linux-pristine" O="$KDIR" CC="ccache gcc" olddefconfig > /dev/null
	make -C "$B/linux-pristine" O="$KDIR" CC="ccache gcc" -j"$JOBS" bzImage \
		> "$B/logs/rdma-pristine-build.log" 2>&1 ||
		{ tail -n 30 "$B/logs/rdma-pristine-build.log"; exit 1; }
fi
"$ROOT/mk/rdma-rootfs.sh"

# the rootfs cpio with a small one appended that holds /init and the
# benchmark (not mk/initramfs.sh: its busybox /bin would replace Debian's)
stage=$B/rdma-init
rm -rf "$stage"
mkdir -p "$stage/opt/phyr"
install -m 0755 "$M/rdma/init" "$stage/init"
install -m 0644 "$M/rdma/bench.py" "$M/rdma/bigmr.py" "$stage/opt/phyr/"
initrd=$B/rdma-initrd.cpio
{ cat "$B/rdma-rootfs.cpio"
  (cd "$stage" && find . -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc -R 0:0 --quiet); } > "$initrd.tmp"
mv "$initrd.tmp" "$initrd"

log=$B/logs/rdma-$kernel-$config.log
mapfile -t qargs < <(grep -v '^[[:space:]]*#' "$M/x86_64.qemu-args" | grep .)
cmdline="$(grep -v '^#' "$M/x86_64.cmdline" | tr '\n' ' ') kunit.enable=0 $dmacheck rdinit=/init -- ${sets[*]}"
# the benchmark is no test: pristine rxe WARNs when an MR's page array is
# larger than kmalloc can give, and that must not end the boot
[ -z "$nowarnpanic" ] || cmdline=${cmdline/panic_on_warn=1 /}
say "booting the $kernel kernel: $*"
t0=$(date +%s)
echo "+ qemu-system-x86_64 ${qargs[*]} -m $MEM -append '$cmdline'" > "$log"
timeout --foreground -k 10 "$TIMEOUT" qemu-system-x86_64 -nodefaults \
	-nographic -serial stdio -no-reboot "${qargs[@]}" -m "$MEM" \
	-kernel "$KDIR/arch/x86/boot/bzImage" -initrd "$initrd" \
	-append "$cmdline" < /dev/null 2>&1 | sed -u 's/\r$//' >> "$log" || true
say "ran in $(( $(date +%s) - t0 )) s, log: ${log#"$ROOT"/}"

rc=0
grep -q '^rdma-done$' "$log" || { say "FAIL: the guest did not finish"; tail -n 40 "$log" | sed 's/^/    /'; rc=1; }
grep '^rdma-test: ' "$log" | sed 's/^rdma-test: /    /'
grep -A20 '^rdma-test: .*FAIL' "$log" | grep '^  ' | sed 's/^/    /' || true
if grep -q '^rdma-test: .*FAIL' "$log"; then
	say "FAIL: a client failed"
	rc=1
fi
grep '^pyverbs-summary: ' "$log" | sed 's/^pyverbs-summary: /    pyverbs: /' || true

results=$B/logs/rdma-$kernel-$config-pyverbs.txt
sed -n 's/^pyverbs: \(tests\.[^ ]*\) \(ok\|FAIL\|ERROR\|skipped\|xfail\|xpass\)$/\1 \2/p' \
	"$log" | sort > "$results"
if [ $kernel = pristine ]; then
	if [ -s "$results" ]; then
		cp "$results" "$M/rdma/pyverbs-pristine.txt"
		say "wrote machine/rdma/pyverbs-pristine.txt ($(wc -l < "$results") tests)"
	fi
elif [ -n "$kpat" ]; then
	# every test that passes on pristine 6.12 and was selected here must
	# pass here
	expect=$(awk '$2 == "ok" { print $1 }' "$M/rdma/pyverbs-pristine.txt" |
		 awk -v k="$kpat" '$1 ~ k' | sort)
	worse=$(join -v1 <(echo "$expect") \
		     <(awk '$2 == "ok" { print $1 }' "$results") || true)
	better=$(join <(awk '$2 != "ok" { print $1, $2 }' "$M/rdma/pyverbs-pristine.txt") \
		      <(awk '$2 == "ok" { print $1 }' "$results") || true)
	say "pyverbs: $(grep -c ' ok$' "$results" || true) passed, $(grep -c ' skipped$' "$results" || true) skipped, $(grep -Ec ' (FAIL|ERROR)$' "$results" || true) failed of $(wc -l < "$results"); $(echo "$expect" | grep -c . || true) pass on pristine 6.12"
	[ -z "$better" ] || { say "pyverbs: passes here, not on pristine:"; echo "$better" | sed 's/^/    /'; }
	if [ -n "$worse" ]; then
		say "FAIL: pyverbs tests that pass on pristine 6.12 but not here:"
		join -a1 <(echo "$worse") "$results" | sed 's/^/    /'
		rc=1
	fi
fi

acq=$(sed -n 's/^rdma-vmstat: nr_foll_pin_acquired //p' "$log")
rel=$(sed -n 's/^rdma-vmstat: nr_foll_pin_released //p' "$log")
say "pages pinned $acq, unpinned $rel"
if [ -z "$acq" ] || [ "$acq" != "$rel" ]; then
	say "FAIL: pinned and unpinned pages differ"
	rc=1
fi
if [ -n "$dmacheck" ]; then
	# "rdma-dma-check: edu-iommu mrs N blocks N pieces N mismatches N"
	sed -n 's/^rdma-dma-check: /    dma_check: /p' "$log"
	for d in edu-iommu direct; do
		if ! awk -v d=$d '$1 == "rdma-dma-check:" && $2 == d &&
				  $4 > 0 && $6 > 0 && $10 == 0 { ok = 1 }
				  END { exit !ok }' "$log"; then
			say "FAIL: rxe_dma_check $d: no MR checked, or a mismatch"
			rc=1
		fi
	done
fi
errs=$(sed -n 's/^rdma-dma-api-errors: //p' "$log")
if [ -n "$errs" ] && [ "$errs" != 0 ]; then
	say "FAIL: DMA-API error_count $errs"
	rc=1
fi
leaks=$(sed -n 's/^rdma-kmemleak: //p' "$log")
if [ -n "$leaks" ] && [ "$leaks" != 0 ]; then
	say "FAIL: kmemleak: $leaks unreferenced objects"
	rc=1
fi
if [ -n "$nowarnpanic" ]; then
	# the benchmark's reports are shown, not judged (see above)
	"$ROOT/mk/logcheck.sh" "$log" rdma ||
		say "bench: the log has reports (above); a benchmark, not a test"
else
	"$ROOT/mk/logcheck.sh" "$log" rdma || rc=1
fi
[ $rc = 0 ] && say "PASS ($kernel kernel: $*)"
exit $rc
