// SPDX-License-Identifier: GPL-2.0
/*
 * The boot test of LKL's C API, in LKL's TAP13 form: boots the kernel
 * through liblkl.a as installed by 'make install' and runs LKL's boot test
 * list against it, through lkl.h and lkl_host_ops only.
 *
 *   boot             the main suite (boots, runs every test, halts)
 *   boot bad-mem     lkl_start_kernel("mem=1M"): an error, not a hang
 *   boot bad-quote   a command line with an unclosed quote: the same
 *   boot lifecycle   calls before lkl_init, before boot, after cleanup
 *   boot silent      a NULL .print keeps the console silent
 *
 * One process boots at most one kernel, so each of these runs on its own.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <lkl.h>
#include <lkl_host.h>

#define BOOT_LINE "mem=32M loglevel=8"

#include "tap.h"

/* ---- host operations, called directly ---- */

static int test_mutex(void)
{
	struct lkl_mutex *m = lkl_host_ops.mutex_alloc(0);
	struct lkl_mutex *r = lkl_host_ops.mutex_alloc(1);

	CHECK(m && r);
	lkl_host_ops.mutex_lock(m);
	lkl_host_ops.mutex_unlock(m);
	/* A recursive mutex may be taken again by its owner. */
	lkl_host_ops.mutex_lock(r);
	lkl_host_ops.mutex_lock(r);
	lkl_host_ops.mutex_unlock(r);
	lkl_host_ops.mutex_unlock(r);
	lkl_host_ops.mutex_free(m);
	lkl_host_ops.mutex_free(r);
	return TEST_OK;
}

static int test_semaphore(void)
{
	struct lkl_sem *sem = lkl_host_ops.sem_alloc(1);

	CHECK(sem);
	lkl_host_ops.sem_down(sem);
	lkl_host_ops.sem_up(sem);
	lkl_host_ops.sem_up(sem);
	lkl_host_ops.sem_down(sem);
	lkl_host_ops.sem_down(sem);
	lkl_host_ops.sem_free(sem);
	return TEST_OK;
}

static void join_body(void *arg)
{
	struct lkl_sem *sem = arg;

	lkl_host_ops.sem_up(sem);
}

static int test_join(void)
{
	struct lkl_sem *sem = lkl_host_ops.sem_alloc(0);
	lkl_thread_t t = lkl_host_ops.thread_create(join_body, sem);

	CHECK(t != 0);
	CHECK(!lkl_host_ops.thread_equal(t, lkl_host_ops.thread_self()));
	lkl_host_ops.sem_down(sem);
	EXPECT("thread_join", lkl_host_ops.thread_join(t), 0);
	lkl_host_ops.sem_free(sem);
	return TEST_OK;
}

static void tls_destructor(void *data)
{
	__atomic_add_fetch((int *)data, 1, __ATOMIC_SEQ_CST);
}

static struct lkl_tls_key *tls_key;

static void tls_body(void *arg)
{
	lkl_host_ops.tls_set(tls_key, arg);
	if (lkl_host_ops.tls_get(tls_key) != arg)
		abort();
}

static void exit_body(void *arg)
{
	*(int *)arg = 1;
	lkl_host_ops.thread_exit();
	*(int *)arg = 2;	/* not reached */
}

static struct lkl_sem *timer_sem;

static void timer_fn(void)
{
	lkl_host_ops.sem_up(timer_sem);
}

static int test_host_ops(void)
{
	int destroyed = 0, exited = 0;
	unsigned long size = 0;
	unsigned long long t0, t1;
	lkl_thread_t t;
	void *p, *timer;

	tls_key = lkl_host_ops.tls_alloc(tls_destructor);
	CHECK(tls_key);
	t = lkl_host_ops.thread_create(tls_body, &destroyed);
	CHECK(t);
	EXPECT("thread_join", lkl_host_ops.thread_join(t), 0);
	EXPECT("TLS destructor runs", destroyed, 1);
	CHECK(lkl_host_ops.tls_get(tls_key) == NULL);
	lkl_host_ops.tls_free(tls_key);

	t = lkl_host_ops.thread_create(exit_body, &exited);
	EXPECT("thread_join", lkl_host_ops.thread_join(t), 0);
	EXPECT("thread_exit ends the thread", exited, 1);

	CHECK(lkl_host_ops.thread_equal(lkl_host_ops.thread_self(),
					lkl_host_ops.thread_self()));
	p = lkl_host_ops.thread_stack(&size);
	tlog("thread_stack: %p, %lu bytes\n", p, size);
	CHECK(p && size > 0);

	t0 = lkl_host_ops.time();
	timer_sem = lkl_host_ops.sem_alloc(0);
	timer = lkl_host_ops.timer_alloc(timer_fn);
	CHECK(timer);
	EXPECT("timer_set_oneshot", lkl_host_ops.timer_set_oneshot(timer, 2000000), 0);
	lkl_host_ops.sem_down(timer_sem);
	t1 = lkl_host_ops.time();
	tlog("timer fired after %llu ns\n", t1 - t0);
	CHECK(t1 - t0 >= 2000000);
	lkl_host_ops.timer_free(timer);
	lkl_host_ops.sem_free(timer_sem);

	p = lkl_host_ops.mem_alloc(100);
	CHECK(p);
	lkl_host_ops.memset(p, 0x5a, 100);
	CHECK(((unsigned char *)p)[99] == 0x5a);
	lkl_host_ops.mem_free(p);
	p = lkl_host_ops.page_alloc(8192);
	CHECK(p && ((unsigned long)p & 4095) == 0);
	lkl_host_ops.page_free(p, 8192);
	return TEST_OK;
}

/* ---- the kernel ---- */

static int test_start_kernel(void)
{
	EXPECT("lkl_is_running before boot", lkl_is_running(), 0);
	EXPECT("lkl_host_set_kick_signal(SIGKILL)", lkl_host_set_kick_signal(SIGKILL), -EINVAL);
	EXPECT("lkl_host_set_kick_signal(SIGRTMIN + 3)",
	       lkl_host_set_kick_signal(SIGRTMIN + 3), 0);
	EXPECT("lkl_start_kernel(\"" BOOT_LINE "\")", lkl_start_kernel(BOOT_LINE), 0);
	EXPECT("lkl_is_running", lkl_is_running(), 1);
	EXPECT("lkl_host_set_kick_signal after boot", lkl_host_set_kick_signal(SIGRTMIN + 4),
	       -EBUSY);
	pthread_mutex_lock(&log_lock);
	logbuf[loglen] = 0;
	int seen = strstr(logbuf, "Linux version") != NULL;
	pthread_mutex_unlock(&log_lock);
	EXPECT("console captured through lkl_host_ops.print", seen, 1);
	return TEST_OK;
}

static int test_getpid(void)
{
	long params[6] = { 0 };

	EXPECT("lkl_sys_getpid", lkl_sys_getpid(), 1);
	EXPECT("lkl_syscall(__lkl__NR_getpid)", lkl_syscall(__lkl__NR_getpid, params), 1);
	EXPECT("lkl_syscall(-1)", lkl_syscall(-1, params), -LKL_ENOSYS);
	EXPECT("lkl_trigger_irq(0)", lkl_trigger_irq(0), -LKL_EINVAL);
	return TEST_OK;
}

static void latency(const char *what, long (*call)(void))
{
	long long min = 1LL << 62, max = 0, sum = 0;

	for (int i = 0; i < 1000; i++) {
		long long t = now_ns();

		call();
		t = now_ns() - t;
		sum += t;
		min = t < min ? t : min;
		max = t > max ? t : max;
	}
	tlog("%s: avg %lld ns, min %lld ns, max %lld ns (1000 calls)\n", what,
	     sum / 1000, min, max);
}

static long host_getpid(void)
{
	return syscall(SYS_getpid);
}

static long kernel_getpid(void)
{
	return lkl_sys_getpid();
}

static int test_syscall_latency(void)
{
	latency("lkl_sys_getpid", kernel_getpid);
	latency("host getpid", host_getpid);
	return TEST_OK;
}

static int test_umask(void)
{
	EXPECT("lkl_sys_umask(0777)", lkl_sys_umask(0777), 022);
	return TEST_OK;
}

static int test_umask2(void)
{
	EXPECT("lkl_sys_umask(0)", lkl_sys_umask(0), 0777);
	return TEST_OK;
}

static int test_creat(void)
{
	EXPECT("lkl_sys_creat(\"/file\", 0721)", lkl_sys_creat("/file", 0721), 0);
	return TEST_OK;
}

static int test_close(void)
{
	EXPECT("lkl_sys_close(0)", lkl_sys_close(0), 0);
	return TEST_OK;
}

static int test_failopen(void)
{
	EXPECT("lkl_sys_open(\"/file2\")", lkl_sys_open("/file2", LKL_O_RDONLY, 0),
	       -LKL_ENOENT);
	return TEST_OK;
}

static int test_open(void)
{
	EXPECT("lkl_sys_open(\"/file\", O_RDWR)", lkl_sys_open("/file", LKL_O_RDWR, 0), 0);
	return TEST_OK;
}

static const char wrbuf[] = "test";

static int test_write(void)
{
	EXPECT("lkl_sys_write", lkl_sys_write(0, wrbuf, sizeof(wrbuf)), sizeof(wrbuf));
	return TEST_OK;
}

static int test_lseek_cur(void)
{
	EXPECT("lseek(0, 0, SEEK_CUR)", lkl_sys_lseek(0, 0, LKL_SEEK_CUR), 5);
	return TEST_OK;
}

static int test_lseek_end(void)
{
	EXPECT("lseek(0, 0, SEEK_END)", lkl_sys_lseek(0, 0, LKL_SEEK_END), 5);
	return TEST_OK;
}

static int test_lseek_set(void)
{
	EXPECT("lseek(0, 0, SEEK_SET)", lkl_sys_lseek(0, 0, LKL_SEEK_SET), 0);
	return TEST_OK;
}

static int test_read(void)
{
	char buf[16] = { 0 };

	EXPECT("lkl_sys_read", lkl_sys_read(0, buf, sizeof(buf)), sizeof(wrbuf));
	EXPECT("same bytes", memcmp(buf, wrbuf, sizeof(wrbuf)), 0);
	return TEST_OK;
}

static int test_fstat(void)
{
	struct lkl_stat st;

	EXPECT("lkl_sys_fstat", lkl_sys_fstat(0, &st), 0);
	EXPECT("st_size", st.st_size, sizeof(wrbuf));
	EXPECT("st_mode", st.st_mode, 0721 | LKL_S_IFREG);
	return TEST_OK;
}

static int test_mkdir(void)
{
	EXPECT("lkl_sys_mkdir(\"/mnt\", 0721)", lkl_sys_mkdir("/mnt", 0721), 0);
	return TEST_OK;
}

static int test_stat(void)
{
	struct lkl_stat st;

	EXPECT("lkl_sys_stat(\"/mnt\")", lkl_sys_stat("/mnt", &st), 0);
	EXPECT("st_mode", st.st_mode, 0721 | LKL_S_IFDIR);
	EXPECT("lkl_sys_lstat(\"/file\")", lkl_sys_lstat("/file", &st), 0);
	EXPECT("st_size", st.st_size, sizeof(wrbuf));
	return TEST_OK;
}

static int test_nanosleep(void)
{
	struct __lkl__kernel_timespec ts = { .tv_sec = 0, .tv_nsec = 87654321 };
	long long t = now_ns();

	EXPECT("lkl_sys_nanosleep", lkl_sys_nanosleep(&ts, NULL), 0);
	t = now_ns() - t;
	tlog("slept %lld ns\n", t);
	CHECK(t >= 87654321LL * 9 / 10);
	return TEST_OK;
}

static int test_pipe2(void)
{
	int fds[2];
	char c = 'x', d = 0;

	EXPECT("lkl_sys_pipe2", lkl_sys_pipe2(fds, LKL_O_NONBLOCK), 0);
	EXPECT("read from an empty pipe", lkl_sys_read(fds[0], &d, 1), -LKL_EAGAIN);
	EXPECT("write", lkl_sys_write(fds[1], &c, 1), 1);
	EXPECT("read", lkl_sys_read(fds[0], &d, 1), 1);
	EXPECT("same byte", d, 'x');
	EXPECT("close", lkl_sys_close(fds[0]), 0);
	EXPECT("close", lkl_sys_close(fds[1]), 0);
	return TEST_OK;
}

static int test_epoll(void)
{
	struct lkl_epoll_event ev = { .events = LKL_EPOLLIN }, out;
	int fds[2];
	long ep;

	EXPECT("lkl_sys_pipe2", lkl_sys_pipe2(fds, 0), 0);
	ep = lkl_sys_epoll_create1(0);
	CHECK(ep >= 0);
	ev.data = fds[0];
	EXPECT("epoll_ctl", lkl_sys_epoll_ctl(ep, LKL_EPOLL_CTL_ADD, fds[0], &ev), 0);
	EXPECT("epoll_wait, nothing written", lkl_sys_epoll_wait(ep, &out, 1, 0), 0);
	EXPECT("write", lkl_sys_write(fds[1], "x", 1), 1);
	EXPECT("epoll_wait after a write", lkl_sys_epoll_wait(ep, &out, 1, 0), 1);
	EXPECT("events", out.events, LKL_EPOLLIN);
	EXPECT("data", out.data, fds[0]);
	lkl_sys_close(ep);
	lkl_sys_close(fds[0]);
	lkl_sys_close(fds[1]);
	return TEST_OK;
}

/* LKL's wrappers whose shape differs from the x86_64 calls. */
static int test_wrappers(void)
{
	struct lkl_pollfd pfd;
	struct lkl_timeval tv = { 0, 1000 };
	lkl_fd_set rfds;
	int fds[2], sv[2];
	char c = 0;
	void *p;

	EXPECT("lkl_sys_pipe", lkl_sys_pipe(fds), 0);
	pfd.fd = fds[0];
	pfd.events = LKL_POLLIN;
	EXPECT("lkl_sys_poll, empty pipe", lkl_sys_poll(&pfd, 1, 0), 0);
	EXPECT("write", lkl_sys_write(fds[1], "y", 1), 1);
	EXPECT("lkl_sys_poll", lkl_sys_poll(&pfd, 1, 1000), 1);
	EXPECT("revents", pfd.revents, LKL_POLLIN);
	memset(&rfds, 0, sizeof(rfds));
	rfds.fds_bits[fds[0] / 64] |= 1UL << (fds[0] % 64);
	EXPECT("lkl_sys_select", lkl_sys_select(fds[0] + 1, &rfds, NULL, NULL, &tv), 1);
	lkl_sys_close(fds[0]);
	lkl_sys_close(fds[1]);

	EXPECT("socketpair", lkl_sys_socketpair(LKL_AF_UNIX, LKL_SOCK_STREAM, 0, sv), 0);
	EXPECT("lkl_sys_send", lkl_sys_send(sv[0], "z", 1, 0), 1);
	EXPECT("lkl_sys_recv", lkl_sys_recv(sv[1], &c, 1, 0), 1);
	EXPECT("same byte", c, 'z');
	lkl_sys_close(sv[0]);
	lkl_sys_close(sv[1]);

	p = lkl_sys_mmap(NULL, 8192, LKL_PROT_READ | LKL_PROT_WRITE,
			 LKL_MAP_PRIVATE | LKL_MAP_ANONYMOUS, -1, 0);
	tlog("lkl_sys_mmap: %p\n", p);
	CHECK((long)p > 0 || (long)p < -4095);
	memset(p, 1, 8192);
	EXPECT("munmap", lkl_sys_munmap((unsigned long)p, 8192), 0);

	EXPECT("lkl_sys_access(\"/file\")", lkl_sys_access("/file", 4 /* R_OK */), 0);
	EXPECT("lkl_sys_rename", lkl_sys_rename("/file", "/file3"), 0);
	EXPECT("lkl_sys_link", lkl_sys_link("/file3", "/file"), 0);
	EXPECT("lkl_sys_unlink", lkl_sys_unlink("/file3"), 0);
	return TEST_OK;
}

static int test_mount_fs_proc(void)
{
	EXPECT("lkl_mount_fs(\"proc\")", lkl_mount_fs("proc"), 0);
	EXPECT("again: already mounted", lkl_mount_fs("proc"), 1);
	return TEST_OK;
}

static int test_chdir_proc(void)
{
	EXPECT("lkl_sys_chdir(\"proc\")", lkl_sys_chdir("proc"), 0);
	return TEST_OK;
}

static int dir_fd;

static int test_open_cwd(void)
{
	dir_fd = lkl_sys_open(".", LKL_O_RDONLY | LKL_O_DIRECTORY, 0);
	tlog("fd %d\n", dir_fd);
	CHECK(dir_fd >= 0);
	return TEST_OK;
}

static int test_getdents64(void)
{
	char buf[4096] __attribute__((aligned(8)));
	long n = lkl_sys_getdents64(dir_fd, (void *)buf, sizeof(buf));
	int self = 0;

	CHECK(n > 0);
	for (long off = 0; off < n;) {
		struct lkl_linux_dirent64 *de = (void *)(buf + off);

		tlog("%s ", de->d_name);
		self |= strcmp(de->d_name, "self") == 0;
		off += de->d_reclen;
	}
	tlog("\n");
	EXPECT("/proc lists self", self, 1);
	return TEST_OK;
}

static int count_entries(struct lkl_dir *dir, int *has_one)
{
	struct lkl_linux_dirent64 *de;
	int n = 0;

	while ((de = lkl_readdir(dir))) {
		n++;
		if (has_one && strcmp(de->d_name, "1") == 0)
			*has_one = 1;
	}
	return n;
}

static int test_readdir(void)
{
	struct lkl_dir *dir;
	int err = 0, one = 0, n, m;
	long fd;

	dir = lkl_opendir("/nonexistent", &err);
	CHECK(dir == NULL);
	EXPECT("lkl_opendir error", err, -LKL_ENOENT);
	dir = lkl_opendir(".", &err);
	CHECK(dir != NULL);
	CHECK(lkl_dirfd(dir) >= 0);
	n = count_entries(dir, &one);
	EXPECT("lkl_errdir", lkl_errdir(dir), 0);
	tlog("%d entries\n", n);
	CHECK(n > 3 && one);
	lkl_rewinddir(dir);
	m = count_entries(dir, NULL);
	EXPECT("entries after lkl_rewinddir", m, n);
	EXPECT("lkl_closedir", lkl_closedir(dir), 0);

	fd = lkl_sys_open("/", LKL_O_RDONLY | LKL_O_DIRECTORY, 0);
	CHECK(fd >= 0);
	dir = lkl_fdopendir(fd, &err);
	CHECK(dir != NULL);
	EXPECT("lkl_dirfd", lkl_dirfd(dir), fd);
	n = count_entries(dir, NULL);
	tlog("/ has %d entries\n", n);
	CHECK(n >= 5);
	EXPECT("lkl_closedir", lkl_closedir(dir), 0);
	return TEST_OK;
}

static int test_close_dir_fd(void)
{
	EXPECT("close", lkl_sys_close(dir_fd), 0);
	return TEST_OK;
}

static int test_chdir_root(void)
{
	EXPECT("lkl_sys_chdir(\"/\")", lkl_sys_chdir("/"), 0);
	return TEST_OK;
}

static int test_umount_fs_proc(void)
{
	EXPECT("lkl_umount_timeout(\"proc\", 0, 1000)", lkl_umount_timeout("proc", 0, 1000), 0);
	EXPECT("not mounted any more", lkl_umount_timeout("proc", 0, 0), -LKL_EINVAL);
	return TEST_OK;
}

static int test_lo_ifup(void)
{
	EXPECT("lkl_if_up(1)", lkl_if_up(1), 0);
	EXPECT("lkl_if_down(1)", lkl_if_down(1), 0);
	EXPECT("lkl_if_up(1)", lkl_if_up(1), 0);
	EXPECT("lkl_if_up(no such interface)", lkl_if_up(4242), -LKL_ENODEV);
	return TEST_OK;
}

static int test_set_fd_limit(void)
{
	struct lkl_rlimit64 lim;

	EXPECT("lkl_set_fd_limit(65535)", lkl_set_fd_limit(65535), 0);
	EXPECT("prlimit64", lkl_sys_prlimit64(0, LKL_RLIMIT_NOFILE, NULL, &lim), 0);
	EXPECT("rlim_cur", lim.rlim_cur, 65535);
	return TEST_OK;
}

static int pipe_fds[2];
static char thread_buf[LKL_PIPE_BUF + 1];
static long thread_read;

static void reader(void *arg)
{
	(void)arg;
	while (thread_read < (long)sizeof(thread_buf)) {
		long n = lkl_sys_read(pipe_fds[0], thread_buf + thread_read,
				      sizeof(thread_buf) - thread_read);
		if (n <= 0)
			return;
		thread_read += n;
	}
}

static int test_syscall_thread(void)
{
	static char data[LKL_PIPE_BUF + 1];
	lkl_thread_t t;

	memset(data, 'a', sizeof(data));
	EXPECT("pipe2", lkl_sys_pipe2(pipe_fds, 0), 0);
	EXPECT("one-page pipe", lkl_sys_fcntl(pipe_fds[1], LKL_F_SETPIPE_SZ, 4096), 4096);
	t = lkl_host_ops.thread_create(reader, NULL);
	CHECK(t);
	EXPECT("write PIPE_BUF+1", lkl_sys_write(pipe_fds[1], data, sizeof(data)), sizeof(data));
	EXPECT("join", lkl_host_ops.thread_join(t), 0);
	EXPECT("bytes read by the other thread", thread_read, sizeof(data));
	EXPECT("same bytes", memcmp(data, thread_buf, sizeof(data)), 0);
	lkl_sys_close(pipe_fds[0]);
	lkl_sys_close(pipe_fds[1]);
	return TEST_OK;
}

static int pids_ok;

static void getpid_body(void *arg)
{
	(void)arg;
	if (lkl_sys_getpid() == 1)
		__atomic_add_fetch(&pids_ok, 1, __ATOMIC_SEQ_CST);
}

static int test_many_syscall_threads(void)
{
	lkl_thread_t t[64];

	for (int i = 0; i < 64; i++) {
		t[i] = lkl_host_ops.thread_create(getpid_body, NULL);
		CHECK(t[i]);
	}
	for (int i = 0; i < 64; i++)
		CHECK(lkl_host_ops.thread_join(t[i]) == 0);
	EXPECT("threads that saw getpid 1", pids_ok, 64);
	return TEST_OK;
}

static int test_printf(void)
{
	int printed, perrored;

	EXPECT("lkl_printf", lkl_printf("lkl_printf %d\n", 42), 14);
	lkl_perror("lkl_perror", -LKL_ENOENT);
	pthread_mutex_lock(&log_lock);
	logbuf[loglen] = 0;
	printed = strstr(logbuf, "lkl_printf 42\n") != NULL;
	perrored = strstr(logbuf, "lkl_perror: No such file or directory\n") != NULL;
	pthread_mutex_unlock(&log_lock);
	EXPECT("lkl_printf printed through .print", printed, 1);
	EXPECT("lkl_perror printed through .print", perrored, 1);
	return TEST_OK;
}

static int test_strerror(void)
{
	CHECK(strcmp(lkl_strerror(-LKL_ENOENT), "No such file or directory") == 0);
	CHECK(strcmp(lkl_strerror(LKL_EBUSY), "Device or resource busy") == 0);
	CHECK(strcmp(lkl_strerror(0), "Success") == 0);
	CHECK(strcmp(lkl_strerror(-100000), "Unknown error") == 0);
	return TEST_OK;
}

static int test_stop_kernel(void)
{
	EXPECT("lkl_sys_halt", lkl_sys_halt(), 0);
	EXPECT("lkl_is_running", lkl_is_running(), 0);
	lkl_cleanup();
	return TEST_OK;
}

static const struct test boot_tests[] = {
	{ "mutex", test_mutex },
	{ "semaphore", test_semaphore },
	{ "join", test_join },
	{ "host_ops", test_host_ops },
	{ "start_kernel", test_start_kernel },
	{ "getpid", test_getpid },
	{ "syscall_latency", test_syscall_latency },
	{ "umask", test_umask },
	{ "umask2", test_umask2 },
	{ "creat", test_creat },
	{ "close", test_close },
	{ "failopen", test_failopen },
	{ "open", test_open },
	{ "write", test_write },
	{ "lseek_cur", test_lseek_cur },
	{ "lseek_end", test_lseek_end },
	{ "lseek_set", test_lseek_set },
	{ "read", test_read },
	{ "fstat", test_fstat },
	{ "mkdir", test_mkdir },
	{ "stat", test_stat },
	{ "nanosleep", test_nanosleep },
	{ "pipe2", test_pipe2 },
	{ "epoll", test_epoll },
	{ "wrappers", test_wrappers },
	{ "mount_fs_proc", test_mount_fs_proc },
	{ "chdir_proc", test_chdir_proc },
	{ "open_cwd", test_open_cwd },
	{ "getdents64", test_getdents64 },
	{ "readdir", test_readdir },
	{ "close_dir_fd", test_close_dir_fd },
	{ "chdir_root", test_chdir_root },
	{ "umount_fs_proc", test_umount_fs_proc },
	{ "lo_ifup", test_lo_ifup },
	{ "set_fd_limit", test_set_fd_limit },
	{ "syscall_thread", test_syscall_thread },
	{ "many_syscall_threads", test_many_syscall_threads },
	{ "printf", test_printf },
	{ "strerror", test_strerror },
	{ "stop_kernel", test_stop_kernel },
};

/* ---- bad input, one process each ---- */

static int boot_refused(const char *line, const char *fmt, const char *arg)
{
	long long t = now_ns();
	int ret = arg ? lkl_start_kernel(fmt, arg) : lkl_start_kernel(fmt);
	int said;

	t = now_ns() - t;
	tlog("lkl_start_kernel(%s) = %d (%s) after %lld us\n", line, ret,
	     lkl_strerror(ret), t / 1000);
	CHECK(ret < 0);
	EXPECT("error", ret, -LKL_EINVAL);
	pthread_mutex_lock(&log_lock);
	said = loglen > 0 && strstr(logbuf, "lkl_start_kernel") != logbuf;
	pthread_mutex_unlock(&log_lock);
	EXPECT("a console line says why", said, 1);
	EXPECT("lkl_is_running", lkl_is_running(), 0);
	EXPECT("lkl_sys_getpid", lkl_sys_getpid(), -LKL_ENODEV);
	return TEST_OK;
}

static int test_bad_mem(void)
{
	return boot_refused("\"mem=1M\"", "mem=%s", "1M");
}

static int test_bad_quote(void)
{
	return boot_refused("\"mem=32M foo=\\\"bar\"", "mem=32M foo=\"bar", NULL);
}

static int test_lifecycle(void)
{
	EXPECT("lkl_sys_getpid before lkl_init", lkl_sys_getpid(), -LKL_ENODEV);
	EXPECT("lkl_is_running before lkl_init", lkl_is_running(), 0);
	EXPECT("lkl_sys_halt before boot", lkl_sys_halt(), -LKL_ENODEV);
	EXPECT("lkl_init(NULL)", lkl_init(NULL), -LKL_EINVAL);
	EXPECT("lkl_init", lkl_init(&lkl_host_ops), 0);
	EXPECT("lkl_sys_getpid before boot", lkl_sys_getpid(), -LKL_ENODEV);
	EXPECT("lkl_start_kernel", lkl_start_kernel(BOOT_LINE), 0);
	EXPECT("lkl_sys_getpid", lkl_sys_getpid(), 1);
	EXPECT("lkl_sys_halt", lkl_sys_halt(), 0);
	lkl_cleanup();
	EXPECT("lkl_sys_getpid after lkl_cleanup", lkl_sys_getpid(), -LKL_ENODEV);
	EXPECT("lkl_is_running after lkl_cleanup", lkl_is_running(), 0);
	EXPECT("lkl_sys_halt again", lkl_sys_halt(), -LKL_ENODEV);
	EXPECT("lkl_init again", lkl_init(&lkl_host_ops), 0);
	EXPECT("a second boot", lkl_start_kernel(BOOT_LINE), -LKL_EBUSY);
	lkl_cleanup();
	return TEST_OK;
}

/* Boots and halts with .print = NULL; nothing may reach stdout or stderr. */
static int test_silent(void)
{
	char tmpl[] = "/tmp/lkl-silent-XXXXXX";
	int out = mkstemp(tmpl), saved1, saved2;
	long ret1, ret2, ret3;
	off_t size;

	CHECK(out >= 0);
	unlink(tmpl);
	fflush(stdout);
	fflush(stderr);
	saved1 = dup(1);
	saved2 = dup(2);
	dup2(out, 1);
	dup2(out, 2);
	lkl_host_ops.print = NULL;
	lkl_init(&lkl_host_ops);
	ret1 = lkl_start_kernel(BOOT_LINE);
	ret2 = lkl_sys_getpid();
	lkl_printf("not printed\n");
	ret3 = lkl_sys_halt();
	lkl_cleanup();
	fflush(stdout);
	fflush(stderr);
	dup2(saved1, 1);
	dup2(saved2, 2);
	size = lseek(out, 0, SEEK_END);
	close(out);
	EXPECT("lkl_start_kernel", ret1, 0);
	EXPECT("lkl_sys_getpid", ret2, 1);
	EXPECT("lkl_sys_halt", ret3, 0);
	EXPECT("bytes written to stdout and stderr", size, 0);
	return TEST_OK;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "boot";

	setvbuf(stdout, NULL, _IOLBF, 0);
	lkl_host_ops.print = console;
	if (strcmp(mode, "boot") == 0) {
		if (lkl_init(&lkl_host_ops))
			return 2;
		return run_tests("boot", boot_tests, ARRAY_LEN(boot_tests));
	}
	if (strcmp(mode, "bad-mem") == 0 || strcmp(mode, "bad-quote") == 0) {
		struct test t = { mode, mode[4] == 'm' ? test_bad_mem : test_bad_quote };

		lkl_init(&lkl_host_ops);
		return run_tests(mode, &t, 1);
	}
	if (strcmp(mode, "lifecycle") == 0) {
		struct test t = { mode, test_lifecycle };

		return run_tests(mode, &t, 1);
	}
	if (strcmp(mode, "silent") == 0) {
		struct test t = { mode, test_silent };

		return run_tests(mode, &t, 1);
	}
	fprintf(stderr, "usage: %s [boot|bad-mem|bad-quote|lifecycle|silent]\n", argv[0]);
	return 2;
}
