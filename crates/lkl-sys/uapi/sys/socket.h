/* SPDX-License-Identifier: GPL-2.0 */
/*
 * linux/if.h includes <sys/socket.h> for struct sockaddr when it is not
 * built into the kernel. The bindings must not take it from the host's
 * libc, so this stand-in gives the kernel's own definition.
 */
#ifndef LKL_SYS_STUB_SYS_SOCKET_H
#define LKL_SYS_STUB_SYS_SOCKET_H
#include <linux/socket.h>

struct sockaddr {
	__kernel_sa_family_t sa_family;
	char sa_data[14];
};
#endif
