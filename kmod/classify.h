/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mutex_proxy: the rule classifier, a compiled index of a
 * snapshot's rules (classify.c).
 */
#ifndef _MUTEX_PROXY_CLASSIFY_H
#define _MUTEX_PROXY_CLASSIFY_H

#include <linux/netfilter.h>
#include <linux/types.h>

struct cgroup;
struct mutex_proxy_config;
struct mutex_proxy_rule;
struct sock;

/**
 * struct mutex_proxy_key - what the classifier knows of a new flow
 * @family: AF_INET or AF_INET6
 * @proto: IPPROTO_TCP or IPPROTO_UDP
 * @has_owner: @uid, @gid and @sk are valid (a local socket)
 * @saddr: source address
 * @daddr: destination address
 * @sport: source port, host byte order
 * @dport: destination port, host byte order
 * @mark: packet mark
 * @oif: output interface index, 0 if none
 * @iif: input interface index, 0 if none
 * @uid: owner uid of the local socket
 * @gid: owner gid of the local socket
 * @sk: the local socket (for cgroup matches), or NULL
 */
struct mutex_proxy_key {
	u8 family;
	u8 proto;
	bool has_owner;
	union nf_inet_addr saddr;
	union nf_inet_addr daddr;
	u16 sport;
	u16 dport;
	u32 mark;
	u32 oif;
	u32 iif;
	u32 uid;
	u32 gid;
	struct sock *sk;
};

/* Partitions of the classifier: (family, protocol) */
#define MUTEX_CLS_PARTS	4

/* Range fields the classifier cuts into elementary intervals */
enum {
	MUTEX_CLS_R_DPORT,
	MUTEX_CLS_R_SPORT,
	MUTEX_CLS_R_UID,
	MUTEX_CLS_R_GID,
	MUTEX_CLS_RANGES,
};

/**
 * struct mutex_proxy_cls_range - elementary intervals of one range field
 * @n: number of intervals (0: no rule of the partition indexes the field)
 * @bounds: first value of each interval, ascending, @bounds[0] == 0;
 *	interval i ends where interval i + 1 begins
 */
struct mutex_proxy_cls_range {
	u32 n;
	u32 *bounds;
};

/**
 * struct mutex_proxy_cls_tuple - a shape of rules: which fields, which
 *	prefix lengths, which mark mask, which cgroup depth they index
 * @fields: MUTEX_CLS_F_* bits (classify.c)
 * @dst_plen: destination prefix length, if MUTEX_CLS_F_DST
 * @src_plen: source prefix length, if MUTEX_CLS_F_SRC
 * @mark_mask: the mask, if MUTEX_CLS_F_MARK
 * @cg_depth: cgroup path depth, if MUTEX_CLS_F_CGROUP
 * @cg_root: the cgroup namespace root of those paths (the rules hold it)
 * @first: the smallest rule index of the shape
 * @dst_mask: mask of @dst_plen bits
 * @src_mask: mask of @src_plen bits
 */
struct mutex_proxy_cls_tuple {
	u32 fields;
	u8 dst_plen;
	u8 src_plen;
	u32 mark_mask;
	u32 cg_depth;
	const struct cgroup *cg_root;
	u32 first;
	union nf_inet_addr dst_mask;
	union nf_inet_addr src_mask;
};

/**
 * struct mutex_proxy_cls_ent - one rule under one key of its shape
 * @hash: hash of the shape's index and the key's fields
 * @tuple: index of the shape in the partition
 * @idx: the rule's index
 */
struct mutex_proxy_cls_ent {
	u32 hash;
	u32 tuple;
	u32 idx;
};

/**
 * struct mutex_proxy_cls_part - the index of one (family, protocol)
 * @ranges: elementary intervals per range field
 * @n_tuples: number of shapes
 * @tuples: the shapes, ascending by their first rule
 * @seed: hash seed
 * @hash_mask: number of buckets - 1 (a power of two - 1)
 * @bucket: entries of bucket b are @ent[@bucket[b] .. @bucket[b + 1] - 1]
 * @n_ent: number of entries
 * @ent: entries sorted by (bucket, hash, tuple, rule index)
 */
struct mutex_proxy_cls_part {
	struct mutex_proxy_cls_range ranges[MUTEX_CLS_RANGES];
	u32 n_tuples;
	struct mutex_proxy_cls_tuple *tuples;
	u32 seed;
	u32 hash_mask;
	u32 *bucket;
	u32 n_ent;
	struct mutex_proxy_cls_ent *ent;
};

void mutex_proxy_prefix_mask(union nf_inet_addr *mask, u8 plen);
int mutex_proxy_cls_build(struct mutex_proxy_config *cfg);
void mutex_proxy_cls_free(struct mutex_proxy_config *cfg);
#if IS_ENABLED(CONFIG_KUNIT)
bool mutex_proxy_rule_match(const struct mutex_proxy_rule *r,
			    const struct mutex_proxy_key *key);
#endif
const struct mutex_proxy_rule *
mutex_proxy_classify(const struct mutex_proxy_config *cfg,
		     const struct mutex_proxy_key *key);

#endif /* _MUTEX_PROXY_CLASSIFY_H */
