#!/bin/bash
# mk/initramfs.sh OUT.cpio.gz INIT [DEST=SRC ...]
# A busybox initramfs for the test machine: static busybox as /bin/sh (its
# applets are installed by /init with `busybox --install -s /bin`), INIT as
# /init, /dev/console, and any extra files (DEST path in the guest = SRC on
# the host; modes are kept).  Built with the kernel's own usr/gen_init_cpio,
# so no root and no mknod are needed.  Rebuilt only when an input changed.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
out=$1 init=$2; shift 2
B=$ROOT/build
BUSYBOX=${BUSYBOX:-/bin/busybox}
gen=$B/gen_init_cpio

if [ ! -x "$gen" ] || [ "$ROOT/build/linux-pristine/usr/gen_init_cpio.c" -nt "$gen" ]; then
	gcc -O2 -o "$gen" "$ROOT/build/linux-pristine/usr/gen_init_cpio.c"
fi
file "$BUSYBOX" 2>/dev/null | grep -q 'statically linked' ||
	{ echo "==> initramfs: $BUSYBOX is not a static busybox (apt-get install busybox-static)" >&2; exit 1; }

spec=$out.spec
{
	echo "dir /bin 0755 0 0"
	echo "dir /dev 0755 0 0"
	echo "dir /proc 0755 0 0"
	echo "dir /sys 0755 0 0"
	echo "dir /tmp 1777 0 0"
	echo "nod /dev/console 0600 0 0 c 5 1"
	echo "nod /dev/null 0666 0 0 c 1 3"
	echo "file /bin/busybox $BUSYBOX 0755 0 0"
	echo "slink /bin/sh busybox 0777 0 0"
	echo "file /init $(realpath "$init") 0755 0 0"
	declare -A dirs=()
	for x in "$@"; do
		dest=${x%%=*} src=$(realpath "${x#*=}")
		d=$(dirname "$dest")
		while [ "$d" != / ] && [ -z "${dirs[$d]:-}" ]; do
			dirs[$d]=1; d=$(dirname "$d")
		done
		echo "file $dest $src $(stat -c %a "$src") 0 0"
	done
	for d in "${!dirs[@]}"; do echo "dir $d 0755 0 0"; done | sort
} > "$spec.new"
# directories must come before their files
{ grep '^dir ' "$spec.new" | sort; grep -v '^dir ' "$spec.new"; } > "$spec.sorted"
rm "$spec.new"

inputs=("$init" "$BUSYBOX")
for x in "$@"; do inputs+=("${x#*=}"); done
stale=0
[ -f "$out" ] && cmp -s "$spec.sorted" "$spec" || stale=1
for i in "${inputs[@]}"; do [ "$i" -nt "$out" ] && stale=1; done
if [ $stale = 1 ] || [ ! -f "$out" ]; then
	mv "$spec.sorted" "$spec"
	"$gen" "$spec" | gzip -n -9 > "$out.tmp"
	mv "$out.tmp" "$out"
	echo "==> initramfs: built ${out#$ROOT/}"
else
	rm "$spec.sorted"
fi
