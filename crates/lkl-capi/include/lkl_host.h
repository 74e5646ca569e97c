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

#ifdef __cplusplus
}
#endif

#endif
