// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for mutex_proxy.ko: configuration snapshots (built from plain
 * arrays through the model's API, as netlink_config.c builds them from a
 * SET_CONFIG request), validation, the rule
 * classifier, the schedulers, counters across replacements and snapshot
 * replacement under concurrent RCU readers.
 */
#include <kunit/test.h>
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/in.h>
#include <linux/inet.h>
#include <linux/kthread.h>
#include <linux/prandom.h>
#include <linux/slab.h>
#include <linux/socket.h>

#include "counters.h"
#include "classify.h"
#include "config.h"
#include "net.h"
#include "sched.h"
#include "compat.h"

MUTEX_PROXY_IMPORT_KUNIT_NS();

/* ---- building a configuration from plain arrays ---- */

#define KT_MAX_POOLS	4
#define KT_MAX_BACKENDS	8
#define KT_MAX_RULES	10000

struct kt_pool_spec {
	char name[MUTEX_NAME_MAX];
	u8 sched;
	u8 failure;
	u32 n;
	struct mutex_proxy_backend be[KT_MAX_BACKENDS];
};

/* A configuration being written: pools and rules as the model takes them. */
struct kt_cfg {
	u32 n_pools;
	u32 n_rules;
	struct kt_pool_spec *pools;
	struct mutex_proxy_rule *rules;
};

struct kt_rule {
	u8 family;
	u8 proto;
	u8 act;			/* KT_*; 0: bypass */
	const char *dst;	/* NULL: no destination prefix */
	u8 dplen;
	bool plen_only;		/* a prefix length without an address */
	u16 dpmin;		/* 0: no destination port range */
	u16 dpmax;
	const char *src;	/* NULL: no source prefix */
	u8 splen;
	u16 spmin;
	u16 spmax;
	bool uid;
	u32 uid_min;
	u32 uid_max;
	bool gid;
	u32 gid_min;
	u32 gid_max;
	bool mark;
	u32 mark_value;
	u32 mark_mask;
	u32 oif;
	u32 iif;
	u16 to_port;
	bool with_pool;
	u32 pool;
};

struct kt_backend {
	u8 family;		/* 0: local */
	const char *addr;
	u16 port;
	u32 weight;
	u8 priority;
	u8 state;
};

static void kt_begin(struct kunit *test, struct kt_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->pools = kcalloc(KT_MAX_POOLS, sizeof(*c->pools), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, c->pools);
	c->rules = kvcalloc(KT_MAX_RULES, sizeof(*c->rules), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, c->rules);
}

static void kt_end(struct kt_cfg *c)
{
	kvfree(c->rules);
	c->rules = NULL;
	kfree(c->pools);
	c->pools = NULL;
}

/* The model's three steps, from what the case wrote. */
static struct mutex_proxy_config *kt_try(const struct kt_cfg *c,
					 const struct mutex_proxy_config *old,
					 struct mutex_proxy_config_err *err)
{
	struct mutex_proxy_config *cfg;
	u32 i;
	int ret;

	memset(err, 0, sizeof(*err));
	cfg = mutex_proxy_config_alloc(c->n_pools, c->n_rules, err);
	if (IS_ERR(cfg))
		return cfg;
	for (i = 0; i < c->n_pools; i++) {
		const struct kt_pool_spec *ps = &c->pools[i];
		struct mutex_proxy_pool *pool = &cfg->pools[i];

		strscpy(pool->name, ps->name, sizeof(pool->name));
		pool->scheduler = ps->sched;
		pool->failure_mode = ps->failure;
		ret = mutex_proxy_config_pool_init(cfg, i, ps->n, err);
		if (ret)
			goto err;
		memcpy(pool->backends, ps->be, ps->n * sizeof(*ps->be));
	}
	memcpy(cfg->rules, c->rules, c->n_rules * sizeof(*c->rules));
	ret = mutex_proxy_config_finish(cfg, old, err);
	if (!ret)
		return cfg;
err:
	mutex_proxy_config_free(cfg);
	return ERR_PTR(ret);
}

static void kt_addr(struct kunit *test, union nf_inet_addr *addr, u8 family,
		    const char *str)
{
	memset(addr, 0, sizeof(*addr));
	if (family == AF_INET)
		KUNIT_ASSERT_EQ(test, in4_pton(str, -1, (u8 *)addr, -1, NULL), 1);
	else
		KUNIT_ASSERT_EQ(test, in6_pton(str, -1, (u8 *)addr, -1, NULL), 1);
}

static void kt_pool(struct kunit *test, struct kt_cfg *c, const char *name,
		    u8 sched, u8 failure, const struct kt_backend *be,
		    unsigned int n)
{
	struct kt_pool_spec *ps;
	unsigned int i;

	KUNIT_ASSERT_LT(test, c->n_pools, (u32)KT_MAX_POOLS);
	KUNIT_ASSERT_LE(test, n, (unsigned int)KT_MAX_BACKENDS);
	ps = &c->pools[c->n_pools++];
	strscpy(ps->name, name, sizeof(ps->name));
	ps->sched = sched;
	ps->failure = failure;
	ps->n = n;
	for (i = 0; i < n; i++) {
		struct mutex_proxy_backend *b = &ps->be[i];

		b->family = be[i].family;
		if (be[i].family)
			kt_addr(test, &b->addr, be[i].family, be[i].addr);
		b->port = be[i].port;
		b->weight = be[i].weight ? be[i].weight : 1;
		b->priority = be[i].priority;
		b->state = be[i].state;
	}
}

static void kt_rule(struct kunit *test, struct kt_cfg *c,
		    const struct kt_rule *k)
{
	struct mutex_proxy_rule *r;

	KUNIT_ASSERT_LT(test, c->n_rules, (u32)KT_MAX_RULES);
	r = &c->rules[c->n_rules++];
	r->family = k->family;
	r->proto = k->proto;
	if (k->dst || k->plen_only) {
		r->match |= MUTEX_M_DST;
		if (k->dst)
			kt_addr(test, &r->dst, k->family, k->dst);
		r->dst_plen = k->dplen;
	}
	if (k->dpmin) {
		r->match |= MUTEX_M_DPORT;
		r->dport_min = k->dpmin;
		r->dport_max = k->dpmax;
	}
	if (k->src) {
		r->match |= MUTEX_M_SRC;
		kt_addr(test, &r->src, k->family, k->src);
		r->src_plen = k->splen;
	}
	if (k->spmin) {
		r->match |= MUTEX_M_SPORT;
		r->sport_min = k->spmin;
		r->sport_max = k->spmax;
	}
	if (k->uid) {
		r->match |= MUTEX_M_UID;
		r->uid_min = k->uid_min;
		r->uid_max = k->uid_max;
	}
	if (k->gid) {
		r->match |= MUTEX_M_GID;
		r->gid_min = k->gid_min;
		r->gid_max = k->gid_max;
	}
	if (k->mark) {
		r->match |= MUTEX_M_MARK;
		r->mark = k->mark_value;
		r->mark_mask = k->mark_mask;
	}
	if (k->oif) {
		r->match |= MUTEX_M_OIF;
		r->oif = k->oif;
	}
	if (k->iif) {
		r->match |= MUTEX_M_IIF;
		r->iif = k->iif;
	}
	r->action = k->act ? k->act - 1 : MUTEX_ACTION_BYPASS;
	if (k->to_port) {
		r->match |= MUTEX_M_TO_PORT;
		r->to_port = k->to_port;
	}
	if (k->with_pool) {
		r->match |= MUTEX_M_POOL;
		r->pool = k->pool;
	}
}

/* A bypass rule with no match: fill in what a case needs. */
#define KT_RULE(...) ((struct kt_rule){ __VA_ARGS__ })

/* struct kt_rule.act: 0 is bypass */
#define KT_REDIRECT	(MUTEX_ACTION_REDIRECT + 1)
#define KT_DNAT		(MUTEX_ACTION_DNAT + 1)
#define KT_BYPASS	(MUTEX_ACTION_BYPASS + 1)
#define KT_DROP		(MUTEX_ACTION_DROP + 1)

static struct mutex_proxy_config *
kt_build(struct kunit *test, struct kt_cfg *c,
	 const struct mutex_proxy_config *old)
{
	struct mutex_proxy_config_err err;
	struct mutex_proxy_config *cfg;

	cfg = kt_try(c, old, &err);
	kt_end(c);
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(cfg), "build failed: %ld (%s)",
			       PTR_ERR_OR_ZERO(cfg),
			       err.msg ? err.msg : "no message");
	return cfg;
}

static struct mutex_proxy_config *
kt_build_rules(struct kunit *test, const struct kt_rule *rules, unsigned int n)
{
	struct kt_cfg c;
	unsigned int i;

	kt_begin(test, &c);
	for (i = 0; i < n; i++)
		kt_rule(test, &c, &rules[i]);
	return kt_build(test, &c, NULL);
}

static void kt_key(struct kunit *test, struct mutex_proxy_key *key, u8 family,
		   u8 proto, const char *daddr, u16 dport)
{
	memset(key, 0, sizeof(*key));
	key->family = family;
	key->proto = proto;
	key->dport = dport;
	key->sport = 40000;
	if (family == AF_INET)
		KUNIT_ASSERT_EQ(test, in4_pton(daddr, -1, (u8 *)&key->daddr.ip,
					       -1, NULL), 1);
	else
		KUNIT_ASSERT_EQ(test, in6_pton(daddr, -1, key->daddr.in6.s6_addr,
					       -1, NULL), 1);
}

/* Index of the rule the classifier picks, -1 for none. */
static int kt_classify(const struct mutex_proxy_config *cfg,
		       const struct mutex_proxy_key *key)
{
	const struct mutex_proxy_rule *r = mutex_proxy_classify(cfg, key);

	return r ? (int)(r - cfg->rules) : -1;
}

/* What a linear scan picks: the reference the indexes must agree with. */
static int kt_linear(const struct mutex_proxy_config *cfg,
		     const struct mutex_proxy_key *key)
{
	u32 i;

	if (key->proto != IPPROTO_TCP && key->proto != IPPROTO_UDP)
		return -1;
	for (i = 0; i < cfg->n_rules; i++)
		if (mutex_proxy_rule_match(&cfg->rules[i], key))
			return i;
	return -1;
}

/* ---- classifier ---- */

/* Most entries one lookup of a partition can walk: rules under one key. */
static u32 kt_longest_run(const struct mutex_proxy_cls_part *pt)
{
	u32 i, run = 0, longest = 0;

	for (i = 0; i < pt->n_ent; i++) {
		if (i && pt->ent[i].hash == pt->ent[i - 1].hash &&
		    pt->ent[i].tuple == pt->ent[i - 1].tuple)
			run++;
		else
			run = 1;
		longest = max(longest, run);
	}
	return longest;
}

static const struct kt_rule kt_edge_rules[] = {
	/* 0 */ KT_RULE(.family = AF_INET, .proto = IPPROTO_TCP,
			.dst = "10.0.0.1", .dplen = 32, .dpmin = 1, .dpmax = 1),
	/* 1 */ KT_RULE(.family = AF_INET, .dst = "10.0.0.0", .dplen = 8,
			.dpmin = 65535, .dpmax = 65535),
	/* 2 */ KT_RULE(.family = AF_INET, .dst = "10.1.0.0", .dplen = 16),
	/* 3 */ KT_RULE(.dpmin = 1000, .dpmax = 2000),
	/* 4 */ KT_RULE(.family = AF_INET, .proto = IPPROTO_UDP,
			.dst = "0.0.0.0", .dplen = 0),
	/* 5 */ KT_RULE(.family = AF_INET6, .dst = "2001:db8::", .dplen = 32),
	/* 6 */ KT_RULE(.family = AF_INET6, .dst = "2001:db8::1", .dplen = 128),
	/* 7 */ KT_RULE(.family = AF_INET6, .proto = IPPROTO_TCP,
			.dst = "::", .dplen = 0, .dpmin = 1, .dpmax = 65535),
	/* 8 */ KT_RULE(.act = KT_DROP),
};

struct kt_edge_case {
	u8 family;
	u8 proto;
	const char *daddr;
	u16 dport;
	int want;
};

static const struct kt_edge_case kt_edge_cases[] = {
	{ AF_INET, IPPROTO_TCP, "10.0.0.1", 1, 0 },
	{ AF_INET, IPPROTO_UDP, "10.0.0.1", 1, 4 },
	{ AF_INET, IPPROTO_TCP, "10.0.0.1", 2, 8 },
	{ AF_INET, IPPROTO_TCP, "10.0.0.0", 1, 8 },
	{ AF_INET, IPPROTO_TCP, "10.0.0.2", 65535, 1 },
	{ AF_INET, IPPROTO_TCP, "10.255.255.255", 65535, 1 },
	{ AF_INET, IPPROTO_TCP, "11.0.0.0", 65535, 8 },
	{ AF_INET, IPPROTO_TCP, "9.255.255.255", 65535, 8 },
	{ AF_INET, IPPROTO_TCP, "10.1.2.3", 80, 2 },
	{ AF_INET, IPPROTO_TCP, "10.1.2.3", 1500, 2 },
	{ AF_INET, IPPROTO_TCP, "10.2.2.3", 1500, 3 },
	{ AF_INET, IPPROTO_TCP, "192.168.0.1", 1000, 3 },
	{ AF_INET, IPPROTO_TCP, "192.168.0.1", 2000, 3 },
	{ AF_INET, IPPROTO_TCP, "192.168.0.1", 999, 8 },
	{ AF_INET, IPPROTO_TCP, "192.168.0.1", 2001, 8 },
	{ AF_INET, IPPROTO_UDP, "192.168.0.1", 53, 4 },
	{ AF_INET, IPPROTO_UDP, "192.168.0.1", 1500, 3 },
	{ AF_INET6, IPPROTO_TCP, "2001:db8::1", 80, 5 },
	{ AF_INET6, IPPROTO_TCP, "2001:db8:ffff:ffff::1", 80, 5 },
	{ AF_INET6, IPPROTO_TCP, "2001:db9::", 1500, 3 },
	{ AF_INET6, IPPROTO_TCP, "2001:db9::", 1, 7 },
	{ AF_INET6, IPPROTO_TCP, "2001:db9::", 65535, 7 },
	{ AF_INET6, IPPROTO_UDP, "2001:db9::", 65535, 8 },
	{ AF_INET6, IPPROTO_UDP, "::1", 9, 8 },
	{ AF_INET, IPPROTO_ICMP, "10.0.0.1", 0, -1 },
};

static void mutex_proxy_kunit_classify_edges(struct kunit *test)
{
	struct mutex_proxy_config *cfg;
	struct mutex_proxy_key key;
	unsigned int i;

	cfg = kt_build_rules(test, kt_edge_rules, ARRAY_SIZE(kt_edge_rules));
	for (i = 0; i < ARRAY_SIZE(kt_edge_cases); i++) {
		const struct kt_edge_case *c = &kt_edge_cases[i];

		kt_key(test, &key, c->family, c->proto, c->daddr, c->dport);
		KUNIT_EXPECT_EQ_MSG(test, kt_classify(cfg, &key), c->want,
				    "case %u: %s port %u", i, c->daddr, c->dport);
		KUNIT_EXPECT_EQ_MSG(test, kt_linear(cfg, &key), c->want,
				    "case %u (linear)", i);
	}
	mutex_proxy_config_free(cfg);
}

/* A rule of the rest list before port and prefix rules wins. */
static void mutex_proxy_kunit_classify_order(struct kunit *test)
{
	static const struct kt_rule rules[] = {
		KT_RULE(.mark = true, .mark_value = 0x10, .mark_mask = 0xf0),
		KT_RULE(.dpmin = 80, .dpmax = 80),
		KT_RULE(.family = AF_INET, .dst = "10.0.0.0", .dplen = 8),
		KT_RULE(.family = AF_INET, .dst = "10.0.0.0", .dplen = 24,
			.mark = true, .mark_value = 1, .mark_mask = 1),
		KT_RULE(.family = AF_INET, .dst = "10.0.0.0", .dplen = 24),
	};
	struct mutex_proxy_config *cfg;
	struct mutex_proxy_key key;

	cfg = kt_build_rules(test, rules, ARRAY_SIZE(rules));
	kt_key(test, &key, AF_INET, IPPROTO_TCP, "10.0.0.5", 80);
	key.mark = 0x1f;
	KUNIT_EXPECT_EQ(test, kt_classify(cfg, &key), 0);
	key.mark = 0x21;
	KUNIT_EXPECT_EQ(test, kt_classify(cfg, &key), 1);
	key.dport = 81;
	KUNIT_EXPECT_EQ(test, kt_classify(cfg, &key), 2);
	kt_key(test, &key, AF_INET, IPPROTO_TCP, "11.0.0.5", 81);
	KUNIT_EXPECT_EQ(test, kt_classify(cfg, &key), -1);
	mutex_proxy_config_free(cfg);
}

static void mutex_proxy_kunit_classify_owner(struct kunit *test)
{
	static const struct kt_rule rules[] = {
		KT_RULE(.uid = true, .uid_min = 1000, .uid_max = 1999),
		KT_RULE(.gid = true, .gid_min = 100, .gid_max = 100),
		KT_RULE(.family = AF_INET, .src = "192.168.1.0", .splen = 24,
			.spmin = 1024, .spmax = 65535),
		KT_RULE(.oif = 3),
		KT_RULE(.iif = 4),
	};
	struct mutex_proxy_config *cfg;
	struct mutex_proxy_key key;

	cfg = kt_build_rules(test, rules, ARRAY_SIZE(rules));
	kt_key(test, &key, AF_INET, IPPROTO_UDP, "1.2.3.4", 53);
	/* No local socket: no owner match. */
	key.uid = 1000;
	KUNIT_EXPECT_EQ(test, kt_classify(cfg, &key), -1);
	key.has_owner = true;
	KUNIT_EXPECT_EQ(test, kt_classify(cfg, &key), 0);
	key.uid = 1999;
	KUNIT_EXPECT_EQ(test, kt_classify(cfg, &key), 0);
	key.uid = 999;
	KUNIT_EXPECT_EQ(test, kt_classify(cfg, &key), -1);
	key.uid = 2000;
	key.gid = 100;
	KUNIT_EXPECT_EQ(test, kt_classify(cfg, &key), 1);
	key.gid = 101;
	key.saddr.ip = htonl(0xc0a801ff);	/* 192.168.1.255 */
	key.sport = 1024;
	KUNIT_EXPECT_EQ(test, kt_classify(cfg, &key), 2);
	key.sport = 1023;
	KUNIT_EXPECT_EQ(test, kt_classify(cfg, &key), -1);
	key.oif = 3;
	KUNIT_EXPECT_EQ(test, kt_classify(cfg, &key), 3);
	key.oif = 0;
	key.iif = 4;
	KUNIT_EXPECT_EQ(test, kt_classify(cfg, &key), 4);
	mutex_proxy_config_free(cfg);
}

/*
 * Many random rules (ports, prefixes, both, neither, of every width) and
 * many random flows near them: the indexed lookup must pick exactly what a
 * linear first-match scan picks.
 */
static void mutex_proxy_kunit_classify_random(struct kunit *test)
{
	static const u8 plens4[] = { 0, 8, 16, 24, 28, 32 };
	static const u8 plens6[] = { 0, 16, 32, 48, 64, 127, 128 };
	struct mutex_proxy_config *cfg;
	struct rnd_state rnd;
	struct kt_cfg c;
	unsigned int i, n_rules = 3000, mismatches = 0;
	char a[64];

	prandom_seed_state(&rnd, 0x6d757465);
	kt_begin(test, &c);
	for (i = 0; i < n_rules; i++) {
		struct kt_rule r = KT_RULE(.act = KT_DROP);
		u32 x = prandom_u32_state(&rnd);
		bool v6 = x & 1;

		r.proto = (x >> 1) % 3 == 0 ? 0 :
			  (x >> 1) % 3 == 1 ? IPPROTO_TCP : IPPROTO_UDP;
		if ((x >> 4) % 4) {
			r.family = v6 ? AF_INET6 : AF_INET;
			r.dplen = v6 ? plens6[(x >> 8) % ARRAY_SIZE(plens6)] :
				       plens4[(x >> 8) % ARRAY_SIZE(plens4)];
			/* Few distinct addresses, so prefixes overlap. */
			if (v6)
				snprintf(a, sizeof(a), "2001:db8:%x::%x",
					 (x >> 12) % 4, (x >> 14) % 4);
			else
				snprintf(a, sizeof(a), "10.%u.%u.%u",
					 (x >> 12) % 4, (x >> 14) % 4,
					 (x >> 16) % 4);
			r.dst = a;
		} else if ((x >> 4) % 8 == 0) {
			r.family = v6 ? AF_INET6 : AF_INET;
		}
		switch ((x >> 20) % 4) {
		case 0:
			break;
		case 1:	/* one port */
			r.dpmin = 1 + prandom_u32_state(&rnd) % 64;
			r.dpmax = r.dpmin;
			break;
		case 2:	/* a narrow range */
			r.dpmin = 1 + prandom_u32_state(&rnd) % 64;
			r.dpmax = r.dpmin + prandom_u32_state(&rnd) % 8;
			break;
		default: /* a wide range */
			r.dpmin = 1 + prandom_u32_state(&rnd) % 64;
			r.dpmax = 65535 - prandom_u32_state(&rnd) % 3;
			break;
		}
		if ((x >> 24) % 16 == 0) {
			r.mark = true;
			r.mark_value = 1;
			r.mark_mask = 1;
		}
		/* Prefix addresses must have no bit beyond the length:
		 * build them masked by giving the masked text.
		 */
		if (r.dst) {
			struct mutex_proxy_key k;
			union nf_inet_addr mask;
			unsigned int j;

			kt_key(test, &k, r.family, IPPROTO_TCP, a, 1);
			mutex_proxy_prefix_mask(&mask, r.dplen);
			for (j = 0; j < 4; j++)
				k.daddr.all[j] &= mask.all[j];
			if (v6)
				snprintf(a, sizeof(a), "%pI6", &k.daddr.in6);
			else
				snprintf(a, sizeof(a), "%pI4", &k.daddr.ip);
		}
		kt_rule(test, &c, &r);
	}
	cfg = kt_build(test, &c, NULL);

	for (i = 0; i < 20000; i++) {
		struct mutex_proxy_key key;
		u32 x = prandom_u32_state(&rnd);
		bool v6 = x & 1;

		if (v6)
			snprintf(a, sizeof(a), "2001:db8:%x::%x",
				 (x >> 2) % 5, (x >> 5) % 5);
		else
			snprintf(a, sizeof(a), "10.%u.%u.%u", (x >> 2) % 5,
				 (x >> 5) % 5, (x >> 8) % 5);
		kt_key(test, &key, v6 ? AF_INET6 : AF_INET,
		       (x >> 11) & 1 ? IPPROTO_UDP : IPPROTO_TCP, a,
		       (x >> 12) % 4 ? 1 + (x >> 14) % 80 :
				       65535 - (x >> 14) % 4);
		key.mark = (x >> 30) & 1;
		if (kt_classify(cfg, &key) != kt_linear(cfg, &key) &&
		    mismatches++ < 5)
			KUNIT_FAIL(test, "%s port %u mark %u: indexed %d, linear %d",
				   a, key.dport, key.mark, kt_classify(cfg, &key),
				   kt_linear(cfg, &key));
	}
	KUNIT_EXPECT_EQ(test, mismatches, 0U);
	/* The indexes hold something: the test did not degrade to a scan. */
	KUNIT_EXPECT_GT(test, cfg->parts[0].n_tuples, 1U);
	KUNIT_EXPECT_GT(test, cfg->parts[0].ranges[MUTEX_CLS_R_DPORT].n, 1U);
	KUNIT_EXPECT_LT(test, kt_longest_run(&cfg->parts[0]), n_rules / 8);
	mutex_proxy_config_free(cfg);
}

/* Random choice of one of @n values. */
static u32 kt_pick(struct rnd_state *rnd, u32 n)
{
	return prandom_u32_state(rnd) % n;
}

/* @a as text, masked to @plen bits (a prefix has no bit beyond it). */
static void kt_prefix_text(char *buf, size_t len, __be32 a, u8 plen)
{
	__be32 m = plen ? htonl(~0U << (32 - plen)) : 0;

	a &= m;
	snprintf(buf, len, "%pI4", &a);
}

/*
 * Rules of every shape users write, and mixes of them: destination and
 * source prefixes of several lengths, destination and source port ranges
 * (single ports, narrow, overlapping and wide), uid and gid ranges, marks
 * under several masks, interfaces. Few distinct values per field, so rules
 * overlap and flows match many of them: the index must still pick exactly
 * the first match of a linear scan, with and without a local socket.
 */
static void mutex_proxy_kunit_classify_shapes(struct kunit *test)
{
	static const u8 dplens[] = { 16, 24, 28, 32 };
	static const u8 splens[] = { 16, 24, 32 };
	static const u32 masks[] = { 0xff, 0xf0, 0x1, 0xffffffff };
	char dbuf[4][24], sbuf[4][24];
	struct mutex_proxy_config *cfg;
	struct rnd_state rnd;
	struct kt_cfg c;
	unsigned int i, n_rules = 4000, mismatches = 0, matched = 0;
	u64 depth = 0;

	prandom_seed_state(&rnd, 0x73686170);
	kt_begin(test, &c);
	for (i = 0; i < n_rules; i++) {
		struct kt_rule r = KT_RULE(.act = KT_DROP, .family = AF_INET);
		u32 shape = prandom_u32_state(&rnd);
		char *d = dbuf[i % 4], *s = sbuf[i % 4];

		if (kt_pick(&rnd, 8) == 0)
			r.family = 0;
		r.proto = kt_pick(&rnd, 3) == 0 ? 0 : IPPROTO_TCP;
		if (r.family) {
			r.dplen = dplens[kt_pick(&rnd, ARRAY_SIZE(dplens))];
			kt_prefix_text(d, 24, htonl(0x0a000000 |
				       kt_pick(&rnd, 4) << 16 |
				       kt_pick(&rnd, 4) << 8 | kt_pick(&rnd, 4)),
				       r.dplen);
			r.dst = d;
		}
		if (r.family && (shape & 2)) {
			r.splen = splens[kt_pick(&rnd, ARRAY_SIZE(splens))];
			kt_prefix_text(s, 24, htonl(0xc0a80000 |
				       kt_pick(&rnd, 4) << 8 | kt_pick(&rnd, 4)),
				       r.splen);
			r.src = s;
		}
		switch ((shape >> 2) % 5) {
		case 1:	/* one port */
			r.dpmin = 1 + kt_pick(&rnd, 40);
			r.dpmax = r.dpmin;
			break;
		case 2:	/* a narrow range */
			r.dpmin = 1 + kt_pick(&rnd, 40);
			r.dpmax = r.dpmin + kt_pick(&rnd, 4);
			break;
		case 3:	/* overlapping ranges */
			r.dpmin = 1 + kt_pick(&rnd, 40);
			r.dpmax = r.dpmin + kt_pick(&rnd, 30);
			break;
		case 4:	/* wide */
			r.dpmin = 1 + kt_pick(&rnd, 40);
			r.dpmax = 65535;
			break;
		}
		if ((shape >> 5) % 6 == 0) {
			r.spmin = 40000 + kt_pick(&rnd, 8);
			r.spmax = r.spmin + kt_pick(&rnd, 3);
		}
		if ((shape >> 8) % 5 == 0) {
			r.uid = true;
			r.uid_min = 1000 + kt_pick(&rnd, 8);
			r.uid_max = r.uid_min + (kt_pick(&rnd, 2) ? 0 :
						 kt_pick(&rnd, 6));
		}
		if ((shape >> 11) % 6 == 0) {
			r.gid = true;
			r.gid_min = 100 + kt_pick(&rnd, 4);
			r.gid_max = r.gid_min + kt_pick(&rnd, 2);
		}
		if ((shape >> 14) % 5 == 0) {
			r.mark = true;
			r.mark_mask = masks[kt_pick(&rnd, ARRAY_SIZE(masks))];
			r.mark_value = kt_pick(&rnd, 0x100) & r.mark_mask;
		}
		if ((shape >> 17) % 6 == 0)
			r.oif = 1 + kt_pick(&rnd, 4);
		/* owner matches exclude an input interface */
		if ((shape >> 20) % 8 == 0 && !r.uid && !r.gid)
			r.iif = 1 + kt_pick(&rnd, 4);
		if (!r.dst && !r.src) {
			/* no catch-all: flows must reach deep rules */
			r.oif = 1 + kt_pick(&rnd, 4);
			r.mark = true;
			r.mark_mask = 0xf0;
			r.mark_value = kt_pick(&rnd, 16) << 4;
		}
		kt_rule(test, &c, &r);
	}
	cfg = kt_build(test, &c, NULL);

	for (i = 0; i < 30000; i++) {
		struct mutex_proxy_key key = {
			.family = AF_INET,
			.proto = kt_pick(&rnd, 4) ? IPPROTO_TCP : IPPROTO_UDP,
			.has_owner = kt_pick(&rnd, 2),
			.daddr.ip = htonl(0x0a000000 | kt_pick(&rnd, 5) << 16 |
					  kt_pick(&rnd, 5) << 8 | kt_pick(&rnd, 5)),
			.saddr.ip = htonl(0xc0a80000 | kt_pick(&rnd, 5) << 8 |
					  kt_pick(&rnd, 5)),
			.dport = kt_pick(&rnd, 8) ? 1 + kt_pick(&rnd, 75) :
				 65535 - kt_pick(&rnd, 3),
			.sport = 39998 + kt_pick(&rnd, 16),
			.uid = 998 + kt_pick(&rnd, 18),
			.gid = 99 + kt_pick(&rnd, 8),
			.mark = kt_pick(&rnd, 0x100) | (kt_pick(&rnd, 4) ? 0 : BIT(31)),
			.oif = kt_pick(&rnd, 6),
			.iif = kt_pick(&rnd, 6),
		};
		int want = kt_linear(cfg, &key), got = kt_classify(cfg, &key);

		if (want >= 0) {
			matched++;
			depth += want;
		}
		if (got != want && mismatches++ < 5)
			KUNIT_FAIL(test,
				   "%pI4:%u from %pI4:%u uid %u gid %u mark %#x oif %u iif %u owner %d: got %d, want %d",
				   &key.daddr.ip, key.dport, &key.saddr.ip,
				   key.sport, key.uid, key.gid, key.mark,
				   key.oif, key.iif, key.has_owner, got, want);
	}
	KUNIT_EXPECT_EQ(test, mismatches, 0U);
	/* The flows hit rules, and not only the first few. */
	kunit_info(test, "%u of 30000 flows matched, at rule %llu on average",
		   matched, matched ? div_u64(depth, matched) : 0);
	KUNIT_EXPECT_GT(test, matched, 3000U);
	KUNIT_EXPECT_GT(test, div_u64(depth, max_t(u32, matched, 1)), 30ULL);
	KUNIT_EXPECT_GT(test, cfg->parts[0].n_tuples, 20U);
	KUNIT_EXPECT_LT(test, kt_longest_run(&cfg->parts[0]), n_rules / 8);
	mutex_proxy_config_free(cfg);
}

/*
 * 10,000 rules of the most common shape (destination /32 + one port, all
 * the same port): one shape, one entry per rule, nothing walked in line.
 */
static void mutex_proxy_kunit_classify_one_shape(struct kunit *test)
{
	struct mutex_proxy_config *cfg;
	struct mutex_proxy_key key;
	struct kt_cfg c;
	char a[24];
	unsigned int i, n = 10000;

	kt_begin(test, &c);
	for (i = 0; i < n; i++) {
		snprintf(a, sizeof(a), "10.%u.%u.%u", i >> 16, (i >> 8) & 255,
			 i & 255);
		kt_rule(test, &c, &KT_RULE(.act = KT_DROP, .family = AF_INET,
					   .proto = IPPROTO_TCP, .dst = a,
					   .dplen = 32, .dpmin = 80,
					   .dpmax = 80));
	}
	cfg = kt_build(test, &c, NULL);
	KUNIT_EXPECT_EQ(test, cfg->parts[0].n_tuples, 1U);
	KUNIT_EXPECT_EQ(test, cfg->parts[0].n_ent, n);
	KUNIT_EXPECT_LE(test, kt_longest_run(&cfg->parts[0]), 2U);
	for (i = 0; i < n; i += 997) {
		snprintf(a, sizeof(a), "10.%u.%u.%u", i >> 16, (i >> 8) & 255,
			 i & 255);
		kt_key(test, &key, AF_INET, IPPROTO_TCP, a, 80);
		KUNIT_EXPECT_EQ(test, kt_classify(cfg, &key), (int)i);
		key.dport = 81;
		KUNIT_EXPECT_EQ(test, kt_classify(cfg, &key), -1);
	}
	mutex_proxy_config_free(cfg);
}

/* ---- validation ---- */

struct kt_bad_case {
	const char *what;
	struct kt_rule rule;
	int err;
};

static const struct kt_bad_case kt_bad_cases[] = {
	{ "prefix bits beyond length",
	  KT_RULE(.family = AF_INET, .dst = "10.0.0.1", .dplen = 24), -EINVAL },
	{ "IPv4 prefix longer than 32",
	  KT_RULE(.family = AF_INET, .dst = "10.0.0.1", .dplen = 33), -EINVAL },
	{ "prefix without family",
	  KT_RULE(.plen_only = true, .dplen = 8), -EINVAL },
	{ "port range reversed",
	  KT_RULE(.dpmin = 10, .dpmax = 9), -EINVAL },
	{ "uid range reversed",
	  KT_RULE(.uid = true, .uid_min = 10, .uid_max = 9), -EINVAL },
	{ "mark value outside mask",
	  KT_RULE(.mark = true, .mark_value = 3, .mark_mask = 1), -EINVAL },
	{ "uid with input interface",
	  KT_RULE(.uid = true, .uid_min = 1, .uid_max = 2, .iif = 2), -EINVAL },
	{ "redirect without port or pool",
	  KT_RULE(.act = KT_REDIRECT), -EINVAL },
	{ "redirect with both port and pool",
	  KT_RULE(.act = KT_REDIRECT, .to_port = 1, .with_pool = true, .pool = 0),
	  -EINVAL },
	{ "redirect to a pool of remote backends",
	  KT_RULE(.act = KT_REDIRECT, .with_pool = true, .pool = 1), -EINVAL },
	{ "dnat to a pool of local backends",
	  KT_RULE(.act = KT_DNAT, .with_pool = true, .pool = 0), -EINVAL },
	{ "dnat without pool",
	  KT_RULE(.act = KT_DNAT), -EINVAL },
	{ "dnat IPv6 rule to an IPv4-only pool",
	  KT_RULE(.act = KT_DNAT, .family = AF_INET6, .with_pool = true, .pool = 1),
	  -EINVAL },
	{ "pool index out of range",
	  KT_RULE(.act = KT_DNAT, .with_pool = true, .pool = 2), -EINVAL },
	{ "bypass with a port",
	  KT_RULE(.act = KT_BYPASS, .to_port = 5), -EINVAL },
	{ "action out of range (policy)",
	  KT_RULE(.act = MUTEX_ACTION_MAX + 2), -EINVAL },
	{ "drop with a pool",
	  KT_RULE(.act = KT_DROP, .with_pool = true, .pool = 1), -EINVAL },
};

static const struct kt_backend kt_local_be[] = {
	{ .port = 1080 }, { .port = 1081 },
};

static const struct kt_backend kt_remote4_be[] = {
	{ AF_INET, "192.0.2.1", 26656 }, { AF_INET, "192.0.2.2", 26656 },
};

static void mutex_proxy_kunit_config_invalid(struct kunit *test)
{
	struct mutex_proxy_config_err err;
	struct mutex_proxy_config *cfg;
	unsigned int i;
	struct kt_cfg c;

	for (i = 0; i < ARRAY_SIZE(kt_bad_cases); i++) {
		const struct kt_bad_case *bc = &kt_bad_cases[i];

		kt_begin(test, &c);
		kt_pool(test, &c, "local", MUTEX_SCHED_RR, MUTEX_FAILURE_CLOSED,
			kt_local_be, ARRAY_SIZE(kt_local_be));
		kt_pool(test, &c, "remote", MUTEX_SCHED_RR, MUTEX_FAILURE_CLOSED,
			kt_remote4_be, ARRAY_SIZE(kt_remote4_be));
		kt_rule(test, &c, &KT_RULE(.act = KT_BYPASS));
		kt_rule(test, &c, &bc->rule);
		cfg = kt_try(&c, NULL, &err);
		KUNIT_EXPECT_EQ_MSG(test, PTR_ERR_OR_ZERO(cfg), (long)bc->err,
				    "%s", bc->what);
		KUNIT_EXPECT_NOT_NULL_MSG(test, err.msg, "%s: no message",
					  bc->what);
		/* The refusal names the bad rule, the last one. */
		KUNIT_EXPECT_EQ_MSG(test, err.item, (u16)MUTEX_A_RULE,
				    "%s: not a rule's", bc->what);
		KUNIT_EXPECT_EQ_MSG(test, err.index, c.n_rules - 1,
				    "%s: another rule", bc->what);
		if (!IS_ERR(cfg))
			mutex_proxy_config_free(cfg);
		kt_end(&c);
	}
}

static void mutex_proxy_kunit_config_invalid_pools(struct kunit *test)
{
	static const struct kt_backend mixed[] = {
		{ .port = 1080 }, { AF_INET, "192.0.2.1", 26656 },
	};
	static const struct kt_backend dup[] = {
		{ AF_INET6, "2001:db8::1", 26656 }, { AF_INET6, "2001:db8::1", 26656 },
	};
	struct mutex_proxy_config_err err;
	struct mutex_proxy_config *cfg;
	struct kt_cfg c;

	kt_begin(test, &c);
	kt_pool(test, &c, "mixed", 0, 0, mixed, ARRAY_SIZE(mixed));
	cfg = kt_try(&c, NULL, &err);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(cfg), -EINVAL);
	KUNIT_EXPECT_NOT_NULL(test, err.msg);
	KUNIT_EXPECT_EQ(test, err.backend, 1);
	kt_end(&c);

	kt_begin(test, &c);
	kt_pool(test, &c, "dup", 0, 0, dup, ARRAY_SIZE(dup));
	cfg = kt_try(&c, NULL, &err);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(cfg), -EINVAL);
	kt_end(&c);

	kt_begin(test, &c);
	kt_pool(test, &c, "same", 0, 0, NULL, 0);
	kt_pool(test, &c, "same", 0, 0, NULL, 0);
	cfg = kt_try(&c, NULL, &err);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(cfg), -EINVAL);
	kt_end(&c);

	kt_begin(test, &c);
	kt_pool(test, &c, "bad name", 0, 0, NULL, 0);
	cfg = kt_try(&c, NULL, &err);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(cfg), -EINVAL);
	kt_end(&c);
}

/* ---- schedulers ---- */

static struct mutex_proxy_config *
kt_pool_cfg(struct kunit *test, u8 sched, const struct kt_backend *be,
	    unsigned int n, const struct mutex_proxy_config *old)
{
	struct kt_cfg c;

	kt_begin(test, &c);
	kt_pool(test, &c, "p", sched, MUTEX_FAILURE_CLOSED, be, n);
	return kt_build(test, &c, old);
}

static void kt_count(struct kunit *test, struct mutex_proxy_pool *pool,
		     const struct mutex_proxy_key *key, unsigned int picks,
		     unsigned int *count)
{
	unsigned int i;

	memset(count, 0, pool->n_backends * sizeof(*count));
	for (i = 0; i < picks; i++) {
		struct mutex_proxy_backend *be = mutex_proxy_sched_pick(pool, key);

		KUNIT_ASSERT_NOT_NULL(test, be);
		count[be - pool->backends]++;
	}
}

static const struct kt_backend kt_three[] = {
	{ AF_INET, "192.0.2.1", 1, 1 },
	{ AF_INET, "192.0.2.2", 1, 2 },
	{ AF_INET, "192.0.2.3", 1, 3 },
};

static void mutex_proxy_kunit_sched_rr(struct kunit *test)
{
	struct kt_backend be[4];
	struct mutex_proxy_config *cfg;
	struct mutex_proxy_key key;
	unsigned int count[4];

	kt_key(test, &key, AF_INET, IPPROTO_TCP, "1.1.1.1", 1);
	cfg = kt_pool_cfg(test, MUTEX_SCHED_RR, kt_three, 3, NULL);
	kt_count(test, &cfg->pools[0], &key, 300, count);
	KUNIT_EXPECT_EQ(test, count[0], 100U);
	KUNIT_EXPECT_EQ(test, count[1], 100U);
	KUNIT_EXPECT_EQ(test, count[2], 100U);
	mutex_proxy_config_free(cfg);

	/* down and drain take no new flows; IPv6 backend not for IPv4. */
	memcpy(be, kt_three, sizeof(kt_three));
	be[1].state = MUTEX_BACKEND_DOWN;
	be[3] = (struct kt_backend){ AF_INET6, "2001:db8::1", 1 };
	cfg = kt_pool_cfg(test, MUTEX_SCHED_RR, be, 4, NULL);
	kt_count(test, &cfg->pools[0], &key, 300, count);
	KUNIT_EXPECT_EQ(test, count[0], 150U);
	KUNIT_EXPECT_EQ(test, count[1], 0U);
	KUNIT_EXPECT_EQ(test, count[2], 150U);
	KUNIT_EXPECT_EQ(test, count[3], 0U);
	kt_key(test, &key, AF_INET6, IPPROTO_TCP, "2001:db8::9", 1);
	kt_count(test, &cfg->pools[0], &key, 10, count);
	KUNIT_EXPECT_EQ(test, count[3], 10U);
	mutex_proxy_config_free(cfg);

	be[0].state = MUTEX_BACKEND_DRAIN;
	be[2].state = MUTEX_BACKEND_DOWN;
	be[3].state = MUTEX_BACKEND_DOWN;
	cfg = kt_pool_cfg(test, MUTEX_SCHED_RR, be, 4, NULL);
	KUNIT_EXPECT_NULL(test, mutex_proxy_sched_pick(&cfg->pools[0], &key));
	mutex_proxy_config_free(cfg);
}

static void mutex_proxy_kunit_sched_wrr(struct kunit *test)
{
	struct mutex_proxy_config *cfg;
	struct mutex_proxy_key key;
	unsigned int count[3], i;
	int prev = -1, runs = 0;

	kt_key(test, &key, AF_INET, IPPROTO_TCP, "1.1.1.1", 1);
	cfg = kt_pool_cfg(test, MUTEX_SCHED_WRR, kt_three, 3, NULL);
	kt_count(test, &cfg->pools[0], &key, 600, count);
	KUNIT_EXPECT_EQ(test, count[0], 100U);
	KUNIT_EXPECT_EQ(test, count[1], 200U);
	KUNIT_EXPECT_EQ(test, count[2], 300U);
	/* Smooth: the heaviest backend never gets 3 in a row of 6. */
	for (i = 0; i < 60; i++) {
		int b = mutex_proxy_sched_pick(&cfg->pools[0], &key) -
			cfg->pools[0].backends;

		runs = b == prev ? runs + 1 : 1;
		prev = b;
		KUNIT_EXPECT_LT(test, runs, 3);
	}
	mutex_proxy_config_free(cfg);
}

static void mutex_proxy_kunit_sched_source_hash(struct kunit *test)
{
	struct mutex_proxy_backend *first, *be;
	struct mutex_proxy_config *cfg;
	struct mutex_proxy_key key;
	unsigned int count[3] = {}, i, j;

	cfg = kt_pool_cfg(test, MUTEX_SCHED_SOURCE_HASH, kt_three, 3, NULL);
	kt_key(test, &key, AF_INET, IPPROTO_TCP, "1.1.1.1", 1);
	for (i = 0; i < 300; i++) {
		key.saddr.ip = htonl(0x0a000000 + i);
		first = mutex_proxy_sched_pick(&cfg->pools[0], &key);
		KUNIT_ASSERT_NOT_NULL(test, first);
		count[first - cfg->pools[0].backends]++;
		/* Sticky: the same source always gets the same backend. */
		for (j = 0; j < 5; j++) {
			key.sport = 1000 + j;
			be = mutex_proxy_sched_pick(&cfg->pools[0], &key);
			KUNIT_EXPECT_PTR_EQ(test, be, first);
		}
	}
	/* Spread: each backend gets a fair share of 300 sources. */
	for (i = 0; i < 3; i++)
		KUNIT_EXPECT_GT_MSG(test, count[i], 50U, "backend %u", i);
	mutex_proxy_config_free(cfg);
}

static void mutex_proxy_kunit_sched_least_conn(struct kunit *test)
{
	struct mutex_proxy_config *cfg;
	struct mutex_proxy_pool *pool;
	struct mutex_proxy_key key;

	kt_key(test, &key, AF_INET, IPPROTO_TCP, "1.1.1.1", 1);
	cfg = kt_pool_cfg(test, MUTEX_SCHED_LEAST_CONN, kt_three, 3, NULL);
	pool = &cfg->pools[0];
	/* All idle: the heaviest wins the tie. */
	KUNIT_EXPECT_PTR_EQ(test, mutex_proxy_sched_pick(pool, &key),
			    &pool->backends[2]);
	/* Load per weight 1/1, 4/2, 7/3: the first is least loaded. */
	atomic64_set(&pool->backends[0].ctr->active, 1);
	atomic64_set(&pool->backends[1].ctr->active, 4);
	atomic64_set(&pool->backends[2].ctr->active, 7);
	KUNIT_EXPECT_PTR_EQ(test, mutex_proxy_sched_pick(pool, &key),
			    &pool->backends[0]);
	atomic64_set(&pool->backends[0].ctr->active, 2);
	atomic64_set(&pool->backends[1].ctr->active, 4);
	atomic64_set(&pool->backends[2].ctr->active, 6);
	/* Equal load per weight: the heaviest. */
	KUNIT_EXPECT_PTR_EQ(test, mutex_proxy_sched_pick(pool, &key),
			    &pool->backends[2]);
	atomic64_set(&pool->backends[2].ctr->active, 100);
	KUNIT_EXPECT_PTR_EQ(test, mutex_proxy_sched_pick(pool, &key),
			    &pool->backends[1]);
	mutex_proxy_config_free(cfg);
}

static void mutex_proxy_kunit_sched_failover(struct kunit *test)
{
	struct kt_backend be[3];
	struct mutex_proxy_config *cfg;
	struct mutex_proxy_key key;
	unsigned int i;

	kt_key(test, &key, AF_INET, IPPROTO_TCP, "1.1.1.1", 1);
	memcpy(be, kt_three, sizeof(be));
	be[0].priority = 2;
	be[1].priority = 1;
	be[2].priority = 1;
	cfg = kt_pool_cfg(test, MUTEX_SCHED_FAILOVER, be, 3, NULL);
	for (i = 0; i < 10; i++)
		KUNIT_EXPECT_PTR_EQ(test,
				    mutex_proxy_sched_pick(&cfg->pools[0], &key),
				    &cfg->pools[0].backends[1]);
	mutex_proxy_config_free(cfg);

	be[1].state = MUTEX_BACKEND_DOWN;
	cfg = kt_pool_cfg(test, MUTEX_SCHED_FAILOVER, be, 3, NULL);
	KUNIT_EXPECT_PTR_EQ(test, mutex_proxy_sched_pick(&cfg->pools[0], &key),
			    &cfg->pools[0].backends[2]);
	mutex_proxy_config_free(cfg);

	be[2].state = MUTEX_BACKEND_DRAIN;
	cfg = kt_pool_cfg(test, MUTEX_SCHED_FAILOVER, be, 3, NULL);
	KUNIT_EXPECT_PTR_EQ(test, mutex_proxy_sched_pick(&cfg->pools[0], &key),
			    &cfg->pools[0].backends[0]);
	mutex_proxy_config_free(cfg);

	be[0].state = MUTEX_BACKEND_DOWN;
	cfg = kt_pool_cfg(test, MUTEX_SCHED_FAILOVER, be, 3, NULL);
	KUNIT_EXPECT_NULL(test, mutex_proxy_sched_pick(&cfg->pools[0], &key));
	mutex_proxy_config_free(cfg);
}

/* ---- snapshots ---- */

/* Counters belong to (pool, backend), not to a snapshot. */
static void mutex_proxy_kunit_counters_carried(struct kunit *test)
{
	static const struct kt_backend next[] = {
		{ AF_INET, "192.0.2.3", 1, 5 },		/* kept, reweighted */
		{ AF_INET, "192.0.2.9", 1, 1 },		/* new */
		{ AF_INET, "192.0.2.1", 2, 1 },		/* other port: new */
	};
	struct mutex_proxy_config *a, *b;

	a = kt_pool_cfg(test, MUTEX_SCHED_RR, kt_three, 3, NULL);
	atomic64_set(&a->pools[0].backends[2].ctr->active, 3);
	atomic64_set(&a->pools[0].backends[2].ctr->total, 42);
	atomic64_set(&a->pools[0].backends[0].ctr->total, 7);
	b = kt_pool_cfg(test, MUTEX_SCHED_WRR, next, 3, a);
	KUNIT_EXPECT_PTR_EQ(test, b->pools[0].backends[0].ctr,
			    a->pools[0].backends[2].ctr);
	KUNIT_EXPECT_EQ(test, atomic64_read(&b->pools[0].backends[0].ctr->total),
			42LL);
	KUNIT_EXPECT_EQ(test, atomic64_read(&b->pools[0].backends[1].ctr->total),
			0LL);
	KUNIT_EXPECT_EQ(test, atomic64_read(&b->pools[0].backends[2].ctr->total),
			0LL);
	/* The old snapshot goes; the shared counters stay with the new. */
	mutex_proxy_config_free(a);
	KUNIT_EXPECT_EQ(test, atomic64_read(&b->pools[0].backends[0].ctr->active),
			3LL);
	mutex_proxy_config_free(b);
}

/* A snapshot of bypass rules named as @names says ("" for unnamed). */
static struct mutex_proxy_config *
kt_named_rules(struct kunit *test, const char *const *names, unsigned int n,
	       const struct mutex_proxy_config *old)
{
	struct kt_cfg c;
	unsigned int i;

	kt_begin(test, &c);
	for (i = 0; i < n; i++) {
		kt_rule(test, &c, &KT_RULE(.dpmin = 1000 + i, .dpmax = 1000 + i));
		if (*names[i]) {
			c.rules[i].match |= MUTEX_M_NAME;
			strscpy(c.rules[i].name, names[i],
				sizeof(c.rules[i].name));
		}
	}
	return kt_build(test, &c, old);
}

static void kt_match(struct mutex_proxy_rule_ctr *ctr, unsigned int n)
{
	while (n--)
		mutex_proxy_rule_ctr_match(ctr);
}

/*
 * Rule counters follow names: the n-th rule of a name takes the count of
 * the n-th rule of that name before, wherever it moved; unnamed and new
 * rules start from 0, and a name's extra rule too.
 */
static void mutex_proxy_kunit_rule_counters_carried(struct kunit *test)
{
	static const char *const before[] = { "a", "b", "a", "", "gone" };
	static const char *const after[] = { "", "b", "a", "c", "a", "a" };
	struct mutex_proxy_config *x, *y;
	unsigned int i;

	x = kt_named_rules(test, before, ARRAY_SIZE(before), NULL);
	for (i = 0; i < x->n_rules; i++)
		kt_match(x->rules[i].ctr, 10 * (i + 1));
	y = kt_named_rules(test, after, ARRAY_SIZE(after), x);
	KUNIT_EXPECT_EQ(test, mutex_proxy_rule_ctr_matches(y->rules[0].ctr), 0ULL);
	KUNIT_EXPECT_EQ(test, mutex_proxy_rule_ctr_matches(y->rules[1].ctr), 20ULL);
	KUNIT_EXPECT_EQ(test, mutex_proxy_rule_ctr_matches(y->rules[2].ctr), 10ULL);
	KUNIT_EXPECT_EQ(test, mutex_proxy_rule_ctr_matches(y->rules[3].ctr), 0ULL);
	KUNIT_EXPECT_EQ(test, mutex_proxy_rule_ctr_matches(y->rules[4].ctr), 30ULL);
	KUNIT_EXPECT_EQ(test, mutex_proxy_rule_ctr_matches(y->rules[5].ctr), 0ULL);
	KUNIT_EXPECT_PTR_EQ(test, y->rules[1].ctr, x->rules[1].ctr);
	/* A match through either snapshot counts for both until the old goes. */
	kt_match(x->rules[1].ctr, 1);
	KUNIT_EXPECT_EQ(test, mutex_proxy_rule_ctr_matches(y->rules[1].ctr), 21ULL);
	mutex_proxy_config_free(x);
	kt_match(y->rules[4].ctr, 2);
	KUNIT_EXPECT_EQ(test, mutex_proxy_rule_ctr_matches(y->rules[4].ctr), 32ULL);
	mutex_proxy_config_free(y);
}

/* Every rule of a large configuration gets counters in one build. */
static void mutex_proxy_kunit_rule_counters_large(struct kunit *test)
{
	struct mutex_proxy_config *x, *y;
	struct kt_cfg c;
	unsigned int i, n = 4096;

	kt_begin(test, &c);
	for (i = 0; i < n; i++) {
		kt_rule(test, &c, &KT_RULE(.dpmin = 1 + i, .dpmax = 1 + i));
		c.rules[i].match |= MUTEX_M_NAME;
		snprintf(c.rules[i].name, sizeof(c.rules[i].name), "r%u", i);
	}
	x = kt_build(test, &c, NULL);
	for (i = 0; i < n; i++)
		kt_match(x->rules[i].ctr, i % 7);
	/* The same names in the opposite order. */
	kt_begin(test, &c);
	for (i = 0; i < n; i++) {
		kt_rule(test, &c, &KT_RULE(.dpmin = 1 + i, .dpmax = 1 + i));
		c.rules[i].match |= MUTEX_M_NAME;
		snprintf(c.rules[i].name, sizeof(c.rules[i].name), "r%u",
			 n - 1 - i);
	}
	y = kt_build(test, &c, x);
	for (i = 0; i < n; i++)
		KUNIT_EXPECT_EQ(test,
				mutex_proxy_rule_ctr_matches(y->rules[i].ctr),
				(u64)((n - 1 - i) % 7));
	mutex_proxy_config_free(x);
	mutex_proxy_config_free(y);
}

struct kt_reader {
	struct mutex_proxy_net *mpn;
	unsigned long reads;
	unsigned long errors;
	bool stop;
};

static int kt_reader_fn(void *data)
{
	struct kt_reader *rd = data;
	struct mutex_proxy_key key = {
		.family = AF_INET, .proto = IPPROTO_TCP, .dport = 443,
	};

	key.daddr.ip = htonl(0x0a000001);
	while (!READ_ONCE(rd->stop)) {
		const struct mutex_proxy_config *cfg;
		const struct mutex_proxy_rule *r;

		rcu_read_lock();
		cfg = rcu_dereference(rd->mpn->config);
		if (cfg) {
			r = mutex_proxy_classify(cfg, &key);
			/* Each snapshot redirects to its own generation. */
			if (!r || r->to_port != (u16)cfg->generation)
				rd->errors++;
		}
		rcu_read_unlock();
		rd->reads++;
		cond_resched();
	}
	return 0;
}

static struct mutex_proxy_config *kt_gen_cfg(struct kunit *test, u64 gen)
{
	struct kt_rule rules[3] = {
		KT_RULE(.family = AF_INET, .dst = "10.0.0.0", .dplen = 8,
			.dpmin = 1, .dpmax = 442),
		KT_RULE(.family = AF_INET, .dst = "10.0.0.0", .dplen = 24,
			.act = KT_REDIRECT, .to_port = (u16)gen),
		KT_RULE(.act = KT_DROP),
	};

	return kt_build_rules(test, rules, ARRAY_SIZE(rules));
}

static void mutex_proxy_kunit_replace_concurrent(struct kunit *test)
{
	struct netlink_ext_ack extack = {};
	struct mutex_proxy_config *cfg;
	struct task_struct *t;
	struct kt_reader *rd;
	struct mutex_proxy_net *mpn;
	unsigned int i;

	mpn = kunit_kzalloc(test, sizeof(*mpn), GFP_KERNEL);
	rd = kunit_kzalloc(test, sizeof(*rd), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, mpn);
	KUNIT_ASSERT_NOT_NULL(test, rd);
	mutex_init(&mpn->config_lock);
	rd->mpn = mpn;

	t = kthread_run(kt_reader_fn, rd, "mutex_proxy_kt");
	KUNIT_ASSERT_FALSE(test, IS_ERR(t));
	for (i = 0; i < 200; i++) {
		cfg = kt_gen_cfg(test, i + 1);
		mutex_lock(&mpn->config_lock);
		KUNIT_EXPECT_EQ(test,
				mutex_proxy_config_replace(mpn, cfg, i, &extack),
				0);
		mutex_unlock(&mpn->config_lock);
		if (i % 16 == 0)
			usleep_range(1000, 2000);
	}
	/* A writer that read an old generation is refused. */
	cfg = kt_gen_cfg(test, 7);
	mutex_lock(&mpn->config_lock);
	KUNIT_EXPECT_EQ(test, mutex_proxy_config_replace(mpn, cfg, 5, &extack),
			-ESTALE);
	mutex_unlock(&mpn->config_lock);
	KUNIT_EXPECT_NOT_NULL(test, extack._msg);
	KUNIT_EXPECT_EQ(test, mpn->generation, 200ULL);

	msleep(20);
	WRITE_ONCE(rd->stop, true);
	kthread_stop(t);
	KUNIT_EXPECT_EQ(test, rd->errors, 0UL);
	KUNIT_EXPECT_GT(test, rd->reads, 0UL);

	cfg = rcu_replace_pointer(mpn->config, NULL, true);
	synchronize_rcu();
	mutex_proxy_config_free(cfg);
	/* The replaced snapshots are freed by callbacks of the module. */
	rcu_barrier();
}

static struct kunit_case mutex_proxy_kunit_config_cases[] = {
	KUNIT_CASE(mutex_proxy_kunit_classify_edges),
	KUNIT_CASE(mutex_proxy_kunit_classify_order),
	KUNIT_CASE(mutex_proxy_kunit_classify_owner),
	KUNIT_CASE(mutex_proxy_kunit_classify_random),
	KUNIT_CASE(mutex_proxy_kunit_classify_shapes),
	KUNIT_CASE(mutex_proxy_kunit_classify_one_shape),
	KUNIT_CASE(mutex_proxy_kunit_config_invalid),
	KUNIT_CASE(mutex_proxy_kunit_config_invalid_pools),
	KUNIT_CASE(mutex_proxy_kunit_sched_rr),
	KUNIT_CASE(mutex_proxy_kunit_sched_wrr),
	KUNIT_CASE(mutex_proxy_kunit_sched_source_hash),
	KUNIT_CASE(mutex_proxy_kunit_sched_least_conn),
	KUNIT_CASE(mutex_proxy_kunit_sched_failover),
	KUNIT_CASE(mutex_proxy_kunit_counters_carried),
	KUNIT_CASE(mutex_proxy_kunit_rule_counters_carried),
	KUNIT_CASE(mutex_proxy_kunit_rule_counters_large),
	KUNIT_CASE(mutex_proxy_kunit_replace_concurrent),
	{}
};

static struct kunit_suite mutex_proxy_kunit_config_suite = {
	.name = "mutex_proxy_config",
	.test_cases = mutex_proxy_kunit_config_cases,
};

kunit_test_suite(mutex_proxy_kunit_config_suite);
