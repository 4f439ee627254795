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

# 3. which repo files are kernel files
cd "$ROOT"
is_kernel_file() {
	case "$1" in
	Makefile|README.md|.git*) return 1 ;;
	.ci/*|mk/*|machine/*|build/*|tools/testing/phyr/*) return 1 ;;
	*.patch) return 1 ;;
	esac
	return 0
}
new_files=()
patches=()
while IFS= read -r -d '' f; do
	[ -f "$f" ] || continue          # deleted in the worktree
	case "$f" in
	build/*|tools/testing/phyr/*|.ci/*|mk/*|machine/*) continue ;;
	*.patch) patches+=("$f") ;;
	*) is_kernel_file "$f" && new_files+=("$f") ;;
	esac
done < <(git ls-files -z --cached --others --exclude-standard | sort -zu)

# 4. stage
rm -rf "$STAGE"
mkdir -p "$STAGE"
if [ ${#new_files[@]} -gt 0 ]; then
	printf '%s\0' "${new_files[@]}" |
		rsync -lp --from0 --files-from=- "$ROOT/" "$STAGE/"
fi

declare -A touched=()
for p in "${patches[@]}"; do
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
done
mv "$MANIFEST.new" "$MANIFEST"
say "build/linux ready: ${#new_files[@]} new files, ${#patches[@]} patches"
