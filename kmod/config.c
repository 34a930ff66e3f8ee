// SPDX-License-Identifier: GPL-2.0
/*
 * mutex_proxy: the configuration snapshot of a namespace, the model that
 * SET_CONFIG drives.
 *
 * A snapshot is built in three steps from plain arrays, so anything can
 * build one (netlink_config.c from a SET_CONFIG request, the KUnit suites
 * directly):
 *
 *   mutex_proxy_config_alloc()       pools and rules, zeroed
 *   mutex_proxy_config_pool_init()   a pool's array of backends
 *   (the caller fills in what was asked: names, addresses, ports, the
 *    MUTEX_M_* bits of each rule and their values, cgroup paths)
 *   mutex_proxy_config_finish()      validates everything and derives the
 *                                    rest: masks, cgroup matches, backend
 *                                    counters, the classifier
 *
 * A refusal says what and where in a struct mutex_proxy_config_err (the
 * item, and the field as its UAPI attribute type); the caller frees the
 * half-built snapshot with mutex_proxy_config_free().
 *
 * Publication: under the namespace's config_lock,
 * mutex_proxy_config_replace() checks the writer's generation and
 * publishes the snapshot with rcu_assign_pointer(). The old one is freed by
 * call_rcu() after a grace period, so packet-path readers under
 * rcu_read_lock() never see freed memory or half a configuration. The
 * module's exit runs rcu_barrier() so no callback outlives the module.
 *
 * One thing changes in place: a backend's state and weight
 * (mutex_proxy_config_set_backend(), SET_BACKEND), without a new snapshot
 * or generation, so a health check taking a backend out costs no rebuild
 * of thousands of rules. Readers load them with READ_ONCE(); the weight is
 * stored under the pool's lock, which the weighted round robin holds.
 *
 * Counters (counters.c) are not configuration: a new snapshot shares the
 * counters of every backend the old one has with the same pool name,
 * family, address and port, and of every rule the old one has with the
 * same name (reference counted), so a replacement loses no count. The
 * build runs under config_lock (the caller holds it), so the old snapshot
 * it takes counters from stays alive.
 */
#include <linux/ctype.h>
#include <linux/err.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/lockdep.h>
#include <linux/slab.h>
#include <linux/socket.h>
#include <linux/sort.h>
#include <linux/string.h>

#include "counters.h"
#include "cgroup.h"
#include "classify.h"
#include "config.h"
#include "mutex_proxy.h"
#include "net.h"
#include "compat.h"

/* Sets *@err and returns -EINVAL; @msg must be a static string. */
static int mutex_proxy_refuse(struct mutex_proxy_config_err *err, u16 item,
			      u32 index, s32 backend, u16 attr,
			      const char *msg)
{
	err->msg = msg;
	err->item = item;
	err->index = index;
	err->backend = backend;
	err->attr = attr;
	return -EINVAL;
}

#define POOL_BAD(err, i, attr, msg) \
	mutex_proxy_refuse(err, MUTEX_A_POOL, i, -1, attr, msg)
#define BACKEND_BAD(err, i, b, attr, msg) \
	mutex_proxy_refuse(err, MUTEX_A_POOL, i, b, attr, msg)
#define RULE_BAD(err, i, attr, msg) \
	mutex_proxy_refuse(err, MUTEX_A_RULE, i, -1, attr, msg)

/**
 * mutex_proxy_addr_len() - the length of an address of a family
 * @family: AF_INET or AF_INET6
 *
 * Return: 4 for AF_INET, 16 otherwise.
 */
unsigned int mutex_proxy_addr_len(u8 family)
{
	return family == AF_INET ? 4 : 16;
}

/**
 * mutex_proxy_config_alloc() - a snapshot of zeroed pools and rules
 * @n_pools: number of pools, at most MUTEX_MAX_POOLS
 * @n_rules: number of rules, at most MUTEX_MAX_RULES
 * @err: receives the reason of an -EINVAL
 *
 * Sleeps. Every allocation is charged to the caller's memory cgroup
 * (MUTEX_PROXY_GFP_CONFIG: configurations come from user namespaces too).
 *
 * Return: the snapshot, ERR_PTR(-EINVAL) for too many items, or
 * ERR_PTR(-ENOMEM).
 */
struct mutex_proxy_config *
mutex_proxy_config_alloc(u32 n_pools, u32 n_rules,
			 struct mutex_proxy_config_err *err)
{
	struct mutex_proxy_config *cfg;

	if (n_pools > MUTEX_MAX_POOLS)
		return ERR_PTR(mutex_proxy_refuse(err, 0, 0, -1, 0,
						  "more than 256 pools"));
	if (n_rules > MUTEX_MAX_RULES)
		return ERR_PTR(mutex_proxy_refuse(err, 0, 0, -1, 0,
						  "more than 65535 rules"));
	cfg = kzalloc(sizeof(*cfg), MUTEX_PROXY_GFP_CONFIG);
	if (!cfg)
		return ERR_PTR(-ENOMEM);
	if (n_pools) {
		cfg->pools = kcalloc(n_pools, sizeof(*cfg->pools),
				     MUTEX_PROXY_GFP_CONFIG);
		if (!cfg->pools)
			goto nomem;
	}
	if (n_rules) {
		cfg->rules = kvcalloc(n_rules, sizeof(*cfg->rules),
				      MUTEX_PROXY_GFP_CONFIG);
		if (!cfg->rules)
			goto nomem;
	}
	cfg->n_pools = n_pools;
	cfg->n_rules = n_rules;
	return cfg;
nomem:
	mutex_proxy_config_free(cfg);
	return ERR_PTR(-ENOMEM);
}
EXPORT_SYMBOL_IF_KUNIT(mutex_proxy_config_alloc);

/**
 * mutex_proxy_config_pool_init() - give a pool its array of backends
 * @cfg: a snapshot from mutex_proxy_config_alloc(), not finished yet
 * @i: the pool's index
 * @n_backends: number of backends, at most MUTEX_MAX_BACKENDS
 * @err: receives the reason of an -EINVAL
 *
 * The backends come zeroed with weight 1 and state MUTEX_BACKEND_UP. A
 * pool not given backends is empty. Sleeps.
 *
 * Return: 0, -EINVAL or -ENOMEM.
 */
int mutex_proxy_config_pool_init(struct mutex_proxy_config *cfg, u32 i,
				 u32 n_backends,
				 struct mutex_proxy_config_err *err)
{
	struct mutex_proxy_pool *pool = &cfg->pools[i];
	u32 b;

	if (n_backends > MUTEX_MAX_BACKENDS)
		return POOL_BAD(err, i, 0, "pool has more than 256 backends");
	if (WARN_ON_ONCE(pool->backends) || !n_backends)
		return 0;
	pool->backends = kcalloc(n_backends, sizeof(*pool->backends),
				 MUTEX_PROXY_GFP_CONFIG);
	if (!pool->backends)
		return -ENOMEM;
	pool->n_backends = n_backends;
	for (b = 0; b < n_backends; b++) {
		pool->backends[b].weight = 1;
		pool->backends[b].state = MUTEX_BACKEND_UP;
	}
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(mutex_proxy_config_pool_init);

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
		mutex_proxy_rule_ctr_put(cfg->rules[i].ctr);
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

static bool mutex_proxy_backend_same(const struct mutex_proxy_backend *a,
				     const struct mutex_proxy_backend *b)
{
	return a->family == b->family && a->port == b->port &&
	       !memcmp(&a->addr, &b->addr, sizeof(a->addr));
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

/* The counters of the same backend in the old pool, or new ones. */
static struct mutex_proxy_backend_ctr *
mutex_proxy_ctr_for(const struct mutex_proxy_pool *old,
		    const struct mutex_proxy_backend *be)
{
	u32 i;

	for (i = 0; old && i < old->n_backends; i++) {
		const struct mutex_proxy_backend *o = &old->backends[i];

		if (mutex_proxy_backend_same(o, be)) {
			refcount_inc(&o->ctr->ref);
			return o->ctr;
		}
	}
	return mutex_proxy_backend_ctr_new();
}

static int mutex_proxy_finish_pool(struct mutex_proxy_config *cfg, u32 i,
				   const struct mutex_proxy_config *old,
				   struct mutex_proxy_config_err *err)
{
	struct mutex_proxy_pool *pool = &cfg->pools[i];
	const struct mutex_proxy_pool *opool;
	u32 b, j;

	pool->name[sizeof(pool->name) - 1] = '\0';
	if (!mutex_proxy_name_ok(pool->name))
		return POOL_BAD(err, i, MUTEX_POOL_A_NAME,
				"pool name must be 1 to 31 characters of [A-Za-z0-9_.-]");
	for (j = 0; j < i; j++)
		if (!strcmp(cfg->pools[j].name, pool->name))
			return POOL_BAD(err, i, 0, "duplicate pool name");
	if (pool->scheduler > MUTEX_SCHED_MAX)
		return POOL_BAD(err, i, MUTEX_POOL_A_SCHEDULER,
				"unknown scheduler");
	if (pool->failure_mode > MUTEX_FAILURE_MAX)
		return POOL_BAD(err, i, MUTEX_POOL_A_FAILURE_MODE,
				"unknown failure mode");
	spin_lock_init(&pool->lock);
	atomic_set(&pool->rr_next, 0);

	pool->local = true;
	for (b = 0; b < pool->n_backends; b++) {
		struct mutex_proxy_backend *be = &pool->backends[b];

		if (!be->weight || be->weight > 65535)
			return BACKEND_BAD(err, i, b, MUTEX_BACKEND_A_WEIGHT,
					   "backend weight must be 1 to 65535");
		if (be->family && be->family != AF_INET &&
		    be->family != AF_INET6)
			return BACKEND_BAD(err, i, b, MUTEX_BACKEND_A_FAMILY,
					   "backend family must be AF_INET or AF_INET6");
		if (!be->port)
			return BACKEND_BAD(err, i, b, MUTEX_BACKEND_A_PORT,
					   "backend port must be 1 to 65535");
		if (be->state > MUTEX_BACKEND_STATE_MAX)
			return BACKEND_BAD(err, i, b, MUTEX_BACKEND_A_STATE,
					   "unknown backend state");
		if (b && pool->local != !be->family)
			return BACKEND_BAD(err, i, b, 0,
					   "a pool cannot mix local and remote backends");
		pool->local = !be->family;
		for (j = 0; j < b; j++)
			if (mutex_proxy_backend_same(&pool->backends[j], be))
				return BACKEND_BAD(err, i, b, 0,
						   "duplicate backend (same address and port) in pool");
	}

	opool = mutex_proxy_find_pool(old, pool->name);
	for (b = 0; b < pool->n_backends; b++) {
		pool->backends[b].ctr = mutex_proxy_ctr_for(opool,
							    &pool->backends[b]);
		if (!pool->backends[b].ctr)
			return -ENOMEM;
	}
	return 0;
}

/* A prefix of a rule: its family's, without a bit beyond its length. */
static int mutex_proxy_finish_prefix(const struct mutex_proxy_rule *r, u32 i,
				     const union nf_inet_addr *addr, u8 plen,
				     union nf_inet_addr *mask, u16 a_addr,
				     u16 a_plen,
				     struct mutex_proxy_config_err *err)
{
	unsigned int k;

	if (!r->family)
		return RULE_BAD(err, i, a_addr,
				"a prefix needs MUTEX_RULE_A_FAMILY");
	if (plen > mutex_proxy_addr_len(r->family) * 8)
		return RULE_BAD(err, i, a_plen,
				"prefix length longer than the family's address");
	mutex_proxy_prefix_mask(mask, plen);
	for (k = 0; k < 4; k++)
		if (addr->all[k] & ~mask->all[k])
			return RULE_BAD(err, i, a_addr,
					"prefix address has bits set beyond the prefix length");
	return 0;
}

/* A range of a rule: not reversed. */
static int mutex_proxy_finish_range(u32 i, u32 lo, u32 hi, u16 a_max,
				    struct mutex_proxy_config_err *err)
{
	if (lo > hi)
		return RULE_BAD(err, i, a_max, "range maximum below its minimum");
	return 0;
}

static int mutex_proxy_finish_target(const struct mutex_proxy_config *cfg,
				     const struct mutex_proxy_rule *r, u32 i,
				     struct mutex_proxy_config_err *err)
{
	const struct mutex_proxy_pool *pool = NULL;
	bool v4 = false, v6 = false;
	u32 b;

	if (r->match & MUTEX_M_POOL) {
		if (r->pool >= cfg->n_pools)
			return RULE_BAD(err, i, MUTEX_RULE_A_POOL,
					"rule refers to a pool index beyond the pools given");
		pool = &cfg->pools[r->pool];
	}
	switch (r->action) {
	case MUTEX_ACTION_REDIRECT:
		if (!!(r->match & MUTEX_M_TO_PORT) == !!pool)
			return RULE_BAD(err, i, 0,
					"redirect needs exactly one of MUTEX_RULE_A_TO_PORT and MUTEX_RULE_A_POOL");
		if ((r->match & MUTEX_M_TO_PORT) && !r->to_port)
			return RULE_BAD(err, i, MUTEX_RULE_A_TO_PORT,
					"redirect port must be 1 to 65535");
		if (pool && !pool->local)
			return RULE_BAD(err, i, MUTEX_RULE_A_POOL,
					"redirect needs a pool of local backends (no address)");
		return 0;
	case MUTEX_ACTION_DNAT:
		if (!pool)
			return RULE_BAD(err, i, 0, "dnat needs MUTEX_RULE_A_POOL");
		if (r->match & MUTEX_M_TO_PORT)
			return RULE_BAD(err, i, MUTEX_RULE_A_TO_PORT,
					"dnat takes no MUTEX_RULE_A_TO_PORT");
		if (!pool->n_backends)
			return 0;
		if (pool->local)
			return RULE_BAD(err, i, MUTEX_RULE_A_POOL,
					"dnat needs a pool of remote backends (with addresses)");
		for (b = 0; b < pool->n_backends; b++) {
			v4 |= pool->backends[b].family == AF_INET;
			v6 |= pool->backends[b].family == AF_INET6;
		}
		if ((r->family == AF_INET && !v4) ||
		    (r->family == AF_INET6 && !v6))
			return RULE_BAD(err, i, MUTEX_RULE_A_POOL,
					"dnat pool has no backend of the rule's family");
		/* The other family would only meet the failure mode. */
		if (!r->family && v4 != v6)
			return RULE_BAD(err, i, MUTEX_RULE_A_POOL,
					"dnat rule of both families to a pool of one: give the rule a family");
		return 0;
	case MUTEX_ACTION_BYPASS:
	case MUTEX_ACTION_DROP:
		if (r->match & (MUTEX_M_TO_PORT | MUTEX_M_POOL))
			return RULE_BAD(err, i, 0,
					"bypass and drop take neither MUTEX_RULE_A_TO_PORT nor MUTEX_RULE_A_POOL");
		return 0;
	default:
		return RULE_BAD(err, i, MUTEX_RULE_A_ACTION, "unknown action");
	}
}

static int mutex_proxy_finish_rule(struct mutex_proxy_config *cfg, u32 i,
				   struct mutex_proxy_config_err *err)
{
	struct mutex_proxy_rule *r = &cfg->rules[i];
	u32 m = r->match;
	int ret;

	r->name[sizeof(r->name) - 1] = '\0';
	if (r->family && r->family != AF_INET && r->family != AF_INET6)
		return RULE_BAD(err, i, MUTEX_RULE_A_FAMILY,
				"rule family must be AF_INET or AF_INET6");
	if (r->proto && r->proto != IPPROTO_TCP && r->proto != IPPROTO_UDP)
		return RULE_BAD(err, i, MUTEX_RULE_A_PROTO,
				"rule protocol must be IPPROTO_TCP or IPPROTO_UDP");
	if (m & MUTEX_M_DST) {
		ret = mutex_proxy_finish_prefix(r, i, &r->dst, r->dst_plen,
						&r->dst_mask,
						MUTEX_RULE_A_DST_ADDR,
						MUTEX_RULE_A_DST_PLEN, err);
		if (ret)
			return ret;
	}
	if (m & MUTEX_M_SRC) {
		ret = mutex_proxy_finish_prefix(r, i, &r->src, r->src_plen,
						&r->src_mask,
						MUTEX_RULE_A_SRC_ADDR,
						MUTEX_RULE_A_SRC_PLEN, err);
		if (ret)
			return ret;
	}
	if (((m & MUTEX_M_DPORT) && !r->dport_min) ||
	    ((m & MUTEX_M_SPORT) && !r->sport_min))
		return RULE_BAD(err, i, 0, "ports are 1 to 65535");
	if (((m & MUTEX_M_DPORT) &&
	     mutex_proxy_finish_range(i, r->dport_min, r->dport_max,
				      MUTEX_RULE_A_DST_PORT_MAX, err)) ||
	    ((m & MUTEX_M_SPORT) &&
	     mutex_proxy_finish_range(i, r->sport_min, r->sport_max,
				      MUTEX_RULE_A_SRC_PORT_MAX, err)) ||
	    ((m & MUTEX_M_UID) &&
	     mutex_proxy_finish_range(i, r->uid_min, r->uid_max,
				      MUTEX_RULE_A_UID_MAX, err)) ||
	    ((m & MUTEX_M_GID) &&
	     mutex_proxy_finish_range(i, r->gid_min, r->gid_max,
				      MUTEX_RULE_A_GID_MAX, err)))
		return -EINVAL;
	if (m & MUTEX_M_MARK) {
		if (!r->mark_mask)
			return RULE_BAD(err, i, MUTEX_RULE_A_MARK_MASK,
					"mark mask must not be 0");
		if (r->mark & ~r->mark_mask)
			return RULE_BAD(err, i, MUTEX_RULE_A_MARK_VALUE,
					"mark value has bits outside the mask");
	}
	if (((m & MUTEX_M_OIF) && !r->oif) || ((m & MUTEX_M_IIF) && !r->iif))
		return RULE_BAD(err, i, 0, "interface index 0 matches nothing");
	if ((m & MUTEX_M_OWNER) && (m & MUTEX_M_IIF))
		return RULE_BAD(err, i, MUTEX_RULE_A_IIF,
				"uid, gid and cgroup matches exclude an input interface (forwarded packets have no local socket)");
	if (m & MUTEX_M_CGROUP) {
		struct mutex_proxy_cgroup_match *cgm;
		const char *msg = NULL;

		if (!r->cgroup_path)
			return RULE_BAD(err, i, MUTEX_RULE_A_CGROUP,
					"cgroup match without a path");
		cgm = mutex_proxy_cgroup_match_new(r->cgroup_path, &msg);
		if (IS_ERR(cgm)) {
			if (msg)
				mutex_proxy_refuse(err, MUTEX_A_RULE, i, -1,
						   MUTEX_RULE_A_CGROUP, msg);
			return PTR_ERR(cgm);
		}
		r->cgm = cgm;
	}
	return mutex_proxy_finish_target(cfg, r, i, err);
}

/* Named rules by name, then by place: the n-th of a name sorts n-th. */
static int mutex_proxy_rule_cmp(const void *a, const void *b)
{
	const struct mutex_proxy_rule *x = *(const struct mutex_proxy_rule **)a;
	const struct mutex_proxy_rule *y = *(const struct mutex_proxy_rule **)b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return x < y ? -1 : x > y;
}

/* Pointers to the named rules of @cfg, sorted; *@n receives how many. */
static const struct mutex_proxy_rule **
mutex_proxy_named_rules(const struct mutex_proxy_config *cfg, u32 *n)
{
	const struct mutex_proxy_rule **v;
	u32 i;

	*n = 0;
	v = kvmalloc_array(max(cfg->n_rules, 1U), sizeof(*v),
			   MUTEX_PROXY_GFP_CONFIG);
	if (!v)
		return NULL;
	for (i = 0; i < cfg->n_rules; i++)
		if (cfg->rules[i].match & MUTEX_M_NAME)
			v[(*n)++] = &cfg->rules[i];
	sort(v, *n, sizeof(*v), mutex_proxy_rule_cmp, NULL);
	return v;
}

/*
 * Every rule's counters: the n-th rule of a name shares those of the n-th
 * rule of that name in @old, the others get new ones. Sorting both sides
 * by name keeps this O(n log n) for the largest configurations.
 */
static int mutex_proxy_rule_counters(struct mutex_proxy_config *cfg,
				     const struct mutex_proxy_config *old)
{
	const struct mutex_proxy_rule **ov = NULL, **nv;
	u32 on = 0, nn, i = 0, j = 0;
	int c;

	if (old && old->n_rules) {
		ov = mutex_proxy_named_rules(old, &on);
		if (!ov)
			return -ENOMEM;
	}
	nv = mutex_proxy_named_rules(cfg, &nn);
	if (!nv) {
		kvfree(ov);
		return -ENOMEM;
	}
	while (i < on && j < nn) {
		c = strcmp(ov[i]->name, nv[j]->name);
		if (c < 0) {
			i++;
		} else if (c > 0) {
			j++;
		} else {
			struct mutex_proxy_rule *r =
				&cfg->rules[nv[j] - cfg->rules];

			refcount_inc(&ov[i]->ctr->ref);
			r->ctr = ov[i]->ctr;
			i++;
			j++;
		}
	}
	kvfree(nv);
	kvfree(ov);
	for (i = 0; i < cfg->n_rules; i++) {
		if (cfg->rules[i].ctr)
			continue;
		cfg->rules[i].ctr = mutex_proxy_rule_ctr_new();
		if (!cfg->rules[i].ctr)
			return -ENOMEM;
	}
	return 0;
}

/**
 * mutex_proxy_config_finish() - validate a filled-in snapshot and derive
 *	the rest of it
 * @cfg: from mutex_proxy_config_alloc(), every pool's and rule's fields
 *	filled in as asked (see struct mutex_proxy_rule: @match says which
 *	matches a rule has; masks, cgroup matches and counters are derived
 *	here)
 * @old: the current snapshot (counters are carried over from it), or NULL;
 *	the caller keeps it alive (holds the namespace's config_lock)
 * @err: receives the reason and place of an -EINVAL (and of an error of
 *	cgroup_match_new() that has a message)
 *
 * Sleeps. The generation is left 0 for mutex_proxy_config_replace().
 *
 * Return: 0, or a negative errno; the caller then frees @cfg with
 * mutex_proxy_config_free().
 */
int mutex_proxy_config_finish(struct mutex_proxy_config *cfg,
			      const struct mutex_proxy_config *old,
			      struct mutex_proxy_config_err *err)
{
	u32 i;
	int ret;

	for (i = 0; i < cfg->n_pools; i++) {
		ret = mutex_proxy_finish_pool(cfg, i, old, err);
		if (ret)
			return ret;
	}
	for (i = 0; i < cfg->n_rules; i++) {
		ret = mutex_proxy_finish_rule(cfg, i, err);
		if (ret)
			return ret;
		if (cfg->rules[i].match & MUTEX_M_OWNER)
			cfg->owner_rules = true;
	}
	ret = mutex_proxy_rule_counters(cfg, old);
	if (ret)
		return ret;
	return mutex_proxy_cls_build(cfg);
}
EXPORT_SYMBOL_IF_KUNIT(mutex_proxy_config_finish);

static void mutex_proxy_config_free_rcu(struct rcu_head *head)
{
	mutex_proxy_config_free(container_of(head, struct mutex_proxy_config,
					     rcu));
}

/**
 * mutex_proxy_config_replace() - publish a new snapshot
 * @mpn: the namespace's state
 * @cfg: the new snapshot, finished by mutex_proxy_config_finish() with @old
 *	being the snapshot current under @mpn->config_lock, which the caller
 *	holds
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

/**
 * mutex_proxy_config_find_backend() - a backend of the current snapshot
 * @cfg: the snapshot, or NULL
 * @pool: the pool's name
 * @id: the backend's family, address and port
 * @poolp: receives the pool
 * @extack: for error messages
 *
 * Return: the backend, or NULL (-ENOENT, extack set).
 */
struct mutex_proxy_backend *
mutex_proxy_config_find_backend(struct mutex_proxy_config *cfg,
				const char *pool,
				const struct mutex_proxy_backend *id,
				struct mutex_proxy_pool **poolp,
				struct netlink_ext_ack *extack)
{
	struct mutex_proxy_pool *p;
	u32 i, b;

	for (i = 0; cfg && i < cfg->n_pools; i++) {
		p = &cfg->pools[i];
		if (strcmp(p->name, pool))
			continue;
		for (b = 0; b < p->n_backends; b++)
			if (mutex_proxy_backend_same(&p->backends[b], id)) {
				*poolp = p;
				return &p->backends[b];
			}
		NL_SET_ERR_MSG(extack, "no such backend in the pool");
		return NULL;
	}
	NL_SET_ERR_MSG(extack, "no pool of that name in the configuration");
	return NULL;
}

/**
 * mutex_proxy_config_set_backend() - change a backend's state or weight in
 *	place (SET_BACKEND)
 * @mpn: the namespace; its config_lock held
 * @chg: what to change
 * @extack: for error messages
 *
 * New flows see the change at once; flows already steered keep their NAT.
 * The snapshot and its generation stay.
 *
 * Return: 1 if something changed, 0 if the backend already was so,
 * -EINVAL, -ENOENT or -ESTALE (nothing changed).
 */
int mutex_proxy_config_set_backend(struct mutex_proxy_net *mpn,
				   const struct mutex_proxy_backend_change *chg,
				   struct netlink_ext_ack *extack)
{
	struct mutex_proxy_config *cfg;
	struct mutex_proxy_backend *be;
	struct mutex_proxy_pool *pool;
	int changed = 0;

	lockdep_assert_held(&mpn->config_lock);
	if (chg->has_generation && chg->generation != mpn->generation) {
		mutex_proxy_extack_stale(extack, chg->generation,
					 mpn->generation);
		return -ESTALE;
	}
	if (!chg->set_state && !chg->set_weight) {
		NL_SET_ERR_MSG(extack,
			       "nothing to change: give MUTEX_BACKEND_A_STATE or MUTEX_BACKEND_A_WEIGHT");
		return -EINVAL;
	}
	if (chg->set_state && chg->state > MUTEX_BACKEND_STATE_MAX) {
		NL_SET_ERR_MSG(extack, "unknown backend state");
		return -EINVAL;
	}
	if (chg->set_weight && (!chg->weight || chg->weight > 65535)) {
		NL_SET_ERR_MSG(extack, "backend weight must be 1 to 65535");
		return -EINVAL;
	}
	cfg = rcu_dereference_protected(mpn->config,
					lockdep_is_held(&mpn->config_lock));
	be = mutex_proxy_config_find_backend(cfg, chg->pool, &chg->id, &pool,
					     extack);
	if (!be)
		return -ENOENT;

	spin_lock_bh(&pool->lock);
	if (chg->set_weight && be->weight != chg->weight) {
		WRITE_ONCE(be->weight, chg->weight);
		changed = 1;
	}
	if (chg->set_state && be->state != chg->state) {
		WRITE_ONCE(be->state, chg->state);
		changed = 1;
	}
	spin_unlock_bh(&pool->lock);
	return changed;
}
EXPORT_SYMBOL_IF_KUNIT(mutex_proxy_config_set_backend);
