/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mutex_proxy: the configuration's netlink encoding (netlink_config.c).
 */
#ifndef _MUTEX_PROXY_NETLINK_CONFIG_H
#define _MUTEX_PROXY_NETLINK_CONFIG_H

#include <linux/types.h>

struct mutex_proxy_backend;
struct mutex_proxy_backend_change;
struct mutex_proxy_config;
struct netlink_ext_ack;
struct nlattr;
struct sk_buff;

struct mutex_proxy_config *
mutex_proxy_nl_config_parse(const struct nlattr *head, int len,
			    const struct mutex_proxy_config *old,
			    struct netlink_ext_ack *extack);
int mutex_proxy_nl_config_put(struct sk_buff *skb,
			      const struct mutex_proxy_config *cfg);
int mutex_proxy_nl_config_put_from(struct sk_buff *skb,
				   const struct mutex_proxy_config *cfg,
				   u32 *pos);
int mutex_proxy_nl_backend_change(struct mutex_proxy_backend_change *chg,
				  const struct nlattr *nest, bool change,
				  struct netlink_ext_ack *extack);
int mutex_proxy_nl_put_backend_state(struct sk_buff *skb, int attrtype,
				     const struct mutex_proxy_backend *be);
size_t mutex_proxy_nl_config_size(const struct mutex_proxy_config *cfg);
size_t mutex_proxy_nl_config_item_size_max(const struct mutex_proxy_config *cfg);

#endif /* _MUTEX_PROXY_NETLINK_CONFIG_H */
