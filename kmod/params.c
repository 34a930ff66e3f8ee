// SPDX-License-Identifier: GPL-2.0
/*
 * mutex_proxy: module-wide parameters.
 *
 * One set of values, shared by every network namespace, visible and writable
 * in /sys/module/mutex_proxy/parameters/ and through MUTEX_CMD_SET_PARAMS.
 * Both paths end in mutex_proxy_params_update(): validation and the writes
 * happen there and nowhere else, under mutex_proxy_params_lock, so a request
 * is applied whole or not at all and two writers never interleave. Readers
 * use READ_ONCE() on single values and never block.
 *
 * Load time: the kernel passes "insmod mutex_proxy.ko name=value" and
 * /etc/modprobe.d options through the same kernel_param_ops .set as a sysfs
 * write, before the module's init runs. A bad value makes .set fail with
 * -EINVAL, which fails the whole load (insmod/modprobe report "Invalid
 * argument"); the reason and the allowed range are logged with pr_err().
 * Loading with a value that is silently replaced would hide a
 * misconfiguration, so it is refused instead.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bits.h>
#include <linux/kernel.h>
#include <linux/log2.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/stringify.h>
#include <linux/string.h>

#include "params.h"
#include "compat.h"

static DEFINE_MUTEX(mutex_proxy_params_lock);

/* Indexed by enum mutex_param_attr; written under mutex_proxy_params_lock. */
static u32 mutex_proxy_params_val[MUTEX_PARAM_A_MAX + 1] = {
	[MUTEX_PARAM_A_ENABLE_BATCHING]	= 1,
	[MUTEX_PARAM_A_BATCH_SIZE]	= MUTEX_BATCH_SIZE_DEFAULT,
	[MUTEX_PARAM_A_CACHE_SIZE]	= MUTEX_CACHE_SIZE_DEFAULT,
	[MUTEX_PARAM_A_MAX_CONNS]	= MUTEX_MAX_CONNS_DEFAULT,
	[MUTEX_PARAM_A_ENABLE_ACCOUNTING] = 1,
};

/**
 * struct mutex_proxy_param_desc - description of one parameter
 * @name: name in sysfs and /proc
 * @refusal: message for a value out of range (names the allowed values)
 * @apply_refusal: message for an error of the parameter's effect (see
 *	mutex_proxy_param_effect())
 */
struct mutex_proxy_param_desc {
	const char *name;
	const char *refusal;
	const char *apply_refusal;
};

static const struct mutex_proxy_param_desc
mutex_proxy_param_descs[MUTEX_PARAM_A_MAX + 1] = {
	[MUTEX_PARAM_A_ENABLE_BATCHING] = {
		.name = "perf_enable_batching",
		.refusal = "perf_enable_batching must be 0 or 1",
	},
	[MUTEX_PARAM_A_BATCH_SIZE] = {
		.name = "perf_batch_size",
		.refusal = "perf_batch_size must be in "
			   __stringify(MUTEX_BATCH_SIZE_MIN) ".."
			   __stringify(MUTEX_BATCH_SIZE_MAX),
	},
	[MUTEX_PARAM_A_CACHE_SIZE] = {
		.name = "perf_cache_size",
		.refusal = "perf_cache_size must be 0 or a power of two up to "
			   __stringify(MUTEX_CACHE_SIZE_MAX),
		.apply_refusal = "out of memory for the new perf_cache_size",
	},
	[MUTEX_PARAM_A_MAX_CONNS] = {
		.name = "max_conns",
		.refusal = "max_conns must be in "
			   __stringify(MUTEX_MAX_CONNS_MIN) ".."
			   __stringify(MUTEX_MAX_CONNS_MAX),
	},
	[MUTEX_PARAM_A_ENABLE_ACCOUNTING] = {
		.name = "perf_enable_accounting",
		.refusal = "perf_enable_accounting must be 0 or 1",
	},
};

static const char mutex_proxy_param_unknown[] = "unknown parameter";

static bool mutex_proxy_param_id_ok(enum mutex_param_attr id)
{
	return id > MUTEX_PARAM_A_UNSPEC && id <= MUTEX_PARAM_A_MAX;
}

/*
 * What a new value needs done before it is stored, per parameter, set by
 * the subsystem that owns the effect (mutex_proxy_param_effect()); under
 * mutex_proxy_params_lock.
 */
static int (*mutex_proxy_param_effects[MUTEX_PARAM_A_MAX + 1])(u32 val);

/**
 * mutex_proxy_param_effect() - give a parameter an effect, or take it away
 * @id: parameter, enum mutex_param_attr
 * @apply: called with every new value before it is stored, under the
 *	parameter mutex (it may sleep); an error keeps the old value and every
 *	other one of the same update. NULL: no effect.
 *
 * The owner of what a parameter controls registers here (account.c: a new
 * perf_cache_size resizes the per-CPU caches), so the parameters depend on
 * nobody. @apply is first called with the current value (set at load time,
 * or by a write since), under the same mutex, so no value is ever missed.
 * Sleeps.
 *
 * Return: 0, or @apply's error for the current value (nothing registered).
 */
int mutex_proxy_param_effect(enum mutex_param_attr id, int (*apply)(u32 val))
{
	int err = 0;

	if (WARN_ON_ONCE(!mutex_proxy_param_id_ok(id)))
		return -EINVAL;
	mutex_lock(&mutex_proxy_params_lock);
	if (apply)
		err = apply(mutex_proxy_params_val[id]);
	if (!err)
		mutex_proxy_param_effects[id] = apply;
	mutex_unlock(&mutex_proxy_params_lock);
	return err;
}

/**
 * mutex_proxy_param_name() - name of a parameter
 * @id: parameter, enum mutex_param_attr
 *
 * Return: the sysfs name, or NULL for an unknown @id.
 */
const char *mutex_proxy_param_name(enum mutex_param_attr id)
{
	return mutex_proxy_param_id_ok(id) ? mutex_proxy_param_descs[id].name :
					     NULL;
}
EXPORT_SYMBOL_IF_KUNIT(mutex_proxy_param_name);

/**
 * mutex_proxy_param_validate() - check a value for a parameter
 * @id: parameter, enum mutex_param_attr
 * @val: proposed value
 * @msg: if not NULL, set to NULL on success, else to a static message naming
 *	the parameter and its allowed values
 *
 * Pure function: looks at nothing but its arguments.
 *
 * Return: 0 if @val is allowed for @id, -EINVAL otherwise.
 */
VISIBLE_IF_KUNIT
int mutex_proxy_param_validate(enum mutex_param_attr id, u32 val,
			       const char **msg)
{
	bool ok;

	switch (id) {
	case MUTEX_PARAM_A_ENABLE_BATCHING:
	case MUTEX_PARAM_A_ENABLE_ACCOUNTING:
		ok = val <= 1;
		break;
	case MUTEX_PARAM_A_BATCH_SIZE:
		ok = val >= MUTEX_BATCH_SIZE_MIN && val <= MUTEX_BATCH_SIZE_MAX;
		break;
	case MUTEX_PARAM_A_CACHE_SIZE:
		ok = val == 0 ||
		     (is_power_of_2(val) && val <= MUTEX_CACHE_SIZE_MAX);
		break;
	case MUTEX_PARAM_A_MAX_CONNS:
		ok = val >= MUTEX_MAX_CONNS_MIN && val <= MUTEX_MAX_CONNS_MAX;
		break;
	default:
		if (msg)
			*msg = mutex_proxy_param_unknown;
		return -EINVAL;
	}

	if (msg)
		*msg = ok ? NULL : mutex_proxy_param_descs[id].refusal;
	return ok ? 0 : -EINVAL;
}
EXPORT_SYMBOL_IF_KUNIT(mutex_proxy_param_validate);

/**
 * mutex_proxy_param_parse() - parse a sysfs or load-time value
 * @id: parameter, enum mutex_param_attr
 * @str: NUL-terminated text, optionally ending in one newline
 * @val: parsed value (only written on success)
 * @msg: if not NULL, set to a static message on failure
 *
 * The switches (perf_enable_*) take exactly "0" or "1". The others take a decimal
 * number (kstrtouint() base 10: an optional '+', no sign, no spaces, no
 * garbage, no overflow past U32_MAX). Only the syntax is checked here; the
 * range is checked by mutex_proxy_param_validate().
 *
 * Return: 0 or -EINVAL.
 */
VISIBLE_IF_KUNIT
int mutex_proxy_param_parse(enum mutex_param_attr id, const char *str,
			    u32 *val, const char **msg)
{
	unsigned int v;

	if (!mutex_proxy_param_id_ok(id)) {
		if (msg)
			*msg = mutex_proxy_param_unknown;
		return -EINVAL;
	}
	if (!str)
		goto bad;

	if (id == MUTEX_PARAM_A_ENABLE_BATCHING ||
	    id == MUTEX_PARAM_A_ENABLE_ACCOUNTING) {
		if (sysfs_streq(str, "0"))
			v = 0;
		else if (sysfs_streq(str, "1"))
			v = 1;
		else
			goto bad;
	} else if (kstrtouint(str, 10, &v)) {
		goto bad;
	}

	*val = v;
	return 0;

bad:
	if (msg)
		*msg = mutex_proxy_param_descs[id].refusal;
	return -EINVAL;
}
EXPORT_SYMBOL_IF_KUNIT(mutex_proxy_param_parse);

/**
 * mutex_proxy_params_update() - validate and apply parameter changes
 * @upd: parameters to change (@upd->mask) and their new values
 * @now: if not NULL, receives all parameters as they are after the call
 * @bad: if not NULL, set to the first refused parameter on -EINVAL
 * @msg: if not NULL, set to a static refusal message on -EINVAL
 *
 * The single setter behind sysfs, load-time parameters and SET_PARAMS.
 * Every value in @upd is validated first; only if all are allowed are they
 * all written. A refusal changes nothing. A parameter with an effect
 * (mutex_proxy_param_effect()) has it applied first; if that fails, nothing
 * changes either. Sleeps (takes a mutex).
 *
 * Return: 0, -EINVAL or -ENOMEM.
 */
int mutex_proxy_params_update(const struct mutex_proxy_param_update *upd,
			      struct mutex_proxy_params *now,
			      enum mutex_param_attr *bad, const char **msg)
{
	enum mutex_param_attr id;
	int err = 0;

	if (upd->mask & ~GENMASK(MUTEX_PARAM_A_MAX, MUTEX_PARAM_A_UNSPEC + 1)) {
		if (bad)
			*bad = MUTEX_PARAM_A_UNSPEC;
		if (msg)
			*msg = mutex_proxy_param_unknown;
		return -EINVAL;
	}

	mutex_lock(&mutex_proxy_params_lock);

	for (id = MUTEX_PARAM_A_UNSPEC + 1; id <= MUTEX_PARAM_A_MAX; id++) {
		if (!(upd->mask & BIT(id)))
			continue;
		err = mutex_proxy_param_validate(id, upd->val[id], msg);
		if (err) {
			if (bad)
				*bad = id;
			goto out;
		}
	}

	/* One parameter at most has an effect that can fail (today:
	 * perf_cache_size), so a failure leaves nothing half done.
	 */
	for (id = MUTEX_PARAM_A_UNSPEC + 1; id <= MUTEX_PARAM_A_MAX; id++) {
		if (!(upd->mask & BIT(id)) || !mutex_proxy_param_effects[id])
			continue;
		err = mutex_proxy_param_effects[id](upd->val[id]);
		if (err) {
			if (bad)
				*bad = id;
			if (msg)
				*msg = mutex_proxy_param_descs[id].apply_refusal;
			goto out;
		}
	}

	for (id = MUTEX_PARAM_A_UNSPEC + 1; id <= MUTEX_PARAM_A_MAX; id++)
		if (upd->mask & BIT(id))
			WRITE_ONCE(mutex_proxy_params_val[id], upd->val[id]);

out:
	if (now)
		memcpy(now->val, mutex_proxy_params_val, sizeof(now->val));
	mutex_unlock(&mutex_proxy_params_lock);
	return err;
}
EXPORT_SYMBOL_IF_KUNIT(mutex_proxy_params_update);

/**
 * mutex_proxy_param_set() - validate and apply one parameter
 * @id: parameter, enum mutex_param_attr
 * @val: new value
 * @msg: if not NULL, set to a static refusal message on -EINVAL
 *
 * Return: 0, or -EINVAL or -ENOMEM with the old value kept.
 */
VISIBLE_IF_KUNIT
int mutex_proxy_param_set(enum mutex_param_attr id, u32 val, const char **msg)
{
	struct mutex_proxy_param_update upd = {};

	if (!mutex_proxy_param_id_ok(id)) {
		if (msg)
			*msg = mutex_proxy_param_unknown;
		return -EINVAL;
	}
	upd.mask = BIT(id);
	upd.val[id] = val;
	return mutex_proxy_params_update(&upd, NULL, NULL, msg);
}
EXPORT_SYMBOL_IF_KUNIT(mutex_proxy_param_set);

/**
 * mutex_proxy_param_get() - current value of one parameter
 * @id: parameter, enum mutex_param_attr
 *
 * Lockless; may be called from any context.
 *
 * Return: the value, or 0 for an unknown @id.
 */
u32 mutex_proxy_param_get(enum mutex_param_attr id)
{
	if (!mutex_proxy_param_id_ok(id))
		return 0;
	return READ_ONCE(mutex_proxy_params_val[id]);
}
EXPORT_SYMBOL_IF_KUNIT(mutex_proxy_param_get);

/**
 * mutex_proxy_params_get() - consistent copy of all parameters
 * @out: receives the values
 *
 * Takes the parameter mutex, so @out never mixes two updates. Sleeps.
 */
void mutex_proxy_params_get(struct mutex_proxy_params *out)
{
	mutex_lock(&mutex_proxy_params_lock);
	memcpy(out->val, mutex_proxy_params_val, sizeof(out->val));
	mutex_unlock(&mutex_proxy_params_lock);
}
EXPORT_SYMBOL_IF_KUNIT(mutex_proxy_params_get);

/* kp->arg points into mutex_proxy_params_val; its index is the id. */
static enum mutex_param_attr
mutex_proxy_param_kp_id(const struct kernel_param *kp)
{
	return (u32 *)kp->arg - mutex_proxy_params_val;
}

static int mutex_proxy_param_kp_set(const char *str,
				    const struct kernel_param *kp)
{
	enum mutex_param_attr id = mutex_proxy_param_kp_id(kp);
	const char *msg;
	u32 val;
	int err;

	err = mutex_proxy_param_parse(id, str, &val, &msg);
	if (!err)
		err = mutex_proxy_param_set(id, val, &msg);
	if (err)
		pr_err_ratelimited("value refused: %s\n", msg);
	return err;
}

static int mutex_proxy_param_kp_get(char *buffer,
				    const struct kernel_param *kp)
{
	return scnprintf(buffer, PAGE_SIZE, "%u\n",
			 mutex_proxy_param_get(mutex_proxy_param_kp_id(kp)));
}

static const struct kernel_param_ops mutex_proxy_param_ops = {
	.set = mutex_proxy_param_kp_set,
	.get = mutex_proxy_param_kp_get,
};

module_param_cb(perf_enable_batching, &mutex_proxy_param_ops,
		&mutex_proxy_params_val[MUTEX_PARAM_A_ENABLE_BATCHING], 0644);
MODULE_PARM_DESC(perf_enable_batching,
		 "Account steered packets in per-CPU batches: 0 or 1 (default 1)");

module_param_cb(perf_batch_size, &mutex_proxy_param_ops,
		&mutex_proxy_params_val[MUTEX_PARAM_A_BATCH_SIZE], 0644);
MODULE_PARM_DESC(perf_batch_size,
		 "Packets per accounting batch: "
		 __stringify(MUTEX_BATCH_SIZE_MIN) ".."
		 __stringify(MUTEX_BATCH_SIZE_MAX)
		 " (default " __stringify(MUTEX_BATCH_SIZE_DEFAULT) ")");

module_param_cb(perf_cache_size, &mutex_proxy_param_ops,
		&mutex_proxy_params_val[MUTEX_PARAM_A_CACHE_SIZE], 0644);
MODULE_PARM_DESC(perf_cache_size,
		 "Per-CPU flow cache entries: 0 (off) or a power of two up to "
		 __stringify(MUTEX_CACHE_SIZE_MAX)
		 " (default " __stringify(MUTEX_CACHE_SIZE_DEFAULT) ")");

module_param_cb(max_conns, &mutex_proxy_param_ops,
		&mutex_proxy_params_val[MUTEX_PARAM_A_MAX_CONNS], 0644);
MODULE_PARM_DESC(max_conns,
		 "Steered flows tracked per namespace: "
		 __stringify(MUTEX_MAX_CONNS_MIN) ".."
		 __stringify(MUTEX_MAX_CONNS_MAX)
		 " (default " __stringify(MUTEX_MAX_CONNS_DEFAULT) ")");

module_param_cb(perf_enable_accounting, &mutex_proxy_param_ops,
		&mutex_proxy_params_val[MUTEX_PARAM_A_ENABLE_ACCOUNTING], 0644);
MODULE_PARM_DESC(perf_enable_accounting,
		 "Count packets and bytes of steered flows: 0 or 1 (default 1)");
