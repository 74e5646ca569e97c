/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * lkl_host.h - the host side of LKL's C API: the operations table
 * lkl_host_ops, ready to use, with working members (see
 * <lkl/asm/host_ops.h>). Pass it to lkl_init(); set .print first to
 * capture the kernel console, or to NULL to silence it.
 */
#ifndef _LKL_HOST_H
#define _LKL_HOST_H

#include <lkl.h>

#ifdef __cplusplus
extern "C" {
#endif

extern struct lkl_host_operations lkl_host_ops;

/*
 * lkl_host_set_kick_signal - choose the signal that interrupts a thread
 * running kernel code for long, so that the kernel's timer reaches it (as
 * SIGALRM does in standard UML); 0 turns it off. Call before lkl_init()/
 * lkl_start_kernel(). The default is SIGRTMAX - 2, or the next free
 * real-time signal below it if the program handles, ignores or (in its main
 * thread) blocks that one; a signal chosen here is the program's promise not
 * to use it otherwise. The handler is chained:
 * signals the kernel did not send go to the handler installed before it.
 * Returns 0, -EINVAL for a signal it cannot use, -EBUSY after boot.
 */
int lkl_host_set_kick_signal(int signal);

#ifdef __cplusplus
}
#endif

#endif
