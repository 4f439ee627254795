#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
# In the RDMA guest (mk/rdma.sh bench): what one memory region costs on
# rxe0: ibv_reg_mr() and ibv_dereg_mr() time (median of ROUNDS, with the
# spread) and the kernel memory a registered MR holds (free pages, with
# those on the per-CPU lists, before minus while NMEM MRs of the same
# buffer are registered, over NMEM; the buffer's pages are faulted in
# before and pinned, not allocated).  Buffers: SIZE bytes of
# 4 KiB pages faulted in shuffled order, of THP, of hugetlb (2 MiB).
# One line per case: "rdma-bench: CASE size=... reg_ms=... dereg_ms=...
# kmem_bytes=..."; mk/rdma.sh turns two kernels' lines into a table.
# With a second argument BIG, first one MR of BIG bytes of hugetlb
# ("hugetlb-big"), timed the same way; a kernel that cannot register it
# prints "rdma-bench: hugetlb-big size=... error=..." instead.  SIZE 0
# skips the SIZE cases.
import ctypes
import mmap
import os
import random
import statistics
import sys
import time

from pyverbs.device import Context
from pyverbs.pd import PD
from pyverbs.mr import MR
import pyverbs.enums as e

MiB = 1 << 20
HUGE = 2 * MiB
ROUNDS = 5
NMEM = 8
ACCESS = (e.IBV_ACCESS_LOCAL_WRITE | e.IBV_ACCESS_REMOTE_WRITE |
          e.IBV_ACCESS_REMOTE_READ)


def free_bytes():
    """Free memory, with the pages on the per-CPU lists, which MemFree
    leaves out: after a large free they can hold megabytes, and the
    allocations of a registration come from them first."""
    try:
        with open('/proc/sys/vm/stat_refresh', 'w') as f:
            f.write('1')    # fold the per-CPU counter deltas
    except OSError:
        pass
    pages = 0
    with open('/proc/zoneinfo') as f:
        for line in f:
            w = line.split()
            if w[:2] == ['pages', 'free']:
                pages += int(w[2])
            elif w[:1] == ['count:']:
                pages += int(w[1])
    return pages * mmap.PAGESIZE


def addr_of(m, off=0):
    return ctypes.addressof(ctypes.c_char.from_buffer(m, off))


def buf_4k(size):
    m = mmap.mmap(-1, size, mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    try:
        m.madvise(mmap.MADV_NOHUGEPAGE)
    except OSError:
        pass  # no THP in this kernel: small pages anyway
    pages = list(range(size // 4096))
    random.Random(1).shuffle(pages)
    for p in pages:
        m[p * 4096] = 1
    return m, addr_of(m)


def buf_thp(size):
    m = mmap.mmap(-1, size + HUGE, mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    off = (-addr_of(m)) % HUGE
    m.madvise(mmap.MADV_HUGEPAGE, off, size)
    for p in range(0, size, HUGE):
        m[off + p] = 1
    return m, addr_of(m, off)


def set_hugepages(n):
    with open('/proc/sys/vm/nr_hugepages', 'w') as f:
        f.write(str(n))
    with open('/proc/sys/vm/nr_hugepages') as f:
        return int(f.read())


def buf_hugetlb(size):
    fd = os.open('/dev/hugepages/rdma-bench', os.O_CREAT | os.O_RDWR, 0o600)
    os.ftruncate(fd, size)
    m = mmap.mmap(fd, size, mmap.MAP_SHARED)
    os.close(fd)
    os.unlink('/dev/hugepages/rdma-bench')
    for p in range(0, size, HUGE):
        m[p] = 1
    return m, addr_of(m)


def time_mr(pd, size, addr):
    """ROUNDS registrations and deregistrations of one MR: ms each."""
    reg, dereg = [], []
    for _ in range(ROUNDS):
        t0 = time.perf_counter()
        mr = MR(pd, size, ACCESS, address=addr)
        t1 = time.perf_counter()
        mr.close()
        t2 = time.perf_counter()
        reg.append((t1 - t0) * 1e3)
        dereg.append((t2 - t1) * 1e3)
    return reg, dereg


def times(reg, dereg):
    return (f'reg_ms={statistics.median(reg):.3f} '
            f'reg_min={min(reg):.3f} reg_max={max(reg):.3f} '
            f'dereg_ms={statistics.median(dereg):.3f} '
            f'dereg_min={min(dereg):.3f} dereg_max={max(dereg):.3f}')


def run(pd, name, make, size):
    m, addr = make(size)
    reg, dereg = time_mr(pd, size, addr)
    kmem = []
    # Memory: NMEM MRs on the same buffer at once, so that what they hold
    # stands out of the per-CPU page lists and counter deltas that MemFree
    # does not see (about a MiB).
    for _ in range(ROUNDS):
        before = free_bytes()
        mrs = [MR(pd, size, ACCESS, address=addr) for _ in range(NMEM)]
        held = free_bytes()
        for mr in mrs:
            mr.close()
        kmem.append((before - held) // NMEM)
    m.close()
    print(f'rdma-bench: {name} size={size} rounds={ROUNDS} '
          f'{times(reg, dereg)} kmem_bytes={statistics.median(kmem)}',
          flush=True)


def run_big(pd, size):
    """One MR of @size bytes of hugetlb: registration time, or why not."""
    if set_hugepages(size // HUGE + 8) < size // HUGE:
        print(f'rdma-bench: hugetlb-big size={size} error=no-hugepages',
              flush=True)
        return
    m, addr = buf_hugetlb(size)
    try:
        reg, dereg = time_mr(pd, size, addr)
    except Exception as err:    # pyverbs' PyverbsRDMAError, with errno
        print(f'rdma-bench: hugetlb-big size={size} '
              f'error={os.strerror(getattr(err, "error_code", 0) or 0)!r}',
              flush=True)
    else:
        print(f'rdma-bench: hugetlb-big size={size} rounds={ROUNDS} '
              f'{times(reg, dereg)}', flush=True)
    m.close()
    set_hugepages(0)


def main():
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 1024 * MiB
    big = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    ctx = Context(name='rxe0')
    pd = PD(ctx)
    if big:
        run_big(pd, big)
    if size:
        set_hugepages(size // HUGE + 8)
        run(pd, '4k-shuffled', buf_4k, size)
        run(pd, 'thp', buf_thp, size)
        run(pd, 'hugetlb', buf_hugetlb, size)
    pd.close()
    ctx.close()
    set_hugepages(0)


main()
