#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Run bench-bin under callgrind and print phyr vs scatterlist.

bench-bin brackets each measured region with callgrind client requests
and dumps it under its own name ("scattered.phyr.build"); it prints what
each region is counted per ("measure NAME PER") and the storage it
measured ("storage INPUT IMPL BYTES ALLOCS").  Instruction counts from
callgrind are the same on every run of the same binary.

A target that is missed is reported as MISS and does not fail the run;
a crash of bench-bin does.
"""

import argparse
import glob
import os
import re
import subprocess
import sys
import tempfile

INPUTS = ("scattered", "contiguous", "folios")


def run(args):
    """Return bench-bin's output lines and {region: Ir} from the dumps."""
    with tempfile.TemporaryDirectory(prefix="phyr-bench-") as tmp:
        cmd = [args.binary]
        if not args.no_valgrind:
            cmd = [args.valgrind, "--tool=callgrind", "--instr-atstart=no",
                   "--callgrind-out-file=" + os.path.join(tmp, "cg.out"),
                   ] + cmd
        proc = subprocess.run(cmd, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, check=False)
        if proc.returncode != 0 or "done" not in proc.stdout.split("\n"):
            sys.stderr.write(proc.stderr[-4000:])
            sys.exit("bench: %s failed with exit code %d"
                     % (" ".join(cmd), proc.returncode))
        counts = {}
        for path in glob.glob(os.path.join(tmp, "cg.out.*")):
            trigger = summary = None
            with open(path, encoding="utf-8", errors="replace") as f:
                for line in f:
                    m = re.match(r"desc: Trigger: Client Request: (\S+)", line)
                    if m:
                        trigger = m.group(1)
                    m = re.match(r"(?:summary|totals): (\d+)", line)
                    if m and summary is None:
                        summary = int(m.group(1))
                    if line.startswith("fn="):
                        break
            if trigger and summary is not None:
                counts[trigger] = summary
    return proc.stdout.splitlines(), counts


def fmt(value, digits=1):
    if value is None:
        return "-"
    if isinstance(value, int):
        return "{:,}".format(value)
    return "{:,.{}f}".format(value, digits)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("binary")
    ap.add_argument("--valgrind", default="valgrind")
    ap.add_argument("--no-valgrind", action="store_true",
                    help="run natively: storage only")
    args = ap.parse_args()

    lines, counts = run(args)
    per, storage, inputs, seek_ranges, config = {}, {}, {}, {}, {}
    for line in lines:
        w = line.split()
        if not w:
            continue
        if w[0] == "measure":
            per[w[1]] = int(w[2])
        elif w[0] == "storage":
            storage[(w[1], w[2])] = (int(w[3]), int(w[4]))
        elif w[0] == "input":
            inputs[w[1]] = (int(w[2]), int(w[3]), " ".join(w[4:]))
        elif w[0] == "seek":
            seek_ranges[w[1]] = int(w[2])
        elif w[0] == "config":
            config = dict(zip(w[1::2], w[2::2]))

    def ipp(name):
        """Instructions per item of region @name, or None."""
        if name not in counts or not per.get(name):
            return None
        return counts[name] / per[name]

    def ratio(a, b):
        return a / b if a is not None and b else None

    have_ir = bool(counts)
    print("phyr list vs scatterlist (lib/scatterlist.c of the kernel "
          "source, same shims, same pages)")
    print("struct phyr_list %s B, struct scatterlist %s B, %s sg entries "
          "per allocation; builds in batches of 512 pages like ib_umem, "
          "max_segment UINT_MAX" % (config.get("sizeof_phyr_list", "?"),
                                    config.get("sizeof_scatterlist", "?"),
                                    config.get("sg_per_alloc", "?")))
    if have_ir:
        print("instructions: callgrind, allocator internals not counted "
              "(allocations listed)")
    else:
        print("instructions: not measured (run without valgrind)")
    print()
    for key in INPUTS:
        if key in inputs:
            n, nr, desc = inputs[key]
            print("  %-11s %s: %s pages, %s ranges" % (key, desc, fmt(n),
                                                       fmt(nr)))
    print()

    rows = []

    def row(label, values, digits=1):
        rows.append((label, [fmt(v, digits) for v in values]))

    def storage_of(key, impl):
        return storage.get((key, impl), (None, None))

    row("storage bytes, phyr", [storage_of(k, "phyr")[0] for k in INPUTS])
    row("storage bytes, sg", [storage_of(k, "sg")[0] for k in INPUTS])
    for impl in ("phyr", "sg"):
        row("bytes/page, " + impl,
            [storage_of(k, impl)[0] / inputs[k][0]
             if storage_of(k, impl)[0] is not None else None
             for k in INPUTS], 4)
    row("allocations, phyr", [storage_of(k, "phyr")[1] for k in INPUTS])
    row("allocations, sg", [storage_of(k, "sg")[1] for k in INPUTS])
    if have_ir:
        for what, label in (("build", "build"), ("iter", "iterate pages"),
                            ("free", "free")):
            p = [ipp("%s.phyr.%s" % (k, what)) for k in INPUTS]
            s = [ipp("%s.sg.%s" % (k, what)) for k in INPUTS]
            row("%s instr/page, phyr" % label, p, 2)
            row("%s instr/page, sg" % label, s, 2)
            row("%s phyr/sg" % label, [ratio(a, b) for a, b in zip(p, s)], 2)
        row("phyr_list_append() instr/page",
            [ipp("%s.phyr.append" % k) for k in INPUTS], 2)

    width = max(len(r[0]) for r in rows)
    print("%-*s %14s %14s %14s" % ((width, "") + INPUTS))
    for label, values in rows:
        print("%-*s %14s %14s %14s" % ((width, label) + tuple(values)))
    print()

    seek = {}
    if have_ir:
        keys = ("seek1k", "seek1m", "seekruns")
        for key in keys:
            seek[key] = (ipp(key + ".phyr.seek"), ipp(key + ".sg.seek"))
        print("%-30s %14s %14s %14s %10s" % (
            ("seek, instr per seek",) +
            tuple("%s ranges" % fmt(seek_ranges.get(k)) for k in keys) +
            ("1M/1K",)))
        print("%-30s %14s %14s %14s" % ("", "pages", "pages",
                                        "runs of 1-8"))
        for i, label in ((0, "phyr_iter_seek() + next"),
                         (1, "sg walk to the offset")):
            a, b, c = (seek[k][i] for k in keys)
            print("%-30s %14s %14s %14s %10s" % (label, fmt(a), fmt(b),
                                                 fmt(c), fmt(ratio(b, a), 2)))
        for what, label in (("near", "same iterator, next page"),
                            ("ahead", "same iterator, +64 KiB")):
            a, b = (ipp(k + ".phyr." + what) for k in keys[:2])
            print("%-30s %14s %14s" % (label, fmt(a), fmt(b)))
        print()

    targets = []

    def target(label, value, limit, unit=""):
        if value is None:
            targets.append((label, "-", "n/a"))
            return
        targets.append((label, fmt(value, 3) + unit,
                        "PASS" if value <= limit else "MISS"))

    sc = storage_of("scattered", "phyr")[0]
    bpp = sc / inputs["scattered"][0] if sc is not None else None
    target("scattered storage <= 8.05 B/page", bpp, 8.05)
    target("scattered storage <= 4.1 B/page (stretch)", bpp, 4.1)
    if have_ir:
        for k in INPUTS:
            target("build <= 0.5x scatterlist, %s" % k,
                   ratio(ipp(k + ".phyr.build"), ipp(k + ".sg.build")),
                   0.5, "x")
        target("phyr_list_append() <= 0.5x scatterlist build, scattered",
               ratio(ipp("scattered.phyr.append"),
                     ipp("scattered.sg.build")), 0.5, "x")
        for k in INPUTS:
            target("iterate <= 0.5x scatterlist, %s" % k,
                   ratio(ipp(k + ".phyr.iter"), ipp(k + ".sg.iter")),
                   0.5, "x")
        target("seek at 1M ranges <= 4x seek at 1K ranges",
               ratio(seek["seek1m"][0], seek["seek1k"][0]), 4, "x")
        target("seek at 1M ranges <= 500 instructions",
               seek["seek1m"][0], 500)
    width = max(len(t[0]) for t in targets)
    print("%-*s %12s  %s" % (width, "target", "measured", "result"))
    for label, value, result in targets:
        print("%-*s %12s  %s" % (width, label, value, result))
    misses = sum(1 for t in targets if t[2] == "MISS")
    print()
    print("bench: %d targets, %d missed" % (len(targets), misses))


if __name__ == "__main__":
    main()
