// SPDX-License-Identifier: GPL-2.0
/*
 * Runs the KUnit suites of lib/phyr_kunit.c in userspace, against the
 * unmodified lib/phyr.c and the shims, the way tools/testing/radix-tree
 * runs lib/test_xarray.c: the kernel tests and the harness share one
 * reference model (lib/phyr_model.h), and here the kernel tests run in
 * seconds under ASan and UBSan.  Allocation failures come from
 * current->fail_nth, as in the kernel with CONFIG_FAULT_INJECTION=y.
 *
 *	./test-kunit [glob]	e.g. ./test-kunit 'phyr.phyr_test_splice_*'
 */
#include <fnmatch.h>
#include <stdarg.h>
#include <stdlib.h>
#include <kunit/test.h>
#include <linux/sched.h>
#include "shim.h"

#define MEM_PAGES	BIT(19)		/* 2 GiB of simulated memory */

struct task_struct shim_current;
static unsigned long next_free;

struct folio *folio_alloc(gfp_t gfp, unsigned int order)
{
	unsigned long nr = 1UL << order, idx = ALIGN(next_free, nr);

	if (idx + nr > shim_nr_pages)
		return NULL;
	next_free = idx + nr;
	return shim_make_folio(SHIM_PFN_OFFSET + idx, order);
}

void folio_put(struct folio *folio)
{
}

void kunit_shim_fail(struct kunit *test, const char *file, int line,
		     const char *fmt, ...)
{
	va_list ap;

	printf("    # %s: FAIL %s:%d: ", test->name, file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	test->failed = true;
}

void kunit_shim_end(struct kunit *test)
{
	longjmp(test->end, 1);
}

void kunit_shim_skip(struct kunit *test, const char *fmt, ...)
{
	va_list ap;

	printf("    # %s: SKIP ", test->name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	test->skipped = true;
	longjmp(test->end, 1);
}

int kunit_add_action_or_reset(struct kunit *test, void (*fn)(void *),
			      void *data)
{
	struct kunit_action *a = malloc(sizeof(*a));

	if (!a) {
		fn(data);
		return -ENOMEM;
	}
	a->fn = fn;
	a->data = data;
	a->next = test->actions;
	test->actions = a;
	return 0;
}

void *kunit_kmalloc(struct kunit *test, size_t size, gfp_t gfp)
{
	void *p = calloc(1, size ? size : 1);

	if (p && kunit_add_action_or_reset(test, free, p))
		return NULL;
	return p;
}

/* Deferred actions, last added first; an assertion in one ends it only. */
static void run_actions(struct kunit *test)
{
	struct kunit_action *a;

	while (test->actions) {
		a = test->actions;
		test->actions = a->next;
		if (!setjmp(test->end))
			a->fn(a->data);
		free(a);
	}
}

static unsigned long nr_passed, nr_failed, nr_skipped;

static void run_one(struct kunit_suite *suite, struct kunit_case *c,
		    const void *param, const char *desc)
{
	struct kunit test = { .param_value = param, .name = c->name };

	if (!setjmp(test.end)) {
		if (suite->init && suite->init(&test))
			KUNIT_FAIL(&test, "init failed");
		else
			c->run_case(&test);
	}
	if (suite->exit && !setjmp(test.end))
		suite->exit(&test);
	run_actions(&test);
	if (test.failed)
		nr_failed++;
	else if (test.skipped)
		nr_skipped++;
	else
		nr_passed++;
	printf("%s %s.%s%s%s%s\n", test.failed ? "not ok" : "ok", suite->name,
	       c->name, desc ? " " : "", desc ? desc : "",
	       test.skipped && !test.failed ? " # SKIP" : "");
	fflush(stdout);
}

int main(int argc, char **argv)
{
	const char *glob = argc > 1 ? argv[1] : "*";
	struct kunit_suite **s;
	struct kunit_case *c;
	char name[256], desc[KUNIT_PARAM_DESC_SIZE];
	const void *param;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("harness: phys_addr_t %zu bits, unsigned long %zu bits\n",
	       sizeof(phys_addr_t) * 8, sizeof(unsigned long) * 8);
	shim_mem_init(MEM_PAGES);
	for (s = kunit_shim_suites; *s; s++) {
		for (c = (*s)->test_cases; c->run_case; c++) {
			snprintf(name, sizeof(name), "%s.%s", (*s)->name, c->name);
			if (fnmatch(glob, name, 0))
				continue;
			if (!c->generate_params) {
				run_one(*s, c, NULL, NULL);
				continue;
			}
			for (param = c->generate_params(NULL, desc); param;
			     param = c->generate_params(param, desc))
				run_one(*s, c, param, desc);
		}
	}
	printf("kunit: %lu passed, %lu failed, %lu skipped\n", nr_passed,
	       nr_failed, nr_skipped);
	shim_mem_exit();
	return nr_failed ? 1 : 0;
}
