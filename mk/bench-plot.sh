#!/bin/bash
# mk/bench-plot.sh: the phyr_map_bench logs of `make bench-phyr_map`
# (build/logs/phyr_map-bench-PROFILE-RUN.txt) as one Markdown table,
# printed and written to build/logs/phyr_map-bench.md, with the ratio of
# each run next to the other's and how far they are apart, and as gnuplot
# curves in plots/ (the PNGs the README shows):
#   plots/map-direct.png  map time against list size, no IOMMU
#   plots/map-iommu.png   the same behind the Intel and the AMD IOMMU
#   plots/seek.png        seek time against the number of ranges
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
L=$ROOT/build/logs
P=$ROOT/plots
mkdir -p "$P" "$L/plot"
# the curves are appended to, line by line, from the logs below
rm -f "$L"/plot/*.dat
ls "$L"/phyr_map-bench-*-1.txt >/dev/null 2>&1 ||
	{ echo "==> bench-plot: no build/logs/phyr_map-bench-*-1.txt: run make bench-phyr_map" >&2; exit 1; }

python3 - "$L" <<'PY'
import glob, os, re, sys
L = sys.argv[1]
names = {'iommu': 'Intel IOMMU', 'amd': 'AMD IOMMU', 'noiommu': 'no IOMMU'}
row = re.compile(r'phyr_map_bench: (\S+)\s+(\S+)\s+(\d+) MiB \| map ns phyr (\d+) \((\d+)-(\d+)\) sgt (\d+) \((\d+)-(\d+)\) = ([\d.]+)x(.*)')
unm = re.compile(r'unmap ns phyr (\d+) \((\d+)-(\d+)\) sgt (\d+) \((\d+)-(\d+)\) = ([\d.]+)x')
pte = re.compile(r'ptes (\d+) ns/pte phyr (\d+) sgt (\d+) floor (\d+)')
curve = re.compile(r'phyr_map_bench_curve: (\S+) (\S+) bytes (\d+) phyr_ns (\d+) sgt_ns (\d+)')
seek = re.compile(r'phyr_map_bench_seek: ranges (\d+) phyr_ns (\d+) sgt_ns (\d+)')
runs = {}
for f in sorted(glob.glob(os.path.join(L, 'phyr_map-bench-*-[0-9].txt'))):
    prof, run = re.match(r'.*phyr_map-bench-(\w+)-(\d)\.txt', f).groups()
    for line in open(f):
        m = row.search(line)
        if m:
            runs.setdefault((prof, m.group(2)), {})[run] = (m, unm.search(line), pte.search(line))
        m = curve.search(line)
        if m and run == '1':
            with open(os.path.join(L, 'plot', f'curve-{prof}-{m.group(2)}.dat'), 'a') as o:
                o.write(f'{m.group(3)} {int(m.group(4))/1e3} {int(m.group(5))/1e3}\n')
        m = seek.search(line)
        if m and run == '1' and prof == 'iommu':
            with open(os.path.join(L, 'plot', 'seek.dat'), 'a') as o:
                o.write(f'{m.group(1)} {m.group(2)} {m.group(3)}\n')
def us(ns):
    ns = int(ns)
    return f'{ns/1e6:.2f} ms' if ns >= 1e6 else f'{ns/1e3:.1f} µs'
out = ['| boot | list | map phyr / sg, median (fastest-slowest) | map ratio run 1 / run 2 | unmap ratio run 1 / run 2 | ns per PTE phyr / sg / floor |',
       '|---|---|---|---|---|---|']
order = {'iommu': 0, 'amd': 1, 'noiommu': 2}
kinds = {'4k': '1 GiB of 4 KiB pages', '2M': '1 GiB of 2 MiB folios', 'p2p': '32 MiB P2P range'}
for (prof, kind) in sorted(runs, key=lambda k: (order.get(k[0], 9), list(kinds).index(k[1]) if k[1] in kinds else 9)):
    r = runs[(prof, kind)]
    m, u, p = r.get('1', next(iter(r.values())))
    ratios = [float(r[k][0].group(10)) for k in sorted(r)]
    spread = (max(ratios) / min(ratios) - 1) * 100 if min(ratios) > 0 else 0
    uratios = [r[k][1].group(7) for k in sorted(r) if r[k][1]]
    cell = f'{us(m.group(4))} ({us(m.group(5))}-{us(m.group(6))}) / {us(m.group(7))} ({us(m.group(8))}-{us(m.group(9))})'
    rr = ' / '.join(f'{x:.2f}x' for x in ratios) + (f' ({spread:.0f}% apart)' if len(ratios) > 1 else '')
    ur = ' / '.join(f'{x}x' for x in uratios) or '-'
    pp = f'{p.group(2)} / {p.group(3)} / {p.group(4)}' if p and int(p.group(1)) else '-'
    out.append(f'| {names.get(prof, prof)} | {kinds.get(kind, kind)} | {cell} | {rr} | {ur} | {pp} |')
text = '\n'.join(out) + '\n'
open(os.path.join(L, 'phyr_map-bench.md'), 'w').write(text)
print(text)
PY

if ! command -v gnuplot >/dev/null; then
	echo "==> bench-plot: gnuplot missing (make deps installs gnuplot-nox)" >&2
	exit 1
fi
cd "$L/plot"
gp() { gnuplot -e "set terminal pngcairo size 800,520 font ',10'" -e "$1"; }
common='set logscale xy; set grid; set key top left; set xlabel "list size (bytes)"; set ylabel "map time (us, median)"'
gp "$common; set output '$P/map-direct.png'; set title 'phyr\_map() vs dma\_map\_sgtable(), no IOMMU (production kernel, TCG)';
    plot 'curve-noiommu-4k.dat' u 1:2 w lp t 'phyr, 4 KiB pages', '' u 1:3 w lp t 'sg, 4 KiB pages',
         'curve-noiommu-2M.dat' u 1:2 w lp t 'phyr, 2 MiB folios', '' u 1:3 w lp t 'sg, 2 MiB folios'"
iommu_plot="'curve-iommu-4k.dat' u 1:2 w lp t 'phyr, Intel, 4 KiB', '' u 1:3 w lp t 'sg, Intel, 4 KiB', 'curve-iommu-2M.dat' u 1:2 w lp t 'phyr, Intel, 2 MiB', '' u 1:3 w lp t 'sg, Intel, 2 MiB'"
if [ -s curve-amd-4k.dat ]; then
	iommu_plot+=", 'curve-amd-4k.dat' u 1:2 w lp t 'phyr, AMD, 4 KiB', '' u 1:3 w lp t 'sg, AMD, 4 KiB', 'curve-amd-2M.dat' u 1:2 w lp t 'phyr, AMD, 2 MiB', '' u 1:3 w lp t 'sg, AMD, 2 MiB'"
fi
gp "$common; set output '$P/map-iommu.png'; set title 'phyr\_map() vs dma\_map\_sgtable() behind the IOMMU (production kernel, TCG)'; plot $iommu_plot"
gp "set logscale xy; set grid; set key top left; set output '$P/seek.png'; set xlabel 'ranges in the list'; set ylabel 'ns per seek to a random byte';
    set title 'Seek: phyr\_iter\_seek() vs walking the scatterlist';
    plot 'seek.dat' u 1:2 w lp t 'phyr\_iter\_seek()', '' u 1:3 w lp t 'sg walk'"
echo "==> bench-plot: plots/map-direct.png plots/map-iommu.png plots/seek.png"
