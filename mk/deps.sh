#!/bin/bash
# Install the Debian 12 packages the project needs.  Fast no-op (one
# dpkg-query) when everything is installed; otherwise apt-get update (once,
# stamp build/.stamp-apt-update) and apt-get install of what is missing.
# gcc-aarch64-linux-gnu / gcc-i686-linux-gnu conflict with gcc-multilib on
# Debian 12: we build ARCH=i386 kernels with the host gcc -m32 instead.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)

PKGS=(
	# kernel build
	make gcc libc6-dev gcc-multilib flex bison bc libelf-dev libssl-dev
	ccache python3 perl rsync patch xz-utils cpio file git
	# the kernel source: /usr/src/linux-source-6.12.tar.xz
	linux-source-6.12
	# the test machine and its guest userspace
	qemu-system-x86 busybox-static
	# the harness's -m32 builds where the kernel cannot execute i386 binaries
	qemu-user
	# the arm64 test machine (mk/arm64.sh; its kernel is built with clang)
	qemu-system-arm
	# the RDMA guest's Debian root filesystem (mk/rdma-rootfs.sh)
	debootstrap
	# static checks, the userspace harness (libFuzzer, callgrind)
	sparse clang libclang-rt-14-dev valgrind
	# series gates (mk/gates.sh): htmldocs; arm64 objects with LLVM=1
	python3-sphinx lld llvm
	# make bench-plots
	gnuplot-nox
)

missing=()
installed=$(dpkg-query -W -f='${db:Status-Status} ${Package}\n' "${PKGS[@]}" 2>/dev/null |
	    awk '$1 == "installed" { print $2 }' || true)
for p in "${PKGS[@]}"; do
	grep -qx -- "${p%%:*}" <<< "$installed" || missing+=("$p")
done
if [ ${#missing[@]} = 0 ]; then
	echo "==> deps: all ${#PKGS[@]} packages installed"
	exit 0
fi

echo "==> deps: installing ${missing[*]}"
SUDO=
if [ "$(id -u)" != 0 ]; then
	command -v sudo >/dev/null || { echo "==> deps: not root and no sudo: install ${missing[*]}" >&2; exit 1; }
	SUDO="sudo -n"
fi
export DEBIAN_FRONTEND=noninteractive
mkdir -p "$ROOT/build"
if [ ! -e "$ROOT/build/.stamp-apt-update" ]; then
	echo "==> deps: apt-get update"
	$SUDO apt-get update -q
	touch "$ROOT/build/.stamp-apt-update"
fi
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" < /dev/null
echo "==> deps: done"
