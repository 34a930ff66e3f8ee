// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for mutex_proxy.ko: parameter validation, parsing and the
 * shared setter, and per-CPU statistics summation.
 *
 * Built as mutex_proxy_kunit.ko only when the kernel has CONFIG_KUNIT; it
 * uses internals that mutex_proxy.ko exports, in that case only, in the
 * MUTEX_PROXY_KUNIT symbol namespace. Loading it runs the suites (the
 * parameter tests change the live module parameters and restore them).
 */
#include <kunit/test.h>
#include <linux/cpumask.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/percpu.h>
#include <linux/string.h>

#include "params.h"
#include "stats.h"
#include "compat.h"

MUTEX_PROXY_IMPORT_KUNIT_NS();

/* ---- parameters ---- */

struct mutex_proxy_kunit_param_case {
	enum mutex_param_attr id;
	u32 val;
	bool ok;
};

static const struct mutex_proxy_kunit_param_case mutex_proxy_kunit_params[] = {
	{ MUTEX_PARAM_A_ENABLE_BATCHING, 0, true },
	{ MUTEX_PARAM_A_ENABLE_BATCHING, 1, true },
	{ MUTEX_PARAM_A_ENABLE_BATCHING, 2, false },
	{ MUTEX_PARAM_A_ENABLE_BATCHING, U32_MAX, false },

	{ MUTEX_PARAM_A_BATCH_SIZE, MUTEX_BATCH_SIZE_MIN - 1, false },
	{ MUTEX_PARAM_A_BATCH_SIZE, MUTEX_BATCH_SIZE_MIN, true },
	{ MUTEX_PARAM_A_BATCH_SIZE, MUTEX_BATCH_SIZE_DEFAULT, true },
	{ MUTEX_PARAM_A_BATCH_SIZE, MUTEX_BATCH_SIZE_MAX, true },
	{ MUTEX_PARAM_A_BATCH_SIZE, MUTEX_BATCH_SIZE_MAX + 1, false },
	{ MUTEX_PARAM_A_BATCH_SIZE, U32_MAX, false },

	{ MUTEX_PARAM_A_CACHE_SIZE, 0, true },
	{ MUTEX_PARAM_A_CACHE_SIZE, 1, true },
	{ MUTEX_PARAM_A_CACHE_SIZE, 2, true },
	{ MUTEX_PARAM_A_CACHE_SIZE, 3, false },
	{ MUTEX_PARAM_A_CACHE_SIZE, 1000, false },
	{ MUTEX_PARAM_A_CACHE_SIZE, 1023, false },
	{ MUTEX_PARAM_A_CACHE_SIZE, MUTEX_CACHE_SIZE_DEFAULT, true },
	{ MUTEX_PARAM_A_CACHE_SIZE, MUTEX_CACHE_SIZE_DEFAULT + 1, false },
	{ MUTEX_PARAM_A_CACHE_SIZE, MUTEX_CACHE_SIZE_MAX - 1, false },
	{ MUTEX_PARAM_A_CACHE_SIZE, MUTEX_CACHE_SIZE_MAX, true },
	{ MUTEX_PARAM_A_CACHE_SIZE, MUTEX_CACHE_SIZE_MAX + 1, false },
	{ MUTEX_PARAM_A_CACHE_SIZE, MUTEX_CACHE_SIZE_MAX * 2, false },
	{ MUTEX_PARAM_A_CACHE_SIZE, 0x80000000u, false },
	{ MUTEX_PARAM_A_CACHE_SIZE, U32_MAX, false },

	{ MUTEX_PARAM_A_MAX_CONNS, MUTEX_MAX_CONNS_MIN - 1, false },
	{ MUTEX_PARAM_A_MAX_CONNS, MUTEX_MAX_CONNS_MIN, true },
	{ MUTEX_PARAM_A_MAX_CONNS, MUTEX_MAX_CONNS_DEFAULT, true },
	{ MUTEX_PARAM_A_MAX_CONNS, MUTEX_MAX_CONNS_MAX, true },
	{ MUTEX_PARAM_A_MAX_CONNS, MUTEX_MAX_CONNS_MAX + 1, false },
	{ MUTEX_PARAM_A_MAX_CONNS, U32_MAX, false },
};

static struct mutex_proxy_params mutex_proxy_kunit_saved;

/* Save the live parameters before each test ... */
static int mutex_proxy_kunit_param_init(struct kunit *test)
{
	mutex_proxy_params_get(&mutex_proxy_kunit_saved);
	return 0;
}

/* ... and put them back after it, whatever it did. */
static void mutex_proxy_kunit_param_exit(struct kunit *test)
{
	struct mutex_proxy_param_update upd = {
		.mask = GENMASK(MUTEX_PARAM_A_MAX, MUTEX_PARAM_A_UNSPEC + 1),
	};

	memcpy(upd.val, mutex_proxy_kunit_saved.val, sizeof(upd.val));
	KUNIT_EXPECT_EQ(test, mutex_proxy_params_update(&upd, NULL, NULL, NULL),
			0);
}

static void mutex_proxy_kunit_validate(struct kunit *test)
{
	const struct mutex_proxy_kunit_param_case *c;
	const char *msg, *name;
	size_t i;
	int err;

	for (i = 0; i < ARRAY_SIZE(mutex_proxy_kunit_params); i++) {
		c = &mutex_proxy_kunit_params[i];
		name = mutex_proxy_param_name(c->id);
		msg = "not set";
		err = mutex_proxy_param_validate(c->id, c->val, &msg);
		if (c->ok) {
			KUNIT_EXPECT_EQ_MSG(test, err, 0, "%s=%u",
					    mutex_proxy_param_name(c->id),
					    c->val);
			KUNIT_EXPECT_NULL(test, msg);
		} else {
			KUNIT_EXPECT_EQ_MSG(test, err, -EINVAL, "%s=%u",
					    mutex_proxy_param_name(c->id),
					    c->val);
			/* The message names the parameter. */
			KUNIT_EXPECT_NOT_NULL(test, msg);
			if (msg)
				KUNIT_EXPECT_NOT_NULL(test, strstr(msg, name));
		}
		/* No message pointer is fine too. */
		KUNIT_EXPECT_EQ(test,
				mutex_proxy_param_validate(c->id, c->val, NULL),
				err);
	}
}

static void mutex_proxy_kunit_validate_unknown(struct kunit *test)
{
	const char *msg = NULL;

	KUNIT_EXPECT_EQ(test,
			mutex_proxy_param_validate(MUTEX_PARAM_A_UNSPEC, 1,
						   &msg), -EINVAL);
	KUNIT_EXPECT_NOT_NULL(test, msg);
	msg = NULL;
	KUNIT_EXPECT_EQ(test,
			mutex_proxy_param_validate(MUTEX_PARAM_A_MAX + 1, 1,
						   &msg), -EINVAL);
	KUNIT_EXPECT_NOT_NULL(test, msg);
	KUNIT_EXPECT_NULL(test, mutex_proxy_param_name(MUTEX_PARAM_A_UNSPEC));
	KUNIT_EXPECT_NULL(test, mutex_proxy_param_name(MUTEX_PARAM_A_MAX + 1));
	KUNIT_EXPECT_EQ(test,
			mutex_proxy_param_set(MUTEX_PARAM_A_MAX + 1, 1, NULL),
			-EINVAL);
}

static void mutex_proxy_kunit_setter(struct kunit *test)
{
	const struct mutex_proxy_kunit_param_case *c;
	const char *msg;
	u32 before;
	size_t i;
	int err;

	for (i = 0; i < ARRAY_SIZE(mutex_proxy_kunit_params); i++) {
		c = &mutex_proxy_kunit_params[i];
		before = mutex_proxy_param_get(c->id);
		msg = NULL;
		err = mutex_proxy_param_set(c->id, c->val, &msg);
		if (c->ok) {
			KUNIT_EXPECT_EQ_MSG(test, err, 0, "%s=%u",
					    mutex_proxy_param_name(c->id),
					    c->val);
			KUNIT_EXPECT_EQ(test, mutex_proxy_param_get(c->id),
					c->val);
		} else {
			KUNIT_EXPECT_EQ_MSG(test, err, -EINVAL, "%s=%u",
					    mutex_proxy_param_name(c->id),
					    c->val);
			KUNIT_EXPECT_NOT_NULL(test, msg);
			/* A refused value leaves the old one in place. */
			KUNIT_EXPECT_EQ_MSG(test, mutex_proxy_param_get(c->id),
					    before, "%s=%u",
					    mutex_proxy_param_name(c->id),
					    c->val);
		}
	}
}

static void mutex_proxy_kunit_update_all_or_nothing(struct kunit *test)
{
	struct mutex_proxy_param_update upd = {};
	enum mutex_param_attr bad = MUTEX_PARAM_A_UNSPEC;
	struct mutex_proxy_params before, now;
	const char *msg = NULL;

	KUNIT_ASSERT_EQ(test, mutex_proxy_param_set(MUTEX_PARAM_A_BATCH_SIZE,
						    MUTEX_BATCH_SIZE_MIN, NULL),
			0);
	mutex_proxy_params_get(&before);

	/* One good value, one bad: nothing changes, the bad one is named. */
	upd.mask = BIT(MUTEX_PARAM_A_BATCH_SIZE) |
		   BIT(MUTEX_PARAM_A_CACHE_SIZE);
	upd.val[MUTEX_PARAM_A_BATCH_SIZE] = MUTEX_BATCH_SIZE_MAX;
	upd.val[MUTEX_PARAM_A_CACHE_SIZE] = 3;
	KUNIT_EXPECT_EQ(test, mutex_proxy_params_update(&upd, &now, &bad, &msg),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, bad, MUTEX_PARAM_A_CACHE_SIZE);
	KUNIT_EXPECT_NOT_NULL(test, msg);
	if (msg)
		KUNIT_EXPECT_NOT_NULL(test, strstr(msg, "perf_cache_size"));
	KUNIT_EXPECT_EQ(test, memcmp(now.val, before.val, sizeof(now.val)), 0);
	mutex_proxy_params_get(&now);
	KUNIT_EXPECT_EQ(test, memcmp(now.val, before.val, sizeof(now.val)), 0);

	/* Both good: both change, the snapshot shows them. */
	upd.val[MUTEX_PARAM_A_CACHE_SIZE] = 0;
	KUNIT_EXPECT_EQ(test, mutex_proxy_params_update(&upd, &now, NULL, NULL),
			0);
	KUNIT_EXPECT_EQ(test, now.val[MUTEX_PARAM_A_BATCH_SIZE],
			(u32)MUTEX_BATCH_SIZE_MAX);
	KUNIT_EXPECT_EQ(test, now.val[MUTEX_PARAM_A_CACHE_SIZE], 0u);
	KUNIT_EXPECT_EQ(test, now.val[MUTEX_PARAM_A_MAX_CONNS],
			before.val[MUTEX_PARAM_A_MAX_CONNS]);

	/* A bit outside the known parameters is refused. */
	upd.mask |= BIT(MUTEX_PARAM_A_MAX + 1);
	KUNIT_EXPECT_EQ(test, mutex_proxy_params_update(&upd, NULL, NULL, NULL),
			-EINVAL);
}

struct mutex_proxy_kunit_parse_case {
	enum mutex_param_attr id;
	const char *str;
	int err;
	u32 val;
};

static const struct mutex_proxy_kunit_parse_case mutex_proxy_kunit_parses[] = {
	{ MUTEX_PARAM_A_ENABLE_BATCHING, "0", 0, 0 },
	{ MUTEX_PARAM_A_ENABLE_BATCHING, "1", 0, 1 },
	{ MUTEX_PARAM_A_ENABLE_BATCHING, "1\n", 0, 1 },
	{ MUTEX_PARAM_A_ENABLE_BATCHING, "0\n", 0, 0 },
	{ MUTEX_PARAM_A_ENABLE_BATCHING, "", -EINVAL, 0 },
	{ MUTEX_PARAM_A_ENABLE_BATCHING, "\n", -EINVAL, 0 },
	{ MUTEX_PARAM_A_ENABLE_BATCHING, "2", -EINVAL, 0 },
	{ MUTEX_PARAM_A_ENABLE_BATCHING, "01", -EINVAL, 0 },
	{ MUTEX_PARAM_A_ENABLE_BATCHING, "+1", -EINVAL, 0 },
	{ MUTEX_PARAM_A_ENABLE_BATCHING, "y", -EINVAL, 0 },
	{ MUTEX_PARAM_A_ENABLE_BATCHING, "1\n\n", -EINVAL, 0 },
	{ MUTEX_PARAM_A_ENABLE_BATCHING, " 1", -EINVAL, 0 },
	{ MUTEX_PARAM_A_BATCH_SIZE, "32", 0, 32 },
	{ MUTEX_PARAM_A_BATCH_SIZE, "32\n", 0, 32 },
	{ MUTEX_PARAM_A_BATCH_SIZE, "", -EINVAL, 0 },
	{ MUTEX_PARAM_A_BATCH_SIZE, "-1", -EINVAL, 0 },
	{ MUTEX_PARAM_A_BATCH_SIZE, "abc", -EINVAL, 0 },
	{ MUTEX_PARAM_A_BATCH_SIZE, "32abc", -EINVAL, 0 },
	{ MUTEX_PARAM_A_BATCH_SIZE, "0x20", -EINVAL, 0 },
	{ MUTEX_PARAM_A_CACHE_SIZE, "4294967295", 0, U32_MAX },
	{ MUTEX_PARAM_A_CACHE_SIZE, "4294967296", -EINVAL, 0 },
	{ MUTEX_PARAM_A_MAX_CONNS, "99999999999999999999", -EINVAL, 0 },
	{ MUTEX_PARAM_A_MAX_CONNS, NULL, -EINVAL, 0 },
	{ MUTEX_PARAM_A_UNSPEC, "1", -EINVAL, 0 },
};

static void mutex_proxy_kunit_parse(struct kunit *test)
{
	const struct mutex_proxy_kunit_parse_case *c;
	const char *msg;
	size_t i;
	u32 val;
	int err;

	for (i = 0; i < ARRAY_SIZE(mutex_proxy_kunit_parses); i++) {
		c = &mutex_proxy_kunit_parses[i];
		val = 0xdeadbeef;
		msg = NULL;
		err = mutex_proxy_param_parse(c->id, c->str, &val, &msg);
		KUNIT_EXPECT_EQ_MSG(test, err, c->err, "case %zu", i);
		if (c->err) {
			KUNIT_EXPECT_NOT_NULL(test, msg);
			KUNIT_EXPECT_EQ_MSG(test, val, 0xdeadbeefu, "case %zu", i);
		} else {
			KUNIT_EXPECT_EQ_MSG(test, val, c->val, "case %zu", i);
		}
	}
}

/* ---- statistics ---- */

static void mutex_proxy_kunit_stats_names(struct kunit *test)
{
	enum mutex_stats_attr attr;

	for (attr = MUTEX_PROXY_STAT_FIRST; attr <= MUTEX_STATS_A_MAX; attr++)
		KUNIT_EXPECT_NOT_NULL_MSG(test, mutex_proxy_stat_name(attr),
					  "attr %d", attr);
	KUNIT_EXPECT_NULL(test, mutex_proxy_stat_name(MUTEX_STATS_A_PAD));
	KUNIT_EXPECT_NULL(test, mutex_proxy_stat_name(MUTEX_STATS_A_MAX + 1));
}

static void mutex_proxy_kunit_stats_zero(struct kunit *test)
{
	struct mutex_proxy_pcpu_stats __percpu *stats;
	struct mutex_proxy_stats_sum sum;
	unsigned int i;

	stats = mutex_proxy_stats_alloc();
	KUNIT_ASSERT_NOT_NULL(test, (void __force *)stats);

	memset(&sum, 0xff, sizeof(sum));
	mutex_proxy_stats_sum(stats, &sum);
	for (i = 0; i < MUTEX_PROXY_NR_STATS; i++)
		KUNIT_EXPECT_EQ_MSG(test, sum.cnt[i], 0ull, "counter %u", i);

	mutex_proxy_stats_free(stats);
}

/*
 * Write every counter of every possible CPU, as that CPU's writers would,
 * then check the sums. The object is private to the test, so writing
 * another CPU's slot from here races with nothing.
 */
static void mutex_proxy_kunit_stats_sum(struct kunit *test)
{
	struct mutex_proxy_pcpu_stats __percpu *stats;
	struct mutex_proxy_stats_sum expect = {};
	struct mutex_proxy_stats_sum sum;
	unsigned int i, ncpus = 0;
	int cpu;

	stats = mutex_proxy_stats_alloc();
	KUNIT_ASSERT_NOT_NULL(test, (void __force *)stats);

	for_each_possible_cpu(cpu) {
		struct mutex_proxy_pcpu_stats *s = per_cpu_ptr(stats, cpu);

		u64_stats_update_begin(&s->syncp);
		for (i = 0; i < MUTEX_PROXY_NR_STATS; i++) {
			unsigned long n = (cpu + 1) * 1000UL + i;

			u64_stats_add(&s->cnt[i], n);
			expect.cnt[i] += n;
		}
		u64_stats_update_end(&s->syncp);
		ncpus++;
	}

	/* The packet-path helper, on whatever CPU this runs. */
	mutex_proxy_stats_add(stats, MUTEX_STATS_A_PKTS_SEEN, 7);
	expect.cnt[MUTEX_STATS_A_PKTS_SEEN - MUTEX_PROXY_STAT_FIRST] += 7;
	mutex_proxy_stats_add(stats, MUTEX_STATS_A_EVENTS_LOST, 1);
	expect.cnt[MUTEX_STATS_A_EVENTS_LOST - MUTEX_PROXY_STAT_FIRST] += 1;

	mutex_proxy_stats_sum(stats, &sum);
	for (i = 0; i < MUTEX_PROXY_NR_STATS; i++)
		KUNIT_EXPECT_EQ_MSG(test, sum.cnt[i], expect.cnt[i],
				    "counter %u over %u CPUs", i, ncpus);

	/* Summing again without writes gives the same result. */
	mutex_proxy_stats_sum(stats, &sum);
	KUNIT_EXPECT_EQ(test, memcmp(&sum, &expect, sizeof(sum)), 0);

	mutex_proxy_stats_free(stats);
}

/* Sums past 32 bits stay exact. */
static void mutex_proxy_kunit_stats_64bit(struct kunit *test)
{
	struct mutex_proxy_pcpu_stats __percpu *stats;
	struct mutex_proxy_stats_sum sum;
	const unsigned int idx = MUTEX_STATS_A_PKTS_STEERED -
				 MUTEX_PROXY_STAT_FIRST;
	u64 expect = 0;
	int cpu, round;

	stats = mutex_proxy_stats_alloc();
	KUNIT_ASSERT_NOT_NULL(test, (void __force *)stats);

	for (round = 0; round < 3; round++) {
		for_each_possible_cpu(cpu) {
			struct mutex_proxy_pcpu_stats *s =
				per_cpu_ptr(stats, cpu);

			u64_stats_update_begin(&s->syncp);
			u64_stats_add(&s->cnt[idx], 0x7fffffffUL);
			u64_stats_update_end(&s->syncp);
			expect += 0x7fffffffUL;
		}
	}

	mutex_proxy_stats_sum(stats, &sum);
	KUNIT_EXPECT_EQ(test, sum.cnt[idx], expect);
	KUNIT_EXPECT_GT(test, sum.cnt[idx], (u64)U32_MAX);

	mutex_proxy_stats_free(stats);
}

static struct kunit_case mutex_proxy_kunit_param_cases[] = {
	KUNIT_CASE(mutex_proxy_kunit_validate),
	KUNIT_CASE(mutex_proxy_kunit_validate_unknown),
	KUNIT_CASE(mutex_proxy_kunit_parse),
	KUNIT_CASE(mutex_proxy_kunit_setter),
	KUNIT_CASE(mutex_proxy_kunit_update_all_or_nothing),
	{}
};

static struct kunit_suite mutex_proxy_kunit_param_suite = {
	.name = "mutex_proxy_params",
	.init = mutex_proxy_kunit_param_init,
	.exit = mutex_proxy_kunit_param_exit,
	.test_cases = mutex_proxy_kunit_param_cases,
};

static struct kunit_case mutex_proxy_kunit_stats_cases[] = {
	KUNIT_CASE(mutex_proxy_kunit_stats_names),
	KUNIT_CASE(mutex_proxy_kunit_stats_zero),
	KUNIT_CASE(mutex_proxy_kunit_stats_sum),
	KUNIT_CASE(mutex_proxy_kunit_stats_64bit),
	{}
};

static struct kunit_suite mutex_proxy_kunit_stats_suite = {
	.name = "mutex_proxy_stats",
	.test_cases = mutex_proxy_kunit_stats_cases,
};

kunit_test_suite(mutex_proxy_kunit_param_suite);
kunit_test_suite(mutex_proxy_kunit_stats_suite);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit tests for mutex_proxy");
