/* SPDX-License-Identifier: GPL-2.0 */
/* current->fail_nth, which lib/phyr_kunit.c sets to fail an allocation. */
#ifndef _SHIM_LINUX_SCHED_H
#define _SHIM_LINUX_SCHED_H

struct task_struct {
	unsigned int fail_nth;
};

extern struct task_struct shim_current;
#define current		(&shim_current)

#endif
