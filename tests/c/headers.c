// SPDX-License-Identifier: GPL-2.0
/*
 * The installed headers compile in one file with the libc headers, in
 * either order (-DLKL_FIRST), and their types have the kernel's x86_64
 * layouts, distinct from libc's.
 */
#ifdef LKL_FIRST
#include <lkl.h>
#include <lkl_host.h>
#endif
#include <stdio.h>
#include <stddef.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <errno.h>
#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <net/if.h>
#ifndef LKL_FIRST
#include <lkl.h>
#include <lkl_host.h>
#endif

_Static_assert(sizeof(struct lkl_stat) == 144, "x86_64 struct stat");
_Static_assert(offsetof(struct lkl_stat, st_size) == 48, "st_size");
_Static_assert(sizeof(struct lkl_linux_dirent64) == 24, "dirent64 header");
_Static_assert(sizeof(struct lkl_ifreq) == 40, "ifreq");
_Static_assert(sizeof(struct lkl_sockaddr_in) == 16, "sockaddr_in");
_Static_assert(sizeof(struct lkl_epoll_event) == 12, "packed epoll_event");
_Static_assert(sizeof(struct lkl_pollfd) == 8, "pollfd");
_Static_assert(sizeof(lkl_size_t) == 8 && sizeof(__lkl__kernel_size_t) == 8, "size_t");
_Static_assert(LKL_O_RDWR == O_RDWR && LKL_O_DIRECTORY == O_DIRECTORY, "x86 O_ flags");
_Static_assert(LKL_ENOENT == ENOENT && LKL_EBUSY == EBUSY, "errno");
_Static_assert(LKL_S_IFREG == S_IFREG && LKL_S_IFDIR == S_IFDIR, "S_IF");
_Static_assert(LKL_POLLIN == POLLIN && LKL_EPOLLIN == EPOLLIN, "poll");
_Static_assert((int)LKL_IFF_UP == (int)IFF_UP && LKL_IFNAMSIZ == IFNAMSIZ, "if");
_Static_assert(LKL_AF_INET == AF_INET && LKL_SOCK_DGRAM == SOCK_DGRAM, "sockets");
_Static_assert(__lkl__NR_getpid == 39, "x86_64 numbers");
_Static_assert(sizeof(struct lkl_host_operations) == 42 * 8, "as lkl-capi's Rust struct");
_Static_assert(offsetof(struct lkl_host_operations, pci_ops) == 41 * 8, "member order");

int main(void)
{
	struct stat host_st = { 0 };
	struct lkl_stat st = { 0 };
	struct lkl_ifreq ifr = { 0 };
	struct ifreq host_ifr = { 0 };
	struct lkl_timespec ts = { 0 };
	lkl_fd_set fds = { { 0 } };

	/* glibc's st_atime macro does not reach the kernel's member. */
	st.lkl_st_atime = 1;
	host_st.st_atime = 2;
	ifr.lkl_ifr_ifindex = 1;
	host_ifr.ifr_ifindex = 1;
	(void)ts;
	(void)host_ifr;
	(void)fds;
	printf("headers: struct lkl_stat %zu bytes (libc's %zu), struct lkl_ifreq %zu\n",
	       sizeof(st), sizeof(host_st), sizeof(ifr));
	return st.lkl_st_atime == 1 && host_st.st_atime == 2 ? 0 : 1;
}
