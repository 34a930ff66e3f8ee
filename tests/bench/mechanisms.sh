#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# What the module's mechanisms buy, measured in the kernel (not part of the test suite; see
# tests/bench/README.md, "Mechanisms"):
#
#   tests/bench/mechanisms.sh [--lane 6.12|6.1|debug] [--source HEAD|worktree|REV] [--reps N]
#                             [--quick | --smoke] [--build DIR]
#
# Builds the benchmark build of mutex_proxy.ko (kmod/build.sh ... MUTEX_PROXY_BENCH=y: the
# in-kernel measurements of kmod/bench.c and their debugfs trigger, which the production build
# does not carry) from a clean export of the source revision, boots ONE VM with two CPUs on two
# host threads (qemu's multi-threaded TCG, no -icount: two CPUs must really run at once) and runs
# tests/bench/guest_mechanisms.py inside: each mechanism beside what it replaces, on one CPU and
# on two at once, interleaved. Prints where the time went, the results and how to reproduce them.
#   --lane L     kernel lane (tests/vm/lanes.sh), default 6.12
#   --source S   HEAD (default), any git revision, or worktree
#   --reps N     measured runs per variant (default 5, after one calibration run)
#   --quick      2 runs per variant, short runs, small tables: a smoke test, not for numbers
#   --smoke      what CI runs: the module built with sparse too (C=2), one tiny run per variant,
#                single-threaded TCG (which no static-key patching can race), the worktree;
#                fails without a whole report (on the debug lane KASAN, lockdep and kmemleak
#                watch the measuring code as well)
#   --build DIR  build directory (default build-bench/ at the top of the checkout)
# Exit status: 0 when the benchmark ran, else non-zero.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../vm/lanes.sh
. "$top/tests/vm/lanes.sh"
# shellcheck source-path=SCRIPTDIR source=source.sh
. "$here/source.sh"

usage() { awk 'NR > 2 && /^#/ { sub(/^# ?/, ""); print; next } NR > 2 { exit }' "$0" >&2; exit 2; }
lane=6.12 source=HEAD reps=5 quick=0 smoke=0 build=$top/build-bench
while (($#)); do
	case "$1" in
	--lane) lane=$2; shift 2 ;;
	--source) source=$2; shift 2 ;;
	--reps) reps=$2; shift 2 ;;
	--quick) quick=1; shift ;;
	--smoke) smoke=1 source=worktree; shift ;;
	--build) build=$2; shift 2 ;;
	-h | --help) usage ;;
	*) echo "bench: unknown option $1" >&2; usage ;;
	esac
done
case "$lane" in 6.1 | 6.12 | debug) ;; *) echo "bench: --lane takes 6.1, 6.12 or debug" >&2; exit 2 ;; esac
[[ $reps =~ ^[1-9][0-9]*$ ]] || { echo "bench: --reps takes a positive number" >&2; exit 2; }

T0=$EPOCHREALTIME
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }
say() { printf '[%6.1fs] %s\n' "$(since "$T0")" "$*"; }

mkdir -p "$build"
build=$(cd "$build" && pwd)
release=$(lane_release "$lane")
bench_source "$top" "$build" "$source" || exit 2
say "measuring $src_desc"

t=$EPOCHREALTIME
moddir=$build/kmod-bench-$lane-$release
say "building the benchmark build of mutex_proxy.ko for $release (log: $moddir.log)"
kargs=(MUTEX_PROXY_BENCH=y)
((smoke)) && kargs+=(C=2)
"$src/kmod/build.sh" "$(lane_builddir "$lane")" "$moddir" "${kargs[@]}" >"$moddir.log" 2>&1 || {
	tail -30 "$moddir.log"; echo "bench: module build failed" >&2; exit 1; }
build_s=$(since "$t")

gargs=(--module "$moddir" --vmtests "$src/tests/vm" --reps "$reps"
	--header "source: $src_desc"
	--header "host: $(hostname), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg); qemu TCG -smp 2, one host thread per vCPU (no KVM), lane $lane")
((quick)) && gargs+=(--reps 2 --target 0.05 --fill 10000 --rules 1000)
tcg=(--mttcg)
if ((smoke)); then
	gargs+=(--reps 1 --target 0.005 --fill 1000 --rules 100)
	tcg=()
fi
stamp=$(date +%Y%m%d-%H%M%S)
log=$build/mechanisms-$lane-$stamp.log
report=$(mktemp)
trap 'rm -f "$report"' EXIT
say "booting the VM (lane $lane, two CPUs); full log: $log"
t=$EPOCHREALTIME
vmrc=0
{
	"$top/tests/vm/vm-run.sh" --lane "$lane" "${tcg[@]}" --smp 2 --mem 3072 --timeout 3600 -- \
		python3 "$here/guest_mechanisms.py" "${gargs[@]}" 2>&1 || echo "@@vmrc $?"
} | {
	inreport=0
	while IFS= read -r line; do
		echo "$line" >>"$log"
		case "$line" in
		"@@report-begin") inreport=1 ;;
		"@@report-end") inreport=0 ;;
		"@@vmrc "*) echo "${line#@@vmrc }" >"$report.rc" ;;
		*) if ((inreport)); then echo "$line" >>"$report"; else say "$line"; fi ;;
		esac
	done
}
[ ! -s "$report.rc" ] || vmrc=$(cat "$report.rc")
rm -f "$report.rc"
vm_s=$(since "$t")

echo
echo "=== where the time went (wall clock) ==="
printf '  %-28s %7s s\n' "build (benchmark module)" "$build_s" "VM (boot, runs, shutdown)" "$vm_s" "total" "$(since "$T0")"
echo
if [ -s "$report" ]; then
	echo "=== results ==="
	cat "$report"
else
	echo "bench: the VM produced no report (vm-run exit $vmrc); see $log" >&2
fi
[ "$vmrc" = 0 ] || echo "bench: WARNING: vm-run exited with $vmrc (124 timeout, 125 kernel report, 126 VM failure)"
echo
echo "=== to reproduce ==="
echo "  cd $top && tests/setup.sh && tests/bench/mechanisms.sh --lane $lane --source ${rev:0:12} --reps $reps$( ((quick)) && echo ' --quick')$( ((smoke)) && echo ' --smoke')"
echo "  (full log of this run: $log)"
[ -s "$report" ] && [ "$vmrc" = 0 ]
