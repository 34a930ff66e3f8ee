/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mutex_proxy: the schedulers that pick a backend of a pool (sched.c).
 */
#ifndef _MUTEX_PROXY_SCHED_H
#define _MUTEX_PROXY_SCHED_H

struct mutex_proxy_key;
struct mutex_proxy_pool;

void mutex_proxy_sched_init(void);
struct mutex_proxy_backend *
mutex_proxy_sched_pick(struct mutex_proxy_pool *pool,
		       const struct mutex_proxy_key *key);

#endif /* _MUTEX_PROXY_SCHED_H */
