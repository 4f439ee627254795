# rdma-core's clients on the series' kernel (mk/rdma.sh), included from the
# top-level Makefile.
#
#   make rdma           tools + pyverbs' full suite, rxe and siw
#   make rdma-check     tools + pyverbs' MR-related part (in make check)
#   make rdma-pristine  the same suite on pristine 6.12, same config:
#                       writes machine/rdma/pyverbs-pristine.txt
#   make rdma-build     drivers/infiniband with every RDMA driver
#                       (allmodconfig), x86_64 and i386: no warnings
CHECK_STEPS += rdma-check

.PHONY: rdma rdma-check rdma-pristine rdma-build

rdma: tree
	@mk/rdma.sh tools pyverbs

rdma-check: tree
	@mk/rdma.sh tools pyverbs-mr

rdma-pristine: tree
	@mk/rdma.sh --pristine tools pyverbs

rdma-build: tree
	@mk/rdma-build.sh
