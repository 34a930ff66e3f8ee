#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The demonstration: installs what is missing, builds mutexctl and the module,
# boots the stock Debian kernel in a throwaway VM and shows the module at work
# there (tests/vm/demo-guest.sh). Nothing touches the host kernel.
# Usage: tests/demo.sh [LANE]   (LANE: 6.1 (default) | 6.12 | debug)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
lane=${1:-6.1}
build=$top/build-demo

tests/setup.sh
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" --target mutexctl >/dev/null
# shellcheck source=vm/lanes.sh
. tests/vm/lanes.sh
moddir=$build/kmod-$lane-$(lane_release "$lane")
kmod/build.sh "$(lane_builddir "$lane")" "$moddir" >/dev/null
exec tests/vm/vm-run.sh --lane "$lane" --timeout 300 -- \
	tests/vm/demo-guest.sh "$moddir" "$build/mutexctl"
