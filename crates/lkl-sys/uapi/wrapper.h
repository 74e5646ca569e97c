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
#include <linux/falloc.h>
#include <linux/xattr.h>
#include <asm/statfs.h>
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
#include <linux/io_uring.h>

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
 * getdents64's records are parsed by the lkl crate (lkl::fs::raw::Dirents).
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

/*
 * File system ABI that the uapi headers do not export: the special
 * timestamps of utimensat (include/linux/stat.h), the flags of umount2
 * (include/linux/fs.h) and the mount flags statfs reports in f_flags
 * (include/linux/statfs.h).
 */
enum lkl_sys_fs_abi {
	UTIME_NOW = (1 << 30) - 1,
	UTIME_OMIT = (1 << 30) - 2,
	MNT_FORCE = 0x1,
	MNT_DETACH = 0x2,
	MNT_EXPIRE = 0x4,
	UMOUNT_NOFOLLOW = 0x8,
	ST_RDONLY = 0x0001,
	ST_NOSUID = 0x0002,
	ST_NODEV = 0x0004,
	ST_NOEXEC = 0x0008,
	ST_SYNCHRONOUS = 0x0010,
	ST_VALID = 0x0020,
	ST_MANDLOCK = 0x0040,
	ST_NOATIME = 0x0400,
	ST_NODIRATIME = 0x0800,
	ST_RELATIME = 0x1000,
	ST_NOSYMFOLLOW = 0x2000,
};
