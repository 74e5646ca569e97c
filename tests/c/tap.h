// SPDX-License-Identifier: GPL-2.0
/*
 * The TAP13 harness of the C tests, in LKL's form: run_tests() prints the
 * plan, then per test "ok"/"not ok"/"# SKIP" and a YAML block with its
 * time and log (tlog() lines and the kernel console, through console()).
 * Included by one test program each; everything here is static.
 */
#ifndef TESTS_C_TAP_H
#define TESTS_C_TAP_H

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static char logbuf[512 * 1024];
static size_t loglen;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static void log_bytes(const char *s, size_t len)
{
	pthread_mutex_lock(&log_lock);
	if (len > sizeof(logbuf) - 1 - loglen)
		len = sizeof(logbuf) - 1 - loglen;
	memcpy(logbuf + loglen, s, len);
	loglen += len;
	pthread_mutex_unlock(&log_lock);
}

static void __attribute__((format(printf, 1, 2))) tlog(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > 0)
		log_bytes(line, n < (int)sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

/* The kernel console, through lkl_host_ops.print. */
static void console(const char *str, int len)
{
	if (len > 0)
		log_bytes(str, len);
}

enum { TEST_OK, TEST_FAIL, TEST_SKIP };

struct test {
	const char *name;
	int (*fn)(void);
};

/* The number of elements of an array: tests in a table, suites. */
#define ARRAY_LEN(a) ((int)(sizeof(a) / sizeof((a)[0])))

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int run_tests(const char *suite, const struct test *tests, int n)
{
	int failed = 0;

	printf("1..%d # %s\n", n, suite);
	for (int i = 0; i < n; i++) {
		long long t0;
		int ret;

		printf("* %d %s\n", i + 1, tests[i].name);
		fflush(stdout);
		pthread_mutex_lock(&log_lock);
		loglen = 0;
		pthread_mutex_unlock(&log_lock);
		t0 = now_ns();
		ret = tests[i].fn();
		t0 = now_ns() - t0;
		printf("%s %d %s%s\n", ret == TEST_FAIL ? "not ok" : "ok", i + 1,
		       tests[i].name, ret == TEST_SKIP ? " # SKIP" : "");
		printf(" ---\n time_us: %lld\n log: |1\n", t0 / 1000);
		pthread_mutex_lock(&log_lock);
		logbuf[loglen] = 0;
		for (char *line = logbuf, *end; *line; line = end) {
			end = strchr(line, '\n');
			end = end ? end + 1 : line + strlen(line);
			printf("  %.*s", (int)(end - line), line);
			if (end[-1] != '\n')
				printf("\n");
		}
		pthread_mutex_unlock(&log_lock);
		printf(" ...\n");
		fflush(stdout);
		failed += ret == TEST_FAIL;
	}
	return failed ? 1 : 0;
}

/* Passes if `got` is `want`; logs both. */
#define EXPECT(what, got, want)						\
	do {								\
		long long g_ = (long long)(got), w_ = (long long)(want);	\
		tlog("%s = %lld (expected %lld)\n", what, g_, w_);	\
		if (g_ != w_)						\
			return TEST_FAIL;				\
	} while (0)

#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			tlog("failed: %s\n", #cond);			\
			return TEST_FAIL;				\
		}							\
		tlog("ok: %s\n", #cond);				\
	} while (0)

#endif
