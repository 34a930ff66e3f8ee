/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mutex_proxy: /proc/net/mutex_proxy (proc.c).
 */
#ifndef _MUTEX_PROXY_PROC_H
#define _MUTEX_PROXY_PROC_H
struct net;

int mutex_proxy_proc_init(struct net *net);
void mutex_proxy_proc_exit(struct net *net);

#endif /* _MUTEX_PROXY_PROC_H */
