// SPDX-License-Identifier: GPL-2.0
/*
 * Hostile tests of LKL's disk API (lkl.h), in TAP13: what a careless or
 * unlucky program does to lkl_disk_add, lkl_disk_remove and the mount
 * functions. scripts/test-c.sh runs each scenario in its own process (one
 * kernel per process) on a copy of a small ext4 image:
 *
 *   disk_hostile ops IMAGE      odd capacities, failing and unsupported
 *                               requests, a slow request at halt
 *   disk_hostile handles IMAGE  stale structs, id reuse, odd fds, calls
 *                               before boot, after halt and after cleanup
 *   disk_hostile args IMAGE     bad partitions, garbage images, long
 *                               options, odd sysfs files, odd timeouts
 *   disk_hostile threads IMAGE  add/remove/mount/umount from several
 *                               threads, and against halt
 *   disk_hostile leaks IMAGE    200 add/remove cycles: no fd or thread
 *                               left; the process after halt and cleanup
 *   disk_hostile boot-race IMAGE
 *                               disks added before and while another
 *                               thread boots, each usable afterwards
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <lkl.h>
#include <lkl_host.h>

#define BOOT_LINE "mem=64M loglevel=4"

#include "tap.h"
#include "disk_common.h"

static const char *image;
static char mnt[32];
static char path[128];

/* ---- helpers ---- */

/* Entries of a /proc/self directory, "." and ".." left out. */
static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	/* opendir's own descriptor. */
	return strcmp(dir, "/proc/self/fd") == 0 ? n - 1 : n;
}

/* Logs the names of the process's threads, to tell whose they are, and
 * returns how many are named `name`. */
static int log_threads(const char *name_wanted)
{
	int named = 0;

	DIR *d = opendir("/proc/self/task");
	struct dirent *de;

	if (!d)
		return -1;
	tlog("threads:");
	while ((de = readdir(d))) {
		char file[300], name[32] = { 0 };
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(file, sizeof(file), "/proc/self/task/%s/comm", de->d_name);
		f = fopen(file, "r");
		if (f && fgets(name, sizeof(name), f))
			name[strcspn(name, "\n")] = 0;
		if (f)
			fclose(f);
		tlog(" %s", name);
		named += strcmp(name, name_wanted) == 0;
	}
	tlog("\n");
	closedir(d);
	return named;
}

/* The size in bytes the kernel sees for disk id, from sysfs; -1 if none. */
static long long kernel_size(int id)
{
	char buf[64] = { 0 };
	uint32_t dev;
	long fd, n;

	if (lkl_get_virtio_blkdev(id, 0, &dev) != 0)
		return -1;
	dev_sysfs_path(path, sizeof(path), dev, "size");
	fd = lkl_sys_open(path, LKL_O_RDONLY, 0);
	if (fd < 0)
		return -1;
	n = lkl_sys_read(fd, buf, sizeof(buf) - 1);
	lkl_sys_close(fd);
	return n > 0 ? strtoll(buf, NULL, 10) * 512 : -1;
}

/* Writes a file on the mount at mnt and fsyncs it: 0 or the errno. */
static long write_file(const char *name)
{
	long fd, ret;

	snprintf(path, sizeof(path), "%s/%s", mnt, name);
	fd = lkl_sys_open(path, LKL_O_CREAT | LKL_O_WRONLY | LKL_O_TRUNC, 0644);
	if (fd < 0)
		return fd;
	ret = lkl_sys_write(fd, "hostile\n", 8);
	if (ret == 8)
		ret = lkl_sys_fsync(fd);
	lkl_sys_close(fd);
	return ret;
}

/* ---- ops: capacities, failing requests, a slow request at halt ---- */

static struct memdisk odd, huge, noflush, broken, slow;
static struct lkl_disk odd_disk, huge_disk, noflush_disk, broken_disk, slow_disk;
static int odd_id, huge_id, noflush_id, broken_id, slow_id;

static int test_capacities(void)
{
	struct memdisk m;
	struct lkl_disk d;

	CHECK(memdisk_load(&m, image) == 0);
	m.capacity = 0;
	EXPECT("capacity 0", add_mem(&d, &m, 0), -LKL_EINVAL);
	m.capacity = 511;
	EXPECT("capacity 511", add_mem(&d, &m, 0), -LKL_EINVAL);
	free(m.data);

	/* Not a whole number of sectors: the tail is not seen, as in LKL. */
	CHECK(memdisk_load(&odd, image) == 0);
	odd.capacity = odd.size - 100;
	odd_id = add_mem(&odd_disk, &odd, 0);
	tlog("capacity %llu: id %d\n", odd.capacity, odd_id);
	CHECK(odd_id >= 0);

	/*
	 * More bytes than the kernel's loff_t holds: its sizes would be
	 * negative. Refused, or at most the largest size the kernel takes.
	 */
	CHECK(memdisk_load(&huge, image) == 0);
	huge.capacity = ULLONG_MAX;
	huge_id = add_mem(&huge_disk, &huge, 0);
	tlog("capacity ULLONG_MAX: %d\n", huge_id);
	CHECK(huge_id == -LKL_EINVAL || huge_id == -LKL_EFBIG || huge_id >= 0);
	return TEST_OK;
}

static int test_unsupported_flush(void)
{
	CHECK(memdisk_load(&noflush, image) == 0);
	noflush.flush_status = LKL_DEV_BLK_STATUS_UNSUP;
	noflush_id = add_mem(&noflush_disk, &noflush, 0);
	CHECK(noflush_id >= 0);
	CHECK(memdisk_load(&broken, image) == 0);
	broken.fail_all = 1;
	broken_id = add_mem(&broken_disk, &broken, 0);
	CHECK(broken_id >= 0);
	CHECK(memdisk_load(&slow, image) == 0);
	slow_id = add_mem(&slow_disk, &slow, 0);
	CHECK(slow_id >= 0);
	return TEST_OK;
}

static int test_capacities_seen(void)
{
	long long size;

	size = kernel_size(odd_id);
	EXPECT("odd capacity as the kernel sees it", size, (long long)(odd.capacity / 512 * 512));
	if (huge_id >= 0) {
		size = kernel_size(huge_id);
		tlog("huge disk: the kernel sees %lld bytes\n", size);
		CHECK(size > 0 && size <= LLONG_MAX);
		/* And it can still be used and removed. */
		EXPECT("lkl_disk_remove(huge)", lkl_disk_remove(huge_disk), 0);
	}
	EXPECT("lkl_disk_remove(odd)", lkl_disk_remove(odd_disk), 0);
	return TEST_OK;
}

static int test_flush_unsupported(void)
{
	/*
	 * A program with no cache to flush says FLUSH is not supported: the
	 * file system must still work, fsync included.
	 */
	EXPECT("lkl_mount_dev", lkl_mount_dev(noflush_id, 0, "ext4", 0, NULL, mnt, sizeof(mnt)),
	       0);
	EXPECT("write and fsync", write_file("f"), 0);
	tlog("flushes asked: %ld\n", atomic_load(&noflush.flushes));
	EXPECT("lkl_umount_dev", lkl_umount_dev(noflush_id, 0, 0, 1000), 0);
	EXPECT("lkl_disk_remove", lkl_disk_remove(noflush_disk), 0);
	return TEST_OK;
}

static int test_failing_requests(void)
{
	long ret = lkl_mount_dev(broken_id, 0, "ext4", 0, NULL, mnt, sizeof(mnt));

	tlog("mount of a disk whose every request fails: %ld (%s)\n", ret, lkl_strerror(ret));
	CHECK(ret < 0);
	CHECK(atomic_load(&broken.requests) > 0);
	/* Nothing is left mounted or open: removal works. */
	EXPECT("lkl_disk_remove", lkl_disk_remove(broken_disk), 0);
	return TEST_OK;
}

static int test_slow_halt_mounted(void)
{
	long long t0;

	EXPECT("lkl_mount_dev", lkl_mount_dev(slow_id, 0, "ext4", 0, NULL, mnt, sizeof(mnt)), 0);
	EXPECT("write", write_file("slow"), 0);
	/* Dirty data for the halt's sync, on a disk with slow requests. */
	snprintf(path, sizeof(path), "%s/dirty", mnt);
	{
		long fd = lkl_sys_open(path, LKL_O_CREAT | LKL_O_WRONLY, 0644);
		static char block[64 * 1024];

		CHECK(fd >= 0);
		memset(block, 'x', sizeof(block));
		EXPECT("write", lkl_sys_write(fd, block, sizeof(block)), sizeof(block));
		lkl_sys_close(fd);
	}
	slow.delay_us = 20000;
	t0 = now_ns();
	EXPECT("lkl_sys_halt while mounted", lkl_sys_halt(), 0);
	tlog("halt took %lld ms, %ld requests\n", (now_ns() - t0) / 1000000,
	     atomic_load(&slow.requests));
	/* The halt's sync wrote the data to the program's buffer. */
	CHECK(memmem(slow.data, slow.size, "hostile\n", 8) != NULL);
	EXPECT("lkl_disk_remove after halt", lkl_disk_remove(slow_disk), 0);
	return TEST_OK;
}

static const struct test ops_tests[] = {
	{ "capacities", test_capacities },
	{ "more_disks", test_unsupported_flush },
	{ "start_kernel", test_start_kernel },
	{ "capacities_seen", test_capacities_seen },
	{ "flush_unsupported", test_flush_unsupported },
	{ "failing_requests", test_failing_requests },
	{ "slow_halt_mounted", test_slow_halt_mounted },
};

/* ---- handles: stale structs, id reuse, fds ---- */

static int test_not_running(void)
{
	struct lkl_disk d;
	uint32_t dev;
	int id, fd = open(image, O_RDWR);

	CHECK(fd >= 0);
	id = add_fd(&d, fd);
	close(fd);
	CHECK(id >= 0);
	/* The kernel does not run: no device numbers, no mounts. */
	EXPECT("lkl_get_virtio_blkdev before boot", lkl_get_virtio_blkdev(id, 0, &dev),
	       -LKL_ENODEV);
	EXPECT("lkl_mount_dev before boot",
	       lkl_mount_dev(id, 0, "ext4", 0, NULL, mnt, sizeof(mnt)), -LKL_ENODEV);
	EXPECT("lkl_umount_dev before boot", lkl_umount_dev(id, 0, 0, 0), -LKL_ENODEV);
	EXPECT("lkl_umount_blkdev before boot", lkl_umount_blkdev(0xfe00, 0, 0), -LKL_ENODEV);
	EXPECT("lkl_encode_dev_from_sysfs before boot",
	       lkl_encode_dev_from_sysfs("/sys/block/vda/dev", &dev), -LKL_ENODEV);
	EXPECT("lkl_disk_remove", lkl_disk_remove(d), 0);
	return TEST_OK;
}

static int test_stale_struct(void)
{
	struct lkl_disk a, copy, b;
	int fd = open(image, O_RDWR), id_a, id_b;

	CHECK(fd >= 0);
	id_a = add_fd(&a, fd);
	CHECK(id_a >= 0);
	copy = a;
	EXPECT("lkl_disk_remove", lkl_disk_remove(a), 0);
	EXPECT("lkl_disk_remove again", lkl_disk_remove(a), -LKL_EINVAL);
	/* The id is free again; the same fd makes a new disk. */
	id_b = add_fd(&b, fd);
	close(fd);
	tlog("first id %d, after re-add %d\n", id_a, id_b);
	CHECK(id_b >= 0);
	/* A copy of the removed disk's struct names nothing, not the new one. */
	EXPECT("lkl_disk_remove(stale copy)", lkl_disk_remove(copy), -LKL_EINVAL);
	EXPECT("lkl_disk_remove(new)", lkl_disk_remove(b), 0);
	return TEST_OK;
}

static struct lkl_disk kept;
static int kept_id;

static int test_odd_fds(void)
{
	struct lkl_disk d;
	int fd, sv[2], id;
	char tmpl[] = "/tmp/lkl-hostile-XXXXXX";

	/* A socket is no image. */
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	id = add_fd(&d, sv[0]);
	tlog("a socket: %d\n", id);
	CHECK(id < 0);
	close(sv[0]);
	close(sv[1]);

	/* An O_PATH fd opens no file for reading or writing. */
	fd = open(image, O_PATH);
	CHECK(fd >= 0);
	id = add_fd(&d, fd);
	tlog("an O_PATH fd: %d\n", id);
	if (id >= 0)
		EXPECT("lkl_disk_remove", lkl_disk_remove(d), 0);
	close(fd);

	/* An image no longer in any directory is still an image. */
	fd = mkstemp(tmpl);
	CHECK(fd >= 0);
	unlink(tmpl);
	CHECK(ftruncate(fd, 1 << 20) == 0);
	id = add_fd(&d, fd);
	close(fd);
	CHECK(id >= 0);
	EXPECT("lkl_disk_remove(unlinked image)", lkl_disk_remove(d), 0);

	/* Read-only fds share the image; a writable one is refused then. */
	{
		struct lkl_disk r1, r2;
		int fd1 = open(image, O_RDONLY), fd2 = open(image, O_RDONLY);
		int fdw = open(image, O_RDWR);

		CHECK(fd1 >= 0 && fd2 >= 0 && fdw >= 0);
		CHECK(add_fd(&r1, fd1) >= 0);
		CHECK(add_fd(&r2, fd2) >= 0);
		EXPECT("writable while read-only disks have it", add_fd(&d, fdw), -LKL_EBUSY);
		EXPECT("lkl_disk_remove(r1)", lkl_disk_remove(r1), 0);
		EXPECT("lkl_disk_remove(r2)", lkl_disk_remove(r2), 0);
		close(fd1);
		close(fd2);
		close(fdw);
	}

	/* The program closes its fd, and dup2s something else over it. */
	fd = open(image, O_RDWR);
	CHECK(fd >= 0);
	kept_id = add_fd(&kept, fd);
	CHECK(kept_id >= 0);
	{
		int other = open("/dev/null", O_RDWR);

		CHECK(other >= 0);
		CHECK(dup2(other, fd) == fd);
		close(other);
		close(fd);
	}
	return TEST_OK;
}

static int test_kept_disk_works(void)
{
	EXPECT("lkl_mount_dev", lkl_mount_dev(kept_id, 0, "ext4", 0, NULL, mnt, sizeof(mnt)), 0);
	EXPECT("write", write_file("kept"), 0);
	EXPECT("lkl_umount_dev", lkl_umount_dev(kept_id, 0, 0, 1000), 0);
	return TEST_OK;
}

static int test_after_halt(void)
{
	struct lkl_disk d;
	uint32_t dev;
	int id, fd;

	EXPECT("lkl_get_virtio_blkdev after halt", lkl_get_virtio_blkdev(kept_id, 0, &dev),
	       -LKL_ENODEV);
	EXPECT("lkl_mount_dev after halt",
	       lkl_mount_dev(kept_id, 0, "ext4", 0, NULL, mnt, sizeof(mnt)), -LKL_ENODEV);
	EXPECT("lkl_disk_remove after halt", lkl_disk_remove(kept), 0);
	EXPECT("lkl_disk_remove again", lkl_disk_remove(kept), -LKL_EINVAL);
	/* A disk added after halt can be removed; the kernel never sees it. */
	fd = open(image, O_RDWR);
	CHECK(fd >= 0);
	id = add_fd(&d, fd);
	close(fd);
	tlog("added after halt: %d\n", id);
	if (id >= 0)
		EXPECT("lkl_disk_remove", lkl_disk_remove(d), 0);
	lkl_cleanup();
	/* And after lkl_cleanup, as before. */
	fd = open(image, O_RDWR);
	CHECK(fd >= 0);
	id = add_fd(&d, fd);
	close(fd);
	tlog("added after cleanup: %d\n", id);
	if (id >= 0)
		EXPECT("lkl_disk_remove", lkl_disk_remove(d), 0);
	EXPECT("lkl_get_virtio_blkdev after cleanup", lkl_get_virtio_blkdev(0, 0, &dev),
	       -LKL_ENODEV);
	return TEST_OK;
}

static int test_exhaustion(void)
{
	static struct lkl_disk many[80];
	struct memdisk m;
	int n = 0, ret = 0;

	CHECK(memdisk_load(&m, image) == 0);
	/* Every interrupt taken: the next disk is refused, nothing breaks. */
	while (n < 80 && (ret = add_mem(&many[n], &m, 0)) >= 0)
		n++;
	tlog("%d disks, then %d\n", n, ret);
	EXPECT("the disk after the last interrupt", ret, -LKL_ENOSPC);
	CHECK(n >= 32);
	for (int i = 0; i < n; i++)
		EXPECT("lkl_disk_remove", lkl_disk_remove(many[i]), 0);
	/* All free again. */
	CHECK(add_mem(&many[0], &m, 0) >= 0);
	EXPECT("lkl_disk_remove", lkl_disk_remove(many[0]), 0);
	free(m.data);
	return TEST_OK;
}

static const struct test handle_tests[] = {
	{ "exhaustion", test_exhaustion },
	{ "not_running", test_not_running },
	{ "stale_struct", test_stale_struct },
	{ "start_kernel", test_start_kernel },
	{ "stale_struct_running", test_stale_struct },
	{ "odd_fds", test_odd_fds },
	{ "kept_disk_works", test_kept_disk_works },
	{ "halt", test_halt },
	{ "after_halt", test_after_halt },
};

/* ---- args: partitions, garbage images, long options, sysfs files ---- */

static struct lkl_disk adisk, garbage;
static int aid, garbage_id;
static uint32_t adev;

static int test_args_disks(void)
{
	int fd = open(image, O_RDWR);
	char tmpl[] = "/tmp/lkl-garbage-XXXXXX";
	char junk[4096];

	CHECK(fd >= 0);
	aid = add_fd(&adisk, fd);
	close(fd);
	CHECK(aid >= 0);
	/* 4 MiB of a repeating pattern: no file system's signature. */
	fd = mkstemp(tmpl);
	CHECK(fd >= 0);
	unlink(tmpl);
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (char)(i * 7 + 3);
	for (int i = 0; i < 1024; i++)
		CHECK(write(fd, junk, sizeof(junk)) == (ssize_t)sizeof(junk));
	garbage_id = add_fd(&garbage, fd);
	close(fd);
	CHECK(garbage_id >= 0);
	return TEST_OK;
}

static int test_partitions(void)
{
	uint32_t dev;

	EXPECT("partition 1 of an unpartitioned disk",
	       lkl_get_virtio_blkdev(aid, 1, &dev), -LKL_ENOENT);
	EXPECT("partition UINT_MAX", lkl_get_virtio_blkdev(aid, UINT_MAX, &dev), -LKL_ENOENT);
	EXPECT("lkl_mount_dev(part UINT_MAX)",
	       lkl_mount_dev(aid, UINT_MAX, "ext4", 0, NULL, mnt, sizeof(mnt)), -LKL_ENOENT);
	EXPECT("disk id UINT_MAX", lkl_mount_dev(UINT_MAX, 0, "ext4", 0, NULL, mnt, sizeof(mnt)),
	       -LKL_ENODEV);
	EXPECT("lkl_umount_dev(part UINT_MAX)", lkl_umount_dev(aid, UINT_MAX, 0, 0), -LKL_ENOENT);
	EXPECT("lkl_get_virtio_blkdev(INT_MIN)", lkl_get_virtio_blkdev(INT_MIN, 0, &dev),
	       -LKL_ENODEV);
	return TEST_OK;
}

static int test_garbage_image(void)
{
	long ret;

	/* No type: every block file system is tried, none takes it. */
	ret = lkl_mount_dev(garbage_id, 0, NULL, 0, NULL, mnt, sizeof(mnt));
	tlog("garbage, no type: %ld (%s)\n", ret, lkl_strerror(ret));
	EXPECT("garbage, no type", ret, -LKL_EINVAL);
	ret = lkl_mount_dev(garbage_id, 0, "ext4", 0, NULL, mnt, sizeof(mnt));
	tlog("garbage as ext4: %ld (%s)\n", ret, lkl_strerror(ret));
	EXPECT("garbage as ext4", ret, -LKL_EINVAL);
	/* Neither a mount point nor a device node is left behind. */
	EXPECT("lkl_get_virtio_blkdev", lkl_get_virtio_blkdev(garbage_id, 0, &adev), 0);
	if (test_mount_point_and_node_gone(adev) != TEST_OK)
		return TEST_FAIL;
	EXPECT("lkl_disk_remove", lkl_disk_remove(garbage), 0);
	return TEST_OK;
}

static int test_mount_strings(void)
{
	char exact[14], *opts;
	size_t len = 1 << 20;
	long ret;

	EXPECT("lkl_get_virtio_blkdev", lkl_get_virtio_blkdev(aid, 0, &adev), 0);
	/* "/mnt/" + 8 hex digits + NUL: exactly 14 bytes is enough. */
	EXPECT("mnt_str of 13", lkl_mount_dev(aid, 0, "ext4", 0, NULL, exact, 13), -LKL_ERANGE);
	EXPECT("mnt_str of 0", lkl_mount_dev(aid, 0, "ext4", 0, NULL, exact, 0), -LKL_ERANGE);
	EXPECT("mnt_str of 14", lkl_mount_dev(aid, 0, "ext4", 0, NULL, exact, 14), 0);
	snprintf(path, sizeof(path), "/mnt/%08x", adev);
	CHECK(strcmp(exact, path) == 0);
	EXPECT("lkl_umount_dev", lkl_umount_dev(aid, 0, 0, 1000), 0);

	/* Options of a megabyte: refused by the file system, nothing breaks. */
	opts = malloc(len);
	CHECK(opts != NULL);
	memset(opts, 'a', len - 1);
	opts[len - 1] = 0;
	ret = lkl_mount_dev(aid, 0, "ext4", 0, opts, mnt, sizeof(mnt));
	tlog("a megabyte of options: %ld (%s)\n", ret, lkl_strerror(ret));
	CHECK(ret < 0);
	free(opts);
	/* Not UTF-8. */
	EXPECT("fs_type not UTF-8",
	       lkl_mount_dev(aid, 0, "\xff\xfe", 0, NULL, mnt, sizeof(mnt)), -LKL_EINVAL);

	/*
	 * The order of the checks, in both entry points: the buffer first (as
	 * LKL checks its length before anything), then the strings, then the
	 * disk or device.
	 */
	EXPECT("unknown disk, mnt_str of 13",
	       lkl_mount_dev(1234, 0, "ext4", 0, NULL, exact, 13), -LKL_ERANGE);
	EXPECT("unknown disk, mnt_str NULL",
	       lkl_mount_dev(1234, 0, "ext4", 0, NULL, NULL, 64), -LKL_EINVAL);
	EXPECT("unknown disk, opts not UTF-8",
	       lkl_mount_dev(1234, 0, "ext4", 0, "\xff", mnt, sizeof(mnt)), -LKL_EINVAL);
	EXPECT("unknown disk", lkl_mount_dev(1234, 0, "ext4", 0, NULL, mnt, sizeof(mnt)),
	       -LKL_ENODEV);
	EXPECT("blkdev, mnt_str of 13", lkl_mount_blkdev(adev, "ext4", 0, NULL, exact, 13),
	       -LKL_ERANGE);
	EXPECT("blkdev, mnt_str NULL", lkl_mount_blkdev(adev, "ext4", 0, NULL, NULL, 64),
	       -LKL_EINVAL);
	EXPECT("blkdev, fs_type not UTF-8",
	       lkl_mount_blkdev(adev, "\xff", 0, NULL, mnt, sizeof(mnt)), -LKL_EINVAL);
	/* Nothing was made for any of them. */
	if (test_mount_point_and_node_gone(adev) != TEST_OK)
		return TEST_FAIL;
	EXPECT("blkdev, mnt_str of 14", lkl_mount_blkdev(adev, "ext4", 0, NULL, exact, 14), 0);
	CHECK(strcmp(exact, path) == 0);
	EXPECT("lkl_umount_blkdev", lkl_umount_blkdev(adev, 0, 1000), 0);
	return TEST_OK;
}

static int test_umount_timeouts(void)
{
	long long t0;
	long ret, fd;

	EXPECT("lkl_mount_dev", lkl_mount_dev(aid, 0, "ext4", 0, NULL, mnt, sizeof(mnt)), 0);
	snprintf(path, sizeof(path), "%s/busy", mnt);
	fd = lkl_sys_open(path, LKL_O_CREAT | LKL_O_RDWR, 0644);
	CHECK(fd >= 0);
	/* A negative timeout is no wait at all. */
	t0 = now_ns();
	ret = lkl_umount_dev(aid, 0, 0, -5);
	t0 = (now_ns() - t0) / 1000000;
	tlog("negative timeout: %ld after %lld ms\n", ret, t0);
	EXPECT("lkl_umount_dev(timeout -5)", ret, -LKL_EBUSY);
	CHECK(t0 < 1000);
	lkl_sys_close(fd);
	/* The longest timeout is fine when nothing is busy. */
	EXPECT("lkl_umount_dev(LONG_MAX)", lkl_umount_dev(aid, 0, 0, LONG_MAX), 0);
	/* Unknown umount2 flags are the kernel's to refuse. */
	EXPECT("lkl_umount_blkdev(not mounted)", lkl_umount_blkdev(adev, 0, 0), -LKL_ENOENT);
	return TEST_OK;
}

static int test_sysfs_files(void)
{
	uint32_t dev = 0;
	long fd;
	long long t0;
	int ret;

	EXPECT("no such file", lkl_encode_dev_from_sysfs("/sys/nonexistent/dev", &dev),
	       -LKL_ENOENT);
	EXPECT("a directory", lkl_encode_dev_from_sysfs("/sys/block", &dev), -LKL_EISDIR);
	EXPECT("empty path", lkl_encode_dev_from_sysfs("", &dev), -LKL_ENOENT);
	/* Made-up dev files: not a device number. */
	fd = lkl_sys_open("/bad-dev", LKL_O_CREAT | LKL_O_WRONLY | LKL_O_TRUNC, 0644);
	CHECK(fd >= 0);
	EXPECT("write", lkl_sys_write(fd, "254:0 trailing\n", 15), 15);
	lkl_sys_close(fd);
	EXPECT("a dev file with more", lkl_encode_dev_from_sysfs("/bad-dev", &dev),
	       -LKL_EINVAL);
	/*
	 * A file with no end: /dev/zero. A dev file is a few bytes; reading
	 * on would fill the host's memory.
	 */
	EXPECT("mknod /zero", lkl_sys_mknod("/zero", LKL_S_IFCHR | 0600, (1 << 8) | 5), 0);
	t0 = now_ns();
	ret = lkl_encode_dev_from_sysfs("/zero", &dev);
	t0 = (now_ns() - t0) / 1000000;
	tlog("/dev/zero: %d after %lld ms\n", ret, t0);
	EXPECT("a file with no end", ret, -LKL_EINVAL);
	CHECK(t0 < 2000);
	return TEST_OK;
}

static int test_args_cleanup(void)
{
	EXPECT("lkl_disk_remove", lkl_disk_remove(adisk), 0);
	return TEST_OK;
}

static const struct test args_tests[] = {
	{ "args_disks", test_args_disks },
	{ "start_kernel", test_start_kernel },
	{ "partitions", test_partitions },
	{ "garbage_image", test_garbage_image },
	{ "mount_strings", test_mount_strings },
	{ "umount_timeouts", test_umount_timeouts },
	{ "sysfs_files", test_sysfs_files },
	{ "remove", test_args_cleanup },
	{ "halt", test_halt },
};

/* ---- threads: concurrent add/remove/mount/umount, boot and halt ---- */

#define WORKERS 4
#define ROUNDS 15

struct worker {
	pthread_t thread;
	struct memdisk m;
	int failures;
	char why[160];
};

static struct worker workers[WORKERS];

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	char where[32];

	for (int round = 0; round < ROUNDS && !w->failures; round++) {
		struct lkl_disk d;
		int id = add_mem(&d, &w->m, LKL_DISK_CONCURRENT_REQUESTS);
		long ret;

		if (id < 0) {
			snprintf(w->why, sizeof(w->why), "round %d: add %d", round, id);
			w->failures++;
			break;
		}
		ret = lkl_mount_dev(id, 0, "ext4", LKL_MS_RDONLY, NULL, where, sizeof(where));
		if (ret == 0) {
			ret = lkl_disk_remove(d);
			if (ret != -LKL_EBUSY) {
				snprintf(w->why, sizeof(w->why),
					 "round %d: remove while mounted %ld", round, ret);
				w->failures++;
			}
			ret = lkl_umount_dev(id, 0, 0, 1000);
		}
		if (ret != 0) {
			snprintf(w->why, sizeof(w->why), "round %d: mount/umount %ld", round, ret);
			w->failures++;
		}
		ret = lkl_disk_remove(d);
		if (ret != 0) {
			snprintf(w->why, sizeof(w->why), "round %d: remove %ld", round, ret);
			w->failures++;
		}
	}
	return NULL;
}

static int test_load_disks(void)
{
	for (int i = 0; i < WORKERS; i++)
		CHECK(memdisk_load(&workers[i].m, image) == 0);
	return TEST_OK;
}

static int test_concurrent_cycles(void)
{
	int failures = 0;

	for (int i = 0; i < WORKERS; i++)
		CHECK(pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]) == 0);
	for (int i = 0; i < WORKERS; i++) {
		pthread_join(workers[i].thread, NULL);
		if (workers[i].failures)
			tlog("worker %d: %s\n", i, workers[i].why);
		failures += workers[i].failures;
	}
	EXPECT("failures", failures, 0);
	return TEST_OK;
}

static struct lkl_disk shared;
static atomic_int remove_results[2];

static void *remove_shared(void *arg)
{
	atomic_store(&remove_results[(long)arg], lkl_disk_remove(shared));
	return NULL;
}

static int test_remove_race(void)
{
	for (int round = 0; round < 20; round++) {
		pthread_t t[2];
		int a, b;

		CHECK(add_mem(&shared, &workers[0].m, 0) >= 0);
		for (long i = 0; i < 2; i++)
			CHECK(pthread_create(&t[i], NULL, remove_shared, (void *)i) == 0);
		for (int i = 0; i < 2; i++)
			pthread_join(t[i], NULL);
		a = atomic_load(&remove_results[0]);
		b = atomic_load(&remove_results[1]);
		/* One removes it; the other finds nothing to remove. */
		if (!((a == 0 && b == -LKL_EINVAL) || (a == -LKL_EINVAL && b == 0))) {
			tlog("round %d: %d and %d\n", round, a, b);
			return TEST_FAIL;
		}
	}
	tlog("20 rounds: one 0 and one -EINVAL each\n");
	return TEST_OK;
}

static atomic_int halted, adds_after_halt;
static atomic_long race_failures;

static void *churn(void *arg)
{
	struct memdisk *m = arg;

	while (!atomic_load(&halted)) {
		struct lkl_disk d;
		int id = add_mem(&d, m, 0), ret;

		if (id < 0)
			continue;	/* -ENODEV while the halt runs */
		ret = lkl_disk_remove(d);
		if (ret != 0) {
			/* The halt won the race: the device is gone, so it goes now. */
			if (!atomic_load(&halted))
				usleep(1000);
			while (!atomic_load(&halted))
				usleep(1000);
			ret = lkl_disk_remove(d);
			if (ret != 0) {
				tlog("remove after halt: %d\n", ret);
				atomic_fetch_add(&race_failures, 1);
			}
			break;
		}
	}
	return NULL;
}

static int test_halt_race(void)
{
	pthread_t t[2];

	for (long i = 0; i < 2; i++)
		CHECK(pthread_create(&t[i], NULL, churn, &workers[i + 1].m) == 0);
	usleep(200000);
	EXPECT("lkl_sys_halt during add/remove", lkl_sys_halt(), 0);
	atomic_store(&halted, 1);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	EXPECT("failures", atomic_load(&race_failures), 0);
	(void)adds_after_halt;
	return TEST_OK;
}

#define BOOT_RACE_MAX 40

static struct lkl_disk boot_race_disks[BOOT_RACE_MAX];
static int boot_race_ids[BOOT_RACE_MAX];
static atomic_int boot_race_n, boot_race_done;

static void *add_during_boot(void *arg)
{
	(void)arg;
	/* A disk every millisecond, before and while the kernel boots. */
	while (!atomic_load(&boot_race_done) && atomic_load(&boot_race_n) < BOOT_RACE_MAX) {
		int i = atomic_load(&boot_race_n);

		boot_race_ids[i] = add_mem(&boot_race_disks[i], &workers[i % WORKERS].m, 0);
		atomic_store(&boot_race_n, i + 1);
		usleep(1000);
	}
	return NULL;
}

static int test_boot_race(void)
{
	pthread_t t;
	int failed = 0, n;

	for (int i = 0; i < WORKERS; i++)
		CHECK(memdisk_load(&workers[i].m, image) == 0);
	CHECK(pthread_create(&t, NULL, add_during_boot, NULL) == 0);
	EXPECT("lkl_start_kernel", lkl_start_kernel(BOOT_LINE), 0);
	atomic_store(&boot_race_done, 1);
	pthread_join(t, NULL);
	n = atomic_load(&boot_race_n);
	/* Added before, during or after the boot, each must be usable. */
	for (int i = 0; i < n; i++) {
		uint32_t dev;

		if (boot_race_ids[i] < 0 || lkl_get_virtio_blkdev(boot_race_ids[i], 0, &dev) != 0) {
			tlog("disk %d of %d: lkl_disk_add gave %d\n", i, n, boot_race_ids[i]);
			failed++;
		} else if (lkl_disk_remove(boot_race_disks[i]) != 0) {
			tlog("disk %d: not removed\n", i);
			failed++;
		}
	}
	tlog("%d disks added while booting\n", n);
	EXPECT("disks that failed", failed, 0);
	return TEST_OK;
}

/*
 * The kernel takes its boot list part-way through the boot and hotplugged
 * devices only once it runs; a disk added in between must wait for the
 * boot to end, not fail with -ENODEV.
 */
static const struct test boot_race_tests[] = {
	{ "boot_race", test_boot_race },
};

static const struct test thread_tests[] = {
	{ "start_kernel", test_start_kernel },
	{ "load_disks", test_load_disks },
	{ "concurrent_cycles", test_concurrent_cycles },
	{ "remove_race", test_remove_race },
	{ "halt_race", test_halt_race },
};

/* ---- leaks ---- */

#ifndef CYCLES
#define CYCLES 200
#endif

static int fds0, threads0, fds_booted, threads_booted;

static int test_baseline(void)
{
	fds0 = count_entries("/proc/self/fd");
	threads0 = count_entries("/proc/self/task");
	tlog("before boot: %d fds, %d threads\n", fds0, threads0);
	CHECK(fds0 > 0 && threads0 > 0);
	return TEST_OK;
}

static int test_booted_baseline(void)
{
	struct lkl_disk d;
	uint32_t dev;
	int fd = open(image, O_RDWR), id;

	/*
	 * Cycles first: sysfs and proc get mounted, and the kernel's worker
	 * pools grow to what hotplug needs (by 2 threads here, then never).
	 */
	CHECK(fd >= 0);
	for (int i = 0; i < 50; i++) {
		id = add_fd(&d, fd);
		CHECK(id >= 0);
		EXPECT("lkl_get_virtio_blkdev", lkl_get_virtio_blkdev(id, 0, &dev), 0);
		EXPECT("lkl_disk_remove", lkl_disk_remove(d), 0);
	}
	close(fd);
	fds_booted = count_entries("/proc/self/fd");
	threads_booted = count_entries("/proc/self/task");
	tlog("booted: %d fds, %d threads\n", fds_booted, threads_booted);
	EXPECT("disk I/O threads", log_threads("lkl-blk"), 0);
	return TEST_OK;
}

static int test_cycles(void)
{
	struct memdisk m;
	int fds, threads;

	CHECK(memdisk_load(&m, image) == 0);
	{
		/* The probe sees a live disk's I/O threads. */
		struct lkl_disk d;

		CHECK(add_mem(&d, &m, 0) >= 0);
		EXPECT("I/O threads of one disk", log_threads("lkl-blk"), 4);
		EXPECT("lkl_disk_remove", lkl_disk_remove(d), 0);
	}
	for (int i = 0; i < CYCLES; i++) {
		struct lkl_disk d;
		uint32_t dev;
		int fd = open(image, O_RDWR), id;

		if (fd < 0)
			return TEST_FAIL;
		id = i % 2 ? add_fd(&d, fd) : add_mem(&d, &m, 0);
		close(fd);
		if (id < 0 || lkl_get_virtio_blkdev(id, 0, &dev) != 0 || lkl_disk_remove(d) != 0) {
			tlog("cycle %d: id %d\n", i, id);
			return TEST_FAIL;
		}
		if (i % 100 == 99)
			tlog("after %d cycles: %d threads\n", i + 1,
			     count_entries("/proc/self/task"));
	}
	fds = count_entries("/proc/self/fd");
	threads = count_entries("/proc/self/task");
	tlog("after %d cycles: %d fds, %d threads\n", CYCLES, fds, threads);
	/*
	 * A disk left behind keeps its image open and its 4 I/O threads
	 * ("lkl-blk"). The kernel's own threads are host threads too, and
	 * its worker pools may still grow a little under load.
	 */
	EXPECT("disk I/O threads", log_threads("lkl-blk"), 0);
	EXPECT("fds", fds, fds_booted);
	CHECK(threads <= threads_booted + 3);
	free(m.data);
	return TEST_OK;
}

static struct lkl_disk last;

static int test_halt_remove_cleanup(void)
{
	int fd = open(image, O_RDWR), fds, threads;

	CHECK(fd >= 0);
	CHECK(add_fd(&last, fd) >= 0);
	close(fd);
	EXPECT("lkl_mount_dev", lkl_mount_dev(0, 0, "ext4", 0, NULL, mnt, sizeof(mnt)), 0);
	EXPECT("lkl_sys_halt", lkl_sys_halt(), 0);
	EXPECT("lkl_disk_remove", lkl_disk_remove(last), 0);
	lkl_cleanup();
	/* Threads end asynchronously at most briefly after a join. */
	fds = count_entries("/proc/self/fd");
	threads = count_entries("/proc/self/task");
	tlog("after halt, remove, cleanup: %d fds, %d threads (before boot: %d, %d)\n", fds,
	     threads, fds0, threads0);
	EXPECT("fds", fds, fds0);
	EXPECT("threads", threads, threads0);
	return TEST_OK;
}

static const struct test leak_tests[] = {
	{ "baseline", test_baseline },
	{ "start_kernel", test_start_kernel },
	{ "booted_baseline", test_booted_baseline },
	{ "cycles", test_cycles },
	{ "halt_remove_cleanup", test_halt_remove_cleanup },
};

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		const struct test *tests;
		int n;
	} suites[] = {
		{ "ops", ops_tests, ARRAY_LEN(ops_tests) },
		{ "handles", handle_tests, ARRAY_LEN(handle_tests) },
		{ "args", args_tests, ARRAY_LEN(args_tests) },
		{ "threads", thread_tests, ARRAY_LEN(thread_tests) },
		{ "leaks", leak_tests, ARRAY_LEN(leak_tests) },
		{ "boot-race", boot_race_tests, ARRAY_LEN(boot_race_tests) },
	};
	/* A runaway allocation fails here rather than take the machine. */
	struct rlimit data = { 1UL << 30, 1UL << 30 };
	char suite[64];

	setrlimit(RLIMIT_DATA, &data);
	if (argc == 3) {
		for (int i = 0; i < ARRAY_LEN(suites); i++) {
			if (strcmp(argv[1], suites[i].name) != 0)
				continue;
			image = argv[2];
			if (init_with_console())
				return 1;
			snprintf(suite, sizeof(suite), "disk_hostile %s", suites[i].name);
			return run_tests(suite, suites[i].tests, suites[i].n);
		}
	}
	fprintf(stderr, "usage: %s ops|handles|args|threads|leaks|boot-race IMAGE\n", argv[0]);
	return 2;
}
