#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
# In the RDMA guest (mk/rdma.sh bigmr): two memory regions of SIZE bytes
# (1 GiB) on rxe0, of 4 KiB pages faulted in shuffled order and of
# hugetlb pages, connected by an RC QP looped back to itself.  RDMA WRITE
# copies a random pattern from MR A into MR B; A is cleared and RDMA READ
# copies B back into A; the pattern is checked (SHA-256) in B and then in
# A through the user mappings.  One line per buffer:
# "rdma-bigmr: CASE ok|FAIL ...".
import hashlib
import mmap
import os
import random
import sys

from pyverbs.addr import AHAttr, GlobalRoute
from pyverbs.cq import CQ
from pyverbs.device import Context
from pyverbs.mr import MR
from pyverbs.pd import PD
from pyverbs.qp import QP, QPAttr, QPCap, QPInitAttr
from pyverbs.wr import SGE, SendWR
import pyverbs.enums as e

MiB = 1 << 20
HUGE = 2 * MiB
CHUNK = 64 * MiB          # bytes per work request
ACCESS = (e.IBV_ACCESS_LOCAL_WRITE | e.IBV_ACCESS_REMOTE_WRITE |
          e.IBV_ACCESS_REMOTE_READ)


def buf(kind, size, name):
    if kind == 'hugetlb':
        path = f'/dev/hugepages/bigmr-{name}'
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
        os.ftruncate(fd, size)
        m = mmap.mmap(fd, size, mmap.MAP_SHARED)
        os.close(fd)
        os.unlink(path)
        return m
    m = mmap.mmap(-1, size, mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    pages = list(range(size // 4096))
    random.Random(name).shuffle(pages)
    for p in pages:
        m[p * 4096] = 0
    return m


def loop_qp(ctx, pd, cq):
    cap = QPCap(max_send_wr=16, max_recv_wr=1, max_send_sge=1,
                max_recv_sge=1)
    qp = QP(pd, QPInitAttr(qp_type=e.IBV_QPT_RC, scq=cq, rcq=cq, cap=cap))
    attr = QPAttr(port_num=1)
    attr.qp_access_flags = ACCESS
    qp.to_init(attr)
    gr = GlobalRoute(dgid=ctx.query_gid(1, 1), sgid_index=1)
    attr.ah_attr = AHAttr(port_num=1, is_global=1, gr=gr)
    attr.dest_qp_num = qp.qp_num
    attr.path_mtu = e.IBV_MTU_1024
    attr.rq_psn = attr.sq_psn = 0
    attr.max_dest_rd_atomic = attr.max_rd_atomic = 1
    attr.min_rnr_timer = 12
    attr.timeout = 14
    attr.retry_cnt = attr.rnr_retry = 7
    qp.to_rtr(attr)
    qp.to_rts(attr)
    return qp


def xfer(qp, cq, opcode, local, rkey, raddr, size):
    for off in range(0, size, CHUNK):
        n = min(CHUNK, size - off)
        wr = SendWR(opcode=opcode, num_sge=1,
                    sg=[SGE(local.buf + off, n, local.lkey)],
                    send_flags=e.IBV_SEND_SIGNALED)
        wr.set_wr_rdma(rkey, raddr + off)
        qp.post_send(wr)
        while True:
            npolled, wcs = cq.poll()
            if npolled:
                break
        if wcs[0].status != e.IBV_WC_SUCCESS:
            raise RuntimeError(f'wc status {wcs[0].status} at {off}')


def fill(m, seed, size):
    """A random pattern, made and hashed a chunk at a time."""
    rnd = random.Random(seed)
    h = hashlib.sha256()
    for off in range(0, size, CHUNK):
        chunk = rnd.randbytes(min(CHUNK, size - off))
        m[off:off + len(chunk)] = chunk
        h.update(chunk)
    return h.hexdigest()


def run(ctx, pd, cq, kind, size):
    if kind == 'hugetlb':
        with open('/proc/sys/vm/nr_hugepages', 'w') as f:
            f.write(str(2 * size // HUGE + 8))
    qp = loop_qp(ctx, pd, cq)
    ma, mb = buf(kind, size, 'a'), buf(kind, size, 'b')
    want = fill(ma, kind, size)
    mra, mrb = (MR(pd, size, ACCESS, address=_addr(m)) for m in (ma, mb))
    # A -> B by RDMA WRITE; then A cleared and B -> A by RDMA READ
    xfer(qp, cq, e.IBV_WR_RDMA_WRITE, mra, mrb.rkey, mrb.buf, size)
    wrote = hashlib.sha256(mb).hexdigest() == want
    for off in range(0, size, CHUNK):
        ma[off:off + CHUNK] = bytes(min(CHUNK, size - off))
    xfer(qp, cq, e.IBV_WR_RDMA_READ, mra, mrb.rkey, mrb.buf, size)
    read = hashlib.sha256(ma).hexdigest() == want
    mra.close()
    mrb.close()
    qp.close()
    ma.close()
    mb.close()
    if kind == 'hugetlb':
        with open('/proc/sys/vm/nr_hugepages', 'w') as f:
            f.write('0')
    ok = wrote and read
    print(f'rdma-bigmr: {kind} {"ok" if ok else "FAIL"} size={size} '
          f'write={"ok" if wrote else "FAIL"} '
          f'read={"ok" if read else "FAIL"}', flush=True)
    return ok


def _addr(m):
    import ctypes
    return ctypes.addressof(ctypes.c_char.from_buffer(m))


def main():
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 1024 * MiB
    ctx = Context(name='rxe0')
    pd = PD(ctx)
    cq = CQ(ctx, 32)
    ok = all([run(ctx, pd, cq, kind, size) for kind in ('4k', 'hugetlb')])
    cq.close()
    pd.close()
    ctx.close()
    sys.exit(0 if ok else 1)


main()
