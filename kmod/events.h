/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mutex_proxy: events on the multicast groups (events.c).
 */
#ifndef _MUTEX_PROXY_EVENTS_H
#define _MUTEX_PROXY_EVENTS_H

#include <linux/types.h>

struct mutex_proxy_backend;
struct net;

void mutex_proxy_event_config(struct net *net, u64 generation);
void mutex_proxy_event_backend(struct net *net, u64 generation,
			       const char *pool,
			       const struct mutex_proxy_backend *be);

#endif /* _MUTEX_PROXY_EVENTS_H */
