# rdma-core's clients on the series' kernel (mk/rdma.sh), included from the
# top-level Makefile.
#
#   make rdma           tools + pyverbs' full suite (debug kernel), then
#                       RDMA WRITE/READ between two 1 GiB MRs (production
#                       kernel), rxe and siw
#   make rdma-check     tools + pyverbs' MR-related part (in make check)
#   make rdma-rootfs    the guest's Debian root filesystem (debootstrap,
#                       once; make check makes it while a kernel builds)
#   make rdma-pristine  the same on pristine 6.12 (production config):
#                       writes machine/rdma/pyverbs-pristine.txt
#   make bench-rdma     MR registration time and memory, pristine vs phyr
#   make rdma-build     drivers/infiniband with every RDMA driver
#                       (allmodconfig), x86_64 and i386: no warnings
CHECK_STEPS += rdma-check

.PHONY: rdma rdma-check rdma-pristine rdma-build rdma-rootfs

rdma-rootfs: deps
	@mk/rdma-rootfs.sh

# bigmr on the production kernel: on the debug kernel rxe's requester
# outruns its responder by so much on a 64 MiB RDMA WRITE that the queued
# packets (kmalloc-2k skb data, 1.7 GB of it) run a 6 GiB guest out of
# memory, pristine code paths all of it
rdma: tree
	@mk/rdma.sh tools pyverbs
	@mk/rdma.sh --production bigmr

rdma-check: tree
	@mk/rdma.sh tools pyverbs-mr

rdma-pristine: tree
	@mk/rdma.sh --production --pristine tools pyverbs

rdma-build: tree
	@mk/rdma-build.sh

.PHONY: bench-rdma
bench-rdma: tree
	@mk/rdma-bench.sh
