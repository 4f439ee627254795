// SPDX-License-Identifier: GPL-2.0
/*
 * /init of a KUnit run on an architecture we have no busybox for (arm64):
 * what machine/guest/kunit-init does, in C without a libc, built with
 * tools/include/nolibc (mk/arm64.sh).  The built-in KUnit suites have
 * run when the kernel starts us.  We print the DMA-API error count, ask
 * kmemleak for two scans, count its reports and power off.  Every line we
 * print starts with "phyr-guest:", as mk/logcheck.sh expects.
 */
#include "nolibc.h"

static char buf[1 << 20];

/* The contents of @path, NUL-terminated and without a trailing newline. */
static const char *slurp(const char *path)
{
	ssize_t n, len = 0;
	int fd = open(path, O_RDONLY);

	buf[0] = 0;
	if (fd < 0)
		return NULL;
	while (len < (ssize_t)sizeof(buf) - 1 &&
	       (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += n;
	close(fd);
	while (len && buf[len - 1] == '\n')
		len--;
	buf[len] = 0;
	return buf;
}

static int put(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	int ret;

	if (fd < 0)
		return -1;
	ret = write(fd, s, strlen(s)) < 0 ? -1 : 0;
	close(fd);
	return ret;
}

static long number(const char *path)
{
	const char *s = slurp(path);

	return s ? atol(s) : -1;
}

/* How often @word occurs in @s. */
static long count(const char *s, const char *word)
{
	size_t len = strlen(word);
	long n = 0;

	for (; *s; s++)
		if (!strncmp(s, word, len))
			n++;
	return n;
}

int main(void)
{
	const char *kml = "/sys/kernel/debug/kmemleak";
	long errors;
	const char *s;

	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
	printf("phyr-guest: userspace up\n");

	errors = number("/sys/kernel/debug/dma-api/error_count");
	if (errors >= 0) {
		s = slurp("/sys/kernel/debug/dma-api/disabled");
		printf("phyr-guest: dma-api error_count=%ld disabled=%s\n",
		       errors, s ? s : "?");
	}

	if (put(kml, "scan") == 0) {
		/* kmemleak never reports objects younger than 5 s */
		printf("phyr-guest: kmemleak-scan: waiting 6 s\n");
		sleep(6);
		put(kml, "scan");
		put(kml, "scan");
		s = slurp(kml);
		printf("phyr-guest: kmemleak-scan: done, %ld leak reports\n",
		       s ? count(s, "unreferenced object") : -1L);
	} else {
		printf("phyr-guest: kmemleak-scan: kmemleak not available\n");
	}

	printf("phyr-guest: done\n");
	reboot(RB_POWER_OFF);
	return 0;
}
