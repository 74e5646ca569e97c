/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * Types that the kernel's system call prototypes use but that its exported
 * headers leave to the kernel itself or to libc. This is the source; the
 * build installs it renamed, as <lkl/asm/syscall_types.h>, so that every
 * name below carries LKL's prefix (size_t becomes lkl_size_t, struct
 * sockaddr becomes struct lkl_sockaddr). Layouts are x86_64's, as the
 * kernel's.
 */
#ifndef _SYSCALL_TYPES_H
#define _SYSCALL_TYPES_H

#include <linux/types.h>
#include <linux/posix_types.h>
#include <linux/fs.h>
#include <linux/uio.h>
#include <asm/signal.h>

typedef __kernel_fd_set fd_set;
typedef __kernel_mode_t mode_t;
typedef unsigned short umode_t;
typedef __u32 nlink_t;
typedef __kernel_off_t off_t;
typedef __kernel_loff_t loff_t;
typedef __kernel_pid_t pid_t;
typedef __kernel_uid32_t uid_t;
typedef __kernel_gid32_t gid_t;
typedef __kernel_uid32_t qid_t;
typedef __kernel_key_t key_t;
typedef __kernel_suseconds_t suseconds_t;
typedef __kernel_timer_t timer_t;
typedef __kernel_clockid_t clockid_t;
typedef __kernel_mqd_t mqd_t;
typedef __kernel_size_t size_t;
typedef __kernel_ssize_t ssize_t;
typedef __kernel_time_t time_t;
typedef __kernel_clock_t clock_t;
typedef __kernel_rwf_t rwf_t;
typedef __u32 key_serial_t;
typedef __u32 u32;
typedef __s32 s32;
typedef __u64 u64;
typedef __s64 s64;
typedef __u32 uint32_t;

/* What the kernel's socket calls take as an address. */
struct sockaddr {
	unsigned short sa_family;
	char sa_data[14];
};

/* sendmsg/recvmsg's message header, in the kernel's own form. */
struct user_msghdr {
	void *msg_name;
	int msg_namelen;
	struct iovec *msg_iov;
	__kernel_size_t msg_iovlen;
	void *msg_control;
	__kernel_size_t msg_controllen;
	unsigned int msg_flags;
};

struct mmsghdr {
	struct user_msghdr msg_hdr;
	unsigned int msg_len;
};

/* One entry of getdents64's buffer. */
struct linux_dirent64 {
	__u64 d_ino;
	__s64 d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

/* One entry of getdents's buffer (the name is followed by d_type). */
struct linux_dirent {
	unsigned long d_ino;
	unsigned long d_off;
	unsigned short d_reclen;
	char d_name[1];
};

struct ustat {
	__kernel_daddr_t f_tfree;
	unsigned long f_tinode;
	char f_fname[6];
	char f_fpack[6];
};

/* Socket families and types, which the exported headers leave to libc. */
#define AF_UNSPEC	0
#define AF_UNIX		1
#define AF_LOCAL	1
#define AF_INET		2
#define AF_INET6	10
#define AF_NETLINK	16
#define AF_PACKET	17
#define PF_UNSPEC	AF_UNSPEC
#define PF_UNIX		AF_UNIX
#define PF_INET		AF_INET
#define PF_INET6	AF_INET6
#define PF_NETLINK	AF_NETLINK
#define PF_PACKET	AF_PACKET

#define SOCK_STREAM	1
#define SOCK_DGRAM	2
#define SOCK_RAW	3
#define SOCK_RDM	4
#define SOCK_SEQPACKET	5
#define SOCK_DCCP	6
#define SOCK_PACKET	10
#define SOCK_CLOEXEC	02000000
#define SOCK_NONBLOCK	04000

#endif
