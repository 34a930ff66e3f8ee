/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mutex_proxy: the netfilter hooks that count packets (hooks.c).
 */
#ifndef _MUTEX_PROXY_HOOKS_H
#define _MUTEX_PROXY_HOOKS_H
struct net;
struct mutex_proxy_net;

int mutex_proxy_hooks_register(struct net *net, struct mutex_proxy_net *mpn);
void mutex_proxy_hooks_unregister(struct net *net, struct mutex_proxy_net *mpn);

#endif /* _MUTEX_PROXY_HOOKS_H */
