#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Self-test of the VM harness: tests/vm/selftest.sh [LANE...]   (default: 6.1 6.12 debug)
# Per lane: the command's output, exit status, cwd, PATH and argument quoting come back
# exactly; a clean module load/unload passes; a real WARN (selftest/vm_selftest.ko action=warn)
# ends the VM and is reported; a synthetic "WARNING:" line written to /dev/kmsg is caught by the
# log scan. On the debug lane also real kmemleak, KASAN, lockdep and UBSAN reports, and ktap.py
# on real KUnit output (selftest/vm_selftest_kunit*.c). Once: a
# command that outlives --timeout is killed and reported. Closes with "N passed, N failed".
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lanes.sh
. "$here/lanes.sh"
vmrun=$here/vm-run.sh
lanes=("$@")
((${#lanes[@]})) || lanes=(6.1 6.12 debug)

pass=0 fail=0
work=$(mktemp -d /tmp/vm-selftest.XXXXXX)
trap 'rm -rf "$work"' EXIT
ok() { pass=$((pass + 1)); echo "PASS $*"; }
ko() { fail=$((fail + 1)); echo "FAIL $*"; }

# run NAME EXPECTED_RC GREP_STDOUT GREP_STDERR -- vm-run args...
run() {
	local name=$1 want=$2 out_re=$3 err_re=$4 rc
	shift 5
	"$vmrun" "$@" >"$work/out" 2>"$work/err"
	rc=$?
	if [ "$rc" != "$want" ]; then
		ko "$name: exit $rc, wanted $want"
		sed 's/^/    | /' "$work/out" "$work/err" | tail -30
		return 1
	fi
	if [ -n "$out_re" ] && ! grep -qE "$out_re" "$work/out"; then
		ko "$name: stdout lacks /$out_re/"
		sed 's/^/    | /' "$work/out" | tail -20
		return 1
	fi
	if [ -n "$err_re" ] && ! grep -qE "$err_re" "$work/err"; then
		ko "$name: stderr lacks /$err_re/"
		sed 's/^/    | /' "$work/err" | tail -20
		return 1
	fi
	ok "$name ($(grep -o 'boot [0-9.?]* s, wall [0-9.]* s' "$work/err" | tail -1))"
	# The run directory vm-run.sh kept for an expected failure is not needed.
	local kept
	kept=$(sed -n 's/^vm-run: logs kept in \([^ ]*\) .*/\1/p; s/^vm-run: console log: \(.*\)\/console.log$/\1/p' "$work/err")
	case "$kept" in /*/mutex-vm.*) rm -rf "$kept" ;; esac
}

# ktap.py without a VM: a suite that stops half way (crash) and an empty log must fail.
printf '%s\n' '[    1.0] KTAP version 1' '[    1.0]     # Subtest: s' '[    1.0]     1..2' \
	'[    1.1]     ok 1 a' '[    1.2] BUG: kernel NULL pointer dereference' >"$work/crash"
python3 "$here/ktap.py" "$work/crash" >"$work/ktap" 2>&1
[ $? = 1 ] && grep -q INCOMPLETE "$work/ktap" && ok "ktap.py: an interrupted suite fails as INCOMPLETE" ||
	{ ko "ktap.py: interrupted suite"; cat "$work/ktap"; }
echo "no tests here" | python3 "$here/ktap.py" >"$work/ktap" 2>&1
[ $? = 1 ] && grep -q 'no test case ran' "$work/ktap" && ok "ktap.py: no test at all fails" ||
	{ ko "ktap.py: empty log"; cat "$work/ktap"; }

for lane in "${lanes[@]}"; do
	rel=$(lane_release "$lane") || { ko "$lane: lane not available"; continue; }
	bdir=$(lane_builddir "$lane") || { ko "$lane: no build dir"; continue; }
	echo "== lane $lane ($rel)"
	mdir=$work/mod-$lane
	mkdir -p "$mdir"
	cp "$here"/selftest/*.c "$here/selftest/Kbuild" "$mdir/"
	if make -s -C "$bdir" M="$mdir" modules >"$work/build.log" 2>&1 && [ -e "$mdir/vm_selftest.ko" ]; then
		ok "$lane: vm_selftest.ko builds against $bdir"
	else
		ko "$lane: building vm_selftest.ko"
		tail -20 "$work/build.log"
		continue
	fi
	ko_path=$mdir/vm_selftest.ko

	run "$lane: release, netns, exit 3" 3 "^$(printf '%s' "$rel" | sed 's/[][\.*^$+?(){}|]/\\&/g')\$" "" -- --lane "$lane" -- \
		sh -c 'uname -r; ip link set lo up; modprobe veth 2>/dev/null; ip netns add a && ip netns list; exit 3'
	grep -qx a "$work/out" && ok "$lane: ip netns list shows a" || ko "$lane: no netns a in output"
	# From a cwd under /tmp (so /tmp stays the host's read-only view in the VM).
	pushd "$work" >/dev/null || exit 1
	if run "$lane: stderr passes through" 0 "" "^to-stderr$" -- \
		--lane "$lane" -- bash -c 'printf "cwd=%s|path=%s|%s|%s|\n" "$PWD" "$PATH" "$1" "$2"; echo to-stderr >&2' \
		_ "a b" 'c$d'; then
		if grep -qxF "cwd=$work|path=$PATH|a b|c\$d|" "$work/out"; then
			ok "$lane: cwd, PATH and argument quoting are the caller's"
		else
			ko "$lane: cwd/PATH/quoting differ"
			sed 's/^/    | /' "$work/out"
		fi
	fi
	popd >/dev/null || exit 1
	run "$lane: clean module load and unload" 0 "" "" -- --lane "$lane" -- \
		sh -c "insmod $ko_path && rmmod vm_selftest"
	run "$lane: real WARN ends the VM" 125 "" "WARNING: .*vm_selftest|vm_selftest: deliberate warning" -- \
		--lane "$lane" -- insmod "$ko_path" action=warn
	run "$lane: synthetic WARNING: line in dmesg" 125 "" "WARNING: synthetic" -- \
		--lane "$lane" -- sh -c 'echo "WARNING: synthetic line from the harness self-test" >/dev/kmsg'
	if [ "$lane" = debug ]; then
		run "$lane: kmemleak leak" 125 "" "unreferenced object" -- \
			--lane "$lane" -- insmod "$ko_path" action=leak
		run "$lane: KASAN use-after-free" 125 "" "KASAN: (slab-)?use-after-free" -- \
			--lane "$lane" -- insmod "$ko_path" action=uaf
		run "$lane: lockdep circular locking" 125 "" "circular locking" -- \
			--lane "$lane" -- insmod "$ko_path" action=lockdep
		run "$lane: UBSAN/KASAN out of bounds" 125 "" "UBSAN: array-index-out-of-bounds|KASAN: stack-out-of-bounds" -- \
			--lane "$lane" -- insmod "$ko_path" action=ubsan
		# ktap.py on real KUnit output: a passing suite, then one with a failing case.
		if run "$lane: KUnit suites run" 0 "# vm_selftest_fail: pass:2 fail:1 skip:1 total:4" "" -- --lane "$lane" --no-kmemleak -- \
			sh -c "insmod $mdir/vm_selftest_kunit.ko && insmod $mdir/vm_selftest_kunit_fail.ko && dmesg"; then
			python3 "$here/ktap.py" --require vm_selftest "$work/out" >"$work/ktap" 2>&1
			[ $? = 1 ] && grep -q '^suite vm_selftest: pass 3, fail 0, skip 1, total 4: ok$' "$work/ktap" &&
				grep -q '^suite vm_selftest_fail: pass 2, fail 1, skip 1, total 4: FAILED$' "$work/ktap" &&
				grep -q 'FAIL vm_selftest_maybe_fails' "$work/ktap" &&
				ok "$lane: ktap.py reads real KUnit output (1 suite passes, 1 fails)" ||
				{ ko "$lane: ktap.py on real KUnit output"; sed 's/^/    | /' "$work/ktap"; }
			sed '/vm_selftest_fail/,$d' "$work/out" >"$work/out-pass"
			python3 "$here/ktap.py" --require vm_selftest "$work/out-pass" >"$work/ktap" 2>&1 &&
				ok "$lane: ktap.py passes the passing suite alone" ||
				{ ko "$lane: ktap.py on the passing suite"; sed 's/^/    | /' "$work/ktap"; }
		fi
	fi
done
run "${lanes[0]}: sleep 1000 hits --timeout 60" 124 "" "TIMEOUT" -- \
	--lane "${lanes[0]}" --timeout 60 -- sleep 1000

echo "selftest: $pass passed, $fail failed"
((fail == 0))
