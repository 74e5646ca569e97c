// SPDX-License-Identifier: GPL-2.0
/*
 * The disk tests of LKL's C API, in LKL's TAP13 form, through lkl.h only.
 * scripts/test-c.sh makes the images with mkfs and runs, each in its own
 * process (one process boots one kernel):
 *
 *   disk fs FSTYPE IMAGE   LKL's disk list (disk_add ... disk_remove) on an
 *                          image of FSTYPE, plus a file written and read
 *                          back, left in the image for the script to check
 *   disk memory IMAGE      the image copied into a malloc'd buffer served
 *                          by struct lkl_dev_blk_ops; requests must never
 *                          overlap; the write must reach the buffer
 *   disk memory-concurrent IMAGE
 *                          the same, added with LKL_DISK_CONCURRENT_REQUESTS
 *   disk misc IMAGE        bad input, one image added twice, hotplug and
 *                          busy removal, a read-only fd, removal after halt
 */
#define _GNU_SOURCE /* memmem */
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lkl.h>
#include <lkl_host.h>

#define BOOT_LINE "mem=64M loglevel=8"

#include "tap.h"
#include "disk_common.h"

#define CONTENT "written through lkl.h by tests/c/disk.c\n"

static const char *fstype;
static const char *image;
static struct lkl_disk disk;
static int disk_id = -1;
static uint32_t devid;
static char mnt[32];
static char path[96];

/* ---- LKL's disk list ---- */

static int test_disk_add(void)
{
	int fd = open(image, O_RDWR);

	CHECK(fd >= 0);
	disk_id = add_fd(&disk, fd);
	tlog("disk id %d\n", disk_id);
	CHECK(disk_id >= 0);
	CHECK(disk.dev != NULL);
	/* The library has its own descriptor of the image. */
	CHECK(close(fd) == 0);
	return TEST_OK;
}

static int test_mount_dev(void)
{
	char want[32];
	long ret;

	EXPECT("lkl_get_virtio_blkdev", lkl_get_virtio_blkdev(disk_id, 0, &devid), 0);
	ret = lkl_mount_dev(disk_id, 0, fstype, 0, NULL, mnt, sizeof(mnt));
	tlog("lkl_mount_dev: %ld (%s), at %s\n", ret, lkl_strerror(ret), mnt);
	EXPECT("lkl_mount_dev", ret, 0);
	snprintf(want, sizeof(want), "/mnt/%08x", devid);
	CHECK(strcmp(mnt, want) == 0);
	return TEST_OK;
}

static int test_chdir_mnt_point(void)
{
	EXPECT("lkl_sys_chdir", lkl_sys_chdir(mnt), 0);
	return TEST_OK;
}

static int test_write_file(void)
{
	long fd = lkl_sys_open("hello", LKL_O_CREAT | LKL_O_WRONLY | LKL_O_TRUNC, 0644);

	CHECK(fd >= 0);
	EXPECT("lkl_sys_write", lkl_sys_write(fd, CONTENT, strlen(CONTENT)),
	       strlen(CONTENT));
	EXPECT("lkl_sys_fsync", lkl_sys_fsync(fd), 0);
	EXPECT("lkl_sys_close", lkl_sys_close(fd), 0);
	return TEST_OK;
}

static struct lkl_dir *dir;

static int test_opendir(void)
{
	int err = 0;

	dir = lkl_opendir(".", &err);
	tlog("lkl_opendir: %d\n", err);
	CHECK(dir != NULL);
	return TEST_OK;
}

static int test_readdir(void)
{
	struct lkl_linux_dirent64 *de;
	int found = 0;

	while ((de = lkl_readdir(dir))) {
		tlog("%s ", de->d_name);
		found |= strcmp(de->d_name, "hello") == 0;
	}
	tlog("\n");
	EXPECT("lkl_errdir", lkl_errdir(dir), 0);
	CHECK(found);
	return TEST_OK;
}

static int test_closedir(void)
{
	EXPECT("lkl_closedir", lkl_closedir(dir), 0);
	return TEST_OK;
}

static int test_read_back(void)
{
	char buf[128] = { 0 };
	long fd = lkl_sys_open("hello", LKL_O_RDONLY, 0);

	CHECK(fd >= 0);
	EXPECT("lkl_sys_read", lkl_sys_read(fd, buf, sizeof(buf) - 1), strlen(CONTENT));
	CHECK(strcmp(buf, CONTENT) == 0);
	EXPECT("lkl_sys_close", lkl_sys_close(fd), 0);
	return TEST_OK;
}

static int test_chdir_root(void)
{
	EXPECT("lkl_sys_chdir", lkl_sys_chdir("/"), 0);
	return TEST_OK;
}

static int test_umount_dev(void)
{
	EXPECT("lkl_umount_dev", lkl_umount_dev(disk_id, 0, 0, 1000), 0);
	return test_mount_point_and_node_gone(devid);
}

static int test_disk_remove(void)
{
	EXPECT("lkl_disk_remove", lkl_disk_remove(disk), 0);
	/* It names no disk any more. */
	EXPECT("lkl_disk_remove again", lkl_disk_remove(disk), -LKL_EINVAL);
	return TEST_OK;
}

static const struct test fs_tests[] = {
	{ "disk_add", test_disk_add },
	{ "start_kernel", test_start_kernel },
	{ "mount_dev", test_mount_dev },
	{ "chdir_mnt_point", test_chdir_mnt_point },
	{ "write_file", test_write_file },
	{ "opendir", test_opendir },
	{ "readdir", test_readdir },
	{ "closedir", test_closedir },
	{ "read_back", test_read_back },
	{ "chdir_root", test_chdir_root },
	{ "umount_dev", test_umount_dev },
	{ "stop_kernel", test_halt },
	{ "disk_remove", test_disk_remove },
};

/* ---- a disk in memory, through struct lkl_dev_blk_ops ---- */

static struct memdisk memdisk;
static int concurrent;

static int test_mem_disk_add(void)
{
	CHECK(memdisk_load(&memdisk, image) == 0);
	/* Widen the window in which overlapping calls would be seen. */
	memdisk.delay_us = 50;
	disk_id = add_mem(&disk, &memdisk, concurrent ? LKL_DISK_CONCURRENT_REQUESTS : 0);
	tlog("disk id %d, %llu bytes\n", disk_id, memdisk.size);
	CHECK(disk_id >= 0);
	return TEST_OK;
}

static int test_mem_mount_detect(void)
{
	long ret;

	/* No type given: the kernel's block file systems are tried. */
	ret = lkl_mount_dev(disk_id, 0, NULL, 0, NULL, mnt, sizeof(mnt));
	tlog("lkl_mount_dev: %ld (%s), at %s\n", ret, lkl_strerror(ret), mnt);
	EXPECT("lkl_mount_dev", ret, 0);
	return TEST_OK;
}

static int test_mem_write_read(void)
{
	char buf[128] = { 0 };
	long fd;

	snprintf(path, sizeof(path), "%s/hello", mnt);
	fd = lkl_sys_open(path, LKL_O_CREAT | LKL_O_RDWR | LKL_O_TRUNC, 0644);
	CHECK(fd >= 0);
	EXPECT("lkl_sys_write", lkl_sys_write(fd, CONTENT, strlen(CONTENT)),
	       strlen(CONTENT));
	EXPECT("lkl_sys_fsync", lkl_sys_fsync(fd), 0);
	EXPECT("lkl_sys_pread64", lkl_sys_pread64(fd, buf, sizeof(buf) - 1, 0), strlen(CONTENT));
	CHECK(strcmp(buf, CONTENT) == 0);
	EXPECT("lkl_sys_close", lkl_sys_close(fd), 0);
	return TEST_OK;
}

static int test_mem_umount(void)
{
	EXPECT("lkl_umount_dev", lkl_umount_dev(disk_id, 0, 0, 1000), 0);
	return TEST_OK;
}

static int test_mem_write_reached_buffer(void)
{
	CHECK(memmem(memdisk.data, memdisk.size, CONTENT, strlen(CONTENT)) != NULL);
	return TEST_OK;
}

static int test_mem_requests(void)
{
	int most = atomic_load(&memdisk.most_in_flight);

	tlog("reads %ld, writes %ld, flushes %ld, most in flight %d\n",
	     atomic_load(&memdisk.reads), atomic_load(&memdisk.writes),
	     atomic_load(&memdisk.flushes), most);
	CHECK(atomic_load(&memdisk.reads) > 0 && atomic_load(&memdisk.writes) > 0);
	EXPECT("malformed requests", atomic_load(&memdisk.bad), 0);
	if (!concurrent)
		EXPECT("most requests in flight at once", most, 1);
	return TEST_OK;
}

static int test_mem_remove(void)
{
	EXPECT("lkl_disk_remove", lkl_disk_remove(disk), 0);
	return TEST_OK;
}

static const struct test mem_tests[] = {
	{ "mem_disk_add", test_mem_disk_add },
	{ "start_kernel", test_start_kernel },
	{ "mount_dev_detect", test_mem_mount_detect },
	{ "write_read", test_mem_write_read },
	{ "umount_dev", test_mem_umount },
	{ "write_reached_buffer", test_mem_write_reached_buffer },
	{ "requests", test_mem_requests },
	{ "hot_remove", test_mem_remove },
	{ "stop_kernel", test_halt },
};

/* ---- bad input, hotplug, busy removal, read-only ---- */

static int test_bad_input(void)
{
	struct lkl_dev_blk_ops half = { .get_capacity = mem_get_capacity };
	struct lkl_disk d;
	int pipefd[2], dirfd, emptyfd;
	char empty[] = "/tmp/lkl-disk-empty-XXXXXX";

	EXPECT("lkl_disk_add(NULL)", lkl_disk_add(NULL), -LKL_EINVAL);
	EXPECT("fd -1", add_fd(&d, -1), -LKL_EBADF);
	CHECK(fcntl(1000, F_GETFD) < 0);
	EXPECT("fd 1000 (not open)", add_fd(&d, 1000), -LKL_EBADF);
	dirfd = open("/", O_RDONLY | O_DIRECTORY);
	CHECK(dirfd >= 0);
	EXPECT("a directory", add_fd(&d, dirfd), -LKL_EINVAL);
	close(dirfd);
	CHECK(pipe(pipefd) == 0);
	EXPECT("a pipe", add_fd(&d, pipefd[0]), -LKL_EINVAL);
	close(pipefd[0]);
	close(pipefd[1]);
	emptyfd = mkstemp(empty);
	CHECK(emptyfd >= 0);
	unlink(empty);
	EXPECT("an empty file", add_fd(&d, emptyfd), -LKL_EINVAL);
	close(emptyfd);

	memset(&d, 0, sizeof(d));
	d.handle = &memdisk;
	d.ops = &half;
	EXPECT("ops without request", lkl_disk_add(&d), -LKL_EINVAL);
	d.ops = &mem_ops;
	EXPECT("unknown flag", lkl_disk_add_flags(&d, 0x80), -LKL_EINVAL);

	memset(&d, 0, sizeof(d));
	EXPECT("lkl_disk_remove(never added)", lkl_disk_remove(d), -LKL_EINVAL);
	EXPECT("lkl_get_virtio_blkdev(NULL)", lkl_get_virtio_blkdev(0, 0, NULL), -LKL_EINVAL);
	EXPECT("lkl_get_virtio_blkdev(unknown id)", lkl_get_virtio_blkdev(1234, 0, &devid),
	       -LKL_ENODEV);
	EXPECT("lkl_get_virtio_blkdev(-1)", lkl_get_virtio_blkdev(-1, 0, &devid), -LKL_ENODEV);
	EXPECT("lkl_mount_dev(unknown id)",
	       lkl_mount_dev(1234, 0, "ext4", 0, NULL, mnt, sizeof(mnt)), -LKL_ENODEV);
	EXPECT("lkl_umount_dev(unknown id)", lkl_umount_dev(1234, 0, 0, 0), -LKL_ENODEV);
	EXPECT("lkl_encode_dev_from_sysfs(NULL)", lkl_encode_dev_from_sysfs(NULL, &devid),
	       -LKL_EINVAL);
	return TEST_OK;
}

static int test_add_twice(void)
{
	struct lkl_disk again;
	int fd = open(image, O_RDWR), id;

	CHECK(fd >= 0);
	id = add_fd(&disk, fd);
	CHECK(id >= 0);
	/* The same image, even through the same fd, is one writable disk. */
	EXPECT("the same fd again", add_fd(&again, fd), -LKL_EBUSY);
	/* Removal before boot. */
	EXPECT("lkl_disk_remove", lkl_disk_remove(disk), 0);
	/* The struct of a removed disk can be added again. */
	id = lkl_disk_add(&disk);
	tlog("added again: %d\n", id);
	CHECK(id >= 0);
	close(fd);
	disk_id = id;
	return TEST_OK;
}

static int test_boot_disk_seen(void)
{
	/* The disk added before boot has a block device. */
	EXPECT("lkl_get_virtio_blkdev", lkl_get_virtio_blkdev(disk_id, 0, &devid), 0);
	tlog("boot disk %d: device %08x\n", disk_id, devid);
	return TEST_OK;
}

static int hot_id = -1;
static struct lkl_disk hot;

static int test_hotplug_add(void)
{
	char sysfs[64];
	uint32_t from_sysfs = 0;
	int fd;

	/* Hand back the boot disk's image: removal while running. */
	EXPECT("lkl_disk_remove(boot disk)", lkl_disk_remove(disk), 0);
	fd = open(image, O_RDWR);
	CHECK(fd >= 0);
	hot_id = add_fd(&hot, fd);
	close(fd);
	tlog("hotplugged disk id %d\n", hot_id);
	CHECK(hot_id >= 0);
	EXPECT("lkl_get_virtio_blkdev", lkl_get_virtio_blkdev(hot_id, 0, &devid), 0);
	dev_sysfs_path(sysfs, sizeof(sysfs), devid, "dev");
	EXPECT("lkl_encode_dev_from_sysfs", lkl_encode_dev_from_sysfs(sysfs, &from_sysfs), 0);
	EXPECT("device number from sysfs", from_sysfs, devid);
	EXPECT("a file that is no dev file",
	       lkl_encode_dev_from_sysfs("/sys/kernel/uevent_seqnum", &from_sysfs), -LKL_EINVAL);
	return TEST_OK;
}

static int test_mount_bad_args(void)
{
	char small[8];

	EXPECT("mnt_str too small",
	       lkl_mount_dev(hot_id, 0, "ext4", 0, NULL, small, sizeof(small)), -LKL_ERANGE);
	EXPECT("mnt_str NULL", lkl_mount_dev(hot_id, 0, "ext4", 0, NULL, NULL, 64), -LKL_EINVAL);
	EXPECT("missing partition",
	       lkl_mount_dev(hot_id, 3, "ext4", 0, NULL, mnt, sizeof(mnt)), -LKL_ENOENT);
	EXPECT("unknown file system",
	       lkl_mount_dev(hot_id, 0, "nosuchfs", 0, NULL, mnt, sizeof(mnt)), -LKL_ENODEV);
	return TEST_OK;
}

static int test_busy_removal(void)
{
	long fd, t0, ret;

	EXPECT("lkl_mount_dev", lkl_mount_dev(hot_id, 0, "ext4", 0, NULL, mnt, sizeof(mnt)), 0);
	EXPECT("lkl_disk_remove while mounted", lkl_disk_remove(hot), -LKL_EBUSY);
	snprintf(path, sizeof(path), "%s/busy", mnt);
	fd = lkl_sys_open(path, LKL_O_CREAT | LKL_O_RDWR, 0644);
	CHECK(fd >= 0);
	t0 = now_ns();
	ret = lkl_umount_dev(hot_id, 0, 0, 50);
	t0 = (now_ns() - t0) / 1000000;
	tlog("lkl_umount_dev with a file open: %ld after %ld ms\n", ret, t0);
	EXPECT("lkl_umount_dev while a file is open", ret, -LKL_EBUSY);
	CHECK(t0 >= 50);
	EXPECT("lkl_sys_close", lkl_sys_close(fd), 0);
	EXPECT("lkl_umount_dev", lkl_umount_dev(hot_id, 0, 0, 1000), 0);
	if (test_mount_point_and_node_gone(devid) != TEST_OK)
		return TEST_FAIL;
	EXPECT("lkl_umount_dev again", lkl_umount_dev(hot_id, 0, 0, 0), -LKL_ENOENT);
	EXPECT("lkl_disk_remove", lkl_disk_remove(hot), 0);
	EXPECT("lkl_get_virtio_blkdev(removed)", lkl_get_virtio_blkdev(hot_id, 0, &devid),
	       -LKL_ENODEV);
	return TEST_OK;
}

static struct lkl_disk ro;

static int test_read_only_fd(void)
{
	char buf[128] = { 0 };
	int id, fd = open(image, O_RDONLY);
	long file;

	CHECK(fd >= 0);
	id = add_fd(&ro, fd);
	close(fd);
	CHECK(id >= 0);
	EXPECT("lkl_get_virtio_blkdev", lkl_get_virtio_blkdev(id, 0, &devid), 0);
	/* No read-only flag asked for: the disk makes the mount read-only. */
	EXPECT("lkl_mount_dev", lkl_mount_dev(id, 0, "ext4", 0, NULL, mnt, sizeof(mnt)), 0);
	snprintf(path, sizeof(path), "%s/new", mnt);
	EXPECT("create", lkl_sys_open(path, LKL_O_CREAT | LKL_O_WRONLY, 0644), -LKL_EROFS);
	snprintf(path, sizeof(path), "%s/dir", mnt);
	EXPECT("mkdir", lkl_sys_mkdir(path, 0755), -LKL_EROFS);
	/* What the writable disk left is there. */
	snprintf(path, sizeof(path), "%s/busy", mnt);
	file = lkl_sys_open(path, LKL_O_RDONLY, 0);
	CHECK(file >= 0);
	EXPECT("read", lkl_sys_read(file, buf, sizeof(buf)), 0);
	lkl_sys_close(file);
	/* Stays mounted through the halt. */
	return TEST_OK;
}

static int test_remove_after_halt(void)
{
	EXPECT("lkl_disk_remove", lkl_disk_remove(ro), 0);
	EXPECT("lkl_disk_remove again", lkl_disk_remove(ro), -LKL_EINVAL);
	return TEST_OK;
}

static const struct test misc_tests[] = {
	{ "bad_input", test_bad_input },
	{ "add_twice", test_add_twice },
	{ "start_kernel", test_start_kernel },
	{ "boot_disk_seen", test_boot_disk_seen },
	{ "hotplug_add", test_hotplug_add },
	{ "mount_bad_args", test_mount_bad_args },
	{ "busy_removal", test_busy_removal },
	{ "read_only_fd", test_read_only_fd },
	{ "stop_kernel", test_halt },
	{ "remove_after_halt", test_remove_after_halt },
};

int main(int argc, char **argv)
{
	char suite[64];

	if (init_with_console())
		return 1;
	if (argc == 4 && strcmp(argv[1], "fs") == 0) {
		fstype = argv[2];
		image = argv[3];
		snprintf(suite, sizeof(suite), "disk %s", fstype);
		return run_tests(suite, fs_tests, ARRAY_LEN(fs_tests));
	}
	if (argc == 3 && (strcmp(argv[1], "memory") == 0 ||
			  strcmp(argv[1], "memory-concurrent") == 0)) {
		image = argv[2];
		concurrent = strcmp(argv[1], "memory-concurrent") == 0;
		return run_tests(concurrent ? "disk memory (concurrent requests)" : "disk memory",
				 mem_tests, ARRAY_LEN(mem_tests));
	}
	if (argc == 3 && strcmp(argv[1], "misc") == 0) {
		image = argv[2];
		return run_tests("disk misc", misc_tests, ARRAY_LEN(misc_tests));
	}
	fprintf(stderr, "usage: %s fs FSTYPE IMAGE | memory IMAGE | "
		"memory-concurrent IMAGE | misc IMAGE\n", argv[0]);
	return 2;
}
