#!/bin/bash
# mk/rdma-build.sh [x86_64|i386 ...]
# drivers/infiniband with every RDMA driver (allmodconfig, without the
# sanitizers and debug info that only slow the build down), plus our
# objects it uses (lib/phyr.o, kernel/dma/phyr_map.o, mm/gup.o), from
# build/linux.  i386 is the 32-bit config (host gcc -m32).  Fails on any
# compiler warning or error.  Build dirs: build/rdma-allmod-ARCH.
# Logs: build/logs/rdma-build-ARCH.log.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=$ROOT/build
JOBS=${JOBS:-2}
[ $# -gt 0 ] || set -- x86_64 i386
export CCACHE_BASEDIR=$ROOT
say() { echo "==> rdma-build: $*"; }
rc=0
for arch in "$@"; do
	O=$B/rdma-allmod-$arch
	log=$B/logs/rdma-build-$arch.log
	mkdir -p "$O" "$B/logs"
	mk() { make -C "$B/linux" O="$O" ARCH="$arch" CC="ccache gcc" "$@"; }
	if [ ! -f "$O/.config" ]; then
		say "$arch: allmodconfig"
		mk allmodconfig > /dev/null
		"$B/linux/scripts/config" --file "$O/.config" -d KASAN -d KCSAN \
			-d UBSAN -d GCOV_KERNEL -d KCOV -d KMSAN -d DEBUG_INFO_BTF \
			-d DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT -d DEBUG_INFO_DWARF4 \
			-d DEBUG_INFO_DWARF5 -e DEBUG_INFO_NONE -d WERROR
		mk olddefconfig > /dev/null
	fi
	say "$arch: building drivers/infiniband/"
	t0=$(date +%s)
	if ! mk -j"$JOBS" drivers/infiniband/ lib/phyr.o kernel/dma/phyr_map.o \
		mm/gup.o > "$log" 2>&1; then
		grep -E 'error' "$log" | head -n 30
		say "$arch: FAIL: the build failed, log: ${log#"$ROOT"/}"
		rc=1
		continue
	fi
	n=$(grep -c 'warning:' "$log" || true)
	{ grep -E 'warning:' "$log" || true; } | sort -u | head -n 30 | sed 's/^/    /'
	say "$arch: $(grep -c '^  CC \[M\]  drivers/infiniband\|^  CC      drivers/infiniband' "$log" || true) objects rebuilt, $n warnings, $(( $(date +%s) - t0 )) s"
	[ "$n" = 0 ] || rc=1
done
exit $rc
