/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mutex_proxy: measurements of the module's own mechanisms (bench.c),
 * built only with MUTEX_PROXY_BENCH=y; without it these are empty.
 */
#ifndef _MUTEX_PROXY_BENCH_H
#define _MUTEX_PROXY_BENCH_H

#ifdef MUTEX_PROXY_BENCH
void mutex_proxy_bench_init(void);
void mutex_proxy_bench_exit(void);
#else
static inline void mutex_proxy_bench_init(void)
{
}

static inline void mutex_proxy_bench_exit(void)
{
}
#endif

#endif /* _MUTEX_PROXY_BENCH_H */
