#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The test command: installs what is missing (tests/setup.sh: packages, then the debug kernel,
# timed apart), builds everything
# with ASan+UBSan, and runs every test through ctest: unit tests, lint, module
# builds against each installed kernel, and the three VM lanes (stock 6.1,
# stock 6.12, debug kernel with KASAN/lockdep/kmemleak/KUnit). Prints where the
# time went. Usage: tests/run.sh [ctest args...]   e.g. tests/run.sh -R vm_6.1
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
build=${MUTEX_BUILD_DIR:-$top/build}

timings=()
step() {
	local name=$1 t0=$SECONDS rc=0
	shift
	echo "=== $name"
	"$@" || rc=$?
	timings+=("$(printf '%-10s %5ds%s' "$name" $((SECONDS - t0)) "$([ $rc = 0 ] || echo "  FAILED ($rc)")")")
	if [ $rc != 0 ]; then
		report
		exit $rc
	fi
}
report() {
	echo "=== where the time went"
	printf '%s\n' "${timings[@]}"
	# ctest's per-test times: tests over a second one by one, the rest summed.
	[ -f "$build/Testing/Temporary/LastTest.log" ] &&
		awk '/^[0-9]+\/[0-9]+ Test: /{name=$3} /^Test time =/{
			if ($4 >= 1) printf "  %-34s %7.1fs\n", name, $4; else { n++; small += $4 } }
			END { if (n) printf "  %-34s %7.1fs\n", n " tests under 1 s", small }' \
			"$build/Testing/Temporary/LastTest.log"
	echo "total      $((SECONDS))s"
}

step packages tests/setup.sh --packages
step kernel tests/vm/debug-kernel.sh
step configure cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DMUTEX_SANITIZE=ON
step build cmake --build "$build" -j"$(nproc)"
# Two at once: a VM lane keeps one host thread busy (single-threaded TCG), see tests/vm/README.md.
step ctest ctest --test-dir "$build" --output-on-failure -j"${MUTEX_TEST_JOBS:-2}" "$@"
report
