#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Runs the VM test suite on one lane: builds mutex_proxy.ko (and, on a KUnit
# kernel, mutex_proxy_kunit.ko) against the lane's kernel, boots the lane's
# kernel under qemu and runs tests/vm/guest.py with every test file inside it.
# Usage: tests/vm/lane.sh LANE BUILD_DIR [MUTEXCTL [--systemd]]   (LANE: 6.1 | 6.12 | debug;
#        BUILD_DIR: the CMake build directory; MUTEXCTL: the mutexctl to test,
#        default BUILD_DIR/mutexctl; --systemd: systemd as PID 1, test_systemd.py only)
set -euo pipefail
lane=$1
build=$(cd "$2" && pwd)
mutexctl=${3:-$build/mutexctl}
systemd=${4:-}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=lanes.sh
. "$here/lanes.sh"

release=$(lane_release "$lane")
moddir="$build/kmod-$lane-$release${systemd:+-systemd}"
"$top/kmod/build.sh" "$(lane_builddir "$lane")" "$moddir" >"$moddir.log" 2>&1 || {
	cat "$moddir.log"; echo "lane $lane: module build failed"; exit 1; }

kunit=()
[ "$lane" = debug ] && kunit=(--kunit)
# The stock lanes also load the module as an operator installs it: built and installed by DKMS
# (tests/dkms.sh, compressed as the kernel compresses its modules), then modprobe
# (test_dkms.py). The debug kernel has no DKMS headers package: it builds everything in.
dkms=()
if [ "$lane" != debug ]; then
	dkmsdir="$build/dkms-$lane${systemd:+-systemd}"
	"$top/tests/dkms.sh" "$build" --kernel "$release" --keep "$dkmsdir" >"$dkmsdir.log" 2>&1 || {
		cat "$dkmsdir.log"; echo "lane $lane: DKMS build failed"; exit 1; }
	dkms=(--dkms "$dkmsdir/lib/modules/$release/updates/dkms")
fi
if [ "$systemd" = --systemd ]; then
	# The shipped units under systemd (vm-run.sh --systemd): boot about 12 s, the cases 20 s.
	exec "$here/vm-run.sh" --lane "$lane" --systemd --timeout 900 -- \
		python3 "$here/guest.py" --module "$moddir" --mutexctl "$mutexctl" "${dkms[@]}" \
		"$here/test_systemd.py"
fi
# The VM's limit, only for a run that hangs (each case has its own, in guest.py). Measured on
# a 2-core machine: the stock lanes take 2.5-5 min, the debug lane 8-15 min; machines of this
# kind are up to 2x slower on some days, so the limits are about 4x what was measured.
timeout=1200
[ "$lane" = debug ] && timeout=3600
exec "$here/vm-run.sh" --lane "$lane" --timeout "$timeout" -- \
	python3 "$here/guest.py" --module "$moddir" --mutexctl "$mutexctl" \
	"${kunit[@]}" "${dkms[@]}" "$here"/test_*.py
