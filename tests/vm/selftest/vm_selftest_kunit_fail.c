// SPDX-License-Identifier: GPL-2.0
/* vm_selftest_kunit with one failing case (see vm_selftest_kunit.c). */
#define VM_SELFTEST_FAIL
#include "vm_selftest_kunit.c"
