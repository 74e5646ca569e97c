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
#include <stdint.h>

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

/*
 * Disks. A struct lkl_disk with ops NULL is the image open at fd (a regular
 * file or a block device, whose size is a whole number of 512-byte
 * sectors), read and written with preadv/pwritev; the disk is read-only if
 * fd was opened O_RDONLY. The image is opened anew through /proc/self/fd
 * and locked (shared if read-only, else exclusive), so the same image
 * cannot be added twice for writing (-LKL_EBUSY); fd may be closed after
 * lkl_disk_add.
 *
 * With ops, the program serves the disk: get_capacity is called once, in
 * lkl_disk_add (0 and a size of at least 512 bytes and at most LLONG_MAX,
 * else -LKL_EFBIG; or a negative errno);
 * request is called with a copy of the struct lkl_disk as lkl_disk_add
 * leaves it (dev set), from the device's host I/O threads rather than from the
 * thread that runs the kernel as LKL does. Unlike LKL, requests of one
 * disk may come from several threads; they are still made one at a time
 * unless the disk is added with lkl_disk_add_flags(disk,
 * LKL_DISK_CONCURRENT_REQUESTS), which lets a thread-safe request run on
 * several threads at once. request must not call the disk functions below.
 * It returns LKL_DEV_BLK_STATUS_OK, _UNSUP, or anything else for an I/O
 * error. Requests are READ and WRITE of req->count buffers from sector
 * req->sector (512 bytes each) and FLUSH (no buffers: make the writes
 * done so far durable); a FLUSH answered with _UNSUP counts as done, as
 * for a disk without a write cache.
 */
struct iovec;

#define LKL_DEV_BLK_TYPE_READ		0
#define LKL_DEV_BLK_TYPE_WRITE		1
#define LKL_DEV_BLK_TYPE_FLUSH		4
#define LKL_DEV_BLK_TYPE_FLUSH_OUT	5

#define LKL_DEV_BLK_STATUS_OK		0
#define LKL_DEV_BLK_STATUS_IOERR	1
#define LKL_DEV_BLK_STATUS_UNSUP	2

struct lkl_blk_req {
	unsigned int type;
	unsigned int prio;		/* always 0 */
	unsigned long long sector;
	struct iovec *buf;
	int count;
};

struct lkl_dev_blk_ops;

struct lkl_disk {
	void *dev;			/* set by lkl_disk_add */
	union {
		int fd;
		void *handle;
	};
	struct lkl_dev_blk_ops *ops;
};

struct lkl_dev_blk_ops {
	int (*get_capacity)(struct lkl_disk disk, unsigned long long *res);
	int (*request)(struct lkl_disk disk, struct lkl_blk_req *req);
};

/* lkl_disk_add_flags: the disk's request may run on several threads at
 * once. */
#define LKL_DISK_CONCURRENT_REQUESTS	1

/* Add a disk, before or after lkl_start_kernel: its id (from 0) or a
 * negative errno (-LKL_EBADF for a bad fd, -LKL_EINVAL for what is not a
 * disk image or for ops without both functions). Sets disk->dev. */
int lkl_disk_add(struct lkl_disk *disk);
int lkl_disk_add_flags(struct lkl_disk *disk, unsigned int flags);
/* Remove the disk that lkl_disk_add set disk.dev for: 0, -LKL_EINVAL if it
 * names no disk, or -LKL_EBUSY while one of its block devices is open (a
 * file system of it is mounted). After lkl_sys_halt it always succeeds. */
int lkl_disk_remove(struct lkl_disk disk);
/* The device number (new_encode_dev) of partition part (0: whole disk):
 * 0, -LKL_ENODEV for an unknown disk, -LKL_ENOENT for a missing partition. */
int lkl_get_virtio_blkdev(int disk_id, unsigned int part, uint32_t *pdevid);
/* The device number in the sysfs file at sysfs_path ("MAJOR:MINOR"). */
int lkl_encode_dev_from_sysfs(const char *sysfs_path, uint32_t *pdevid);
/* Mount partition part (0: whole disk) through /dev/%08x on /mnt/%08x (the
 * device number), made if missing, and write that path to mnt_str (at
 * least 14 bytes, else -LKL_ERANGE). fs_type NULL tries every block file
 * system of the kernel. A read-only disk is mounted read-only. */
long lkl_mount_dev(unsigned int disk_id, unsigned int part, const char *fs_type,
		   int flags, const char *opts, char *mnt_str,
		   unsigned int mnt_str_len);
long lkl_mount_blkdev(unsigned int dev, const char *fs_type, int flags,
		      const char *opts, char *mnt_str, unsigned int mnt_str_len);
/* Unmount it, retrying every 10 ms on -LKL_EBUSY until timeout_ms, then
 * remove the mount point and the device node. */
long lkl_umount_dev(unsigned int disk_id, unsigned int part, int flags,
		    long timeout_ms);
long lkl_umount_blkdev(unsigned int dev, int flags, long timeout_ms);

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
