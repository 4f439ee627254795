#!/bin/bash
# Quality gates on the patch series (make gates, part of make check).
#
#   mk/gates.sh [GATE...]    default: all, in this order
#
#   checkpatch   scripts/checkpatch.pl --strict on every patch of
#                build/series/patches: no ERROR, no WARNING, and a CHECK
#                only of a type listed in ALLOWED_CHECKS below
#   kernel-doc   scripts/kernel-doc -none -Wall on our .c/.h files
#   sparse       make C=2 on our objects (x86_64)
#   w1           make W=1 on our objects (x86_64)
#   headers      every header the series adds compiles on its own
#   cross        our objects for i386 (32-bit phys_addr_t), i386 with PAE
#                (HIGHMEM64G) and arm64 with 64 KiB pages (clang), W=1
#   htmldocs     make SPHINXDIRS=core-api htmldocs: no warning about our
#                files
#   licence      machine/gates/umem-licence.c, what pristine lets a module
#                of any licence use of ib_umem, needs no symbol that the
#                series exports with EXPORT_SYMBOL_GPL
#
# The gates work on the series as `git am` applies it (build/series/am,
# made by mk/series.sh am), built in the full tree build/series/linux at
# the last commit.  A warning counts when it points at a line the series
# adds (every line of a new file); warnings of untouched upstream lines
# of patched files are listed but do not fail a gate.
set -euo pipefail
SERIES_LIB=1
# shellcheck source=mk/series.sh
. "$(dirname "${BASH_SOURCE[0]}")/series.sh"

gsay() { echo "==> gates: $*"; }

# checkpatch CHECKs that may appear, as "TYPE path-glob", each with the
# reason.  ERRORs and WARNINGs are never allowed, except in the harness
# shims below.
ALLOWED_CHECKS=(
	# for_each-style iterator macros (phyr_list_for_each() and friends)
	# evaluate their cursor argument in the init, condition and step
	# expressions, exactly like xa_for_each() and list_for_each_entry();
	# callers pass plain variables.
	"MACRO_ARG_REUSE include/linux/phyr.h"
	"MACRO_ARG_REUSE include/linux/phyr-dma.h"
	"MACRO_ARG_REUSE kernel/dma/phyr_map.c"
	# TRACE_EVENT() layout of every event in include/trace/events/dma.h:
	# TP_STRUCT__entry( and TP_fast_assign( open a block, continuation
	# lines are indented by a tab as in the rest of the file.
	"OPEN_ENDED_LINE include/trace/events/dma.h"
	"PARENTHESIS_ALIGNMENT include/trace/events/dma.h"
	# kernel/dma/debug.h declares every function "extern"; the new ones
	# follow the file.
	"AVOID_EXTERNS kernel/dma/debug.h"
	# functions that only lose their "static", and the IOVA link API:
	# their continuation lines keep the two-tab indent used throughout
	# dma-iommu.c, kernel/dma/mapping.c and <linux/dma-mapping.h>.
	"PARENTHESIS_ALIGNMENT drivers/iommu/dma-iommu.c"
	"PARENTHESIS_ALIGNMENT kernel/dma/mapping.c"
	"PARENTHESIS_ALIGNMENT include/linux/dma-mapping.h"
	# DMA_ATTR_MMIO and DMA_IOVA_USE_SWIOTLB are written (1UL << n) like
	# every DMA_ATTR_* before them, and the !CONFIG_HAS_DMA and
	# !CONFIG_IOMMU_DMA stubs back to back like the others there.
	"BIT_MACRO include/linux/dma-mapping.h"
	"LINE_SPACING include/linux/dma-mapping.h"
	# the !CONFIG_PCI_P2PDMA stubs of pci-p2pdma.h are written back to
	# back without blank lines; the new stub follows them.
	"LINE_SPACING include/linux/pci-p2pdma.h"
	# the entry point that libFuzzer requires by name
	"CAMELCASE tools/testing/phyr/fuzz.c"
)
# The userspace harness's shims of kernel headers (as in
# tools/testing/radix-tree/linux/ or tools/include/) define the kernel's
# attributes, macros and stubs themselves, which checkpatch flags by
# design (PREFER_DEFINED_ATTRIBUTE_MACRO, MACRO_ARG_UNUSED, VOLATILE,
# NEW_TYPEDEFS, ...).  Messages about them are not counted; the
# harness's own programs are checked like everything else.
CHECKPATCH_SHIMS=(
	"tools/testing/phyr/linux/*"
	"tools/testing/phyr/asm/*"
	"tools/testing/phyr/kunit/*"
)
CHECKPATCH_IGNORE=(
	# "added, moved or deleted file(s), does MAINTAINERS need updating?":
	# the MAINTAINERS entry comes in the last patch of the series, as
	# upstream series usually do; gate_checkpatch verifies instead that
	# its F: patterns cover every file the series adds.
	FILE_PATH_CHANGES
	# "Unknown commit id" of a Fixes: tag: checkpatch looks ids up in
	# the git repository it runs in, and the gate runs it where there is
	# none (no upstream history here); without git, checkpatch reports
	# every id as unknown.  The id and subject of patch 1's Fixes: tag
	# are to be checked against upstream before posting.
	UNKNOWN_COMMIT_ID
)

# the series at its last commit, in build/series/am and build/series/linux
# (regenerated once per run, so that the gates never see a stale series)
SERIES_FRESH=0
need_series() {
	[ $SERIES_FRESH = 1 ] && return 0
	"$ROOT/mk/series.sh" generate > "$S/generate.log" 2>&1 &&
		"$ROOT/mk/series.sh" am > "$S/am.out" 2>&1 ||
		{ cat "$S/generate.log" "$S/am.out" >&2; gsay "the series does not build"; return 1; }
	SERIES_FRESH=1
	rm -f "$S/our-lines"
}
need_tree() {
	need_series
	sync_tree HEAD
}

# our new files and patched files at HEAD (kernel paths only)
new_files() {
	git -C "$AM_REPO" diff --name-only --diff-filter=A base HEAD |
		grep -vE '^(tools/testing/phyr/)' || true
}
changed_files() { git -C "$AM_REPO" diff --name-only --diff-filter=AM base HEAD; }

gate_checkpatch() {
	need_series
	local log=$LOGS/checkpatch.log p rc=0 msgs m type file a ok bad=""
	local nallowed=0 nshim=0
	: > "$log"
	# two at a time, each to its own log; run in pristine (no .git there:
	# no camelcase cache file, no git lookups of commit ids in messages)
	rm -rf "$LOGS/checkpatch.d"
	mkdir -p "$LOGS/checkpatch.d"
	for p in "$PATCHES"/*.patch; do
		[ "${p##*/}" = 0000-cover-letter.patch ] || echo "$p"
	done |
		(cd "$PRISTINE" && xargs -P2 -I{} sh -c \
		'./scripts/checkpatch.pl --strict --show-types --ignore "$1" "$2" \
			> "$3/$(basename "$2").log" 2>&1; true' sh \
			"$(IFS=,; echo "${CHECKPATCH_IGNORE[*]}")" {} "$LOGS/checkpatch.d")
	cat "$LOGS/checkpatch.d"/*.log > "$log"
	grep -E '^total:' "$log" | sed 's/^/    /' || true
	# "LEVEL:TYPE FILE:LINE: message" per message (FILE "-" for the
	# commit message)
	msgs=$(awk '
		/^(ERROR|WARNING|CHECK):/ { if (m != "") print m " -: " t; split($0, x, ":");
			m = x[1] ":" x[2]; t = $0; sub(/^[A-Z]+:[A-Z_0-9]+: /, "", t); next }
		m != "" && /^#[0-9]+: FILE: / { f = $3; print m " " f " " t; m = ""; next }
		m != "" && /^$/ { print m " -: " t; m = "" }
		END { if (m != "") print m " -: " t }' "$log")
	while IFS= read -r m; do
		[ -n "$m" ] || continue
		type=${m%% *}; type=${type#*:}
		file=${m#* }; file=${file%%:*}
		ok=0
		for a in "${CHECKPATCH_SHIMS[@]}"; do
			# shellcheck disable=SC2053
			[[ $file == $a ]] && { ok=1; nshim=$((nshim + 1)); }
		done
		if [ $ok = 0 ] && [ "${m%%:*}" = CHECK ]; then
			for a in "${ALLOWED_CHECKS[@]}"; do
				# shellcheck disable=SC2053
				[[ $type == "${a%% *}" && $file == ${a#* } ]] &&
					{ ok=1; nallowed=$((nallowed + 1)); }
			done
		fi
		[ $ok = 1 ] || bad+="$m"$'\n'
	done <<< "$msgs"
	echo "    $nallowed allowed CHECKs, $nshim messages about harness shims"
	if [ -n "$bad" ]; then
		printf '%s' "$bad" | sed 's/^/    /'
		gsay "checkpatch: $(printf '%s' "$bad" | wc -l) errors, warnings or unlisted checks (log: $log)"
		rc=1
	fi
	# the MAINTAINERS entry covers every file the series adds that no
	# existing subsystem entry covers
	local pats f pat ok d miss=""
	pats=$(git -C "$AM_REPO" diff base HEAD -- MAINTAINERS |
		sed -n 's/^+F:[[:space:]]*//p')
	while IFS= read -r f; do
		[ -n "$f" ] || continue
		ok=0
		while IFS= read -r pat; do
			[ -n "$pat" ] || continue
			# shellcheck disable=SC2053
			case "$pat" in
			*/) [[ $f == "$pat"* ]] && ok=1 ;;
			*) [[ $f == $pat ]] && ok=1 ;;
			esac
		done <<< "$pats"
		# or by an existing entry's directory (RDMA's test of ib_umem)
		d=$(dirname "$f")
		while [ $ok = 0 ] && [ "$d" != . ] && [[ $d == */* ]]; do
			grep -Eq "^F:[[:space:]]+$d/\$" "$PRISTINE/MAINTAINERS" && ok=1
			d=$(dirname "$d")
		done
		[ $ok = 1 ] || miss+=" $f"
	done < <(git -C "$AM_REPO" diff --name-only --diff-filter=A base HEAD)
	if [ -n "$miss" ]; then
		gsay "checkpatch: not covered by an F: line of the MAINTAINERS entry:$miss"
		rc=1
	fi
	return $rc
}

gate_kernel_doc() {
	need_series
	local log=$LOGS/kernel-doc.log f ours
	: > "$log"
	while IFS= read -r f; do
		case "$f" in
		*.c|*.h) ;;
		*) continue ;;
		esac
		case "$f" in tools/*|Documentation/*) continue ;; esac
		(cd "$AM_REPO" && "$PRISTINE/scripts/kernel-doc" -none -Wall "$f") >> "$log" 2>&1 || true
	done < <(changed_files)
	[ -f "$S/our-lines" ] || our_lines HEAD > "$S/our-lines"
	ours=$(awk 'NR == FNR { o[$0] = 1; next }
		/warning:|error:/ { split($0, a, ":"); if ((a[1] ":" a[2]) in o) print }' \
		"$S/our-lines" "$log")
	report_warnings kernel-doc "$log" "$ours"
}

# report_warnings GATE LOG OURS: print, fail when OURS is not empty
report_warnings() {
	local gate=$1 log=$2 ours=$3 n_all
	n_all=$(grep -ciE 'warning:|error:' "$log" || true)
	if [ -n "$ours" ]; then
		sed 's/^/    /' <<< "$ours"
		gsay "$gate: $(wc -l <<< "$ours") warnings in our lines ($n_all in all, log: $log)"
		return 1
	fi
	if [ "$n_all" != 0 ]; then
		grep -iE 'warning:|error:' "$log" | sed 's/^/    not ours: /' | head -5
		[ "$n_all" -le 5 ] || echo "    not ours: ... ($n_all in all, see $log)"
	fi
	gsay "$gate: no warnings in our lines ($n_all elsewhere)"
}

final_objects() { objects_at HEAD; }

gate_sparse() {
	need_tree
	configure x86_64
	local log=$LOGS/sparse.log objs
	mapfile -t objs < <(final_objects)
	rm -f "$S/our-lines"
	command -v sparse > /dev/null || { gsay "sparse: not installed (make deps)"; return 1; }
	# not -s: the "CHECK" lines prove that sparse ran on each object
	KBUILD_VERBOSE=-k BUILD_FLAGS=C=2 build_objs x86_64 "$log" "${objs[@]}" ||
		{ tail -30 "$log"; gsay "sparse: build failed"; return 1; }
	local nchk
	nchk=$(grep -c '^  CHECK ' "$log" || true)
	[ "$nchk" -ge ${#objs[@]} ] ||
		{ gsay "sparse: ran on $nchk of ${#objs[@]} objects (log: $log)"; return 1; }
	report_warnings sparse "$log" "$(filter_ours "$log")"
}

gate_w1() {
	need_tree
	configure x86_64
	local log=$LOGS/w1.log objs
	mapfile -t objs < <(final_objects)
	rm -f "$S/our-lines"
	BUILD_FLAGS=W=1 build_objs x86_64 "$log" "${objs[@]}" ||
		{ tail -30 "$log"; gsay "w1: build failed"; return 1; }
	report_warnings w1 "$log" "$(filter_ours "$log")"
}

# The command line kbuild used for lib/phyr.o in the x86_64 build of the
# w1 gate (the flags, include paths and forced includes of a kernel
# object), to run from $S/out-x86_64 on another source: without its
# dependency file, object and source.
phyr_cc() {
	local out=$S/out-x86_64 log=$1 cmd
	if [ ! -f "$out/lib/.phyr.o.cmd" ]; then
		configure x86_64
		build_objs x86_64 "$log" lib/phyr.o ||
			{ tail -30 "$log" >&2; gsay "lib/phyr.o does not build" >&2; return 1; }
	fi
	cmd=$(sed -n 's/^savedcmd_lib\/phyr\.o := //p' "$out/lib/.phyr.o.cmd")
	[ -n "$cmd" ] || { gsay "no command line in lib/.phyr.o.cmd" >&2; return 1; }
	sed -E 's/ -Wp,-MMD,[^ ]+//; s/ -c -o lib\/phyr\.o .*$//' <<< "$cmd"
}

# Every header the series adds compiles as the first include of an empty
# .c file, with the command line of lib/phyr.o.
gate_headers() {
	need_tree
	local out=$S/out-x86_64 log=$LOGS/headers.log cmd h n=0 rc=0
	cmd=$(phyr_cc "$log") || return 1
	: > "$log"
	mkdir -p "$S/hdrtest"
	for h in $(new_files | grep -E '\.h$' | grep -v '^tools/'); do
		local inc=$h src
		src=$S/hdrtest/$(echo "$h" | tr / _).c
		case $h in include/*) inc=${h#include/} ;; esac
		printf '#include <%s>\n' "$inc" > "$src"
		n=$((n + 1))
		if ! (cd "$out" && eval "$cmd -I$BTREE -c -o /dev/null $src") >> "$log" 2>&1; then
			gsay "headers: $h does not compile on its own"
			rc=1
		fi
	done
	[ $rc = 0 ] || { sed 's/^/    /' "$log" | head -40; return 1; }
	grep -E 'warning:' "$log" | sed 's/^/    /' | head -20 || true
	! grep -q 'warning:' "$log" || { gsay "headers: warnings (log: $log)"; return 1; }
	gsay "headers: $n headers compile on their own"
}

gate_licence() {
	need_tree
	local log=$LOGS/licence.log obj=$S/umem-licence.o cmd gpl
	cmd=$(phyr_cc "$log") || return 1
	(cd "$S/out-x86_64" && eval "$cmd -I$BTREE -c -o $obj $ROOT/machine/gates/umem-licence.c") > "$log" 2>&1 ||
		{ sed 's/^/    /' "$log" | head -20; gsay "licence: the probe does not compile"; return 1; }
	gpl=$(comm -12 <(nm -u "$obj" | awk '{ print $2 }' | sort -u) \
		<(grep -rhoE --include='*.c' '^EXPORT_SYMBOL_GPL\([A-Za-z0-9_]+\)' "$BTREE" |
		  sed 's/.*(//; s/)//' | sort -u) | tr '\n' ' ')
	[ -z "$gpl" ] || { gsay "licence: ib_umem users need EXPORT_SYMBOL_GPL symbols: $gpl"; return 1; }
	gsay "licence: $(nm -u "$obj" | wc -l) symbols, none exported GPL-only"
}

gate_cross() {
	need_tree
	local prof log objs rc=0 s want
	mapfile -t objs < <(final_objects)
	rm -f "$S/our-lines"
	for prof in i386 i386-pae arm64-64k; do
		local t0
		t0=$(date +%s)
		configure "$prof"
		case "$prof" in
		i386) want="PHYR PHYR_MAP !PHYS_ADDR_T_64BIT !64BIT" ;;
		i386-pae) want="PHYR PHYR_MAP PHYS_ADDR_T_64BIT X86_PAE !64BIT" ;;
		arm64-64k) want="PHYR PHYR_MAP ARM64_64K_PAGES PCI_P2PDMA" ;;
		esac
		for s in $want; do
			if [ "${s#!}" != "$s" ]; then
				! config_has "$prof" "${s#!}" || { gsay "cross: $prof: CONFIG_${s#!} is set"; rc=1; }
			else
				config_has "$prof" "$s" || { gsay "cross: $prof: CONFIG_$s is not set"; rc=1; }
			fi
		done
		log=$LOGS/cross-$prof.log
		gsay "cross: $prof"
		if ! BUILD_FLAGS=W=1 build_objs "$prof" "$log" "${objs[@]}"; then
			grep -E ': error:|Error [0-9]' "$log" | head -20 | sed 's/^/    /'
			gsay "cross: $prof: build failed (log: $log)"
			rc=1
			continue
		fi
		report_warnings "cross $prof" "$log" "$(filter_ours "$log")" || rc=1
		# objects are not linked here: a 64-bit division that the
		# compiler leaves to libgcc would only fail at the kernel's link
		local o libgcc
		for o in "${objs[@]}"; do
			[ -f "$S/out-$prof/$o" ] || continue
			libgcc=$(nm -u "$S/out-$prof/$o" |
				 grep -oE '__(u?div|u?mod)di3|__aeabi_u?ldivmod' | sort -u || true)
			[ -z "$libgcc" ] ||
				{ gsay "cross: $prof: $o needs libgcc's $libgcc (use div64_u64() and friends)"; rc=1; }
		done
		echo "    $(( $(date +%s) - t0 )) s"
	done
	return $rc
}

gate_htmldocs() {
	need_tree
	command -v sphinx-build > /dev/null || { gsay "htmldocs: sphinx-build missing (make deps)"; return 1; }
	local log=$LOGS/htmldocs.log ours
	# core-api is all that phyr.rst needs; SPHINXDIRS limits the build to it
	if ! make -C "$BTREE" O="$S/out-docs" SPHINXDIRS=core-api htmldocs \
		> "$log" 2>&1; then
		tail -30 "$log" | sed 's/^/    /'
		gsay "htmldocs: build failed (log: $log)"
		return 1
	fi
	[ -f "$S/out-docs/Documentation/output/core-api/phyr.html" ] ||
		{ gsay "htmldocs: phyr.html not produced"; return 1; }
	# ours: a warning at a line the series adds (every line of phyr.rst and
	# of the kernel-doc it pulls in), or one that names a document or file
	# of ours (a "phyr" toctree entry).  Paths are made relative to the
	# tree first, so where the checkout lives never decides: other entries
	# of core-api/index.rst name documents outside core-api, which a
	# SPHINXDIRS=core-api build reports as missing, upstream's own.
	[ -f "$S/our-lines" ] || our_lines HEAD > "$S/our-lines"
	ours=$(grep -iE 'warning|error' "$log" |
		awk -v tree="$BTREE/" -v root="$ROOT/" '
		function strip(s, p,   i) {
			while ((i = index(s, p)) > 0)
				s = substr(s, 1, i - 1) substr(s, i + length(p))
			return s
		}
		NR == FNR { ours[$0] = 1; next }
		{
			rel = strip(strip($0, tree), root)
			split(rel, a, ":")
			msg = substr(rel, length(a[1] ":" a[2] ":") + 1)
			# a warning about a whole file: ours when its first
			# line is (a file the series adds)
			if (a[2] !~ /^[0-9]+$/)
				a[2] = 1
			if ((a[1] ":" a[2]) in ours || tolower(msg) ~ /phyr/)
				print
		}' "$S/our-lines" - || true)
	report_warnings htmldocs "$log" "$ours"
}

GATES_ALL=(checkpatch kernel-doc sparse w1 headers cross htmldocs licence)
main() {
	series_lock
	mkdir -p "$LOGS"
	local gates=("$@") g rc=0 t0 t results=()
	[ ${#gates[@]} -gt 0 ] || gates=("${GATES_ALL[@]}")
	t0=$(date +%s)
	need_series || return 1
	for g in "${gates[@]}"; do
		t=$(date +%s)
		gsay "$g"
		# a subshell, so that a gate that dies does not stop the others
		if ( "gate_${g//-/_}" ); then r=PASS; else r=FAIL; rc=1; fi
		results+=("$(printf '%-12s %s %5d s' "$g" "$r" $(( $(date +%s) - t )))")
	done
	gsay "summary ($(( $(date +%s) - t0 )) s):"
	printf '    %s\n' "${results[@]}"
	return $rc
}
main "$@"
