# The patch series and its quality gates (mk/series.sh, mk/gates.sh),
# included from the top-level Makefile.
#
#   make series        series/*.txt -> build/series/patches (git format-patch
#                      with the cover letter from series/00-cover.txt)
#   make series-check  the series applies with git am to pristine 6.12 and
#                      gives build/linux; every commit builds its objects
#                      (x86_64, W=1, no warnings)
#   make gates         checkpatch, kernel-doc, sparse, w1, headers, cross,
#                      htmldocs, licence
#   make gate-NAME     one of them (logs: build/logs/series/)
#   make clean-series  remove build/series (its kernel tree and builds)
SERIES_GATES := checkpatch kernel-doc sparse w1 headers cross htmldocs licence

# Gates in make check: all of them.
SERIES_GATES_CHECK := $(SERIES_GATES)

CHECK_BUILD_STEPS += series-check $(addprefix gate-,$(SERIES_GATES_CHECK))

.PHONY: series series-check gates $(addprefix gate-,$(SERIES_GATES)) \
	clean-series

series: deps
	@mk/series.sh generate

series-check: deps
	@mk/series.sh check

gates: deps
	@mk/gates.sh $(SERIES_GATES)

$(addprefix gate-,$(SERIES_GATES)): gate-%: deps
	@mk/gates.sh $*

clean-series:
	rm -rf build/series build/logs/series build/.lock-series
