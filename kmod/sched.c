// SPDX-License-Identifier: GPL-2.0
/*
 * mutex_proxy: schedulers, choosing a pool's backend for a new flow.
 *
 * Each is a function of the pool (configuration plus its run-time cursor)
 * and the backends' counters. Only backends in state up are candidates,
 * and for a pool of remote backends only those of the flow's family (a
 * local pool's ports serve both families). Runs under RCU in softirq or
 * process context; never sleeps.
 */
#include <linux/siphash.h>
#include <linux/random.h>
#include <linux/socket.h>

#include "counters.h"
#include "classify.h"
#include "config.h"
#include "sched.h"
#include "compat.h"

static siphash_key_t mutex_proxy_sched_key __read_mostly;

/**
 * mutex_proxy_sched_init() - pick the source-hash key (once per load)
 */
void mutex_proxy_sched_init(void)
{
	get_random_bytes(&mutex_proxy_sched_key, sizeof(mutex_proxy_sched_key));
}

static bool mutex_proxy_sched_ok(const struct mutex_proxy_pool *pool,
				 const struct mutex_proxy_backend *be,
				 const struct mutex_proxy_key *key)
{
	return READ_ONCE(be->state) == MUTEX_BACKEND_UP &&
	       (pool->local || be->family == key->family);
}

/* The n-th (from 0) candidate of @pool. */
static struct mutex_proxy_backend *
mutex_proxy_sched_nth(struct mutex_proxy_pool *pool,
		      const struct mutex_proxy_key *key, u32 n)
{
	u32 i;

	for (i = 0; i < pool->n_backends; i++) {
		struct mutex_proxy_backend *be = &pool->backends[i];

		if (mutex_proxy_sched_ok(pool, be, key) && !n--)
			return be;
	}
	return NULL;
}

static struct mutex_proxy_backend *
mutex_proxy_sched_wrr(struct mutex_proxy_pool *pool,
		      const struct mutex_proxy_key *key)
{
	struct mutex_proxy_backend *best = NULL;
	unsigned long flags;
	s64 total = 0;
	u32 i;

	/* Smooth weighted round robin: every candidate gains its weight,
	 * the one with the most is chosen and pays the total back.
	 */
	spin_lock_irqsave(&pool->lock, flags);
	for (i = 0; i < pool->n_backends; i++) {
		struct mutex_proxy_backend *be = &pool->backends[i];

		if (!mutex_proxy_sched_ok(pool, be, key))
			continue;
		/* SET_BACKEND changes the weight under the same lock. */
		be->wrr_cur += be->weight;
		total += be->weight;
		if (!best || be->wrr_cur > best->wrr_cur)
			best = be;
	}
	if (best)
		best->wrr_cur -= total;
	spin_unlock_irqrestore(&pool->lock, flags);
	return best;
}

static struct mutex_proxy_backend *
mutex_proxy_sched_least_conn(struct mutex_proxy_pool *pool,
			     const struct mutex_proxy_key *key)
{
	struct mutex_proxy_backend *best = NULL;
	u64 best_active = 0;
	u32 best_w = 0;
	u32 i;

	for (i = 0; i < pool->n_backends; i++) {
		struct mutex_proxy_backend *be = &pool->backends[i];
		u64 active, l, r;
		u32 w;

		if (!mutex_proxy_sched_ok(pool, be, key))
			continue;
		active = max_t(s64, atomic64_read(&be->ctr->active), 0);
		w = READ_ONCE(be->weight);
		if (!best) {
			best = be;
			best_active = active;
			best_w = w;
			continue;
		}
		/* active / w < best_active / best_w */
		l = active * best_w;
		r = best_active * w;
		if (l < r || (l == r && w > best_w)) {
			best = be;
			best_active = active;
			best_w = w;
		}
	}
	return best;
}

static struct mutex_proxy_backend *
mutex_proxy_sched_failover(struct mutex_proxy_pool *pool,
			   const struct mutex_proxy_key *key)
{
	struct mutex_proxy_backend *best = NULL;
	u32 i;

	for (i = 0; i < pool->n_backends; i++) {
		struct mutex_proxy_backend *be = &pool->backends[i];

		if (mutex_proxy_sched_ok(pool, be, key) &&
		    (!best || be->priority < best->priority))
			best = be;
	}
	return best;
}

/**
 * mutex_proxy_sched_pick() - choose a backend of a pool for a new flow
 * @pool: the pool (of a snapshot held under RCU)
 * @key: the flow
 *
 * Return: the backend, or NULL if no backend is up (for the flow's
 * family): the caller applies the pool's failure mode.
 */
struct mutex_proxy_backend *
mutex_proxy_sched_pick(struct mutex_proxy_pool *pool,
		       const struct mutex_proxy_key *key)
{
	u32 n = 0, i;

	switch (pool->scheduler) {
	case MUTEX_SCHED_WRR:
		return mutex_proxy_sched_wrr(pool, key);
	case MUTEX_SCHED_LEAST_CONN:
		return mutex_proxy_sched_least_conn(pool, key);
	case MUTEX_SCHED_FAILOVER:
		return mutex_proxy_sched_failover(pool, key);
	default:
		break;
	}

	for (i = 0; i < pool->n_backends; i++)
		if (mutex_proxy_sched_ok(pool, &pool->backends[i], key))
			n++;
	if (!n)
		return NULL;

	if (pool->scheduler == MUTEX_SCHED_SOURCE_HASH) {
		u64 h = siphash(&key->saddr, sizeof(key->saddr),
				&mutex_proxy_sched_key);

		return mutex_proxy_sched_nth(pool, key, (u32)h % n);
	}
	/* Round robin over the candidates. */
	i = (u32)atomic_inc_return(&pool->rr_next) - 1;
	return mutex_proxy_sched_nth(pool, key, i % n);
}
EXPORT_SYMBOL_IF_KUNIT(mutex_proxy_sched_pick);
