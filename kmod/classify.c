// SPDX-License-Identifier: GPL-2.0
/*
 * mutex_proxy: rule classifier. First match in rule order, at a cost that
 * does not grow with the number of rules.
 *
 * The rules are partitioned by (family, protocol): IPv4/IPv6 x TCP/UDP; a
 * rule for both families or both protocols is in every partition it can
 * match. Inside a partition the index is a tuple space (as Open vSwitch's
 * classifier): every rule has a *shape*, the set of its fields the index
 * uses, with their prefix lengths, mark mask and cgroup depth. Rules of one
 * shape are found by one hash lookup of the packet's fields masked to that
 * shape, so a lookup costs one hash per shape present, whatever the number
 * of rules: 10,000 rules "destination /32 + port 80" are one shape.
 *
 * Indexed fields: destination and source prefixes (masked), the mark
 * (masked), the interfaces, the cgroup path (a hash of the path's
 * components at the shape's depth, cgroup.c) and the range fields:
 * destination and source ports, uid and gid. A range field is cut, per
 * partition, into elementary intervals at every boundary of the rules that
 * index it; the packet's value is turned into its interval by a binary
 * search, and a rule is entered once per interval it covers. A rule whose
 * range covers many intervals (or whose ranges together would give too many
 * entries, MUTEX_CLS_EXPAND_MAX) does not index that field: the field is
 * then only checked in full.
 *
 * Shapes are kept in ascending order of their first rule. A lookup takes
 * them in that order, stops at the first shape whose first rule is not below
 * the best match so far, and in each walks the rules under the packet's key
 * in ascending order, checking each in full (mutex_proxy_rule_match()) up
 * to the first match: the indexes only narrow the candidates, and the result
 * is exactly the first matching rule of a linear scan.
 *
 * Everything is built with the snapshot (process context,
 * MUTEX_PROXY_GFP_CONFIG: charged to the memory cgroup of whoever sets the
 * configuration) and read-only afterwards; lookups run under RCU with no
 * lock.
 */
#include <linux/in.h>
#include <linux/jhash.h>
#include <linux/log2.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/socket.h>
#include <linux/sort.h>
#include <linux/string.h>

#include "cgroup.h"
#include "classify.h"
#include "config.h"
#include "mutex_proxy.h"
#include "compat.h"

/**
 * mutex_proxy_prefix_mask() - the mask of a prefix length
 * @mask: receives the mask, in network byte order
 * @plen: prefix length, 0..128
 */
void mutex_proxy_prefix_mask(union nf_inet_addr *mask, u8 plen)
{
	unsigned int i;

	memset(mask, 0, sizeof(*mask));
	for (i = 0; i < 4 && plen; i++) {
		unsigned int n = min_t(unsigned int, plen, 32);

		mask->ip6[i] = htonl(n == 32 ? ~0U : ~(~0U >> n));
		plen -= n;
	}
}
EXPORT_SYMBOL_IF_KUNIT(mutex_proxy_prefix_mask);

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
VISIBLE_IF_KUNIT
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
EXPORT_SYMBOL_IF_KUNIT(mutex_proxy_rule_match);

static bool mutex_proxy_rule_in_part(const struct mutex_proxy_rule *r,
				     unsigned int p)
{
	return (!r->family || r->family == mutex_proxy_cls_part_family[p]) &&
	       (!r->proto || r->proto == mutex_proxy_cls_part_proto[p]);
}

/* Fields of a shape (struct mutex_proxy_cls_tuple.fields) */
#define MUTEX_CLS_F_DST		BIT(0)
#define MUTEX_CLS_F_SRC		BIT(1)
#define MUTEX_CLS_F_MARK	BIT(2)
#define MUTEX_CLS_F_OIF		BIT(3)
#define MUTEX_CLS_F_IIF		BIT(4)
#define MUTEX_CLS_F_CGROUP	BIT(5)
#define MUTEX_CLS_F_RANGE(f)	BIT(8 + (f))	/* f: MUTEX_CLS_R_* */
#define MUTEX_CLS_F_OWNER	(MUTEX_CLS_F_CGROUP | \
				 MUTEX_CLS_F_RANGE(MUTEX_CLS_R_UID) | \
				 MUTEX_CLS_F_RANGE(MUTEX_CLS_R_GID))

/*
 * A rule is entered once per combination of the intervals its indexed
 * ranges cover; at most this many (else its widest range is not indexed).
 */
#define MUTEX_CLS_EXPAND_MAX	8

/* Words of a key: shape, two addresses, four intervals, mark, oif, iif, cgroup */
#define MUTEX_CLS_KEY_WORDS	(1 + 4 + 4 + MUTEX_CLS_RANGES + 4)

static const u32 mutex_proxy_cls_range_match[MUTEX_CLS_RANGES] = {
	[MUTEX_CLS_R_DPORT] = MUTEX_M_DPORT,
	[MUTEX_CLS_R_SPORT] = MUTEX_M_SPORT,
	[MUTEX_CLS_R_UID] = MUTEX_M_UID,
	[MUTEX_CLS_R_GID] = MUTEX_M_GID,
};

static const u32 mutex_proxy_cls_range_top[MUTEX_CLS_RANGES] = {
	[MUTEX_CLS_R_DPORT] = U16_MAX,
	[MUTEX_CLS_R_SPORT] = U16_MAX,
	[MUTEX_CLS_R_UID] = U32_MAX,
	[MUTEX_CLS_R_GID] = U32_MAX,
};

/* A rule's range of field @f, if it has one. */
static bool mutex_proxy_cls_rule_range(const struct mutex_proxy_rule *r,
				       unsigned int f, u32 *lo, u32 *hi)
{
	if (!(r->match & mutex_proxy_cls_range_match[f]))
		return false;
	switch (f) {
	case MUTEX_CLS_R_DPORT:
		*lo = r->dport_min;
		*hi = r->dport_max;
		break;
	case MUTEX_CLS_R_SPORT:
		*lo = r->sport_min;
		*hi = r->sport_max;
		break;
	case MUTEX_CLS_R_UID:
		*lo = r->uid_min;
		*hi = r->uid_max;
		break;
	default:
		*lo = r->gid_min;
		*hi = r->gid_max;
		break;
	}
	/* The whole domain narrows nothing. */
	return *lo || *hi != mutex_proxy_cls_range_top[f];
}

/* A packet's value of range field @f. */
static u32 mutex_proxy_cls_key_value(const struct mutex_proxy_key *key,
				     unsigned int f)
{
	switch (f) {
	case MUTEX_CLS_R_DPORT:
		return key->dport;
	case MUTEX_CLS_R_SPORT:
		return key->sport;
	case MUTEX_CLS_R_UID:
		return key->uid;
	default:
		return key->gid;
	}
}

static int mutex_proxy_u32_cmp(const void *a, const void *b)
{
	u32 x = *(const u32 *)a, y = *(const u32 *)b;

	return x < y ? -1 : x > y;
}

/* Return: the elementary interval holding @v (bounds[0] is 0). */
static u32 mutex_proxy_cls_interval(const struct mutex_proxy_cls_range *rg,
				    u32 v)
{
	u32 lo = 0, hi = rg->n;

	/* Largest i with bounds[i] <= v. */
	while (hi - lo > 1) {
		u32 mid = lo + (hi - lo) / 2;

		if (rg->bounds[mid] <= v)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/*
 * Cut field @f at the range boundaries of the partition's rules that have
 * MUTEX_CLS_F_RANGE(@f) in @fields[] (all rules with the field if @fields
 * is NULL).
 */
static int mutex_proxy_cls_build_range(const struct mutex_proxy_config *cfg,
				       unsigned int p, const u32 *fields,
				       unsigned int f,
				       struct mutex_proxy_cls_range *rg)
{
	u32 i, j, n = 0, lo, hi;

	kvfree(rg->bounds);
	rg->bounds = NULL;
	rg->n = 0;
	for (i = 0; i < cfg->n_rules; i++)
		if (mutex_proxy_rule_in_part(&cfg->rules[i], p) &&
		    (fields ? fields[i] & MUTEX_CLS_F_RANGE(f) :
		     mutex_proxy_cls_rule_range(&cfg->rules[i], f, &lo, &hi)))
			n++;
	if (!n)
		return 0;
	rg->bounds = kvmalloc_array(2 * n + 1, sizeof(u32), MUTEX_PROXY_GFP_CONFIG);
	if (!rg->bounds)
		return -ENOMEM;
	rg->bounds[rg->n++] = 0;
	for (i = 0; i < cfg->n_rules; i++) {
		const struct mutex_proxy_rule *r = &cfg->rules[i];

		if (!mutex_proxy_rule_in_part(r, p) ||
		    !mutex_proxy_cls_rule_range(r, f, &lo, &hi) ||
		    (fields && !(fields[i] & MUTEX_CLS_F_RANGE(f))))
			continue;
		rg->bounds[rg->n++] = lo;
		if (hi < mutex_proxy_cls_range_top[f])
			rg->bounds[rg->n++] = hi + 1;
	}
	sort(rg->bounds, rg->n, sizeof(u32), mutex_proxy_u32_cmp, NULL);
	for (i = 1, j = 1; i < rg->n; i++)
		if (rg->bounds[i] != rg->bounds[j - 1])
			rg->bounds[j++] = rg->bounds[i];
	rg->n = j;
	return 0;
}

/* Number of intervals of @rg a rule's range of field @f covers. */
static u32 mutex_proxy_cls_span(const struct mutex_proxy_cls_range *rg,
				const struct mutex_proxy_rule *r, unsigned int f,
				u32 *first)
{
	u32 lo, hi;

	mutex_proxy_cls_rule_range(r, f, &lo, &hi);
	*first = mutex_proxy_cls_interval(rg, lo);
	return mutex_proxy_cls_interval(rg, hi) - *first + 1;
}

/* The fields rule @r indexes, given the intervals of a first cut. */
static u32 mutex_proxy_cls_rule_fields(const struct mutex_proxy_cls_part *pt,
				       const struct mutex_proxy_rule *r)
{
	u32 fields = 0, span[MUTEX_CLS_RANGES], product = 1, lo, hi, first;
	unsigned int f, widest;

	if ((r->match & MUTEX_M_DST) && r->dst_plen)
		fields |= MUTEX_CLS_F_DST;
	if ((r->match & MUTEX_M_SRC) && r->src_plen)
		fields |= MUTEX_CLS_F_SRC;
	if ((r->match & MUTEX_M_MARK) && r->mark_mask)
		fields |= MUTEX_CLS_F_MARK;
	if (r->match & MUTEX_M_OIF)
		fields |= MUTEX_CLS_F_OIF;
	if (r->match & MUTEX_M_IIF)
		fields |= MUTEX_CLS_F_IIF;
	if ((r->match & MUTEX_M_CGROUP) && r->cgm &&
	    mutex_proxy_cgroup_match_depth(r->cgm))
		fields |= MUTEX_CLS_F_CGROUP;
	for (f = 0; f < MUTEX_CLS_RANGES; f++) {
		span[f] = 0;
		if (!mutex_proxy_cls_rule_range(r, f, &lo, &hi))
			continue;
		span[f] = mutex_proxy_cls_span(&pt->ranges[f], r, f, &first);
		if (span[f] > MUTEX_CLS_EXPAND_MAX) {
			span[f] = 0;
			continue;
		}
		fields |= MUTEX_CLS_F_RANGE(f);
		product *= span[f];
	}
	while (product > MUTEX_CLS_EXPAND_MAX) {
		for (widest = 0, f = 1; f < MUTEX_CLS_RANGES; f++)
			if (span[f] > span[widest])
				widest = f;
		fields &= ~MUTEX_CLS_F_RANGE(widest);
		product /= span[widest];
		span[widest] = 0;
	}
	return fields;
}

/* A rule's shape, for sorting the rules by shape. */
struct mutex_proxy_cls_sig {
	u32 fields;
	u32 mark_mask;
	u32 cg_depth;
	u8 dst_plen;
	u8 src_plen;
	const struct cgroup *cg_root;
	u32 idx;
};

static void mutex_proxy_cls_sig_of(struct mutex_proxy_cls_sig *s,
				   const struct mutex_proxy_rule *r,
				   u32 fields, u32 idx)
{
	memset(s, 0, sizeof(*s));
	s->fields = fields;
	s->idx = idx;
	if (fields & MUTEX_CLS_F_DST)
		s->dst_plen = r->dst_plen;
	if (fields & MUTEX_CLS_F_SRC)
		s->src_plen = r->src_plen;
	if (fields & MUTEX_CLS_F_MARK)
		s->mark_mask = r->mark_mask;
	if (fields & MUTEX_CLS_F_CGROUP) {
		s->cg_depth = mutex_proxy_cgroup_match_depth(r->cgm);
		s->cg_root = mutex_proxy_cgroup_match_root(r->cgm);
	}
}

static int mutex_proxy_cls_sig_cmp(const void *a, const void *b)
{
	const struct mutex_proxy_cls_sig *x = a, *y = b;

	if (x->fields != y->fields)
		return x->fields < y->fields ? -1 : 1;
	if (x->dst_plen != y->dst_plen)
		return x->dst_plen < y->dst_plen ? -1 : 1;
	if (x->src_plen != y->src_plen)
		return x->src_plen < y->src_plen ? -1 : 1;
	if (x->mark_mask != y->mark_mask)
		return x->mark_mask < y->mark_mask ? -1 : 1;
	if (x->cg_depth != y->cg_depth)
		return x->cg_depth < y->cg_depth ? -1 : 1;
	if (x->cg_root != y->cg_root)
		return (unsigned long)x->cg_root < (unsigned long)y->cg_root ?
		       -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static bool mutex_proxy_cls_sig_same(const struct mutex_proxy_cls_sig *x,
				     const struct mutex_proxy_cls_sig *y)
{
	return x->fields == y->fields && x->dst_plen == y->dst_plen &&
	       x->src_plen == y->src_plen && x->mark_mask == y->mark_mask &&
	       x->cg_depth == y->cg_depth && x->cg_root == y->cg_root;
}

static int mutex_proxy_cls_tuple_cmp(const void *a, const void *b)
{
	const struct mutex_proxy_cls_tuple *x = a, *y = b;

	return x->first < y->first ? -1 : x->first > y->first;
}

static int mutex_proxy_cls_ent_cmp(const void *a, const void *b, const void *priv)
{
	const struct mutex_proxy_cls_ent *x = a, *y = b;
	u32 mask = *(const u32 *)priv;

	if ((x->hash & mask) != (y->hash & mask))
		return (x->hash & mask) < (y->hash & mask) ? -1 : 1;
	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	if (x->tuple != y->tuple)
		return x->tuple < y->tuple ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Append an address masked to a shape's mask: one word for IPv4. */
static u32 mutex_proxy_cls_put_addr(u32 *w, u32 n, bool v6,
				    const union nf_inet_addr *a,
				    const union nf_inet_addr *mask)
{
	unsigned int i;

	for (i = 0; i < (v6 ? 4 : 1); i++)
		w[n++] = a->all[i] & mask->all[i];
	return n;
}

/*
 * The key words of shape @t (index @ti) for the fields other than the
 * ranges, from a rule (@r) or from a packet (@key, with @cg_key).
 */
static u32 mutex_proxy_cls_put_fixed(u32 *w, const struct mutex_proxy_cls_tuple *t,
				     u32 ti, bool v6, const union nf_inet_addr *dst,
				     const union nf_inet_addr *src, u32 mark,
				     u32 oif, u32 iif, u32 cg_key)
{
	u32 n = 0;

	w[n++] = ti;
	if (t->fields & MUTEX_CLS_F_DST)
		n = mutex_proxy_cls_put_addr(w, n, v6, dst, &t->dst_mask);
	if (t->fields & MUTEX_CLS_F_SRC)
		n = mutex_proxy_cls_put_addr(w, n, v6, src, &t->src_mask);
	if (t->fields & MUTEX_CLS_F_MARK)
		w[n++] = mark & t->mark_mask;
	if (t->fields & MUTEX_CLS_F_OIF)
		w[n++] = oif;
	if (t->fields & MUTEX_CLS_F_IIF)
		w[n++] = iif;
	if (t->fields & MUTEX_CLS_F_CGROUP)
		w[n++] = cg_key;
	return n;
}

/* Enter rule @idx of shape @ti once per combination of its intervals. */
static u32 mutex_proxy_cls_enter(struct mutex_proxy_cls_part *pt, unsigned int p,
				 const struct mutex_proxy_rule *r, u32 idx,
				 u32 ti, struct mutex_proxy_cls_ent *ent)
{
	const struct mutex_proxy_cls_tuple *t = &pt->tuples[ti];
	u32 w[MUTEX_CLS_KEY_WORDS], first[MUTEX_CLS_RANGES] = {};
	u32 span[MUTEX_CLS_RANGES] = {}, at[MUTEX_CLS_RANGES] = {};
	u32 n0, n, total = 1, c, rem;
	unsigned int f;

	n0 = mutex_proxy_cls_put_fixed(w, t, ti, p >= 2, &r->dst, &r->src,
				       r->mark, r->oif, r->iif,
				       t->fields & MUTEX_CLS_F_CGROUP ?
				       mutex_proxy_cgroup_match_key(r->cgm) : 0);
	for (f = 0; f < MUTEX_CLS_RANGES; f++) {
		if (!(t->fields & MUTEX_CLS_F_RANGE(f)))
			continue;
		span[f] = mutex_proxy_cls_span(&pt->ranges[f], r, f, &first[f]);
		total *= span[f];
	}
	for (c = 0; c < total; c++) {
		/* combination c: a mixed-radix number over the spans */
		for (rem = c, f = 0; f < MUTEX_CLS_RANGES; f++) {
			if (!span[f])
				continue;
			at[f] = first[f] + rem % span[f];
			rem /= span[f];
		}
		for (n = n0, f = 0; f < MUTEX_CLS_RANGES; f++)
			if (span[f])
				w[n++] = at[f];
		ent[c].hash = jhash2(w, n, pt->seed);
		ent[c].tuple = ti;
		ent[c].idx = idx;
	}
	return total;
}

static u32 mutex_proxy_cls_count(const struct mutex_proxy_cls_part *pt,
				 const struct mutex_proxy_rule *r, u32 fields)
{
	u32 total = 1, first;
	unsigned int f;

	for (f = 0; f < MUTEX_CLS_RANGES; f++)
		if (fields & MUTEX_CLS_F_RANGE(f))
			total *= mutex_proxy_cls_span(&pt->ranges[f], r, f, &first);
	return total;
}

static int mutex_proxy_cls_build_part(struct mutex_proxy_config *cfg,
				      unsigned int p)
{
	struct mutex_proxy_cls_part *pt = &cfg->parts[p];
	struct mutex_proxy_cls_sig *sig = NULL;
	u32 *fields = NULL, *tuple_of = NULL, *remap = NULL;
	u32 i, n = 0, k, b, ti;
	unsigned int f;
	int err = -ENOMEM;

	for (i = 0; i < cfg->n_rules; i++)
		n += mutex_proxy_rule_in_part(&cfg->rules[i], p);
	if (!n)
		return 0;

	/* Which fields each rule indexes: cut every range at every rule's
	 * boundaries, leave out the ranges too wide to enter, cut again.
	 */
	fields = kvcalloc(cfg->n_rules, sizeof(u32), MUTEX_PROXY_GFP_CONFIG);
	tuple_of = kvcalloc(cfg->n_rules, sizeof(u32), MUTEX_PROXY_GFP_CONFIG);
	sig = kvmalloc_array(n, sizeof(*sig), MUTEX_PROXY_GFP_CONFIG);
	if (!fields || !tuple_of || !sig)
		goto out;
	for (f = 0; f < MUTEX_CLS_RANGES; f++) {
		err = mutex_proxy_cls_build_range(cfg, p, NULL, f, &pt->ranges[f]);
		if (err)
			goto out;
	}
	for (i = 0; i < cfg->n_rules; i++)
		if (mutex_proxy_rule_in_part(&cfg->rules[i], p))
			fields[i] = mutex_proxy_cls_rule_fields(pt, &cfg->rules[i]);
	for (f = 0; f < MUTEX_CLS_RANGES; f++) {
		err = mutex_proxy_cls_build_range(cfg, p, fields, f, &pt->ranges[f]);
		if (err)
			goto out;
	}

	/* Shapes: sort the rules by shape, one tuple per run. */
	for (k = 0, i = 0; i < cfg->n_rules; i++)
		if (mutex_proxy_rule_in_part(&cfg->rules[i], p))
			mutex_proxy_cls_sig_of(&sig[k++], &cfg->rules[i],
					       fields[i], i);
	sort(sig, n, sizeof(*sig), mutex_proxy_cls_sig_cmp, NULL);
	for (i = 0; i < n; i++)
		if (!i || !mutex_proxy_cls_sig_same(&sig[i - 1], &sig[i]))
			pt->n_tuples++;
	err = -ENOMEM;
	pt->tuples = kvcalloc(pt->n_tuples, sizeof(*pt->tuples), MUTEX_PROXY_GFP_CONFIG);
	remap = kvmalloc_array(pt->n_tuples, sizeof(u32), MUTEX_PROXY_GFP_CONFIG);
	if (!pt->tuples || !remap)
		goto out;
	for (ti = 0, i = 0; i < n; i++) {
		struct mutex_proxy_cls_tuple *t;

		if (i && !mutex_proxy_cls_sig_same(&sig[i - 1], &sig[i]))
			ti++;
		tuple_of[sig[i].idx] = ti;
		if (i && mutex_proxy_cls_sig_same(&sig[i - 1], &sig[i]))
			continue;
		t = &pt->tuples[ti];
		t->fields = sig[i].fields;
		t->dst_plen = sig[i].dst_plen;
		t->src_plen = sig[i].src_plen;
		t->mark_mask = sig[i].mark_mask;
		t->cg_depth = sig[i].cg_depth;
		t->cg_root = sig[i].cg_root;
		t->first = sig[i].idx;	/* a run is ascending */
		mutex_proxy_prefix_mask(&t->dst_mask, t->dst_plen);
		mutex_proxy_prefix_mask(&t->src_mask, t->src_plen);
	}
	/* Shapes in order of their first rule; renumber the rules' shapes. */
	sort(pt->tuples, pt->n_tuples, sizeof(*pt->tuples),
	     mutex_proxy_cls_tuple_cmp, NULL);
	for (ti = 0; ti < pt->n_tuples; ti++)
		remap[tuple_of[pt->tuples[ti].first]] = ti;
	for (i = 0; i < cfg->n_rules; i++)
		if (mutex_proxy_rule_in_part(&cfg->rules[i], p))
			tuple_of[i] = remap[tuple_of[i]];

	/* Entries: one per rule and combination of its intervals. */
	pt->seed = get_random_u32();
	for (i = 0; i < cfg->n_rules; i++)
		if (mutex_proxy_rule_in_part(&cfg->rules[i], p))
			pt->n_ent += mutex_proxy_cls_count(pt, &cfg->rules[i],
							   fields[i]);
	pt->hash_mask = roundup_pow_of_two(pt->n_ent) - 1;
	pt->ent = kvmalloc_array(pt->n_ent, sizeof(*pt->ent), MUTEX_PROXY_GFP_CONFIG);
	pt->bucket = kvcalloc(pt->hash_mask + 2, sizeof(u32), MUTEX_PROXY_GFP_CONFIG);
	if (!pt->ent || !pt->bucket)
		goto out;
	for (k = 0, i = 0; i < cfg->n_rules; i++)
		if (mutex_proxy_rule_in_part(&cfg->rules[i], p))
			k += mutex_proxy_cls_enter(pt, p, &cfg->rules[i], i,
						   tuple_of[i], pt->ent + k);
	sort_r(pt->ent, pt->n_ent, sizeof(*pt->ent), mutex_proxy_cls_ent_cmp,
	       NULL, &pt->hash_mask);
	for (k = 0; k < pt->n_ent; k++)
		pt->bucket[(pt->ent[k].hash & pt->hash_mask) + 1]++;
	for (b = 0; b <= pt->hash_mask; b++)
		pt->bucket[b + 1] += pt->bucket[b];
	err = 0;
out:
	kvfree(remap);
	kvfree(sig);
	kvfree(tuple_of);
	kvfree(fields);
	return err;
}

/**
 * mutex_proxy_cls_free() - free a snapshot's classifier index
 * @cfg: the snapshot
 */
void mutex_proxy_cls_free(struct mutex_proxy_config *cfg)
{
	unsigned int p, f;

	for (p = 0; p < MUTEX_CLS_PARTS; p++) {
		struct mutex_proxy_cls_part *pt = &cfg->parts[p];

		for (f = 0; f < MUTEX_CLS_RANGES; f++)
			kvfree(pt->ranges[f].bounds);
		kvfree(pt->tuples);
		kvfree(pt->bucket);
		kvfree(pt->ent);
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

/*
 * The first rule of shape @ti under the packet's key @w[0..@n) below
 * @best, or @best.
 */
static u32 mutex_proxy_cls_probe(const struct mutex_proxy_config *cfg,
				 const struct mutex_proxy_cls_part *pt, u32 ti,
				 const u32 *w, u32 n,
				 const struct mutex_proxy_key *key, u32 best)
{
	u32 h = jhash2(w, n, pt->seed);
	u32 lo = pt->bucket[h & pt->hash_mask];
	u32 hi = pt->bucket[(h & pt->hash_mask) + 1];
	const struct mutex_proxy_cls_ent *e;

	/* First entry of the bucket with (hash, tuple) >= (h, ti). */
	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;

		e = &pt->ent[mid];
		if (e->hash < h || (e->hash == h && e->tuple < ti))
			lo = mid + 1;
		else
			hi = mid;
	}
	for (e = &pt->ent[lo]; lo < pt->n_ent && e->hash == h && e->tuple == ti &&
	     e->idx < best; lo++, e++)
		if (mutex_proxy_rule_match(&cfg->rules[e->idx], key))
			return e->idx;
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
	u32 iv[MUTEX_CLS_RANGES] = { U32_MAX, U32_MAX, U32_MAX, U32_MAX };
	u32 best = U32_MAX, w[MUTEX_CLS_KEY_WORDS], ti, n, cg_key;
	const struct mutex_proxy_cls_part *pt;
	unsigned int p, f;

	if (!cfg || !cfg->n_rules ||
	    (key->family != AF_INET && key->family != AF_INET6) ||
	    (key->proto != IPPROTO_TCP && key->proto != IPPROTO_UDP))
		return NULL;
	p = mutex_proxy_cls_part_of(key->family, key->proto);
	pt = &cfg->parts[p];

	for (ti = 0; ti < pt->n_tuples && pt->tuples[ti].first < best; ti++) {
		const struct mutex_proxy_cls_tuple *t = &pt->tuples[ti];

		cg_key = 0;
		if (t->fields & MUTEX_CLS_F_OWNER) {
			if (!key->has_owner)
				continue;
			if ((t->fields & MUTEX_CLS_F_CGROUP) &&
			    (!key->sk ||
			     !mutex_proxy_cgroup_key_sk(t->cg_root, t->cg_depth,
							key->sk, &cg_key)))
				continue;
		}
		n = mutex_proxy_cls_put_fixed(w, t, ti, p >= 2, &key->daddr,
					      &key->saddr, key->mark, key->oif,
					      key->iif, cg_key);
		for (f = 0; f < MUTEX_CLS_RANGES; f++) {
			u32 v;

			if (!(t->fields & MUTEX_CLS_F_RANGE(f)))
				continue;
			if (iv[f] == U32_MAX) {
				v = mutex_proxy_cls_key_value(key, f);
				iv[f] = mutex_proxy_cls_interval(&pt->ranges[f], v);
			}
			w[n++] = iv[f];
		}
		best = mutex_proxy_cls_probe(cfg, pt, ti, w, n, key, best);
	}
	return best == U32_MAX ? NULL : &cfg->rules[best];
}
EXPORT_SYMBOL_IF_KUNIT(mutex_proxy_classify);
