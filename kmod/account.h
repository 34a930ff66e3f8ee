/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mutex_proxy: per-packet accounting, per-CPU cache and batches
 * (account.c).
 *
 * The cache is the connection table's per-CPU front, so the two know each
 * other: a miss looks the flow up in the table (table.c), and the table
 * hands every removed flow back here to be let go of by every CPU before
 * it is freed (mutex_proxy_account_release()).
 */
#ifndef _MUTEX_PROXY_ACCOUNT_H
#define _MUTEX_PROXY_ACCOUNT_H

#include <linux/llist.h>
#include <linux/netfilter/nf_conntrack_tuple_common.h>
#include <linux/types.h>

struct mutex_proxy_net;
struct nf_conn;

int mutex_proxy_account_init(void);
void mutex_proxy_account_exit(void);
void mutex_proxy_account_packet(struct mutex_proxy_net *mpn,
				struct nf_conn *ct,
				enum ip_conntrack_dir dir, unsigned int len);
void mutex_proxy_account_release(struct llist_node *dead, unsigned long n);
void mutex_proxy_account_flush_all(void);
int mutex_proxy_account_resize(u32 entries);

#endif /* _MUTEX_PROXY_ACCOUNT_H */
