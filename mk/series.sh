#!/bin/bash
# The patch series: series/NN-*.txt -> git commits -> `git format-patch`.
#
#   mk/series.sh generate  build/series/git (one commit per series/ file) and
#                          build/series/patches (format-patch + cover letter)
#   mk/series.sh am        `git am` the patches onto a fresh base repo and
#                          compare the result with build/linux (mk/tree.sh)
#   mk/series.sh bisect    every commit of the am'd series on a full pristine
#                          tree: build the objects of our .c files (x86_64,
#                          W=1, zero warnings and errors)
#   mk/series.sh check     generate + am + bisect
#
# series/NN-name.txt: "Subject:" line, "Files:" followed by indented repo
# paths (new kernel files, *.patch files, or directories ending in "/"),
# a blank line, then the commit message body.  Every kernel file and patch
# of the repo (what mk/tree.sh assembles, plus the userspace harness in
# tools/testing/phyr/) must be listed in exactly one series file.
# series/00-cover.txt is the cover letter ("Subject:", blank line, body).
#
# The base commit holds only the pristine copies of the files the patches
# touch, not the whole kernel: a full 85k-file kernel git repo costs
# minutes to create and check out on this machine, and git am needs no
# more than the files it patches.  The bisect builds use a full pristine
# tree (build/series/linux) into which each commit's files are synced.
#
# Output is deterministic (fixed author, dates and order), so it only
# changes when the series does.
#
# Sourced by mk/gates.sh for the shared helpers (SERIES_LIB=1).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
B=$ROOT/build
PRISTINE=$B/linux-pristine
S=$B/series
SERIES_DIR=$ROOT/series
GIT_REPO=$S/git
PATCHES=$S/patches
AM_REPO=$S/am
BTREE=$S/linux             # full tree for the builds (bisect and gates)
LOGS=$B/logs/series

AUTHOR_NAME="phyr developers"
AUTHOR_EMAIL="phyr-devel@lists.linux.dev"
# Linux 6.12 was released on 2024-11-17; the series commits follow it
BASE_DATE="2024-11-17T12:00:00+00:00"
SERIES_DATE="2024-11-18T12:00:00+00:00"

say() { echo "==> series: $*"; }
die() { echo "==> series: ERROR: $*" >&2; exit 1; }

export GIT_AUTHOR_NAME="$AUTHOR_NAME" GIT_AUTHOR_EMAIL="$AUTHOR_EMAIL"
export GIT_COMMITTER_NAME="$AUTHOR_NAME" GIT_COMMITTER_EMAIL="$AUTHOR_EMAIL"
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
export TZ=UTC LC_ALL=C
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$ROOT}

# -------------------------------------------------------------------------
# the repo's series files

# Repo paths that belong to the kernel series: what mk/tree.sh assembles
# (tracked and untracked, not ignored) plus tools/testing/phyr/, minus the
# project's driver.
series_members() {
	(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard) |
	while IFS= read -r -d '' f; do
		[ -f "$ROOT/$f" ] || continue
		case "$f" in
		.ci/*|mk/*|machine/*|build/*|series/*|plots/*) continue ;;
		Makefile|README.md|.*) continue ;;      # driver, root dotfiles
		esac
		echo "$f"
	done | sort -u
}

series_files() { (cd "$SERIES_DIR" && ls [0-9][0-9]-*.txt) | grep -v '^00-' ; }

# field FILE: the header of a series file (up to the first blank line)
series_subject() { sed -n '1,/^$/s/^Subject: *//p' "$1"; }
series_entries() {
	awk '/^$/ { exit } /^Files:/ { f = 1; next } /^[^ \t]/ { f = 0 }
	     f && NF { print $1 }' "$1"
}
series_body() { awk 'b { print } /^$/ && !b { b = 1 }' "$1"; }

# expand ENTRY into member paths (one per line)
expand_entry() {
	local e=$1
	case "$e" in
	*/) grep -F -- "$e" <<< "$MEMBERS" | awk -v p="$e" 'index($0, p) == 1' ;;
	*) grep -Fx -- "$e" <<< "$MEMBERS" || true ;;
	esac
}

# patch targets: the paths a *.patch file reads or writes (as mk/tree.sh)
patch_targets() { sed -n -E 's@^(---|\+\+\+) [ab]/([^\t]*).*@\2@p' "$1" | sort -u; }

# Validate series/, fill COMMIT_FILES[i] (newline-separated member paths)
# and SERIES_LIST (the series files in order).
declare -a COMMIT_FILES SERIES_LIST
load_series() {
	[ -d "$SERIES_DIR" ] || die "no series/ directory"
	[ -f "$SERIES_DIR/00-cover.txt" ] || die "series/00-cover.txt missing"
	MEMBERS=$(series_members)
	mapfile -t SERIES_LIST < <(series_files)
	[ ${#SERIES_LIST[@]} -gt 0 ] || die "no series/NN-*.txt commit files"
	local errs=0 i f e subj files all="" n
	for i in "${!SERIES_LIST[@]}"; do
		f=$SERIES_DIR/${SERIES_LIST[$i]}
		subj=$(series_subject "$f")
		if [ -z "$subj" ]; then
			echo "  ${SERIES_LIST[$i]}: no Subject:" >&2; errs=1
		elif [ ${#subj} -gt 75 ]; then
			echo "  ${SERIES_LIST[$i]}: subject longer than 75 characters" >&2; errs=1
		fi
		[ -n "$(series_body "$f" | tr -d ' \n\t')" ] ||
			{ echo "  ${SERIES_LIST[$i]}: no body" >&2; errs=1; }
		if awk 'b && length($0) > 72 { bad = 1 } /^$/ { b = 1 } END { exit !bad }' "$f"; then
			echo "  ${SERIES_LIST[$i]}: body lines longer than 72 characters" >&2; errs=1
		fi
		files=""
		while IFS= read -r e; do
			n=$(expand_entry "$e")
			if [ -z "$n" ]; then
				echo "  ${SERIES_LIST[$i]}: $e: no such kernel file or patch in the repo" >&2
				errs=1
			fi
			files+="$n"$'\n'
		done < <(series_entries "$f")
		files=$(grep -v '^$' <<< "$files" | sort || true)
		[ -n "$files" ] || { echo "  ${SERIES_LIST[$i]}: no Files:" >&2; errs=1; }
		COMMIT_FILES[$i]=$files
		all+="$files"$'\n'
	done
	local dup missing
	dup=$(grep -v '^$' <<< "$all" | sort | uniq -d || true)
	missing=$(comm -23 <(echo "$MEMBERS") <(grep -v '^$' <<< "$all" | sort -u))
	if [ -n "$dup" ]; then
		echo "  listed in more than one series file:" >&2
		sed 's/^/    /' <<< "$dup" >&2
		errs=1
	fi
	if [ -n "$missing" ]; then
		echo "  in no series file (add each to the commit it belongs to):" >&2
		sed 's/^/    /' <<< "$missing" >&2
		errs=1
	fi
	[ $errs = 0 ] || die "series/ does not match the repo's kernel files"
}

# all paths the patches of the series touch, and the new files
all_patch_targets() {
	local p
	for p in $(grep '\.patch$' <<< "$MEMBERS"); do
		patch_targets "$ROOT/$p"
	done | sort -u
}

# make_base DIR: a git repo whose single commit holds the pristine copies
# of the files the series patches
make_base() {
	local dir=$1 t
	rm -rf "$dir"
	mkdir -p "$dir"
	git -C "$dir" init -q -b master
	while IFS= read -r t; do
		[ -f "$PRISTINE/$t" ] || continue
		mkdir -p "$dir/$(dirname "$t")"
		cp -p "$PRISTINE/$t" "$dir/$t"
	done < <(all_patch_targets)
	git -C "$dir" add -A
	GIT_AUTHOR_DATE=$BASE_DATE GIT_COMMITTER_DATE=$BASE_DATE \
		git -C "$dir" commit -q -m "Linux 6.12 (pristine copies of the files the phyr series touches)"
	git -C "$dir" tag base
}

# -------------------------------------------------------------------------
# generate

cmd_generate() {
	[ -e "$B/.stamp-pristine" ] || "$ROOT/mk/tree.sh"
	load_series
	say "${#SERIES_LIST[@]} commits from series/, $(wc -l <<< "$MEMBERS") files"
	make_base "$GIT_REPO"
	local i f p msg date
	for i in "${!SERIES_LIST[@]}"; do
		f=$SERIES_DIR/${SERIES_LIST[$i]}
		while IFS= read -r p; do
			[ -n "$p" ] || continue
			case "$p" in
			*.patch)
				if ! git -C "$GIT_REPO" apply --index "$ROOT/$p" 2>"$S/apply.err"; then
					cat "$S/apply.err" >&2
					die "${SERIES_LIST[$i]}: $p does not apply on top of the previous commits"
				fi ;;
			*)
				mkdir -p "$GIT_REPO/$(dirname "$p")"
				cp "$ROOT/$p" "$GIT_REPO/$p"
				chmod "$(stat -c %a "$ROOT/$p")" "$GIT_REPO/$p"
				git -C "$GIT_REPO" add "$p" ;;
			esac
		done <<< "${COMMIT_FILES[$i]}"
		msg=$S/msg
		{ series_subject "$f"; echo; series_body "$f"; } > "$msg"
		# one minute apart, so that the order is also the date order
		date=$(date -u -d "$SERIES_DATE + $((i + 1)) minutes" +%Y-%m-%dT%H:%M:%S+00:00)
		GIT_AUTHOR_DATE=$date GIT_COMMITTER_DATE=$date \
			git -C "$GIT_REPO" commit -q -s --cleanup=whitespace -F "$msg" ||
			die "${SERIES_LIST[$i]}: nothing to commit"
	done
	rm -rf "$PATCHES"
	GIT_COMMITTER_DATE=$date git -C "$GIT_REPO" format-patch -q \
		--cover-letter --no-signature --subject-prefix=PATCH \
		-o "$PATCHES" base..HEAD
	python3 - "$SERIES_DIR/00-cover.txt" "$PATCHES"/0000-cover-letter.patch <<'EOF'
import sys
cover, out = sys.argv[1], sys.argv[2]
head, _, body = open(cover).read().partition("\n\n")
subject = [l[len("Subject:"):].strip() for l in head.splitlines()
           if l.startswith("Subject:")]
if not subject:
    sys.exit("series/00-cover.txt: no Subject:")
text = open(out).read()
text = text.replace("*** SUBJECT HERE ***", subject[0], 1)
text = text.replace("*** BLURB HERE ***", body.strip("\n"), 1)
open(out, "w").write(text)
EOF
	say "wrote $(ls "$PATCHES" | wc -l) files to build/series/patches"
	(cd "$PATCHES" && ls | sed 's/^/    /')
}

# -------------------------------------------------------------------------
# am: the series applies with git am, and gives what mk/tree.sh assembles

cmd_am() {
	[ -d "$PATCHES" ] || cmd_generate
	[ -n "${MEMBERS:-}" ] || MEMBERS=$(series_members)
	make_base "$AM_REPO"
	local p
	for p in "$PATCHES"/*.patch; do
		case "$p" in */0000-cover-letter.patch) continue ;; esac
		if ! git -C "$AM_REPO" am -q --whitespace=error-all "$p" > "$S/am.log" 2>&1; then
			cat "$S/am.log" >&2
			die "git am $(basename "$p") failed"
		fi
	done
	say "git am: $(git -C "$AM_REPO" rev-list --count base..HEAD) patches applied"
	[ "$(git -C "$AM_REPO" rev-parse 'HEAD^{tree}')" = \
	  "$(git -C "$GIT_REPO" rev-parse 'HEAD^{tree}')" ] ||
		die "the git am result differs from build/series/git"
	"$ROOT/mk/tree.sh" > "$S/tree.log" 2>&1 || { cat "$S/tree.log" >&2; die "mk/tree.sh failed"; }
	local bad=0 t ref p got
	# build/linux also holds the test-only additions of machine/test-only/
	# (mk/tree.sh lists them in build/linux.testonly): files they add are
	# not compared, files they patch are compared after the same patches
	local -A testonly_new=() testonly_patch=()
	while IFS= read -r p; do
		case "$p" in
		*.patch) while IFS= read -r t; do
				testonly_patch[$t]+="$ROOT/$p "
			 done < <(patch_targets "$ROOT/$p") ;;
		*) testonly_new[$p]=1 ;;
		esac
	done < <(cat "$B/linux.testonly" 2>/dev/null)
	rm -rf "$S/testonly"
	exec 8>"$B/.lock-tree"
	flock -s 8
	while IFS= read -r t; do
		got=$AM_REPO/$t
		case "$t" in
		tools/testing/phyr/*) ref=$ROOT/$t ;;   # not in build/linux
		*) ref=$B/linux/$t ;;
		esac
		if [ -n "${testonly_patch[$t]:-}" ]; then
			mkdir -p "$S/testonly/$(dirname "$t")"
			cp "$got" "$S/testonly/$t"
			for p in ${testonly_patch[$t]}; do
				patch -s -d "$S/testonly" -p1 --fuzz=0 \
					--no-backup-if-mismatch < "$p" || bad=1
			done
			got=$S/testonly/$t
		fi
		[ -z "${testonly_new[$t]:-}" ] || continue
		if ! cmp -s "$got" "$ref"; then
			echo "  differs from the assembled tree: $t" >&2
			bad=1
		fi
	done < <(git -C "$AM_REPO" ls-files)
	# and files the patches delete must be gone from build/linux too
	while IFS= read -r t; do
		[ -e "$AM_REPO/$t" ] || [ ! -e "$B/linux/$t" ] || {
			echo "  deleted by the series, present in build/linux: $t" >&2; bad=1; }
	done < <(git -C "$AM_REPO" diff --name-only --diff-filter=D base HEAD)
	flock -u 8
	[ $bad = 0 ] || die "git am result != build/linux"
	say "git am result == build/linux for $(git -C "$AM_REPO" ls-files | wc -l) paths"
}

# -------------------------------------------------------------------------
# builds on the full tree build/series/linux

# our kernel objects at commit REV of $AM_REPO: new and patched .c files,
# plus the objects that instantiate patched trace headers
objects_at() {
	local rev=$1 f
	git -C "$AM_REPO" diff --name-only --diff-filter=AM base "$rev" |
	while IFS= read -r f; do
		case "$f" in
		tools/*|Documentation/*|scripts/*) ;;
		# RDMA hardware drivers and rdmavt need their own cores and
		# arch; make rdma-build builds them with allmodconfig
		drivers/infiniband/hw/*|drivers/infiniband/sw/rdmavt/*) ;;
		*.c) echo "${f%.c}.o" ;;
		include/trace/events/dma.h) echo kernel/dma/mapping.o ;;
		esac
	done | sort -u
}

# The Kconfig symbol that builds OBJ (from the obj-$(CONFIG_X) line of its
# directory's Makefile in DIR), or nothing when it is always built.
obj_symbol() {
	local tree=$1 obj=$2 d n
	d=$(dirname "$obj")
	n=$(basename "$obj")
	sed -n -E 's/^obj-\$\(CONFIG_([A-Z0-9_]+)\)[[:space:]]*[+:]?=.*[[:space:]]'"${n//./\\.}"'([[:space:]].*)?$/\1/p' \
		"$tree/$d/Makefile" | head -1
}

# sync_tree REV: make build/series/linux = pristine + the series at REV of
# $AM_REPO, by content (unchanged files keep their mtime, so kbuild only
# rebuilds what a commit changed)
sync_tree() {
	local rev=$1 t exp=$S/export
	if [ ! -e "$S/.stamp-linux" ]; then
		say "copying build/linux-pristine to build/series/linux (once)"
		rm -rf "$BTREE" "$BTREE.tmp"
		cp -a --reflink=auto "$PRISTINE" "$BTREE.tmp"
		mv "$BTREE.tmp" "$BTREE"
		touch "$S/.stamp-linux"
	fi
	rm -rf "$exp"
	mkdir -p "$exp"
	git -C "$AM_REPO" archive "$rev" | tar -x -C "$exp"
	rsync -rlpc "$exp/" "$BTREE/"
	# paths the series touches at some commit but not at REV, or that an
	# earlier series synced into this tree touched: pristine
	touch "$S/.touched"
	git -C "$AM_REPO" log --format= --name-only base..HEAD |
		cat - "$S/.touched" | sort -u > "$S/.touched.tmp"
	mv "$S/.touched.tmp" "$S/.touched"
	while IFS= read -r t; do
		[ -e "$exp/$t" ] && continue
		if [ -e "$PRISTINE/$t" ]; then
			cmp -s "$PRISTINE/$t" "$BTREE/$t" || cp -p "$PRISTINE/$t" "$BTREE/$t"
		else
			rm -f "$BTREE/$t"
		fi
	done < "$S/.touched"
}

# config fragments: defconfig + these
CONFIG_COMMON="
CONFIG_KUNIT=y
CONFIG_PHYR_KUNIT_TEST=y
CONFIG_PHYR_MAP_KUNIT_TEST=y
CONFIG_DMA_MAP_IOVA_KUNIT_TEST=y
CONFIG_TEST_PHYR=y
CONFIG_FAULT_INJECTION=y
CONFIG_FAULT_INJECTION_DEBUG_FS=y
CONFIG_DEBUG_FS=y
CONFIG_PCI=y
CONFIG_IOMMU_SUPPORT=y
CONFIG_DMA_API_DEBUG=y
CONFIG_TRANSPARENT_HUGEPAGE=y
CONFIG_INFINIBAND=y
CONFIG_INFINIBAND_USER_ACCESS=y
CONFIG_RDMA_RXE=y
CONFIG_RDMA_SIW=y
CONFIG_INFINIBAND_UMEM_KUNIT_TEST=y
"
CONFIG_P2P="
CONFIG_MEMORY_HOTPLUG=y
CONFIG_MEMORY_HOTREMOVE=y
CONFIG_ZONE_DEVICE=y
CONFIG_PCI_P2PDMA=y
"
# symbols that must end up set in the x86_64 config of the final commit
CONFIG_REQUIRED="PHYR PHYR_MAP PHYR_KUNIT_TEST PHYR_MAP_KUNIT_TEST
DMA_MAP_IOVA_KUNIT_TEST TEST_PHYR KUNIT FAULT_INJECTION PCI PCI_P2PDMA IOMMU_SUPPORT INTEL_IOMMU
IOMMU_DMA DMA_API_DEBUG INFINIBAND_USER_MEM RDMA_RXE INFINIBAND_UMEM_KUNIT_TEST"

# kbuild PROFILE ...: make for one of the build profiles
#   x86_64      defconfig + all our options (the bisect profile)
#   i386        i386_defconfig, no PAE (32-bit phys_addr_t)
#   i386-pae    i386_defconfig + HIGHMEM64G (64-bit phys_addr_t)
#   arm64-64k   arm64 defconfig + 64 KiB pages (LLVM=1)
kbuild() {
	local prof=$1; shift
	local args=(-C "$BTREE" O="$S/out-$prof" -j"${JOBS:-2}" HOSTCC="ccache gcc")
	case "$prof" in
	x86_64) args+=(ARCH=x86_64 CC="ccache gcc") ;;
	i386|i386-pae) args+=(ARCH=i386 CC="ccache gcc") ;;
	# Debian 12's gcc-aarch64-linux-gnu (and gcc-12-aarch64-linux-gnu)
	# conflict with gcc-multilib, which the i386 builds need: arm64 is
	# built with clang and the LLVM tools instead
	arm64-64k) args+=(ARCH=arm64 LLVM=1 CC="ccache clang") ;;
	*) die "unknown profile $prof" ;;
	esac
	make ${KBUILD_VERBOSE:--s} "${args[@]}" "$@"
}

# configure PROFILE: (re)make the profile's .config for the current tree
configure() {
	local prof=$1 out frag
	out=$S/out-$prof
	mkdir -p "$out"
	case "$prof" in
	x86_64) frag="$CONFIG_COMMON$CONFIG_P2P
CONFIG_INTEL_IOMMU=y" ;;
	i386) frag="$CONFIG_COMMON
CONFIG_INTEL_IOMMU=y
CONFIG_HIGHMEM4G=y
# CONFIG_HIGHMEM64G is not set" ;;
	i386-pae) frag="$CONFIG_COMMON
CONFIG_INTEL_IOMMU=y
# CONFIG_HIGHMEM4G is not set
CONFIG_HIGHMEM64G=y" ;;
	arm64-64k) frag="$CONFIG_COMMON$CONFIG_P2P
# CONFIG_ARM64_4K_PAGES is not set
CONFIG_ARM64_64K_PAGES=y" ;;
	esac
	kbuild "$prof" defconfig > "$out/config.log" 2>&1 ||
		{ cat "$out/config.log" >&2; die "$prof: make defconfig failed"; }
	echo "$frag" >> "$out/.config"
	kbuild "$prof" olddefconfig >> "$out/config.log" 2>&1 ||
		{ cat "$out/config.log" >&2; die "$prof: make olddefconfig failed"; }
}

config_has() { grep -qE "^CONFIG_$2=[ym]$" "$S/out-$1/.config"; }

# Lines our series adds, as "path:line" (new files: every line), from the
# am'd repo at HEAD: warnings are ours when they point at one of them.
our_lines() {
	git -C "$AM_REPO" diff -U0 base HEAD | awk '
		/^\+\+\+ b\// { f = substr($0, 7); next }
		/^@@/ { split($3, a, ","); l = substr(a[1], 2); next }
		/^\+/ && f != "" { print f ":" l; l++ }'
}

# filter_ours LOG: the warning/error lines of LOG that point at our lines
# (paths relative to the tree, as kbuild with O= prints them)
filter_ours() {
	local log=$1
	[ -f "$S/our-lines" ] || our_lines > "$S/our-lines"
	awk -v tree="$BTREE/" '
		NR == FNR { ours[$0] = 1; next }
		/: (warning|error):/ {
			split($0, a, ":"); p = a[1]; sub("^" tree, "", p)
			sub("^(\\.\\./)+linux/", "", p)
			if ((p ":" a[2]) in ours) print
		}' "$S/our-lines" "$log"
}

# build_objs PROFILE LOG OBJ...: build OBJ... ; objects whose Kconfig
# symbol is off are built anyway when FORCE_SYMS=1 (x86_64, for bool
# symbols that nothing selects yet at an early commit) or skipped.
build_objs() {
	local prof=$1 log=$2; shift 2
	local objs=() extra=() o sym
	for o in "$@"; do
		sym=$(obj_symbol "$BTREE" "$o")
		if [ -n "$sym" ] && ! config_has "$prof" "$sym"; then
			if [ "${FORCE_SYMS:-0}" = 1 ]; then
				extra+=("CONFIG_$sym=y")
				echo "    $o: CONFIG_$sym is not set, built with CONFIG_$sym=y"
			else
				echo "    $o: skipped, CONFIG_$sym is not set for $prof"
				continue
			fi
		fi
		objs+=("$o")
	done
	[ ${#objs[@]} -gt 0 ] || return 0
	# gates rebuild them every time, so that every run reports their
	# warnings (ccache makes that cheap); bisect builds incrementally
	if [ "${REBUILD:-1}" = 1 ]; then
		for o in "${objs[@]}"; do rm -f "$S/out-$prof/$o"; done
	fi
	kbuild "$prof" -k ${BUILD_FLAGS:-} "${extra[@]}" "${objs[@]}" > "$log" 2>&1
}

cmd_bisect() {
	[ -d "$AM_REPO" ] || cmd_am
	mkdir -p "$LOGS"
	rm -f "$S/our-lines"
	local revs rev n=0 total objs t0 fail=0 subj log
	mapfile -t revs < <(git -C "$AM_REPO" rev-list --reverse base..HEAD)
	total=${#revs[@]}
	for rev in "${revs[@]}"; do
		n=$((n + 1))
		t0=$(date +%s)
		subj=$(git -C "$AM_REPO" log -1 --format=%s "$rev")
		# commits that change no kernel source, Kconfig or Makefile
		# cannot change what builds
		if ! git -C "$AM_REPO" diff --name-only "$rev^" "$rev" |
		     grep -vqE '^(Documentation/|tools/|MAINTAINERS$)'; then
			say "bisect $n/$total: $subj: no kernel code, skipped"
			continue
		fi
		sync_tree "$rev"
		# a new .config only when Kconfig changes (or none is there)
		if [ ! -f "$S/out-x86_64/.config" ] || [ $n = 1 ] ||
		   git -C "$AM_REPO" diff --name-only "$rev^" "$rev" | grep -q 'Kconfig'; then
			configure x86_64
		fi
		mapfile -t objs < <(objects_at "$rev")
		log=$LOGS/bisect-$(printf %02d $n).log
		say "bisect $n/$total: $subj: ${#objs[*]} objects"
		if ! REBUILD=0 FORCE_SYMS=1 BUILD_FLAGS=W=1 build_objs x86_64 "$log" "${objs[@]}"; then
			grep -E ': error:|Error [0-9]' "$log" | head -30 >&2
			echo "  build failed, log: $log" >&2
			fail=1
			break
		fi
		if grep -q 'warning:' "$log"; then
			grep -A3 'warning:' "$log" | head -40 >&2
			echo "  warnings (W=1), log: $log" >&2
			fail=1
		fi
		echo "    $(( $(date +%s) - t0 )) s"
	done
	[ $fail = 0 ] || die "bisect: a commit does not build cleanly"
	local s missing=""
	for s in $CONFIG_REQUIRED; do
		config_has x86_64 "$s" || missing+=" CONFIG_$s"
	done
	[ -z "$missing" ] || die "x86_64 config of the final commit lacks:$missing"
	say "bisect: all $total commits build their objects with W=1, no warnings"
}

cmd_check() {
	local t0 t
	t0=$(date +%s)
	t=$(date +%s); cmd_generate; say "generate: $(( $(date +%s) - t )) s"
	t=$(date +%s); cmd_am;       say "am: $(( $(date +%s) - t )) s"
	t=$(date +%s); cmd_bisect;   say "bisect: $(( $(date +%s) - t )) s"
	say "check: PASS in $(( $(date +%s) - t0 )) s"
}

# one user of build/series at a time (make series, series-check, gates);
# the lock is inherited by the mk/series.sh runs of mk/gates.sh
series_lock() {
	mkdir -p "$S"
	[ -z "${SERIES_LOCKED:-}" ] || return 0
	exec 6>"$B/.lock-series"
	if ! flock -n 6; then
		say "waiting for another user of build/series"
		flock 6
	fi
	export SERIES_LOCKED=1
}

if [ -z "${SERIES_LIB:-}" ]; then
	series_lock
	case "${1:-generate}" in
	generate|am|bisect|check) "cmd_${1:-generate}" ;;
	*) die "usage: $0 generate|am|bisect|check" ;;
	esac
fi
