/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mutex_proxy: steering through the NAT engine (steer.c).
 */
#ifndef _MUTEX_PROXY_STEER_H
#define _MUTEX_PROXY_STEER_H

#include <linux/bitops.h>
#include <linux/mutex_proxy.h>
#include <net/netfilter/nf_conntrack_labels.h>

struct mutex_proxy_net;
struct net;

/**
 * mutex_proxy_ct_steered() - whether a conntrack entry is one the module
 *	steered (its MUTEX_CT_LABEL_STEERED label bit is set)
 * @ct: the entry; a live one (referenced, or the packet's own)
 *
 * One extension lookup and one bit test: the packet path's filter.
 */
static inline bool mutex_proxy_ct_steered(const struct nf_conn *ct)
{
	const struct nf_conn_labels *labels = nf_ct_labels_find(ct);

	return labels && test_bit(MUTEX_CT_LABEL_STEERED, labels->bits);
}

int mutex_proxy_steer_register(struct net *net, struct mutex_proxy_net *mpn);
void mutex_proxy_steer_unregister(struct net *net, struct mutex_proxy_net *mpn);

#endif /* _MUTEX_PROXY_STEER_H */
