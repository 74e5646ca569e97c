/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * lkl.h - the LKL-compatible C API of liblkl.a: Linux, run as a library.
 *
 * Build with: cc prog.c $(pkg-config --cflags --libs lkl)
 *
 * Every system call of the kernel's table has a function lkl_sys_<name>()
 * (<lkl/asm/syscalls.h>); they return the result or a negative errno
 * (-LKL_ENOENT). Kernel types and constants carry an lkl_/LKL_ prefix
 * (struct lkl_stat, LKL_O_RDWR), so this header can be included together
 * with the libc headers.
 */
#ifndef _LKL_H
#define _LKL_H

#include <stdarg.h>
#include <stdio.h>

#include <lkl/asm/host_ops.h>
#include <lkl/asm/syscalls.h>

#ifdef __cplusplus
extern "C" {
#endif

/* LKL's names for the x86_64 stat calls and the *at forms. */
#define lkl_sys_newstat lkl_sys_stat
#define lkl_sys_newlstat lkl_sys_lstat
#define lkl_sys_newfstat lkl_sys_fstat
#define lkl_sys_fstatat lkl_sys_newfstatat
#define lkl_sys_umount lkl_sys_umount2

/* LKL's wrappers for calls that x86_64 has only in another form. */
static inline long lkl_sys_send(int fd, void *buf, lkl_size_t len, int flags)
{
	return lkl_sys_sendto(fd, buf, len, flags, 0, 0);
}

static inline long lkl_sys_recv(int fd, void *buf, lkl_size_t len, int flags)
{
	return lkl_sys_recvfrom(fd, buf, len, flags, 0, 0);
}

static inline long lkl_sys_mmap_pgoff(unsigned long addr, unsigned long len,
				      unsigned long prot, unsigned long flags,
				      unsigned long fd, unsigned long pgoff)
{
	return (long)lkl_sys_mmap((void *)addr, len, (int)prot, (int)flags,
				  (int)fd, (lkl_off_t)(pgoff << 12));
}
#define lkl_sys_mmap2 lkl_sys_mmap_pgoff

/* lkl_strerror - description of a (negative or positive) kernel errno. */
const char *lkl_strerror(int err);

/* lkl_perror - print "msg: description" through the console function. */
void lkl_perror(char *msg, int err);

/*
 * Console output. lkl_printf and lkl_bug take a variable argument list,
 * which stable Rust cannot define, so they are formatted here and the
 * result goes to the library (lkl_print_str, lkl_bug_str), which hands it
 * to the .print member of the operations given to lkl_init.
 */
int lkl_print_str(const char *str, int len);
void lkl_bug_str(const char *str, int len) __attribute__((noreturn));

static inline int lkl_vformat_(char *buf, int size, const char *fmt,
			       va_list ap)
{
	int n = vsnprintf(buf, (size_t)size, fmt, ap);

	if (n < 0)
		return 0;
	return n < size ? n : size - 1;
}

/* lkl_printf - printf to the console function; returns bytes printed. */
static inline __attribute__((format(printf, 1, 2)))
int lkl_printf(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = lkl_vformat_(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return lkl_print_str(buf, n);
}

/* lkl_bug - print the message, then call .panic (abort if it returns). */
static inline __attribute__((format(printf, 1, 2), noreturn))
void lkl_bug(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = lkl_vformat_(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	lkl_bug_str(buf, n);
}

/* Mount a virtual file system (proc, sysfs) at /<fstype>: 0, 1 if already
 * mounted, or a negative errno. */
int lkl_mount_fs(char *fstype);

/* umount2(path, flags), retrying every 10 ms on -LKL_EBUSY until
 * timeout_ms has passed. */
long lkl_umount_timeout(char *path, int flags, long timeout_ms);

/* Directory streams over getdents64. On failure lkl_opendir returns NULL
 * and stores a negative errno in *err; lkl_readdir returns NULL at the end
 * and on errors, which lkl_errdir tells apart. */
struct lkl_dir;
struct lkl_dir *lkl_opendir(const char *path, int *err);
struct lkl_dir *lkl_fdopendir(int fd, int *err);
void lkl_rewinddir(struct lkl_dir *dir);
int lkl_closedir(struct lkl_dir *dir);
struct lkl_linux_dirent64 *lkl_readdir(struct lkl_dir *dir);
int lkl_errdir(struct lkl_dir *dir);
int lkl_dirfd(struct lkl_dir *dir);

/* Interfaces by index (1 is lo): set or clear IFF_UP. */
int lkl_if_up(int ifindex);
int lkl_if_down(int ifindex);

/* The kernel's RLIMIT_NOFILE for this process. */
int lkl_set_fd_limit(unsigned int fd_limit);

#ifdef __cplusplus
}
#endif

#endif
