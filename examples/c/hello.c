// SPDX-License-Identifier: GPL-2.0
/*
 * hello: boot Linux inside this program, write a file in its ramfs and
 * read it back, list /, and halt. Built from an installed tree:
 *
 *   cc hello.c $(pkg-config --cflags --libs lkl) -o hello
 */
#include <stdio.h>
#include <string.h>
#include <lkl.h>
#include <lkl_host.h>

int main(void)
{
	char buf[64] = { 0 };
	struct lkl_linux_dirent64 *de;
	struct lkl_dir *dir;
	long fd, ret;
	int err;

	lkl_host_ops.print = NULL;	/* a quiet console */
	lkl_init(&lkl_host_ops);
	ret = lkl_start_kernel("mem=16M");
	if (ret < 0) {
		fprintf(stderr, "boot: %s\n", lkl_strerror(ret));
		return 1;
	}

	fd = lkl_sys_open("/hello", LKL_O_CREAT | LKL_O_RDWR, 0644);
	if (fd < 0) {
		fprintf(stderr, "open: %s\n", lkl_strerror(fd));
		return 1;
	}
	lkl_sys_write(fd, "hello from Linux\n", 17);
	lkl_sys_lseek(fd, 0, LKL_SEEK_SET);
	lkl_sys_read(fd, buf, sizeof(buf) - 1);
	lkl_sys_close(fd);
	printf("read back: %s", buf);

	dir = lkl_opendir("/", &err);
	if (!dir) {
		fprintf(stderr, "opendir: %s\n", lkl_strerror(err));
		return 1;
	}
	printf("/ holds:");
	while ((de = lkl_readdir(dir)))
		printf(" %s", de->d_name);
	printf("\n");
	lkl_closedir(dir);

	ret = lkl_sys_halt();
	lkl_cleanup();
	printf("kernel pid 1 said hello; halt: %ld\n", ret);
	return ret == 0 ? 0 : 1;
}
