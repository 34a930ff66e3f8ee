/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mutex_proxy: events on the multicast groups (events.c).
 */
#ifndef _MUTEX_PROXY_EVENTS_H
#define _MUTEX_PROXY_EVENTS_H

#include <linux/types.h>

struct mutex_proxy_backend;
struct mutex_proxy_flow;
struct mutex_proxy_net;
struct net;

void mutex_proxy_event_config(struct net *net, u64 generation);
void mutex_proxy_event_backend(struct net *net, u64 generation,
			       const char *pool,
			       const struct mutex_proxy_backend *be);

void mutex_proxy_event_flow(struct mutex_proxy_net *mpn, u8 type,
			    const struct mutex_proxy_flow *flow);
int mutex_proxy_events_init(struct mutex_proxy_net *mpn);
void mutex_proxy_events_exit(struct mutex_proxy_net *mpn);

#endif /* _MUTEX_PROXY_EVENTS_H */
