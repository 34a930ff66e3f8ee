/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mutex_proxy: run-time counters of a backend, shared by the
 * configuration snapshots that keep it and the flows steered to it
 * (backend.c).
 */
#ifndef _MUTEX_PROXY_BACKEND_H
#define _MUTEX_PROXY_BACKEND_H

#include <linux/atomic.h>
#include <linux/percpu.h>
#include <linux/refcount.h>
#include <linux/types.h>
#include <linux/u64_stats_sync.h>

/**
 * struct mutex_proxy_backend_pcpu - one CPU's traffic counters of a backend
 * @pkts: packets of flows steered to the backend, both directions
 * @bytes: their bytes
 * @syncp: makes 64-bit reads consistent on 32-bit kernels
 */
struct mutex_proxy_backend_pcpu {
	u64_stats_t pkts;
	u64_stats_t bytes;
	struct u64_stats_sync syncp;
};

/**
 * struct mutex_proxy_backend_ctr - run-time counters of one backend
 * @ref: one per configuration snapshot and per tracked flow that uses it
 * @active: flows steered to the backend that are in the connection table
 * @total: flows ever steered to the backend
 * @pcpu: per-CPU packet and byte counters (folded accounting batches)
 *
 * Not part of the immutable configuration: a replacement that keeps a
 * backend (same pool name, family, address, port) shares its counters, so
 * they survive any number of replacements. Freed when the last user drops
 * its reference, which for a snapshot is after its RCU grace period.
 */
struct mutex_proxy_backend_ctr {
	refcount_t ref;
	atomic64_t active;
	atomic64_t total;
	struct mutex_proxy_backend_pcpu __percpu *pcpu;
};

struct mutex_proxy_backend_ctr *mutex_proxy_backend_ctr_new(void);
void mutex_proxy_backend_ctr_put(struct mutex_proxy_backend_ctr *ctr);
void mutex_proxy_backend_ctr_sum(const struct mutex_proxy_backend_ctr *ctr,
				 u64 *pkts, u64 *bytes);

#endif /* _MUTEX_PROXY_BACKEND_H */
