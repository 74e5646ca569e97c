/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The uapi headers lkl-sys binds: the library's own, from its build's
 * headers_install, read with -nostdinc so that nothing of the host's libc
 * enters the bindings.
 */
#include <linux/types.h>
#include <linux/errno.h>
#include <linux/fcntl.h>
#include <linux/stat.h>
#include <asm/stat.h>
#include <linux/time_types.h>
#include <linux/eventpoll.h>
#include <linux/mount.h>
#include <linux/fs.h>
#include <linux/if.h>
#include <linux/sockios.h>
#include <linux/in.h>
#include <linux/un.h>
#include <linux/net.h>
#include <linux/resource.h>
#include <linux/utsname.h>
#include <linux/reboot.h>
#include <linux/sched.h>
#include <linux/poll.h>
#include <asm/socket.h>
#include <asm/mman.h>
#include <linux/mman.h>

/*
 * The epoll event bits are cast expressions, which bindgen cannot
 * evaluate; as enum constants the compiler evaluates them.
 */
enum lkl_sys_epoll_bits {
	LKL_EPOLLIN = EPOLLIN,
	LKL_EPOLLPRI = EPOLLPRI,
	LKL_EPOLLOUT = EPOLLOUT,
	LKL_EPOLLERR = EPOLLERR,
	LKL_EPOLLHUP = EPOLLHUP,
	LKL_EPOLLRDHUP = EPOLLRDHUP,
	LKL_EPOLLET = EPOLLET,
	LKL_EPOLLONESHOT = EPOLLONESHOT,
};

/*
 * Kernel ABI that the uapi headers do not export: the address families
 * and socket types (include/linux/socket.h, include/linux/net.h).
 * getdents64's records are parsed by the lkl crate (lkl::fs::getdents64).
 */
enum lkl_sys_socket_abi {
	AF_UNSPEC = 0,
	AF_UNIX = 1,
	AF_INET = 2,
	AF_INET6 = 10,
	AF_NETLINK = 16,
	AF_PACKET = 17,
	SOCK_STREAM = 1,
	SOCK_DGRAM = 2,
	SOCK_RAW = 3,
	SOCK_SEQPACKET = 5,
	SOCK_NONBLOCK = O_NONBLOCK,
	SOCK_CLOEXEC = O_CLOEXEC,
};
