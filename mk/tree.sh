#!/bin/bash
# Assemble the kernel test tree, incrementally.
#
#   build/linux-pristine  Linux 6.12 extracted from the Debian tarball (once)
#   build/linux           pristine + the repo's new kernel files + every
#                         *.patch applied: the tree that is built and tested
#
# Every run stages the affected files only (new files copied, patched files
# = pristine copy + patch) in build/linux-stage and rsyncs them into
# build/linux by checksum, so a file gets a new mtime only when its content
# changes: kbuild then rebuilds exactly what changed.  Files we added or
# patched earlier that are gone from the repo are restored to pristine (or
# deleted when pristine has no such file).  build/linux.manifest records
# what we own in build/linux.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=$ROOT/build
TARBALL=${PHYR_TARBALL:-/usr/src/linux-source-6.12.tar.xz}
PRISTINE=$B/linux-pristine
TREE=$B/linux
STAGE=$B/linux-stage
MANIFEST=$B/linux.manifest

say() { echo "==> tree: $*"; }
die() { echo "==> tree: ERROR: $*" >&2; exit 1; }

mkdir -p "$B"
# one assembler at a time (builds reading build/linux are not locked out:
# files are replaced by rename, and a file changed during a build is older
# than its object only if it was compiled from the new content)
exec 9>"$B/.lock-tree-assemble"
if ! flock -n 9; then
	say "waiting for another mk/tree.sh"
	flock 9
fi

# 1. pristine tree, once
if [ ! -e "$B/.stamp-pristine" ]; then
	[ -r "$TARBALL" ] || die "$TARBALL missing (make deps installs linux-source-6.12)"
	say "extracting $TARBALL into build/linux-pristine"
	rm -rf "$PRISTINE" "$PRISTINE.tmp"
	mkdir -p "$PRISTINE.tmp"
	tar -xJf "$TARBALL" --strip-components=1 -C "$PRISTINE.tmp"
	[ -f "$PRISTINE.tmp/Makefile" ] || die "unexpected tarball layout"
	mv "$PRISTINE.tmp" "$PRISTINE"
	touch "$B/.stamp-pristine"
	rm -f "$B/.stamp-tree"
fi

# 2. the test tree starts as a full copy of pristine, once (a real copy, not
#    hardlinks: an in-place edit in build/linux must never reach pristine)
if [ ! -e "$B/.stamp-tree" ]; then
	say "copying build/linux-pristine to build/linux"
	rm -rf "$TREE" "$TREE.tmp" "$MANIFEST"
	cp -a --reflink=auto "$PRISTINE" "$TREE.tmp"
	mv "$TREE.tmp" "$TREE"
	touch "$B/.stamp-tree"
fi

# 3. which repo files are kernel files: paths under a top-level directory
#    (or next to a top-level file) that pristine Linux has, except the
#    project's own tools/testing/phyr/ harness; *.patch there are edits of
#    upstream files (lib/Makefile.patch edits lib/Makefile).  Everything
#    else is the project's: Makefile, README.md, .ci/, mk/, machine/,
#    build/, .git*, series notes, checkpatch caches ...
cd "$ROOT"
is_kernel_path() {
	local top=${1%%/*}
	case "$1" in
	Makefile|README.md|.*|build/*|mk/*|machine/*|tools/testing/phyr/*) return 1 ;;
	esac
	[ "$top" != "$1" ] && [ -d "$PRISTINE/$top" ] && return 0   # in a kernel dir
	[ "$top" = "$1" ] && [ -f "$PRISTINE/${1%.patch}" ] && return 0  # MAINTAINERS.patch
	return 1
}
if git -c safe.directory='*' rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	list_files() { git -c safe.directory='*' ls-files -z --cached --others --exclude-standard; }
else	# a plain export of the repo
	list_files() { find . -path ./build -prune -o -path ./.git -prune -o -type f -printf '%P\0'; }
fi
# Test-only additions, never part of the series (mk/series.sh takes the
# files series/*.txt name): machine/test-only/ mirrors kernel paths; its
# new files are copied like ours and its patches apply after every patch
# of the series.
TESTONLY=machine/test-only
new_files=()
patches=()
testonly_files=()
testonly_patches=()
while IFS= read -r -d '' f; do
	[ -f "$f" ] || continue          # deleted in the worktree
	case "$f" in
	$TESTONLY/*.patch) testonly_patches+=("$f"); continue ;;
	$TESTONLY/*) testonly_files+=("$f"); continue ;;
	esac
	is_kernel_path "$f" || continue
	case "$f" in
	*.patch) patches+=("$f") ;;
	*) new_files+=("$f") ;;
	esac
done < <(list_files | LC_ALL=C sort -zu)

# 4. stage
rm -rf "$STAGE"
mkdir -p "$STAGE"
if [ ${#new_files[@]} -gt 0 ]; then
	printf '%s\0' "${new_files[@]}" |
		rsync -lp --from0 --files-from=- "$ROOT/" "$STAGE/"
fi

if [ ${#testonly_files[@]} -gt 0 ]; then
	printf '%s\0' "${testonly_files[@]#"$TESTONLY"/}" |
		rsync -lp --from0 --files-from=- "$ROOT/$TESTONLY/" "$STAGE/"
fi

declare -A touched=()
for p in "${patches[@]}" "${testonly_patches[@]}"; do
	# files the patch reads or writes: ---/+++ headers, a/ and b/ prefixes
	while IFS= read -r t; do
		[ -n "$t" ] || continue
		touched[$t]=1
		if [ ! -e "$STAGE/$t" ] && [ -f "$PRISTINE/$t" ]; then
			mkdir -p "$STAGE/$(dirname "$t")"
			cp -p "$PRISTINE/$t" "$STAGE/$t"
		fi
	done < <(sed -n -E 's@^(---|\+\+\+) [ab]/([^\t]*).*@\2@p' "$p" | sort -u)
	if ! out=$(patch -d "$STAGE" -p1 --batch --forward --fuzz=0 \
			--no-backup-if-mismatch --reject-file=- < "$p" 2>&1); then
		echo "$out" >&2
		die "patch $p does not apply to pristine Linux 6.12 (fuzz 0)"
	fi
	if echo "$out" | grep -qi 'offset'; then
		echo "$out" | sed 's/^/    /'
		say "note: $p applies with an offset"
	fi
done

# paths we own now: staged files, plus patch targets that a patch deleted
: > "$MANIFEST.new"
(cd "$STAGE" && find . -type f -o -type l | sed 's@^\./@@') >> "$MANIFEST.new"
deleted=()
for t in "${!touched[@]}"; do
	if [ ! -e "$STAGE/$t" ] && [ -e "$PRISTINE/$t" ]; then
		deleted+=("$t")
		echo "$t" >> "$MANIFEST.new"
	fi
done
sort -u -o "$MANIFEST.new" "$MANIFEST.new"

# owned before, not any more: back to pristine
gone=()
if [ -f "$MANIFEST" ]; then
	while IFS= read -r t; do
		[ -n "$t" ] || continue
		[ -e "$STAGE/$t" ] && continue
		if [ -f "$PRISTINE/$t" ]; then
			mkdir -p "$STAGE/$(dirname "$t")"
			cp -p "$PRISTINE/$t" "$STAGE/$t"
			say "restoring pristine $t"
		else
			gone+=("$t")
		fi
	done < <(comm -23 "$MANIFEST" "$MANIFEST.new")
fi

# 5. sync by content; only changed files get a new mtime (no -t)
rsync -rlpc --out-format='==> tree: updated %n' "$STAGE/" "$TREE/" | { grep -v '/$' || true; }
for t in "${deleted[@]}" "${gone[@]}"; do
	if [ -e "$TREE/$t" ] || [ -L "$TREE/$t" ]; then
		rm -f "$TREE/$t"
		say "removed $t"
	fi
	# and the directories we created for it
	d=$(dirname "$t")
	while [ "$d" != . ] && [ ! -d "$PRISTINE/$d" ]; do
		rmdir "$TREE/$d" 2>/dev/null || break
		d=$(dirname "$d")
	done
done
mv "$MANIFEST.new" "$MANIFEST"
# what the test-only additions change, for mk/series.sh's comparison
{ printf '%s\n' "${testonly_files[@]#"$TESTONLY"/}" "${testonly_patches[@]}"; } |
	grep . > "$B/linux.testonly.new" || true
mv "$B/linux.testonly.new" "$B/linux.testonly"
say "build/linux ready: ${#new_files[@]} new files, ${#patches[@]} patches, test-only: ${#testonly_files[@]} files, ${#testonly_patches[@]} patches"
