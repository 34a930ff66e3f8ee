/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mutex_proxy: the generic netlink family (netlink.c).
 */
#ifndef _MUTEX_PROXY_NETLINK_H
#define _MUTEX_PROXY_NETLINK_H

#include <net/genetlink.h>

/* The family's multicast groups, by index (the order of its mcgrps). */
enum mutex_proxy_mcgrp {
	MUTEX_PROXY_GRP_EVENTS,
	MUTEX_PROXY_GRP_FLOWS,
};

extern struct genl_family mutex_proxy_genl_family;

struct mutex_proxy_flow;
struct nf_conn;
struct sk_buff;

int mutex_proxy_nl_put_flow(struct sk_buff *skb, int attrtype,
			    const struct nf_conn *ct,
			    const struct mutex_proxy_flow *flow);
int mutex_proxy_genl_register(void);
void mutex_proxy_genl_unregister(void);

#endif /* _MUTEX_PROXY_NETLINK_H */
