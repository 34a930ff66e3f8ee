// SPDX-License-Identifier: GPL-2.0
/*
 * mutex_proxy: rule classifier. First match in rule order, without a
 * linear scan over every rule.
 *
 * The rules are partitioned by (family, protocol): IPv4/IPv6 x TCP/UDP; a
 * rule for both families or both protocols is in every partition it can
 * match. Inside a partition each rule is in exactly one index:
 *   1. the destination port index, if it has a destination port range
 *      covering at most MUTEX_CLS_PORT_SPAN_MAX elementary intervals: the
 *      port space is cut at every range boundary of the partition's rules
 *      into elementary intervals, each with the ascending list of rules
 *      whose range covers it (found by binary search over the boundaries);
 *   2. else the prefix index, if it has a destination prefix of non-zero
 *      length: per prefix length present, an array of (prefix, rule)
 *      sorted by prefix; the packet's destination, masked to the length,
 *      is found by binary search, giving an ascending run of rules;
 *   3. else the rest list, ascending.
 * A lookup gathers these candidate lists (one port list, one run per
 * prefix length present, the rest list). Each is ascending, so the first
 * full match in each list is that list's best; the answer is the smallest
 * of those, and a list is only walked while its indices are below the best
 * found so far. Every candidate is fully checked (mutex_proxy_rule_match()),
 * so the indexes only narrow the candidates: the result is exactly the
 * first matching rule of a linear scan.
 *
 * Everything is built with the snapshot (process context, GFP_KERNEL_ACCOUNT: charged to
 * the memory cgroup of whoever sets the configuration) and
 * read-only afterwards; lookups run under RCU with no lock.
 */
#include <linux/in.h>
#include <linux/slab.h>
#include <linux/socket.h>
#include <linux/sort.h>
#include <linux/string.h>

#include "mutex_proxy.h"

static unsigned int mutex_proxy_cls_part_of(u8 family, u8 proto)
{
	return (family == AF_INET6 ? 2 : 0) + (proto == IPPROTO_UDP ? 1 : 0);
}

static const u8 mutex_proxy_cls_part_family[MUTEX_CLS_PARTS] = {
	AF_INET, AF_INET, AF_INET6, AF_INET6,
};

static const u8 mutex_proxy_cls_part_proto[MUTEX_CLS_PARTS] = {
	IPPROTO_TCP, IPPROTO_UDP, IPPROTO_TCP, IPPROTO_UDP,
};

static bool mutex_proxy_addr_masked_eq(const union nf_inet_addr *a,
				       const union nf_inet_addr *prefix,
				       const union nf_inet_addr *mask)
{
	return !(((a->all[0] & mask->all[0]) ^ prefix->all[0]) |
		 ((a->all[1] & mask->all[1]) ^ prefix->all[1]) |
		 ((a->all[2] & mask->all[2]) ^ prefix->all[2]) |
		 ((a->all[3] & mask->all[3]) ^ prefix->all[3]));
}

/**
 * mutex_proxy_rule_match() - does a rule match a flow
 * @r: the rule
 * @key: the flow
 *
 * Return: whether every match of @r holds for @key.
 */
bool mutex_proxy_rule_match(const struct mutex_proxy_rule *r,
			    const struct mutex_proxy_key *key)
{
	u32 m = r->match;

	if (r->family && r->family != key->family)
		return false;
	if (r->proto && r->proto != key->proto)
		return false;
	if ((m & MUTEX_M_DST) &&
	    !mutex_proxy_addr_masked_eq(&key->daddr, &r->dst, &r->dst_mask))
		return false;
	if ((m & MUTEX_M_DPORT) &&
	    (key->dport < r->dport_min || key->dport > r->dport_max))
		return false;
	if ((m & MUTEX_M_SRC) &&
	    !mutex_proxy_addr_masked_eq(&key->saddr, &r->src, &r->src_mask))
		return false;
	if ((m & MUTEX_M_SPORT) &&
	    (key->sport < r->sport_min || key->sport > r->sport_max))
		return false;
	if ((m & MUTEX_M_MARK) && (key->mark & r->mark_mask) != r->mark)
		return false;
	if ((m & MUTEX_M_OIF) && key->oif != r->oif)
		return false;
	if ((m & MUTEX_M_IIF) && key->iif != r->iif)
		return false;
	if (m & MUTEX_M_OWNER) {
		if (!key->has_owner)
			return false;
		if ((m & MUTEX_M_UID) &&
		    (key->uid < r->uid_min || key->uid > r->uid_max))
			return false;
		if ((m & MUTEX_M_GID) &&
		    (key->gid < r->gid_min || key->gid > r->gid_max))
			return false;
		if ((m & MUTEX_M_CGROUP) &&
		    (!key->sk || !mutex_proxy_cgroup_match_sk(r->cgm, key->sk)))
			return false;
	}
	return true;
}
EXPORT_SYMBOL_FOR_MUTEX_PROXY_KUNIT(mutex_proxy_rule_match);

static bool mutex_proxy_rule_in_part(const struct mutex_proxy_rule *r,
				     unsigned int p)
{
	return (!r->family || r->family == mutex_proxy_cls_part_family[p]) &&
	       (!r->proto || r->proto == mutex_proxy_cls_part_proto[p]);
}

static int mutex_proxy_u32_cmp(const void *a, const void *b)
{
	u32 x = *(const u32 *)a, y = *(const u32 *)b;

	return x < y ? -1 : x > y;
}

static int mutex_proxy_addr_cmp(const union nf_inet_addr *a,
				const union nf_inet_addr *b)
{
	return memcmp(a, b, sizeof(*a));
}

static int mutex_proxy_ent_cmp(const void *a, const void *b)
{
	const struct mutex_proxy_cls_ent *x = a, *y = b;
	int c = mutex_proxy_addr_cmp(&x->addr, &y->addr);

	if (c)
		return c;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Return: the elementary interval holding @port (bounds[0] is 0). */
static u32 mutex_proxy_cls_interval(const struct mutex_proxy_cls_part *pt,
				    u32 port)
{
	u32 lo = 0, hi = pt->n_bounds;

	/* Largest i with bounds[i] <= port. */
	while (hi - lo > 1) {
		u32 mid = lo + (hi - lo) / 2;

		if (pt->bounds[mid] <= port)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* What index a rule of a partition goes into. */
enum { MUTEX_CLS_IN_PORT, MUTEX_CLS_IN_PREFIX, MUTEX_CLS_IN_REST };

static int mutex_proxy_cls_where(const struct mutex_proxy_cls_part *pt,
				 const struct mutex_proxy_rule *r)
{
	if ((r->match & MUTEX_M_DPORT) && pt->n_bounds &&
	    mutex_proxy_cls_interval(pt, r->dport_max) -
	    mutex_proxy_cls_interval(pt, r->dport_min) < MUTEX_CLS_PORT_SPAN_MAX)
		return MUTEX_CLS_IN_PORT;
	if ((r->match & MUTEX_M_DST) && r->dst_plen)
		return MUTEX_CLS_IN_PREFIX;
	return MUTEX_CLS_IN_REST;
}

/*
 * Whether rule @i of partition @p goes into the port index; if so, the
 * elementary intervals it covers are *@a..*@b.
 */
static bool mutex_proxy_cls_port_span(const struct mutex_proxy_config *cfg,
				      unsigned int p, u32 i, u32 *a, u32 *b)
{
	const struct mutex_proxy_cls_part *pt = &cfg->parts[p];
	const struct mutex_proxy_rule *r = &cfg->rules[i];

	if (!mutex_proxy_rule_in_part(r, p) ||
	    mutex_proxy_cls_where(pt, r) != MUTEX_CLS_IN_PORT)
		return false;
	*a = mutex_proxy_cls_interval(pt, r->dport_min);
	*b = mutex_proxy_cls_interval(pt, r->dport_max);
	return true;
}

static int mutex_proxy_cls_build_ports(struct mutex_proxy_config *cfg,
				       unsigned int p)
{
	struct mutex_proxy_cls_part *pt = &cfg->parts[p];
	u32 n = 0, i, j, a, b, total = 0, *fill;

	for (i = 0; i < cfg->n_rules; i++)
		if (mutex_proxy_rule_in_part(&cfg->rules[i], p) &&
		    (cfg->rules[i].match & MUTEX_M_DPORT))
			n++;
	if (!n)
		return 0;

	pt->bounds = kvmalloc_array(2 * n + 1, sizeof(u32), GFP_KERNEL_ACCOUNT);
	if (!pt->bounds)
		return -ENOMEM;
	pt->bounds[pt->n_bounds++] = 0;
	for (i = 0; i < cfg->n_rules; i++) {
		const struct mutex_proxy_rule *r = &cfg->rules[i];

		if (!mutex_proxy_rule_in_part(r, p) ||
		    !(r->match & MUTEX_M_DPORT))
			continue;
		pt->bounds[pt->n_bounds++] = r->dport_min;
		if (r->dport_max < 65535)
			pt->bounds[pt->n_bounds++] = r->dport_max + 1;
	}
	sort(pt->bounds, pt->n_bounds, sizeof(u32), mutex_proxy_u32_cmp, NULL);
	for (i = 1, j = 1; i < pt->n_bounds; i++)
		if (pt->bounds[i] != pt->bounds[j - 1])
			pt->bounds[j++] = pt->bounds[i];
	pt->n_bounds = j;

	pt->port_off = kvcalloc(pt->n_bounds + 1, sizeof(u32), GFP_KERNEL_ACCOUNT);
	if (!pt->port_off)
		return -ENOMEM;
	/* Count the rules of each interval, then turn counts into offsets. */
	for (i = 0; i < cfg->n_rules; i++) {
		if (!mutex_proxy_cls_port_span(cfg, p, i, &a, &b))
			continue;
		for (j = a; j <= b; j++)
			pt->port_off[j + 1]++;
		total += b - a + 1;
	}
	for (j = 0; j < pt->n_bounds; j++)
		pt->port_off[j + 1] += pt->port_off[j];
	if (!total)
		return 0;

	pt->port_idx = kvmalloc_array(total, sizeof(u32), GFP_KERNEL_ACCOUNT);
	fill = kvmalloc_array(pt->n_bounds, sizeof(u32), GFP_KERNEL_ACCOUNT);
	if (!pt->port_idx || !fill) {
		kvfree(fill);
		return -ENOMEM;
	}
	memcpy(fill, pt->port_off, pt->n_bounds * sizeof(u32));
	/* Rules in ascending order: every interval's list is ascending. */
	for (i = 0; i < cfg->n_rules; i++) {
		if (!mutex_proxy_cls_port_span(cfg, p, i, &a, &b))
			continue;
		for (j = a; j <= b; j++)
			pt->port_idx[fill[j]++] = i;
	}
	kvfree(fill);
	return 0;
}

static int mutex_proxy_cls_build_part(struct mutex_proxy_config *cfg,
				      unsigned int p)
{
	struct mutex_proxy_cls_part *pt = &cfg->parts[p];
	u32 count[129] = {};
	u32 i, k;
	int err;

	err = mutex_proxy_cls_build_ports(cfg, p);
	if (err)
		return err;

	for (i = 0; i < cfg->n_rules; i++) {
		const struct mutex_proxy_rule *r = &cfg->rules[i];

		if (!mutex_proxy_rule_in_part(r, p))
			continue;
		switch (mutex_proxy_cls_where(pt, r)) {
		case MUTEX_CLS_IN_PREFIX:
			if (!count[r->dst_plen]++)
				pt->n_plens++;
			break;
		case MUTEX_CLS_IN_REST:
			pt->n_rest++;
			break;
		}
	}

	if (pt->n_rest) {
		pt->rest = kvmalloc_array(pt->n_rest, sizeof(u32), GFP_KERNEL_ACCOUNT);
		if (!pt->rest)
			return -ENOMEM;
	}
	if (pt->n_plens) {
		pt->plens = kcalloc(pt->n_plens, sizeof(*pt->plens), GFP_KERNEL_ACCOUNT);
		if (!pt->plens)
			return -ENOMEM;
	}
	/* Longest prefixes first; allocate each length's entries. */
	for (k = 0, i = 128; i > 0; i--) {
		struct mutex_proxy_cls_plen *pl;

		if (!count[i])
			continue;
		pl = &pt->plens[k++];
		pl->plen = i;
		mutex_proxy_prefix_mask(&pl->mask, i);
		pl->ent = kvmalloc_array(count[i], sizeof(*pl->ent), GFP_KERNEL_ACCOUNT);
		if (!pl->ent)
			return -ENOMEM;
	}

	for (pt->n_rest = 0, i = 0; i < cfg->n_rules; i++) {
		const struct mutex_proxy_rule *r = &cfg->rules[i];

		if (!mutex_proxy_rule_in_part(r, p))
			continue;
		switch (mutex_proxy_cls_where(pt, r)) {
		case MUTEX_CLS_IN_PREFIX:
			for (k = 0; pt->plens[k].plen != r->dst_plen; k++)
				;
			pt->plens[k].ent[pt->plens[k].n].addr = r->dst;
			pt->plens[k].ent[pt->plens[k].n++].idx = i;
			break;
		case MUTEX_CLS_IN_REST:
			pt->rest[pt->n_rest++] = i;
			break;
		}
	}
	for (k = 0; k < pt->n_plens; k++)
		sort(pt->plens[k].ent, pt->plens[k].n, sizeof(*pt->plens[k].ent),
		     mutex_proxy_ent_cmp, NULL);
	return 0;
}

/**
 * mutex_proxy_cls_free() - free a snapshot's classifier index
 * @cfg: the snapshot
 */
void mutex_proxy_cls_free(struct mutex_proxy_config *cfg)
{
	unsigned int p;
	u32 k;

	for (p = 0; p < MUTEX_CLS_PARTS; p++) {
		struct mutex_proxy_cls_part *pt = &cfg->parts[p];

		kvfree(pt->bounds);
		kvfree(pt->port_off);
		kvfree(pt->port_idx);
		for (k = 0; pt->plens && k < pt->n_plens; k++)
			kvfree(pt->plens[k].ent);
		kfree(pt->plens);
		kvfree(pt->rest);
		memset(pt, 0, sizeof(*pt));
	}
}

/**
 * mutex_proxy_cls_build() - build the classifier index of a snapshot
 * @cfg: the snapshot, with its rules
 *
 * Return: 0 or -ENOMEM (the caller frees @cfg, index included).
 */
int mutex_proxy_cls_build(struct mutex_proxy_config *cfg)
{
	unsigned int p;
	int err;

	for (p = 0; p < MUTEX_CLS_PARTS; p++) {
		err = mutex_proxy_cls_build_part(cfg, p);
		if (err)
			return err;
	}
	return 0;
}

/* Walk an ascending list while below @best; return the new best. */
static u32 mutex_proxy_cls_walk(const struct mutex_proxy_config *cfg,
				const u32 *list, u32 n,
				const struct mutex_proxy_key *key, u32 best)
{
	u32 i;

	for (i = 0; i < n && list[i] < best; i++)
		if (mutex_proxy_rule_match(&cfg->rules[list[i]], key))
			return list[i];
	return best;
}

static u32 mutex_proxy_cls_walk_plen(const struct mutex_proxy_config *cfg,
				     const struct mutex_proxy_cls_plen *pl,
				     const struct mutex_proxy_key *key,
				     u32 best)
{
	union nf_inet_addr a;
	u32 lo = 0, hi = pl->n;
	unsigned int i;

	for (i = 0; i < 4; i++)
		a.all[i] = key->daddr.all[i] & pl->mask.all[i];
	/* First entry with address >= a. */
	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;

		if (mutex_proxy_addr_cmp(&pl->ent[mid].addr, &a) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < pl->n && pl->ent[lo].idx < best; lo++) {
		if (mutex_proxy_addr_cmp(&pl->ent[lo].addr, &a))
			break;
		if (mutex_proxy_rule_match(&cfg->rules[pl->ent[lo].idx], key))
			return pl->ent[lo].idx;
	}
	return best;
}

/**
 * mutex_proxy_classify() - the first rule matching a flow
 * @cfg: the snapshot (under RCU), or NULL
 * @key: the flow
 *
 * Return: the first rule, in rule order, whose every match holds for
 * @key, or NULL (no rule; not TCP or UDP; not IPv4 or IPv6).
 */
const struct mutex_proxy_rule *
mutex_proxy_classify(const struct mutex_proxy_config *cfg,
		     const struct mutex_proxy_key *key)
{
	const struct mutex_proxy_cls_part *pt;
	u32 best = U32_MAX, k;

	if (!cfg || !cfg->n_rules ||
	    (key->family != AF_INET && key->family != AF_INET6) ||
	    (key->proto != IPPROTO_TCP && key->proto != IPPROTO_UDP))
		return NULL;
	pt = &cfg->parts[mutex_proxy_cls_part_of(key->family, key->proto)];

	if (pt->port_idx) {
		u32 i = mutex_proxy_cls_interval(pt, key->dport);

		best = mutex_proxy_cls_walk(cfg, pt->port_idx + pt->port_off[i],
					    pt->port_off[i + 1] - pt->port_off[i],
					    key, best);
	}
	for (k = 0; k < pt->n_plens; k++)
		best = mutex_proxy_cls_walk_plen(cfg, &pt->plens[k], key, best);
	best = mutex_proxy_cls_walk(cfg, pt->rest, pt->n_rest, key, best);

	return best == U32_MAX ? NULL : &cfg->rules[best];
}
EXPORT_SYMBOL_FOR_MUTEX_PROXY_KUNIT(mutex_proxy_classify);
