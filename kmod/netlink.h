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
};

extern struct genl_family mutex_proxy_genl_family;

int mutex_proxy_genl_register(void);
void mutex_proxy_genl_unregister(void);

#endif /* _MUTEX_PROXY_NETLINK_H */
