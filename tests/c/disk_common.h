// SPDX-License-Identifier: GPL-2.0
/*
 * What the disk tests (disk.c, disk_hostile.c) share: an image copied into
 * memory and served through struct lkl_dev_blk_ops, the helpers that add a
 * disk, and the boot and halt steps. Included after tap.h, with BOOT_LINE
 * defined, by one test program each; everything here is static.
 */
#ifndef TESTS_C_DISK_COMMON_H
#define TESTS_C_DISK_COMMON_H

#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <lkl.h>
#include <lkl_host.h>

#include "tap.h"

#ifndef BOOT_LINE
#error "disk_common.h: define BOOT_LINE, the kernel's command line, first"
#endif

/* A copy of an image in memory, whose behaviour a test sets. */
struct memdisk {
	unsigned char *data;
	unsigned long long size;	/* what the data holds */
	unsigned long long capacity;	/* what get_capacity says */
	int flush_status;		/* what a FLUSH returns */
	int fail_all;			/* every request is an I/O error */
	int delay_us;			/* each request sleeps this long */
	atomic_int in_flight, most_in_flight;
	atomic_long requests, reads, writes, flushes, bad;
};

static int mem_get_capacity(struct lkl_disk d, unsigned long long *res)
{
	struct memdisk *m = d.handle;

	*res = m->capacity;
	return 0;
}

/* One request on m's data. Past the data but within the capacity (a huge
 * capacity), reads give zeroes and writes are dropped. */
static int memdisk_serve(struct memdisk *m, struct lkl_blk_req *req)
{
	unsigned long long off = req->sector * 512;
	int status = LKL_DEV_BLK_STATUS_OK;

	switch (req->type) {
	case LKL_DEV_BLK_TYPE_READ:
	case LKL_DEV_BLK_TYPE_WRITE:
		for (int i = 0; i < req->count; i++) {
			size_t len = req->buf[i].iov_len;

			if (off > m->capacity || len > m->capacity - off) {
				atomic_fetch_add(&m->bad, 1);
				status = LKL_DEV_BLK_STATUS_IOERR;
				break;
			}
			if (off >= m->size || len > m->size - off) {
				if (req->type == LKL_DEV_BLK_TYPE_READ)
					memset(req->buf[i].iov_base, 0, len);
			} else if (req->type == LKL_DEV_BLK_TYPE_READ) {
				memcpy(req->buf[i].iov_base, m->data + off, len);
			} else {
				memcpy(m->data + off, req->buf[i].iov_base, len);
			}
			off += len;
		}
		atomic_fetch_add(req->type == LKL_DEV_BLK_TYPE_READ ? &m->reads : &m->writes, 1);
		return status;
	case LKL_DEV_BLK_TYPE_FLUSH:
		if (req->count != 0)
			atomic_fetch_add(&m->bad, 1);
		atomic_fetch_add(&m->flushes, 1);
		return m->flush_status;
	default:
		return LKL_DEV_BLK_STATUS_UNSUP;
	}
}

static int mem_request(struct lkl_disk d, struct lkl_blk_req *req)
{
	struct memdisk *m = d.handle;
	int now = atomic_fetch_add(&m->in_flight, 1) + 1;
	int most = atomic_load(&m->most_in_flight);
	int status;

	/* The most requests seen at once, for tests of their overlap. */
	while (now > most && !atomic_compare_exchange_weak(&m->most_in_flight, &most, now))
		;
	atomic_fetch_add(&m->requests, 1);
	if (m->delay_us)
		usleep(m->delay_us);
	status = m->fail_all ? LKL_DEV_BLK_STATUS_IOERR : memdisk_serve(m, req);
	atomic_fetch_sub(&m->in_flight, 1);
	return status;
}

static struct lkl_dev_blk_ops mem_ops = {
	.get_capacity = mem_get_capacity,
	.request = mem_request,
};

/* Fills m with a copy of the file `image`, capacity its size, flushes
 * that succeed: 0, or -1 with m->data NULL. */
static int memdisk_load(struct memdisk *m, const char *image)
{
	struct stat st;
	int fd = open(image, O_RDONLY);

	memset(m, 0, sizeof(*m));
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0)
		goto fail;
	m->size = m->capacity = st.st_size;
	m->data = malloc(m->size);
	if (!m->data || read(fd, m->data, m->size) != (ssize_t)m->size)
		goto fail;
	close(fd);
	m->flush_status = LKL_DEV_BLK_STATUS_OK;
	return 0;
fail:
	free(m->data);
	m->data = NULL;
	close(fd);
	return -1;
}

/* lkl_disk_add of the image open at fd, d set up afresh. */
static int add_fd(struct lkl_disk *d, int fd)
{
	memset(d, 0, sizeof(*d));
	d->fd = fd;
	return lkl_disk_add(d);
}

/* lkl_disk_add_flags of m, served by mem_ops, d set up afresh. */
static int add_mem(struct lkl_disk *d, struct memdisk *m, unsigned int flags)
{
	memset(d, 0, sizeof(*d));
	d->handle = m;
	d->ops = &mem_ops;
	return lkl_disk_add_flags(d, flags);
}

/* The sysfs file `file` of block device dev (new_encode_dev's number). */
static void dev_sysfs_path(char *buf, size_t len, uint32_t dev, const char *file)
{
	snprintf(buf, len, "/sys/dev/block/%u:%u/%s", (dev >> 8) & 0xfff,
		 (dev & 0xff) | ((dev >> 12) & 0xfff00), file);
}

/* Neither the mount point nor the device node lkl_mount_dev makes for dev
 * is left behind. */
static int test_mount_point_and_node_gone(uint32_t dev)
{
	char where[32];

	snprintf(where, sizeof(where), "/mnt/%08x", dev);
	EXPECT("lkl_sys_access(mount point)", lkl_sys_access(where, F_OK), -LKL_ENOENT);
	snprintf(where, sizeof(where), "/dev/%08x", dev);
	EXPECT("lkl_sys_access(node)", lkl_sys_access(where, F_OK), -LKL_ENOENT);
	return TEST_OK;
}

static int test_start_kernel(void)
{
	EXPECT("lkl_start_kernel", lkl_start_kernel(BOOT_LINE), 0);
	return TEST_OK;
}

static int test_halt(void)
{
	EXPECT("lkl_sys_halt", lkl_sys_halt(), 0);
	return TEST_OK;
}

/* lkl_init with the console into the test's log; nonzero (said on
 * stderr) if it failed. */
static int init_with_console(void)
{
	lkl_host_ops.print = console;
	if (lkl_init(&lkl_host_ops) < 0) {
		fprintf(stderr, "lkl_init failed\n");
		return 1;
	}
	return 0;
}

#endif
