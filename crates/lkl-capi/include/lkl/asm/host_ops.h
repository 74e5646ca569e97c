/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * LKL's host operations table and boot functions, for C programs written
 * against LKL. Part of liblkl.a's installed headers.
 *
 * The kernel of this library calls its host through built-in functions
 * (the Rust host library), never through this table. The table still
 * exists, with working members, because LKL programs call its members
 * directly (mutexes, semaphores, threads, TLS, time) and set .print to
 * receive the kernel console.
 */
#ifndef _LKL_ASM_HOST_OPS_H
#define _LKL_ASM_HOST_OPS_H

#ifdef __cplusplus
extern "C" {
#endif

struct lkl_mutex;
struct lkl_sem;
struct lkl_tls_key;
struct lkl_dev_pci_ops;
typedef unsigned long lkl_thread_t;

struct lkl_jmp_buf {
	unsigned long buf[128];
};

/* Protection bits of the mmap member: the host's PROT_* values. */
enum lkl_prot {
	LKL_HOST_PROT_NONE = 0,
	LKL_HOST_PROT_READ = 1,
	LKL_HOST_PROT_WRITE = 2,
	LKL_HOST_PROT_EXEC = 4,
};

/*
 * Members as in LKL. Set by lkl_host_ops: everything but ioremap,
 * iomem_access, jmp_buf_set, jmp_buf_longjmp, shmem_init, shmem_mmap and
 * pci_ops, which only LKL's own kernel side used (NULL here).
 *
 * print:        console output (NULL: silent); the default writes to stdout
 * panic:        called by lkl_bug; the default aborts
 * thread_join:  0 on success, -1 otherwise
 * thread_stack: the calling thread's stack and its size
 * timer_alloc:  fn() runs on a host timer thread when the timer fires
 */
struct lkl_host_operations {
	const char *virtio_devices;

	void (*print)(const char *str, int len);
	void (*panic)(void);

	struct lkl_sem *(*sem_alloc)(int count);
	void (*sem_free)(struct lkl_sem *sem);
	void (*sem_up)(struct lkl_sem *sem);
	void (*sem_down)(struct lkl_sem *sem);

	struct lkl_mutex *(*mutex_alloc)(int recursive);
	void (*mutex_free)(struct lkl_mutex *mutex);
	void (*mutex_lock)(struct lkl_mutex *mutex);
	void (*mutex_unlock)(struct lkl_mutex *mutex);

	lkl_thread_t (*thread_create)(void (*f)(void *), void *arg);
	void (*thread_detach)(void);
	void (*thread_exit)(void);
	int (*thread_join)(lkl_thread_t tid);
	lkl_thread_t (*thread_self)(void);
	int (*thread_equal)(lkl_thread_t a, lkl_thread_t b);
	void *(*thread_stack)(unsigned long *size);

	struct lkl_tls_key *(*tls_alloc)(void (*destructor)(void *));
	void (*tls_free)(struct lkl_tls_key *key);
	int (*tls_set)(struct lkl_tls_key *key, void *data);
	void *(*tls_get)(struct lkl_tls_key *key);

	void *(*mem_alloc)(unsigned long size);
	void (*mem_free)(void *addr);
	void *(*page_alloc)(unsigned long size);
	void (*page_free)(void *addr, unsigned long size);

	unsigned long long (*time)(void);

	void *(*timer_alloc)(void (*fn)(void));
	int (*timer_set_oneshot)(void *timer, unsigned long delta);
	void (*timer_free)(void *timer);

	void *(*ioremap)(long addr, int size);
	int (*iomem_access)(const volatile void *addr, void *val, int size,
			    int write);

	void (*jmp_buf_set)(struct lkl_jmp_buf *jmpb, void (*f)(void));
	void (*jmp_buf_longjmp)(struct lkl_jmp_buf *jmpb, int val);

	void *(*memcpy)(void *dest, const void *src, unsigned long count);
	void *(*memset)(void *s, int c, unsigned long count);
	void *(*memmove)(void *dest, const void *src, unsigned long count);

	void *(*mmap)(void *addr, unsigned long size, enum lkl_prot prot);
	int (*munmap)(void *addr, unsigned long size);

	void (*shmem_init)(unsigned long size);
	void *(*shmem_mmap)(void *addr, unsigned long pg_off,
			    unsigned long size, enum lkl_prot prot);

	struct lkl_dev_pci_ops *pci_ops;
};

/*
 * lkl_init - register the host operations; ops->print receives the kernel
 * console from now on. Returns 0, or -LKL_EINVAL for NULL.
 */
int lkl_init(struct lkl_host_operations *ops);

/*
 * lkl_start_kernel - boot the kernel with a printf-style command line
 * ("mem=32M loglevel=8"). Returns 0, or a negative errno: -LKL_EINVAL
 * for a malformed command line or too little memory (with a console
 * line saying why), -LKL_EBUSY if a kernel already ran in this process.
 */
int lkl_start_kernel(const char *cmd_line, ...);

/* lkl_cleanup - undo lkl_init, after lkl_sys_halt. */
void lkl_cleanup(void);

/* lkl_is_running - 1 while the kernel runs, else 0. */
int lkl_is_running(void);

/* lkl_sys_halt - stop the kernel and free its memory; 0 or -errno. */
long lkl_sys_halt(void);

/* Raise interrupt irq from any host thread. */
int lkl_trigger_irq(int irq);

#ifdef __cplusplus
}
#endif

#endif
