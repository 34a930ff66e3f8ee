// SPDX-License-Identifier: GPL-2.0
/*
 * vm_selftest_kunit: a tiny KUnit suite for testing tests/vm/ktap.py on real KUnit output
 * (debug lane). vm_selftest_kunit_fail.ko is the same with one failing case (suite
 * vm_selftest_fail). Not a module parameter: in 6.1 KUnit runs a module's suites at
 * MODULE_STATE_COMING, before the module's parameters are parsed.
 */
#include <kunit/test.h>
#include <linux/module.h>

#ifdef VM_SELFTEST_FAIL
#define SUITE_NAME "vm_selftest_fail"
static const bool fail_one = true;
#else
#define SUITE_NAME "vm_selftest"
static const bool fail_one;
#endif

static void vm_selftest_passes(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, 1 + 1, 2);
}

static void vm_selftest_maybe_fails(struct kunit *test)
{
	KUNIT_EXPECT_FALSE(test, fail_one);
}

static void vm_selftest_skips(struct kunit *test)
{
	kunit_skip(test, "deliberately skipped");
}

static const int params[] = { 1, 2, 3 };

static void param_desc(const int *p, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "value %d", *p);
}
KUNIT_ARRAY_PARAM(vm_selftest_values, params, param_desc);

static void vm_selftest_param(struct kunit *test)
{
	const int *p = test->param_value;

	KUNIT_EXPECT_GT(test, *p, 0);
}

static struct kunit_case vm_selftest_cases[] = {
	KUNIT_CASE(vm_selftest_passes),
	KUNIT_CASE(vm_selftest_maybe_fails),
	KUNIT_CASE(vm_selftest_skips),
	KUNIT_CASE_PARAM(vm_selftest_param, vm_selftest_values_gen_params),
	{}
};

static struct kunit_suite vm_selftest_suite = {
	.name = SUITE_NAME,
	.test_cases = vm_selftest_cases,
};
kunit_test_suite(vm_selftest_suite);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit suite for testing the VM harness's KTAP parser");
