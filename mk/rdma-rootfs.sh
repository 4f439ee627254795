#!/bin/bash
# mk/rdma-rootfs.sh: the RDMA guest's root filesystem, as build/rdma-rootfs.cpio
#
# A Debian 12 minbase system with rdma-core's unmodified clients
# (ibverbs-utils, rdmacm-utils, perftest, python3-pyverbs and the test suite
# it ships under /usr/share/doc/rdma-core/tests), made by debootstrap from
# the configured apt mirror and packed as one uncompressed newc cpio that
# the kernel unpacks as its initramfs.  Test scripts travel in a second,
# small cpio appended at boot (mk/rdma.sh), so a new test does not rebuild
# this one.  Built once; delete build/rdma-rootfs.cpio to rebuild.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=$ROOT/build
OUT=$B/rdma-rootfs.cpio
DIR=$B/rdma-rootfs
# The archive and proxy are the ones apt uses on this machine (its sources
# and Acquire::http::Proxy), so that the repository names no archive host;
# MIRROR=URL overrides.
MIRROR=${MIRROR:-${PHYR_DEBIAN_MIRROR:-$(apt-get indextargets \
	--format '$(RELEASE) $(REPO_URI)' 'Created-By: Packages' 2>/dev/null |
	awk '$1 == "bookworm" { print $2; exit }')}}
if [ -z "${http_proxy:-}" ]; then
	eval "$(apt-config shell http_proxy Acquire::http::Proxy)"
	[ -z "${http_proxy:-}" ] || export http_proxy
fi
PKGS=kmod,python3,python3-pyverbs,ibverbs-utils,ibverbs-providers,rdmacm-utils,perftest,rdma-core,iproute2,procps

say() { echo "==> rdma-rootfs: $*"; }

[ -s "$OUT" ] && { say "$OUT exists"; exit 0; }
[ -n "$MIRROR" ] ||
	{ say "apt has no source for bookworm: set MIRROR=URL of a Debian archive" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { say "debootstrap needs root" >&2; exit 1; }
command -v debootstrap >/dev/null || { say "debootstrap missing (make deps)" >&2; exit 1; }

exec 9>"$B/.lock-rdma-rootfs"
flock 9
[ -s "$OUT" ] && exit 0

rm -rf "$DIR"
say "debootstrap bookworm from $MIRROR (about 90 s)"
debootstrap --variant=minbase --include="$PKGS" bookworm "$DIR" "$MIRROR" \
	> "$B/rdma-rootfs.log" 2>&1 ||
	{ tail -20 "$B/rdma-rootfs.log" >&2; exit 1; }

# rdma-core's own tests ship as documentation, partly gzipped
tests=$DIR/usr/share/doc/rdma-core/tests
[ -d "$tests" ] || { say "no $tests" >&2; exit 1; }
find "$tests" -name '*.gz' -exec gunzip -f {} +
mv "$tests" "$DIR/opt/rdma-core-tests"
rm -rf "$DIR"/usr/share/{doc,man,locale,info} "$DIR"/var/cache/apt/* \
	"$DIR"/var/lib/apt/lists/*
mkdir -p "$DIR/opt/rdma-core-tests" "$DIR/dev/shm" "$DIR/dev/hugepages"

say "packing $(du -sh "$DIR" | cut -f1) into $OUT"
(cd "$DIR" && find . -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc --quiet) > "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
rm -rf "$DIR"
say "done: $(du -h "$OUT" | cut -f1)"
