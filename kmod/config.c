// SPDX-License-Identifier: GPL-2.0
/*
 * mutex_proxy: the configuration snapshot of a namespace.
 *
 * SET_CONFIG builds a complete new struct mutex_proxy_config from the
 * request (validating everything before anything is published), then,
 * under the namespace's config_lock, checks the writer's generation and
 * publishes it with rcu_assign_pointer(). The old snapshot is freed by
 * call_rcu() after a grace period, so packet-path readers under
 * rcu_read_lock() never see freed memory or half a configuration. The
 * module's exit runs rcu_barrier() so no callback outlives the module.
 *
 * Backend counters (struct mutex_proxy_backend_ctr) are not configuration:
 * a new snapshot shares the counters of every backend the old one has with
 * the same pool name, family, address and port (reference counted), so a
 * replacement loses no count. The build runs under config_lock (the caller
 * holds it), so the old snapshot it takes counters from stays alive.
 */
#include <linux/ctype.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/slab.h>
#include <linux/socket.h>
#include <linux/string.h>
#include <net/genetlink.h>
#include <net/netlink.h>

#include "mutex_proxy.h"

static const struct nla_policy
mutex_proxy_backend_policy[MUTEX_BACKEND_A_MAX + 1] = {
	[MUTEX_BACKEND_A_FAMILY]	= { .type = NLA_U8 },
	[MUTEX_BACKEND_A_ADDR]		= { .type = NLA_BINARY, .len = 16 },
	[MUTEX_BACKEND_A_PORT]		= NLA_POLICY_MIN(NLA_U16, 1),
	/* 1..65535, checked by hand: 6.1 policies hold only s16 bounds. */
	[MUTEX_BACKEND_A_WEIGHT]	= { .type = NLA_U32 },
	[MUTEX_BACKEND_A_PRIORITY]	= { .type = NLA_U8 },
	[MUTEX_BACKEND_A_STATE]		=
		NLA_POLICY_MAX(NLA_U8, MUTEX_BACKEND_STATE_MAX),
	[MUTEX_BACKEND_A_ACTIVE_FLOWS]	= {
		.type = NLA_REJECT,
		.reject_message = "counters cannot be set",
	},
	[MUTEX_BACKEND_A_TOTAL_FLOWS]	= {
		.type = NLA_REJECT,
		.reject_message = "counters cannot be set",
	},
	[MUTEX_BACKEND_A_PKTS]		= {
		.type = NLA_REJECT,
		.reject_message = "counters cannot be set",
	},
	[MUTEX_BACKEND_A_BYTES]		= {
		.type = NLA_REJECT,
		.reject_message = "counters cannot be set",
	},
};

static const struct nla_policy mutex_proxy_pool_policy[MUTEX_POOL_A_MAX + 1] = {
	[MUTEX_POOL_A_NAME]		= { .type = NLA_NUL_STRING,
					    .len = MUTEX_NAME_MAX - 1 },
	[MUTEX_POOL_A_SCHEDULER]	= NLA_POLICY_MAX(NLA_U8, MUTEX_SCHED_MAX),
	[MUTEX_POOL_A_FAILURE_MODE]	=
		NLA_POLICY_MAX(NLA_U8, MUTEX_FAILURE_MAX),
	[MUTEX_POOL_A_BACKEND]		=
		NLA_POLICY_NESTED(mutex_proxy_backend_policy),
};

static const struct nla_policy mutex_proxy_rule_policy[MUTEX_RULE_A_MAX + 1] = {
	[MUTEX_RULE_A_NAME]		= { .type = NLA_NUL_STRING,
					    .len = MUTEX_NAME_MAX - 1 },
	[MUTEX_RULE_A_FAMILY]		= { .type = NLA_U8 },
	[MUTEX_RULE_A_PROTO]		= { .type = NLA_U8 },
	[MUTEX_RULE_A_DST_ADDR]		= { .type = NLA_BINARY, .len = 16 },
	[MUTEX_RULE_A_DST_PLEN]		= NLA_POLICY_MAX(NLA_U8, 128),
	[MUTEX_RULE_A_DST_PORT_MIN]	= NLA_POLICY_MIN(NLA_U16, 1),
	[MUTEX_RULE_A_DST_PORT_MAX]	= NLA_POLICY_MIN(NLA_U16, 1),
	[MUTEX_RULE_A_SRC_ADDR]		= { .type = NLA_BINARY, .len = 16 },
	[MUTEX_RULE_A_SRC_PLEN]		= NLA_POLICY_MAX(NLA_U8, 128),
	[MUTEX_RULE_A_SRC_PORT_MIN]	= NLA_POLICY_MIN(NLA_U16, 1),
	[MUTEX_RULE_A_SRC_PORT_MAX]	= NLA_POLICY_MIN(NLA_U16, 1),
	[MUTEX_RULE_A_UID_MIN]		= { .type = NLA_U32 },
	[MUTEX_RULE_A_UID_MAX]		= { .type = NLA_U32 },
	[MUTEX_RULE_A_GID_MIN]		= { .type = NLA_U32 },
	[MUTEX_RULE_A_GID_MAX]		= { .type = NLA_U32 },
	[MUTEX_RULE_A_CGROUP]		= { .type = NLA_NUL_STRING,
					    .len = MUTEX_CGROUP_PATH_MAX - 1 },
	[MUTEX_RULE_A_MARK_VALUE]	= { .type = NLA_U32 },
	[MUTEX_RULE_A_MARK_MASK]	= NLA_POLICY_MIN(NLA_U32, 1),
	[MUTEX_RULE_A_OIF]		= NLA_POLICY_MIN(NLA_U32, 1),
	[MUTEX_RULE_A_IIF]		= NLA_POLICY_MIN(NLA_U32, 1),
	[MUTEX_RULE_A_ACTION]		= NLA_POLICY_MAX(NLA_U8, MUTEX_ACTION_MAX),
	[MUTEX_RULE_A_TO_PORT]		= NLA_POLICY_MIN(NLA_U16, 1),
	[MUTEX_RULE_A_POOL]		= { .type = NLA_U32 },
};

/*
 * Each pool and rule is validated against its policy when it is parsed
 * here, not by the netlink core ahead of the handler: the core answers a
 * value out of a policy's range with -ERANGE, and every invalid
 * configuration is answered with -EINVAL.
 */

/* Sets extack and returns -EINVAL; @msg must be a string literal. */
#define BAD(extack, attr, msg) ({				\
	NL_SET_ERR_MSG_ATTR(extack, attr, msg);			\
	-EINVAL;						\
})

static u8 mutex_proxy_get_u8(const struct nlattr *attr, u8 def)
{
	return attr ? nla_get_u8(attr) : def;
}

static unsigned int mutex_proxy_addr_len(u8 family)
{
	return family == AF_INET ? 4 : 16;
}

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

static struct mutex_proxy_backend_ctr *mutex_proxy_backend_ctr_alloc(void)
{
	struct mutex_proxy_backend_ctr *ctr;
	int cpu;

	ctr = kzalloc(sizeof(*ctr), MUTEX_PROXY_GFP_CONFIG);
	if (!ctr)
		return NULL;
	ctr->pcpu = alloc_percpu_gfp(struct mutex_proxy_backend_pcpu,
				     MUTEX_PROXY_GFP_CONFIG);
	if (!ctr->pcpu) {
		kfree(ctr);
		return NULL;
	}
	for_each_possible_cpu(cpu)
		u64_stats_init(&per_cpu_ptr(ctr->pcpu, cpu)->syncp);
	refcount_set(&ctr->ref, 1);
	return ctr;
}

/**
 * mutex_proxy_backend_ctr_put() - drop a reference to backend counters
 * @ctr: the counters, or NULL
 *
 * The last reference frees them. Callers drop their reference only once no
 * reader can reach @ctr through them (after an RCU grace period for a
 * snapshot or a flow). Any context.
 */
void mutex_proxy_backend_ctr_put(struct mutex_proxy_backend_ctr *ctr)
{
	if (ctr && refcount_dec_and_test(&ctr->ref)) {
		free_percpu(ctr->pcpu);
		kfree(ctr);
	}
}
EXPORT_SYMBOL_IF_KUNIT(mutex_proxy_backend_ctr_put);

/**
 * mutex_proxy_backend_ctr_sum() - a backend's packets and bytes, all CPUs
 * @ctr: the counters
 * @pkts: receives the packets
 * @bytes: receives the bytes
 *
 * Lockless; batches not folded yet are not included (callers fold them
 * first with mutex_proxy_account_flush_all()).
 */
VISIBLE_IF_KUNIT
void mutex_proxy_backend_ctr_sum(const struct mutex_proxy_backend_ctr *ctr,
				 u64 *pkts, u64 *bytes)
{
	unsigned int start;
	u64 p, b;
	int cpu;

	*pkts = 0;
	*bytes = 0;
	for_each_possible_cpu(cpu) {
		const struct mutex_proxy_backend_pcpu *c =
			per_cpu_ptr(ctr->pcpu, cpu);

		do {
			start = u64_stats_fetch_begin(&c->syncp);
			p = u64_stats_read(&c->pkts);
			b = u64_stats_read(&c->bytes);
		} while (u64_stats_fetch_retry(&c->syncp, start));
		*pkts += p;
		*bytes += b;
	}
}
EXPORT_SYMBOL_IF_KUNIT(mutex_proxy_backend_ctr_sum);

/**
 * mutex_proxy_config_free() - free a snapshot now
 * @cfg: the snapshot, or NULL; no reader may use it any more
 *
 * Drops the snapshot's references to backend counters and cgroups. Safe in
 * any context that may call kvfree() (an RCU callback is one).
 */
void mutex_proxy_config_free(struct mutex_proxy_config *cfg)
{
	u32 i, j;

	if (!cfg)
		return;
	mutex_proxy_cls_free(cfg);
	for (i = 0; i < cfg->n_pools; i++) {
		struct mutex_proxy_pool *pool = &cfg->pools[i];

		for (j = 0; j < pool->n_backends; j++)
			mutex_proxy_backend_ctr_put(pool->backends[j].ctr);
		kfree(pool->backends);
	}
	kfree(cfg->pools);
	for (i = 0; i < cfg->n_rules; i++) {
		mutex_proxy_cgroup_match_free(cfg->rules[i].cgm);
		kfree(cfg->rules[i].cgroup_path);
	}
	kvfree(cfg->rules);
	kfree(cfg);
}
EXPORT_SYMBOL_IF_KUNIT(mutex_proxy_config_free);

static bool mutex_proxy_name_ok(const char *name)
{
	if (!*name)
		return false;
	for (; *name; name++)
		if (!isalnum(*name) && *name != '_' && *name != '.' &&
		    *name != '-')
			return false;
	return true;
}

static const struct mutex_proxy_pool *
mutex_proxy_find_pool(const struct mutex_proxy_config *cfg, const char *name)
{
	u32 i;

	for (i = 0; cfg && i < cfg->n_pools; i++)
		if (!strcmp(cfg->pools[i].name, name))
			return &cfg->pools[i];
	return NULL;
}

static struct mutex_proxy_backend_ctr *
mutex_proxy_ctr_for(const struct mutex_proxy_pool *old,
		    const struct mutex_proxy_backend *be)
{
	u32 i;

	for (i = 0; old && i < old->n_backends; i++) {
		const struct mutex_proxy_backend *o = &old->backends[i];

		if (o->family == be->family && o->port == be->port &&
		    !memcmp(&o->addr, &be->addr, sizeof(o->addr))) {
			refcount_inc(&o->ctr->ref);
			return o->ctr;
		}
	}
	return mutex_proxy_backend_ctr_alloc();
}

static int mutex_proxy_parse_backend(struct mutex_proxy_backend *be,
				     const struct nlattr *nest,
				     struct netlink_ext_ack *extack)
{
	struct nlattr *tb[MUTEX_BACKEND_A_MAX + 1];
	int err;

	err = nla_parse_nested(tb, MUTEX_BACKEND_A_MAX, nest,
			       mutex_proxy_backend_policy, extack);
	if (err)
		return err;
	if (!tb[MUTEX_BACKEND_A_PORT])
		return BAD(extack, nest, "backend without MUTEX_BACKEND_A_PORT");
	be->port = nla_get_u16(tb[MUTEX_BACKEND_A_PORT]);
	be->weight = tb[MUTEX_BACKEND_A_WEIGHT] ?
		     nla_get_u32(tb[MUTEX_BACKEND_A_WEIGHT]) : 1;
	if (!be->weight || be->weight > 65535)
		return BAD(extack, tb[MUTEX_BACKEND_A_WEIGHT],
			   "backend weight must be 1 to 65535");
	be->priority = mutex_proxy_get_u8(tb[MUTEX_BACKEND_A_PRIORITY], 0);
	be->state = mutex_proxy_get_u8(tb[MUTEX_BACKEND_A_STATE],
				       MUTEX_BACKEND_UP);

	if (!!tb[MUTEX_BACKEND_A_FAMILY] != !!tb[MUTEX_BACKEND_A_ADDR])
		return BAD(extack, nest,
			   "backend needs both or neither of family and address");
	if (tb[MUTEX_BACKEND_A_FAMILY]) {
		be->family = nla_get_u8(tb[MUTEX_BACKEND_A_FAMILY]);
		if (be->family != AF_INET && be->family != AF_INET6)
			return BAD(extack, tb[MUTEX_BACKEND_A_FAMILY],
				   "backend family must be AF_INET or AF_INET6");
		if (nla_len(tb[MUTEX_BACKEND_A_ADDR]) !=
		    mutex_proxy_addr_len(be->family))
			return BAD(extack, tb[MUTEX_BACKEND_A_ADDR],
				   "backend address length does not match its family");
		nla_memcpy(&be->addr, tb[MUTEX_BACKEND_A_ADDR],
			   sizeof(be->addr));
	}
	return 0;
}

static int mutex_proxy_parse_pool(struct mutex_proxy_pool *pool,
				  const struct nlattr *nest,
				  const struct mutex_proxy_config *old,
				  struct netlink_ext_ack *extack)
{
	struct nlattr *tb[MUTEX_POOL_A_MAX + 1];
	const struct mutex_proxy_pool *opool;
	const struct nlattr *a;
	u32 n = 0, i;
	int rem, err;

	err = nla_parse_nested(tb, MUTEX_POOL_A_MAX, nest,
			       mutex_proxy_pool_policy, extack);
	if (err)
		return err;
	if (!tb[MUTEX_POOL_A_NAME])
		return BAD(extack, nest, "pool without MUTEX_POOL_A_NAME");
	nla_strscpy(pool->name, tb[MUTEX_POOL_A_NAME], sizeof(pool->name));
	if (!mutex_proxy_name_ok(pool->name))
		return BAD(extack, tb[MUTEX_POOL_A_NAME],
			   "pool name must be 1 to 31 characters of [A-Za-z0-9_.-]");
	pool->scheduler = mutex_proxy_get_u8(tb[MUTEX_POOL_A_SCHEDULER],
					     MUTEX_SCHED_RR);
	pool->failure_mode = mutex_proxy_get_u8(tb[MUTEX_POOL_A_FAILURE_MODE],
						MUTEX_FAILURE_CLOSED);
	spin_lock_init(&pool->lock);
	atomic_set(&pool->rr_next, 0);

	nla_for_each_nested(a, nest, rem)
		if (nla_type(a) == MUTEX_POOL_A_BACKEND)
			n++;
	if (n > MUTEX_MAX_BACKENDS)
		return BAD(extack, nest, "pool has more than 256 backends");
	pool->local = true;
	if (!n)
		return 0;
	pool->backends = kcalloc(n, sizeof(*pool->backends), MUTEX_PROXY_GFP_CONFIG);
	if (!pool->backends)
		return -ENOMEM;

	opool = mutex_proxy_find_pool(old, pool->name);
	nla_for_each_nested(a, nest, rem) {
		struct mutex_proxy_backend *be;

		if (nla_type(a) != MUTEX_POOL_A_BACKEND)
			continue;
		be = &pool->backends[pool->n_backends];
		err = mutex_proxy_parse_backend(be, a, extack);
		if (err)
			return err;
		if (pool->n_backends && pool->local != !be->family)
			return BAD(extack, a,
				   "a pool cannot mix local and remote backends");
		pool->local = !be->family;
		for (i = 0; i < pool->n_backends; i++) {
			const struct mutex_proxy_backend *o = &pool->backends[i];

			if (o->family == be->family && o->port == be->port &&
			    !memcmp(&o->addr, &be->addr, sizeof(o->addr)))
				return BAD(extack, a,
					   "duplicate backend (same address and port) in pool");
		}
		be->ctr = mutex_proxy_ctr_for(opool, be);
		if (!be->ctr)
			return -ENOMEM;
		pool->n_backends++;
	}
	return 0;
}

static int mutex_proxy_parse_prefix(struct mutex_proxy_rule *r,
				    struct nlattr **tb, int a_addr, int a_plen,
				    union nf_inet_addr *addr,
				    union nf_inet_addr *mask, u8 *plen,
				    const struct nlattr *nest,
				    struct netlink_ext_ack *extack)
{
	unsigned int i;

	if (!tb[a_addr] && !tb[a_plen])
		return 0;
	if (!tb[a_addr] || !tb[a_plen])
		return BAD(extack, tb[a_addr] ? tb[a_addr] : tb[a_plen],
			   "a prefix needs both address and prefix length");
	if (!r->family)
		return BAD(extack, tb[a_addr],
			   "a prefix needs MUTEX_RULE_A_FAMILY");
	if (nla_len(tb[a_addr]) != mutex_proxy_addr_len(r->family))
		return BAD(extack, tb[a_addr],
			   "prefix address length does not match the rule's family");
	*plen = nla_get_u8(tb[a_plen]);
	if (*plen > mutex_proxy_addr_len(r->family) * 8)
		return BAD(extack, tb[a_plen],
			   "prefix length longer than the family's address");
	nla_memcpy(addr, tb[a_addr], sizeof(*addr));
	mutex_proxy_prefix_mask(mask, *plen);
	for (i = 0; i < 4; i++)
		if (addr->all[i] & ~mask->all[i])
			return BAD(extack, tb[a_addr],
				   "prefix address has bits set beyond the prefix length");
	return 0;
}

static int mutex_proxy_parse_range(struct nlattr **tb, int a_min, int a_max,
				   u32 *lo, u32 *hi,
				   const struct nlattr *nest,
				   struct netlink_ext_ack *extack)
{
	if (!tb[a_min] && !tb[a_max])
		return 0;
	if (!tb[a_min] || !tb[a_max])
		return BAD(extack, tb[a_min] ? tb[a_min] : tb[a_max],
			   "a range needs both its minimum and its maximum");
	if (a_min == MUTEX_RULE_A_DST_PORT_MIN ||
	    a_min == MUTEX_RULE_A_SRC_PORT_MIN) {
		*lo = nla_get_u16(tb[a_min]);
		*hi = nla_get_u16(tb[a_max]);
	} else {
		*lo = nla_get_u32(tb[a_min]);
		*hi = nla_get_u32(tb[a_max]);
	}
	if (*lo > *hi)
		return BAD(extack, tb[a_max], "range maximum below its minimum");
	return 1;
}

static int mutex_proxy_parse_rule(struct mutex_proxy_rule *r,
				  const struct nlattr *nest,
				  const struct mutex_proxy_config *cfg,
				  struct netlink_ext_ack *extack)
{
	struct nlattr *tb[MUTEX_RULE_A_MAX + 1];
	const struct mutex_proxy_pool *pool = NULL;
	u32 lo, hi;
	int err;

	err = nla_parse_nested(tb, MUTEX_RULE_A_MAX, nest,
			       mutex_proxy_rule_policy, extack);
	if (err)
		return err;

	if (tb[MUTEX_RULE_A_NAME]) {
		nla_strscpy(r->name, tb[MUTEX_RULE_A_NAME], sizeof(r->name));
		r->match |= MUTEX_M_NAME;
	}
	if (tb[MUTEX_RULE_A_FAMILY]) {
		r->family = nla_get_u8(tb[MUTEX_RULE_A_FAMILY]);
		if (r->family != AF_INET && r->family != AF_INET6)
			return BAD(extack, tb[MUTEX_RULE_A_FAMILY],
				   "rule family must be AF_INET or AF_INET6");
	}
	if (tb[MUTEX_RULE_A_PROTO]) {
		r->proto = nla_get_u8(tb[MUTEX_RULE_A_PROTO]);
		if (r->proto != IPPROTO_TCP && r->proto != IPPROTO_UDP)
			return BAD(extack, tb[MUTEX_RULE_A_PROTO],
				   "rule protocol must be IPPROTO_TCP or IPPROTO_UDP");
	}

	err = mutex_proxy_parse_prefix(r, tb, MUTEX_RULE_A_DST_ADDR,
				       MUTEX_RULE_A_DST_PLEN, &r->dst,
				       &r->dst_mask, &r->dst_plen, nest, extack);
	if (err)
		return err;
	if (tb[MUTEX_RULE_A_DST_ADDR])
		r->match |= MUTEX_M_DST;
	err = mutex_proxy_parse_prefix(r, tb, MUTEX_RULE_A_SRC_ADDR,
				       MUTEX_RULE_A_SRC_PLEN, &r->src,
				       &r->src_mask, &r->src_plen, nest, extack);
	if (err)
		return err;
	if (tb[MUTEX_RULE_A_SRC_ADDR])
		r->match |= MUTEX_M_SRC;

	err = mutex_proxy_parse_range(tb, MUTEX_RULE_A_DST_PORT_MIN,
				      MUTEX_RULE_A_DST_PORT_MAX, &lo, &hi,
				      nest, extack);
	if (err < 0)
		return err;
	if (err) {
		r->match |= MUTEX_M_DPORT;
		r->dport_min = lo;
		r->dport_max = hi;
	}
	err = mutex_proxy_parse_range(tb, MUTEX_RULE_A_SRC_PORT_MIN,
				      MUTEX_RULE_A_SRC_PORT_MAX, &lo, &hi,
				      nest, extack);
	if (err < 0)
		return err;
	if (err) {
		r->match |= MUTEX_M_SPORT;
		r->sport_min = lo;
		r->sport_max = hi;
	}
	err = mutex_proxy_parse_range(tb, MUTEX_RULE_A_UID_MIN,
				      MUTEX_RULE_A_UID_MAX, &r->uid_min,
				      &r->uid_max, nest, extack);
	if (err < 0)
		return err;
	if (err)
		r->match |= MUTEX_M_UID;
	err = mutex_proxy_parse_range(tb, MUTEX_RULE_A_GID_MIN,
				      MUTEX_RULE_A_GID_MAX, &r->gid_min,
				      &r->gid_max, nest, extack);
	if (err < 0)
		return err;
	if (err)
		r->match |= MUTEX_M_GID;

	if (!!tb[MUTEX_RULE_A_MARK_VALUE] != !!tb[MUTEX_RULE_A_MARK_MASK])
		return BAD(extack, nest, "a mark match needs value and mask");
	if (tb[MUTEX_RULE_A_MARK_VALUE]) {
		r->mark = nla_get_u32(tb[MUTEX_RULE_A_MARK_VALUE]);
		r->mark_mask = nla_get_u32(tb[MUTEX_RULE_A_MARK_MASK]);
		if (r->mark & ~r->mark_mask)
			return BAD(extack, tb[MUTEX_RULE_A_MARK_VALUE],
				   "mark value has bits outside the mask");
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
		struct mutex_proxy_cgroup_match *cgm;
		const char *msg = NULL;

		r->cgroup_path = nla_strdup(tb[MUTEX_RULE_A_CGROUP],
					    MUTEX_PROXY_GFP_CONFIG);
		if (!r->cgroup_path)
			return -ENOMEM;
		cgm = mutex_proxy_cgroup_match_new(r->cgroup_path, &msg);
		if (IS_ERR(cgm)) {
			if (msg)
				mutex_proxy_extack_attr(extack,
							tb[MUTEX_RULE_A_CGROUP],
							msg);
			return PTR_ERR(cgm);
		}
		r->cgm = cgm;
		r->match |= MUTEX_M_CGROUP;
	}
	if ((r->match & MUTEX_M_OWNER) && (r->match & MUTEX_M_IIF))
		return BAD(extack, tb[MUTEX_RULE_A_IIF],
			   "uid, gid and cgroup matches exclude an input interface (forwarded packets have no local socket)");

	if (!tb[MUTEX_RULE_A_ACTION])
		return BAD(extack, nest, "rule without MUTEX_RULE_A_ACTION");
	r->action = nla_get_u8(tb[MUTEX_RULE_A_ACTION]);
	if (tb[MUTEX_RULE_A_TO_PORT]) {
		r->to_port = nla_get_u16(tb[MUTEX_RULE_A_TO_PORT]);
		r->match |= MUTEX_M_TO_PORT;
	}
	if (tb[MUTEX_RULE_A_POOL]) {
		r->pool = nla_get_u32(tb[MUTEX_RULE_A_POOL]);
		if (r->pool >= cfg->n_pools)
			return BAD(extack, tb[MUTEX_RULE_A_POOL],
				   "rule refers to a pool index beyond the pools given");
		pool = &cfg->pools[r->pool];
		r->match |= MUTEX_M_POOL;
	}

	switch (r->action) {
	case MUTEX_ACTION_REDIRECT:
		if (!!tb[MUTEX_RULE_A_TO_PORT] == !!pool)
			return BAD(extack, nest,
				   "redirect needs exactly one of MUTEX_RULE_A_TO_PORT and MUTEX_RULE_A_POOL");
		if (pool && !pool->local)
			return BAD(extack, tb[MUTEX_RULE_A_POOL],
				   "redirect needs a pool of local backends (no address)");
		break;
	case MUTEX_ACTION_DNAT:
		if (!pool)
			return BAD(extack, nest, "dnat needs MUTEX_RULE_A_POOL");
		if (tb[MUTEX_RULE_A_TO_PORT])
			return BAD(extack, tb[MUTEX_RULE_A_TO_PORT],
				   "dnat takes no MUTEX_RULE_A_TO_PORT");
		if (pool->n_backends && pool->local)
			return BAD(extack, tb[MUTEX_RULE_A_POOL],
				   "dnat needs a pool of remote backends (with addresses)");
		if (pool->n_backends) {
			bool v4 = false, v6 = false;
			u32 i;

			for (i = 0; i < pool->n_backends; i++) {
				v4 |= pool->backends[i].family == AF_INET;
				v6 |= pool->backends[i].family == AF_INET6;
			}
			if ((r->family == AF_INET && !v4) ||
			    (r->family == AF_INET6 && !v6))
				return BAD(extack, tb[MUTEX_RULE_A_POOL],
					   "dnat pool has no backend of the rule's family");
			/* The other family would only meet the failure mode. */
			if (!r->family && v4 != v6)
				return BAD(extack, tb[MUTEX_RULE_A_POOL],
					   "dnat rule of both families to a pool of one: give the rule a family");
		}
		break;
	default:
		if (tb[MUTEX_RULE_A_TO_PORT] || pool)
			return BAD(extack, nest,
				   "bypass and drop take neither MUTEX_RULE_A_TO_PORT nor MUTEX_RULE_A_POOL");
		break;
	}
	return 0;
}

/**
 * mutex_proxy_config_build() - build a snapshot from a SET_CONFIG request
 * @head: the request's top-level attributes (their types validated by the
 *	netlink core); MUTEX_A_POOL and MUTEX_A_RULE are used, the content
 *	of each is validated here
 * @len: length of the attribute stream at @head
 * @old: the current snapshot (counters are carried over from it), or NULL;
 *	the caller keeps it alive (holds the namespace's config_lock)
 * @extack: for error messages
 *
 * Sleeps. Every allocation is charged to the caller's memory cgroup
 * (MUTEX_PROXY_GFP_CONFIG: configurations come from user namespaces too). The
 * generation is left 0 for the caller to set.
 *
 * Return: the new snapshot or an ERR_PTR(); on error nothing is left
 * allocated and @extack says what is wrong.
 */
struct mutex_proxy_config *
mutex_proxy_config_build(const struct nlattr *head, int len,
			 const struct mutex_proxy_config *old,
			 struct netlink_ext_ack *extack)
{
	struct mutex_proxy_config *cfg;
	u32 n_pools = 0, n_rules = 0, i;
	const struct nlattr *a;
	int rem, err;

	nla_for_each_attr(a, head, len, rem) {
		if (nla_type(a) == MUTEX_A_POOL)
			n_pools++;
		else if (nla_type(a) == MUTEX_A_RULE)
			n_rules++;
	}
	if (n_pools > MUTEX_MAX_POOLS) {
		NL_SET_ERR_MSG(extack, "more than 256 pools");
		return ERR_PTR(-EINVAL);
	}
	if (n_rules > MUTEX_MAX_RULES) {
		NL_SET_ERR_MSG(extack, "more than 65535 rules");
		return ERR_PTR(-EINVAL);
	}

	cfg = kzalloc(sizeof(*cfg), MUTEX_PROXY_GFP_CONFIG);
	if (!cfg)
		return ERR_PTR(-ENOMEM);
	err = -ENOMEM;
	if (n_pools) {
		cfg->pools = kcalloc(n_pools, sizeof(*cfg->pools), MUTEX_PROXY_GFP_CONFIG);
		if (!cfg->pools)
			goto err;
	}
	if (n_rules) {
		cfg->rules = kvcalloc(n_rules, sizeof(*cfg->rules), MUTEX_PROXY_GFP_CONFIG);
		if (!cfg->rules)
			goto err;
	}

	nla_for_each_attr(a, head, len, rem) {
		struct mutex_proxy_pool *pool;

		if (nla_type(a) != MUTEX_A_POOL)
			continue;
		pool = &cfg->pools[cfg->n_pools++];
		err = mutex_proxy_parse_pool(pool, a, old, extack);
		if (err)
			goto err;
		for (i = 0; i + 1 < cfg->n_pools; i++) {
			if (!strcmp(cfg->pools[i].name, pool->name)) {
				err = BAD(extack, a, "duplicate pool name");
				goto err;
			}
		}
	}
	nla_for_each_attr(a, head, len, rem) {
		if (nla_type(a) != MUTEX_A_RULE)
			continue;
		err = mutex_proxy_parse_rule(&cfg->rules[cfg->n_rules++], a,
					     cfg, extack);
		if (err)
			goto err;
	}

	err = mutex_proxy_cls_build(cfg);
	if (err)
		goto err;
	return cfg;

err:
	mutex_proxy_config_free(cfg);
	/* Out of a policy's range is invalid like everything else. */
	return ERR_PTR(err == -ERANGE ? -EINVAL : err);
}
EXPORT_SYMBOL_IF_KUNIT(mutex_proxy_config_build);

static void mutex_proxy_config_free_rcu(struct rcu_head *head)
{
	mutex_proxy_config_free(container_of(head, struct mutex_proxy_config,
					     rcu));
}

/**
 * mutex_proxy_config_replace() - publish a new snapshot
 * @mpn: the namespace's state
 * @cfg: the new snapshot, from mutex_proxy_config_build() with @old being
 *	the snapshot current under @mpn->config_lock, which the caller holds
 * @had: the generation the writer read
 * @extack: for error messages
 *
 * On success @cfg is published with the next generation and the old
 * snapshot is freed after a grace period. On failure (stale @had) @cfg is
 * freed and nothing changes. The datapath is not touched: see
 * mutex_proxy_net_set_config().
 *
 * Return: 0 or -ESTALE.
 */
int mutex_proxy_config_replace(struct mutex_proxy_net *mpn,
			       struct mutex_proxy_config *cfg, u64 had,
			       struct netlink_ext_ack *extack)
{
	struct mutex_proxy_config *old;

	lockdep_assert_held(&mpn->config_lock);
	if (had != mpn->generation) {
		mutex_proxy_extack_stale(extack, had, mpn->generation);
		mutex_proxy_config_free(cfg);
		return -ESTALE;
	}
	cfg->generation = ++mpn->generation;
	old = rcu_replace_pointer(mpn->config, cfg,
				  lockdep_is_held(&mpn->config_lock));
	if (old)
		call_rcu(&old->rcu, mutex_proxy_config_free_rcu);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(mutex_proxy_config_replace);

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
size_t mutex_proxy_config_size(const struct mutex_proxy_config *cfg)
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
 * mutex_proxy_config_item_size_max() - an upper bound of the size of the
 *	largest pool or rule of @cfg, with the generation
 * @cfg: the configuration, or NULL
 *
 * A GET_CONFIG dump message holds whole pools and rules: its buffer must
 * hold the largest one (a pool of MUTEX_MAX_BACKENDS backends is about
 * 48 KiB, more than the first buffer of a fresh socket's dump).
 *
 * Return: the bound in bytes.
 */
size_t mutex_proxy_config_item_size_max(const struct mutex_proxy_config *cfg)
{
	size_t max = 0;
	u32 i;

	for (i = 0; cfg && i < cfg->n_pools; i++)
		max = max_t(size_t, max, mutex_proxy_pool_size(&cfg->pools[i]));
	for (i = 0; cfg && i < cfg->n_rules; i++)
		max = max_t(size_t, max, mutex_proxy_rule_size(&cfg->rules[i]));
	return nla_total_size_64bit(8) + max;
}

static int mutex_proxy_put_backend(struct sk_buff *skb,
				   const struct mutex_proxy_backend *be)
{
	struct nlattr *nest = nla_nest_start(skb, MUTEX_POOL_A_BACKEND);
	u64 pkts, bytes;

	if (!nest)
		return -EMSGSIZE;
	if ((be->family &&
	     (nla_put_u8(skb, MUTEX_BACKEND_A_FAMILY, be->family) ||
	      nla_put(skb, MUTEX_BACKEND_A_ADDR,
		      mutex_proxy_addr_len(be->family), &be->addr))) ||
	    nla_put_u16(skb, MUTEX_BACKEND_A_PORT, be->port) ||
	    nla_put_u32(skb, MUTEX_BACKEND_A_WEIGHT, be->weight) ||
	    nla_put_u8(skb, MUTEX_BACKEND_A_PRIORITY, be->priority) ||
	    nla_put_u8(skb, MUTEX_BACKEND_A_STATE, be->state) ||
	    nla_put_u64_64bit(skb, MUTEX_BACKEND_A_ACTIVE_FLOWS,
			      atomic64_read(&be->ctr->active),
			      MUTEX_BACKEND_A_PAD) ||
	    nla_put_u64_64bit(skb, MUTEX_BACKEND_A_TOTAL_FLOWS,
			      atomic64_read(&be->ctr->total),
			      MUTEX_BACKEND_A_PAD))
		goto cancel;
	mutex_proxy_backend_ctr_sum(be->ctr, &pkts, &bytes);
	if (nla_put_u64_64bit(skb, MUTEX_BACKEND_A_PKTS, pkts,
			      MUTEX_BACKEND_A_PAD) ||
	    nla_put_u64_64bit(skb, MUTEX_BACKEND_A_BYTES, bytes,
			      MUTEX_BACKEND_A_PAD)) {
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
	    ((m & MUTEX_M_POOL) && nla_put_u32(skb, MUTEX_RULE_A_POOL, r->pool))) {
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}

/**
 * mutex_proxy_config_put_from() - put pools and rules of a snapshot
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
int mutex_proxy_config_put_from(struct sk_buff *skb,
				const struct mutex_proxy_config *cfg, u32 *pos)
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
 * mutex_proxy_config_put() - put every pool and rule of a snapshot
 * @skb: the message
 * @cfg: the snapshot, or NULL; kept alive by the caller
 *
 * Return: 0 or -EMSGSIZE.
 */
int mutex_proxy_config_put(struct sk_buff *skb,
			   const struct mutex_proxy_config *cfg)
{
	u32 pos = 0;

	return mutex_proxy_config_put_from(skb, cfg, &pos);
}
