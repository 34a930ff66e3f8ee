/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mutex_proxy: module-wide parameters (params.c).
 */
#ifndef _MUTEX_PROXY_PARAMS_H
#define _MUTEX_PROXY_PARAMS_H

#include <linux/mutex_proxy.h>
#include <linux/types.h>

/**
 * struct mutex_proxy_params - a copy of all module parameters
 * @val: value of each parameter, indexed by enum mutex_param_attr
 *	(index MUTEX_PARAM_A_UNSPEC is unused)
 */
struct mutex_proxy_params {
	u32 val[MUTEX_PARAM_A_MAX + 1];
};

/**
 * struct mutex_proxy_param_update - a set of parameter changes
 * @mask: BIT(id) for every parameter id to change
 * @val: new values, indexed by enum mutex_param_attr
 */
struct mutex_proxy_param_update {
	u32 mask;
	u32 val[MUTEX_PARAM_A_MAX + 1];
};

const char *mutex_proxy_param_name(enum mutex_param_attr id);
#if IS_ENABLED(CONFIG_KUNIT)
int mutex_proxy_param_validate(enum mutex_param_attr id, u32 val,
			       const char **msg);
int mutex_proxy_param_parse(enum mutex_param_attr id, const char *str,
			    u32 *val, const char **msg);
#endif
int mutex_proxy_params_update(const struct mutex_proxy_param_update *upd,
			      struct mutex_proxy_params *now,
			      enum mutex_param_attr *bad, const char **msg);
#if IS_ENABLED(CONFIG_KUNIT)
int mutex_proxy_param_set(enum mutex_param_attr id, u32 val,
			  const char **msg);
#endif
int mutex_proxy_param_effect(enum mutex_param_attr id, int (*apply)(u32 val));
u32 mutex_proxy_param_get(enum mutex_param_attr id);
void mutex_proxy_params_get(struct mutex_proxy_params *out);

#endif /* _MUTEX_PROXY_PARAMS_H */
