// SPDX-License-Identifier: GPL-2.0
/*
 * mutex_proxy: the configuration's netlink encoding. SET_CONFIG's pools and
 * rules become the plain arrays of a snapshot (config.c builds and
 * validates it); a snapshot becomes GET_CONFIG's pools and rules.
 *
 * What is checked here is the encoding: each nest against its policy
 * (policy.c), the attributes an item needs, the ones that come in pairs,
 * address lengths. Everything about the values (names, ranges, prefixes,
 * what an action needs) is the model's, and a refusal from the model comes
 * back with its place, which is turned into the offending attribute for
 * the extended ack.
 *
 * Nests are validated as they are decoded, not by the netlink core ahead of
 * the handler: the core answers a value out of a policy's range with
 * -ERANGE, and every invalid configuration is answered with -EINVAL.
 */
#include <linux/err.h>
#include <linux/netfilter/nf_conntrack_tuple_common.h>
#include <linux/slab.h>
#include <linux/stddef.h>
#include <linux/string.h>
#include <net/netlink.h>

#include "counters.h"
#include "config.h"
#include "mutex_proxy.h"
#include "netlink_config.h"
#include "policy.h"
#include "compat.h"

/* Sets extack and returns -EINVAL; @msg must be a string literal. */
#define BAD(extack, attr, msg) ({				\
	NL_SET_ERR_MSG_ATTR(extack, attr, msg);			\
	-EINVAL;						\
})

static u8 mutex_proxy_get_u8(const struct nlattr *attr, u8 def)
{
	return attr ? nla_get_u8(attr) : def;
}

/* An address of @family (validated or 0) into @addr. */
static int mutex_proxy_nl_addr(union nf_inet_addr *addr, u8 family,
			       const struct nlattr *attr, const char *what,
			       struct netlink_ext_ack *extack)
{
	if (family && nla_len(attr) != mutex_proxy_addr_len(family)) {
		mutex_proxy_extack_attr(extack, attr, what);
		return -EINVAL;
	}
	nla_memcpy(addr, attr, sizeof(*addr));
	return 0;
}

static int mutex_proxy_nl_family(u8 *family, const struct nlattr *attr,
				 const char *what,
				 struct netlink_ext_ack *extack)
{
	if (!attr)
		return 0;
	*family = nla_get_u8(attr);
	if (*family != AF_INET && *family != AF_INET6) {
		mutex_proxy_extack_attr(extack, attr, what);
		return -EINVAL;
	}
	return 0;
}

/*
 * A backend's identity from its parsed nest @tb: port (required), family and
 * address (both or neither: neither is a local port).
 */
static int mutex_proxy_nl_backend_id(struct mutex_proxy_backend *be,
				     struct nlattr **tb,
				     const struct nlattr *nest,
				     struct netlink_ext_ack *extack)
{
	int err;

	if (!tb[MUTEX_BACKEND_A_PORT])
		return BAD(extack, nest, "backend without MUTEX_BACKEND_A_PORT");
	be->port = nla_get_u16(tb[MUTEX_BACKEND_A_PORT]);
	if (!!tb[MUTEX_BACKEND_A_FAMILY] != !!tb[MUTEX_BACKEND_A_ADDR])
		return BAD(extack, nest,
			   "backend needs both or neither of family and address");
	if (!tb[MUTEX_BACKEND_A_FAMILY])
		return 0;
	err = mutex_proxy_nl_family(&be->family, tb[MUTEX_BACKEND_A_FAMILY],
				    "backend family must be AF_INET or AF_INET6",
				    extack);
	if (err)
		return err;
	return mutex_proxy_nl_addr(&be->addr, be->family,
				   tb[MUTEX_BACKEND_A_ADDR],
				   "backend address length does not match its family",
				   extack);
}

static int mutex_proxy_nl_backend(struct mutex_proxy_backend *be,
				  const struct nlattr *nest,
				  struct netlink_ext_ack *extack)
{
	struct nlattr *tb[MUTEX_BACKEND_A_MAX + 1];
	int err;

	err = nla_parse_nested(tb, MUTEX_BACKEND_A_MAX, nest,
			       mutex_proxy_backend_policy, extack);
	if (err)
		return err;
	if (tb[MUTEX_BACKEND_A_WEIGHT])
		be->weight = nla_get_u32(tb[MUTEX_BACKEND_A_WEIGHT]);
	be->priority = mutex_proxy_get_u8(tb[MUTEX_BACKEND_A_PRIORITY], 0);
	be->state = mutex_proxy_get_u8(tb[MUTEX_BACKEND_A_STATE],
				       MUTEX_BACKEND_UP);
	return mutex_proxy_nl_backend_id(be, tb, nest, extack);
}

static int mutex_proxy_nl_pool(struct mutex_proxy_config *cfg, u32 i,
			       const struct nlattr *nest,
			       struct mutex_proxy_config_err *cerr,
			       struct netlink_ext_ack *extack)
{
	struct mutex_proxy_pool *pool = &cfg->pools[i];
	struct nlattr *tb[MUTEX_POOL_A_MAX + 1];
	const struct nlattr *a;
	u32 n = 0;
	int rem, err;

	err = nla_parse_nested(tb, MUTEX_POOL_A_MAX, nest,
			       mutex_proxy_pool_policy, extack);
	if (err)
		return err;
	if (!tb[MUTEX_POOL_A_NAME])
		return BAD(extack, nest, "pool without MUTEX_POOL_A_NAME");
	nla_strscpy(pool->name, tb[MUTEX_POOL_A_NAME], sizeof(pool->name));
	pool->scheduler = mutex_proxy_get_u8(tb[MUTEX_POOL_A_SCHEDULER],
					     MUTEX_SCHED_RR);
	pool->failure_mode = mutex_proxy_get_u8(tb[MUTEX_POOL_A_FAILURE_MODE],
						MUTEX_FAILURE_CLOSED);

	nla_for_each_nested(a, nest, rem)
		if (nla_type(a) == MUTEX_POOL_A_BACKEND)
			n++;
	err = mutex_proxy_config_pool_init(cfg, i, n, cerr);
	if (err)
		return err;
	n = 0;
	nla_for_each_nested(a, nest, rem) {
		if (nla_type(a) != MUTEX_POOL_A_BACKEND)
			continue;
		err = mutex_proxy_nl_backend(&pool->backends[n++], a, extack);
		if (err)
			return err;
	}
	return 0;
}

/**
 * mutex_proxy_nl_backend_change() - decode SET_BACKEND's or END_FLOWS's
 *	MUTEX_A_POOL: a pool's name and one backend
 * @chg: receives the pool's name (pointing into the request), the
 *	backend's identity and, with @change, its new state and weight
 * @nest: the MUTEX_A_POOL attribute
 * @change: state and weight may (SET_BACKEND) or may not (END_FLOWS) be
 *	given
 * @extack: for error messages
 *
 * Return: 0 or -EINVAL (extack set).
 */
int mutex_proxy_nl_backend_change(struct mutex_proxy_backend_change *chg,
				  const struct nlattr *nest, bool change,
				  struct netlink_ext_ack *extack)
{
	struct nlattr *tb[MUTEX_POOL_A_MAX + 1];
	struct nlattr *bt[MUTEX_BACKEND_A_MAX + 1];
	const struct nlattr *a, *be = NULL;
	int rem, err;

	err = nla_parse_nested(tb, MUTEX_POOL_A_MAX, nest,
			       mutex_proxy_pool_policy, extack);
	if (err)
		return err;
	if (!tb[MUTEX_POOL_A_NAME])
		return BAD(extack, nest, "MUTEX_POOL_A_NAME is required");
	if (tb[MUTEX_POOL_A_SCHEDULER] || tb[MUTEX_POOL_A_FAILURE_MODE])
		return BAD(extack, nest,
			   "only a backend's state and weight can change here; SET_CONFIG changes a pool");
	nla_for_each_nested(a, nest, rem) {
		if (nla_type(a) != MUTEX_POOL_A_BACKEND)
			continue;
		if (be)
			return BAD(extack, a, "exactly one MUTEX_POOL_A_BACKEND");
		be = a;
	}
	if (!be)
		return BAD(extack, nest, "exactly one MUTEX_POOL_A_BACKEND");
	chg->pool = nla_data(tb[MUTEX_POOL_A_NAME]);

	err = nla_parse_nested(bt, MUTEX_BACKEND_A_MAX, be,
			       mutex_proxy_backend_policy, extack);
	if (err)
		return err;
	if (bt[MUTEX_BACKEND_A_PRIORITY])
		return BAD(extack, bt[MUTEX_BACKEND_A_PRIORITY],
			   "a backend's priority changes with SET_CONFIG");
	if (!change && (bt[MUTEX_BACKEND_A_STATE] || bt[MUTEX_BACKEND_A_WEIGHT]))
		return BAD(extack, be,
			   "the backend is named by family, address and port only");
	if (bt[MUTEX_BACKEND_A_STATE]) {
		chg->set_state = true;
		chg->state = nla_get_u8(bt[MUTEX_BACKEND_A_STATE]);
	}
	if (bt[MUTEX_BACKEND_A_WEIGHT]) {
		chg->set_weight = true;
		chg->weight = nla_get_u32(bt[MUTEX_BACKEND_A_WEIGHT]);
	}
	return mutex_proxy_nl_backend_id(&chg->id, bt, be, extack);
}

/* A prefix: address and length, both or neither. */
static int mutex_proxy_nl_prefix(struct mutex_proxy_rule *r,
				 struct nlattr **tb, int a_addr, int a_plen,
				 union nf_inet_addr *addr, u8 *plen, u32 bit,
				 struct netlink_ext_ack *extack)
{
	if (!tb[a_addr] && !tb[a_plen])
		return 0;
	if (!tb[a_addr] || !tb[a_plen])
		return BAD(extack, tb[a_addr] ? tb[a_addr] : tb[a_plen],
			   "a prefix needs both address and prefix length");
	*plen = nla_get_u8(tb[a_plen]);
	r->match |= bit;
	return mutex_proxy_nl_addr(addr, r->family, tb[a_addr],
				   "prefix address length does not match the rule's family",
				   extack);
}

/**
 * struct mutex_proxy_nl_range_field - a range match of a rule: its pair of
 *	attributes and where the rule keeps it
 * @a_min: the minimum's attribute
 * @a_max: the maximum's attribute
 * @bit: the rule's MUTEX_M_* bit
 * @port: a u16 pair (ports), else u32 (ids)
 * @lo: offset of the minimum in struct mutex_proxy_rule
 * @hi: offset of the maximum
 */
struct mutex_proxy_nl_range_field {
	u16 a_min;
	u16 a_max;
	u32 bit;
	bool port;
	size_t lo;
	size_t hi;
};

#define MUTEX_PROXY_NL_RANGE(attr, m, port, field) {			\
	MUTEX_RULE_A_##attr##_MIN, MUTEX_RULE_A_##attr##_MAX, m, port,	\
	offsetof(struct mutex_proxy_rule, field##_min),			\
	offsetof(struct mutex_proxy_rule, field##_max),			\
}

static const struct mutex_proxy_nl_range_field mutex_proxy_nl_ranges[] = {
	MUTEX_PROXY_NL_RANGE(DST_PORT, MUTEX_M_DPORT, true, dport),
	MUTEX_PROXY_NL_RANGE(SRC_PORT, MUTEX_M_SPORT, true, sport),
	MUTEX_PROXY_NL_RANGE(UID, MUTEX_M_UID, false, uid),
	MUTEX_PROXY_NL_RANGE(GID, MUTEX_M_GID, false, gid),
};

/* A range: minimum and maximum, both or neither. */
static int mutex_proxy_nl_range(struct mutex_proxy_rule *r, struct nlattr **tb,
				const struct mutex_proxy_nl_range_field *f,
				struct netlink_ext_ack *extack)
{
	const struct nlattr *lo = tb[f->a_min], *hi = tb[f->a_max];
	void *base = r;

	if (!lo && !hi)
		return 0;
	if (!lo || !hi)
		return BAD(extack, lo ? lo : hi,
			   "a range needs both its minimum and its maximum");
	if (f->port) {
		*(u16 *)(base + f->lo) = nla_get_u16(lo);
		*(u16 *)(base + f->hi) = nla_get_u16(hi);
	} else {
		*(u32 *)(base + f->lo) = nla_get_u32(lo);
		*(u32 *)(base + f->hi) = nla_get_u32(hi);
	}
	r->match |= f->bit;
	return 0;
}

static int mutex_proxy_nl_rule(struct mutex_proxy_rule *r,
			       const struct nlattr *nest,
			       struct netlink_ext_ack *extack)
{
	struct nlattr *tb[MUTEX_RULE_A_MAX + 1];
	unsigned int i;
	int err;

	err = nla_parse_nested(tb, MUTEX_RULE_A_MAX, nest,
			       mutex_proxy_rule_policy, extack);
	if (err)
		return err;

	if (tb[MUTEX_RULE_A_NAME]) {
		nla_strscpy(r->name, tb[MUTEX_RULE_A_NAME], sizeof(r->name));
		r->match |= MUTEX_M_NAME;
	}
	err = mutex_proxy_nl_family(&r->family, tb[MUTEX_RULE_A_FAMILY],
				    "rule family must be AF_INET or AF_INET6",
				    extack);
	if (err)
		return err;
	r->proto = mutex_proxy_get_u8(tb[MUTEX_RULE_A_PROTO], 0);

	err = mutex_proxy_nl_prefix(r, tb, MUTEX_RULE_A_DST_ADDR,
				    MUTEX_RULE_A_DST_PLEN, &r->dst,
				    &r->dst_plen, MUTEX_M_DST, extack);
	if (err)
		return err;
	err = mutex_proxy_nl_prefix(r, tb, MUTEX_RULE_A_SRC_ADDR,
				    MUTEX_RULE_A_SRC_PLEN, &r->src,
				    &r->src_plen, MUTEX_M_SRC, extack);
	if (err)
		return err;

	for (i = 0; i < ARRAY_SIZE(mutex_proxy_nl_ranges); i++) {
		err = mutex_proxy_nl_range(r, tb, &mutex_proxy_nl_ranges[i],
					   extack);
		if (err)
			return err;
	}

	if (!!tb[MUTEX_RULE_A_MARK_VALUE] != !!tb[MUTEX_RULE_A_MARK_MASK])
		return BAD(extack, nest, "a mark match needs value and mask");
	if (tb[MUTEX_RULE_A_MARK_VALUE]) {
		r->mark = nla_get_u32(tb[MUTEX_RULE_A_MARK_VALUE]);
		r->mark_mask = nla_get_u32(tb[MUTEX_RULE_A_MARK_MASK]);
		r->match |= MUTEX_M_MARK;
	}
	if (tb[MUTEX_RULE_A_OIF]) {
		r->oif = nla_get_u32(tb[MUTEX_RULE_A_OIF]);
		r->match |= MUTEX_M_OIF;
	}
	if (tb[MUTEX_RULE_A_IIF]) {
		r->iif = nla_get_u32(tb[MUTEX_RULE_A_IIF]);
		r->match |= MUTEX_M_IIF;
	}
	if (tb[MUTEX_RULE_A_CGROUP]) {
		r->cgroup_path = nla_strdup(tb[MUTEX_RULE_A_CGROUP],
					    MUTEX_PROXY_GFP_CONFIG);
		if (!r->cgroup_path)
			return -ENOMEM;
		r->match |= MUTEX_M_CGROUP;
	}

	if (!tb[MUTEX_RULE_A_ACTION])
		return BAD(extack, nest, "rule without MUTEX_RULE_A_ACTION");
	r->action = nla_get_u8(tb[MUTEX_RULE_A_ACTION]);
	if (tb[MUTEX_RULE_A_TO_PORT]) {
		r->to_port = nla_get_u16(tb[MUTEX_RULE_A_TO_PORT]);
		r->match |= MUTEX_M_TO_PORT;
	}
	if (tb[MUTEX_RULE_A_POOL]) {
		r->pool = nla_get_u32(tb[MUTEX_RULE_A_POOL]);
		r->match |= MUTEX_M_POOL;
	}
	return 0;
}

/* The @index-th attribute of type @type in a stream, or NULL. */
static const struct nlattr *mutex_proxy_nl_nth(const struct nlattr *head,
					       int len, int type, u32 index)
{
	const struct nlattr *a;
	int rem;

	nla_for_each_attr(a, head, len, rem)
		if (nla_type(a) == type && !index--)
			return a;
	return NULL;
}

/* The model's refusal as an extended ack at the attribute it names. */
static void mutex_proxy_nl_config_refused(const struct nlattr *head, int len,
					  const struct mutex_proxy_config_err *cerr,
					  struct netlink_ext_ack *extack)
{
	const struct nlattr *at = NULL, *f;

	if (!cerr->msg)
		return;
	if (cerr->item)
		at = mutex_proxy_nl_nth(head, len, cerr->item, cerr->index);
	if (at && cerr->backend >= 0)
		at = mutex_proxy_nl_nth(nla_data(at), nla_len(at),
					MUTEX_POOL_A_BACKEND, cerr->backend);
	if (at && cerr->attr) {
		f = nla_find_nested(at, cerr->attr);
		if (f)
			at = f;
	}
	mutex_proxy_extack_attr(extack, at, cerr->msg);
}

/**
 * mutex_proxy_nl_config_parse() - a snapshot from a SET_CONFIG request
 * @head: the request's top-level attributes (their types validated by the
 *	netlink core); MUTEX_A_POOL and MUTEX_A_RULE are used
 * @len: length of the attribute stream at @head
 * @old: the current snapshot (counters are carried over from it), or NULL;
 *	the caller keeps it alive (holds the namespace's config_lock)
 * @extack: for error messages
 *
 * Sleeps.
 *
 * Return: the new snapshot (generation 0) or an ERR_PTR(); on error
 * nothing is left allocated and @extack says what is wrong.
 */
struct mutex_proxy_config *
mutex_proxy_nl_config_parse(const struct nlattr *head, int len,
			    const struct mutex_proxy_config *old,
			    struct netlink_ext_ack *extack)
{
	struct mutex_proxy_config_err cerr = {};
	struct mutex_proxy_config *cfg;
	u32 n_pools = 0, n_rules = 0;
	const struct nlattr *a;
	int rem, err;

	nla_for_each_attr(a, head, len, rem) {
		if (nla_type(a) == MUTEX_A_POOL)
			n_pools++;
		else if (nla_type(a) == MUTEX_A_RULE)
			n_rules++;
	}
	cfg = mutex_proxy_config_alloc(n_pools, n_rules, &cerr);
	if (IS_ERR(cfg)) {
		mutex_proxy_nl_config_refused(head, len, &cerr, extack);
		return cfg;
	}

	n_pools = 0;
	n_rules = 0;
	nla_for_each_attr(a, head, len, rem) {
		if (nla_type(a) == MUTEX_A_POOL)
			err = mutex_proxy_nl_pool(cfg, n_pools++, a, &cerr,
						  extack);
		else if (nla_type(a) == MUTEX_A_RULE)
			err = mutex_proxy_nl_rule(&cfg->rules[n_rules++], a,
						  extack);
		else
			continue;
		if (err)
			goto err;
	}
	err = mutex_proxy_config_finish(cfg, old, &cerr);
	if (!err)
		return cfg;
err:
	mutex_proxy_nl_config_refused(head, len, &cerr, extack);
	mutex_proxy_config_free(cfg);
	/* Out of a policy's range is invalid like everything else. */
	return ERR_PTR(err == -ERANGE ? -EINVAL : err);
}

/* ---- GET_CONFIG ---- */

/* Upper bounds of the size of one pool's and one rule's nest. */
static size_t mutex_proxy_pool_size(const struct mutex_proxy_pool *pool)
{
	return 128 + pool->n_backends * 192;
}

static size_t mutex_proxy_rule_size(const struct mutex_proxy_rule *r)
{
	return 384 + (r->cgroup_path ? nla_total_size(strlen(r->cgroup_path) + 1) : 0);
}

/* Return: an upper bound of the size of the configuration of @cfg. */
size_t mutex_proxy_nl_config_size(const struct mutex_proxy_config *cfg)
{
	size_t size = nla_total_size_64bit(8);
	u32 i;

	if (!cfg)
		return size;
	for (i = 0; i < cfg->n_pools; i++)
		size += mutex_proxy_pool_size(&cfg->pools[i]);
	for (i = 0; i < cfg->n_rules; i++)
		size += mutex_proxy_rule_size(&cfg->rules[i]);
	return size;
}

/**
 * mutex_proxy_nl_config_item_size_max() - an upper bound of the size of the
 *	largest pool or rule of @cfg, with the generation
 * @cfg: the configuration, or NULL
 *
 * A GET_CONFIG dump message holds whole pools and rules: its buffer must
 * hold the largest one (a pool of MUTEX_MAX_BACKENDS backends is about
 * 48 KiB, more than the first buffer of a fresh socket's dump).
 *
 * Return: the bound in bytes.
 */
size_t mutex_proxy_nl_config_item_size_max(const struct mutex_proxy_config *cfg)
{
	size_t max = 0;
	u32 i;

	for (i = 0; cfg && i < cfg->n_pools; i++)
		max = max_t(size_t, max, mutex_proxy_pool_size(&cfg->pools[i]));
	for (i = 0; cfg && i < cfg->n_rules; i++)
		max = max_t(size_t, max, mutex_proxy_rule_size(&cfg->rules[i]));
	return nla_total_size_64bit(8) + max;
}

/* A backend's identity, weight and state, into the open nest. */
static int mutex_proxy_put_backend_id(struct sk_buff *skb,
				      const struct mutex_proxy_backend *be)
{
	if ((be->family &&
	     (nla_put_u8(skb, MUTEX_BACKEND_A_FAMILY, be->family) ||
	      nla_put(skb, MUTEX_BACKEND_A_ADDR,
		      mutex_proxy_addr_len(be->family), &be->addr))) ||
	    nla_put_u16(skb, MUTEX_BACKEND_A_PORT, be->port) ||
	    nla_put_u32(skb, MUTEX_BACKEND_A_WEIGHT, READ_ONCE(be->weight)) ||
	    nla_put_u8(skb, MUTEX_BACKEND_A_STATE, READ_ONCE(be->state)))
		return -EMSGSIZE;
	return 0;
}

/**
 * mutex_proxy_nl_put_backend_state() - a backend as events carry it
 * @skb: the message
 * @attrtype: the nest's type
 * @be: the backend
 *
 * Return: 0 or -EMSGSIZE (nothing added).
 */
int mutex_proxy_nl_put_backend_state(struct sk_buff *skb, int attrtype,
				     const struct mutex_proxy_backend *be)
{
	struct nlattr *nest = nla_nest_start(skb, attrtype);

	if (!nest)
		return -EMSGSIZE;
	if (mutex_proxy_put_backend_id(skb, be)) {
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}

static int mutex_proxy_put_backend(struct sk_buff *skb,
				   const struct mutex_proxy_backend *be)
{
	struct nlattr *nest = nla_nest_start(skb, MUTEX_POOL_A_BACKEND);
	u64 pkts[2], bytes[2];

	if (!nest)
		return -EMSGSIZE;
	if (mutex_proxy_put_backend_id(skb, be) ||
	    nla_put_u8(skb, MUTEX_BACKEND_A_PRIORITY, be->priority) ||
	    nla_put_u64_64bit(skb, MUTEX_BACKEND_A_ACTIVE_FLOWS,
			      atomic64_read(&be->ctr->active),
			      MUTEX_BACKEND_A_PAD) ||
	    nla_put_u64_64bit(skb, MUTEX_BACKEND_A_TOTAL_FLOWS,
			      atomic64_read(&be->ctr->total),
			      MUTEX_BACKEND_A_PAD))
		goto cancel;
	mutex_proxy_backend_ctr_sum(be->ctr, pkts, bytes);
	if (nla_put_u64_64bit(skb, MUTEX_BACKEND_A_PKTS,
			      pkts[IP_CT_DIR_ORIGINAL] + pkts[IP_CT_DIR_REPLY],
			      MUTEX_BACKEND_A_PAD) ||
	    nla_put_u64_64bit(skb, MUTEX_BACKEND_A_BYTES,
			      bytes[IP_CT_DIR_ORIGINAL] + bytes[IP_CT_DIR_REPLY],
			      MUTEX_BACKEND_A_PAD) ||
	    nla_put_u64_64bit(skb, MUTEX_BACKEND_A_PKTS_REPLY,
			      pkts[IP_CT_DIR_REPLY], MUTEX_BACKEND_A_PAD) ||
	    nla_put_u64_64bit(skb, MUTEX_BACKEND_A_BYTES_REPLY,
			      bytes[IP_CT_DIR_REPLY], MUTEX_BACKEND_A_PAD)) {
cancel:
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}

static int mutex_proxy_put_pool(struct sk_buff *skb,
				const struct mutex_proxy_pool *pool)
{
	struct nlattr *nest = nla_nest_start(skb, MUTEX_A_POOL);
	u32 i;

	if (!nest)
		return -EMSGSIZE;
	if (nla_put_string(skb, MUTEX_POOL_A_NAME, pool->name) ||
	    nla_put_u8(skb, MUTEX_POOL_A_SCHEDULER, pool->scheduler) ||
	    nla_put_u8(skb, MUTEX_POOL_A_FAILURE_MODE, pool->failure_mode))
		goto fail;
	for (i = 0; i < pool->n_backends; i++)
		if (mutex_proxy_put_backend(skb, &pool->backends[i]))
			goto fail;
	nla_nest_end(skb, nest);
	return 0;
fail:
	nla_nest_cancel(skb, nest);
	return -EMSGSIZE;
}

static int mutex_proxy_put_rule(struct sk_buff *skb,
				const struct mutex_proxy_rule *r)
{
	struct nlattr *nest = nla_nest_start(skb, MUTEX_A_RULE);
	unsigned int alen = mutex_proxy_addr_len(r->family);
	u32 m = r->match;

	if (!nest)
		return -EMSGSIZE;
	if (((m & MUTEX_M_NAME) &&
	     nla_put_string(skb, MUTEX_RULE_A_NAME, r->name)) ||
	    (r->family && nla_put_u8(skb, MUTEX_RULE_A_FAMILY, r->family)) ||
	    (r->proto && nla_put_u8(skb, MUTEX_RULE_A_PROTO, r->proto)) ||
	    ((m & MUTEX_M_DST) &&
	     (nla_put(skb, MUTEX_RULE_A_DST_ADDR, alen, &r->dst) ||
	      nla_put_u8(skb, MUTEX_RULE_A_DST_PLEN, r->dst_plen))) ||
	    ((m & MUTEX_M_DPORT) &&
	     (nla_put_u16(skb, MUTEX_RULE_A_DST_PORT_MIN, r->dport_min) ||
	      nla_put_u16(skb, MUTEX_RULE_A_DST_PORT_MAX, r->dport_max))) ||
	    ((m & MUTEX_M_SRC) &&
	     (nla_put(skb, MUTEX_RULE_A_SRC_ADDR, alen, &r->src) ||
	      nla_put_u8(skb, MUTEX_RULE_A_SRC_PLEN, r->src_plen))) ||
	    ((m & MUTEX_M_SPORT) &&
	     (nla_put_u16(skb, MUTEX_RULE_A_SRC_PORT_MIN, r->sport_min) ||
	      nla_put_u16(skb, MUTEX_RULE_A_SRC_PORT_MAX, r->sport_max))) ||
	    ((m & MUTEX_M_UID) &&
	     (nla_put_u32(skb, MUTEX_RULE_A_UID_MIN, r->uid_min) ||
	      nla_put_u32(skb, MUTEX_RULE_A_UID_MAX, r->uid_max))) ||
	    ((m & MUTEX_M_GID) &&
	     (nla_put_u32(skb, MUTEX_RULE_A_GID_MIN, r->gid_min) ||
	      nla_put_u32(skb, MUTEX_RULE_A_GID_MAX, r->gid_max))) ||
	    ((m & MUTEX_M_CGROUP) &&
	     nla_put_string(skb, MUTEX_RULE_A_CGROUP, r->cgroup_path)) ||
	    ((m & MUTEX_M_MARK) &&
	     (nla_put_u32(skb, MUTEX_RULE_A_MARK_VALUE, r->mark) ||
	      nla_put_u32(skb, MUTEX_RULE_A_MARK_MASK, r->mark_mask))) ||
	    ((m & MUTEX_M_OIF) && nla_put_u32(skb, MUTEX_RULE_A_OIF, r->oif)) ||
	    ((m & MUTEX_M_IIF) && nla_put_u32(skb, MUTEX_RULE_A_IIF, r->iif)) ||
	    nla_put_u8(skb, MUTEX_RULE_A_ACTION, r->action) ||
	    ((m & MUTEX_M_TO_PORT) &&
	     nla_put_u16(skb, MUTEX_RULE_A_TO_PORT, r->to_port)) ||
	    ((m & MUTEX_M_POOL) && nla_put_u32(skb, MUTEX_RULE_A_POOL, r->pool)) ||
	    nla_put_u64_64bit(skb, MUTEX_RULE_A_MATCHES,
			      mutex_proxy_rule_ctr_matches(r->ctr),
			      MUTEX_RULE_A_PAD)) {
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}

/**
 * mutex_proxy_nl_config_put_from() - put pools and rules of a snapshot
 * @skb: the message
 * @cfg: the snapshot, or NULL (an empty configuration); kept alive by the
 *	caller (RCU or config_lock)
 * @pos: in: the first item to put (pools 0..n_pools-1, then the rules);
 *	out: the first item not put
 *
 * Puts whole pools and rules from @pos on, as many as fit. A dump calls it
 * again with the next message; a single reply starts at 0 and needs all.
 *
 * Return: 0 when every item from @pos on was put, -EMSGSIZE when the
 * message filled up first.
 */
int mutex_proxy_nl_config_put_from(struct sk_buff *skb,
				   const struct mutex_proxy_config *cfg,
				   u32 *pos)
{
	u32 n_pools = cfg ? cfg->n_pools : 0;
	u32 n = cfg ? n_pools + cfg->n_rules : 0;
	int err;

	for (; *pos < n; (*pos)++) {
		if (*pos < n_pools)
			err = mutex_proxy_put_pool(skb, &cfg->pools[*pos]);
		else
			err = mutex_proxy_put_rule(skb,
						   &cfg->rules[*pos - n_pools]);
		if (err)
			return -EMSGSIZE;
	}
	return 0;
}

/**
 * mutex_proxy_nl_config_put() - put every pool and rule of a snapshot
 * @skb: the message
 * @cfg: the snapshot, or NULL; kept alive by the caller
 *
 * Return: 0 or -EMSGSIZE.
 */
int mutex_proxy_nl_config_put(struct sk_buff *skb,
			      const struct mutex_proxy_config *cfg)
{
	u32 pos = 0;

	return mutex_proxy_nl_config_put_from(skb, cfg, &pos);
}
