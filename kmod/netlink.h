/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mutex_proxy: the generic netlink family (netlink.c).
 */
#ifndef _MUTEX_PROXY_NETLINK_H
#define _MUTEX_PROXY_NETLINK_H
int mutex_proxy_genl_register(void);
void mutex_proxy_genl_unregister(void);

#endif /* _MUTEX_PROXY_NETLINK_H */
