#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The mutex_proxy benchmark (not part of the test suite; see tests/bench/README.md):
#
#   tests/bench/run.sh [--lane 6.12|6.1] [--source HEAD|worktree|REV] [--reps N] [--quick]
#                      [--sections ABCDEFGHIJ] [--shapes LIST] [--build DIR]
#
# Builds mutex_proxy.ko for the lane's kernel (kmod/build.sh, from a clean export of the source
# revision: default HEAD, so colleagues' uncommitted work in the checkout is not measured by
# accident; --source worktree measures the checkout as it is) and the connrate helper, boots ONE
# VM with one CPU and qemu's instruction counting (-smp 1 -icount shift=3,sleep=off: guest time
# follows executed instructions, so host noise mostly drops out of guest-timed figures) and runs
# tests/bench/guest_bench.py inside it. Prints progress with wall-clock offsets, where the time
# went, the results table with ratios and targets, and how to reproduce the run.
#   --lane L       kernel lane (tests/vm/lanes.sh), default 6.12
#   --source S     HEAD (default), any git revision, or worktree
#   --reps N       measured runs per variant (default 5; one warm-up run each is discarded)
#   --quick        2 runs per variant, shorter runs: a smoke test, not for numbers
#   --sections X   subset of ABCDEFGHIJ (default ABCDEFGHIJ)
#   --shapes LIST  section G: comma-separated rule shapes (default all; see README.md)
#   --build DIR    build directory (default build-bench/ at the top of the checkout)
# Exit status: 0 when the benchmark ran (whether or not targets were met), else non-zero.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../vm/lanes.sh
. "$top/tests/vm/lanes.sh"
# shellcheck source-path=SCRIPTDIR source=source.sh
. "$here/source.sh"

usage() { awk 'NR > 2 && /^#/ { sub(/^# ?/, ""); print; next } NR > 2 { exit }' "$0" >&2; exit 2; }
lane=6.12 source=HEAD reps=5 quick=0 sections=ABCDEFGHIJ shapes= build=$top/build-bench
while (($#)); do
	case "$1" in
	--lane) lane=$2; shift 2 ;;
	--source) source=$2; shift 2 ;;
	--reps) reps=$2; shift 2 ;;
	--quick) quick=1; shift ;;
	--sections) sections=$2; shift 2 ;;
	--shapes) shapes=$2; shift 2 ;;
	--build) build=$2; shift 2 ;;
	-h | --help) usage ;;
	*) echo "bench: unknown option $1" >&2; usage ;;
	esac
done
case "$lane" in 6.1 | 6.12) ;; *) echo "bench: --lane takes 6.1 or 6.12 (stock kernels)" >&2; exit 2 ;; esac
[[ $reps =~ ^[1-9][0-9]*$ ]] || { echo "bench: --reps takes a positive number" >&2; exit 2; }
[[ $sections =~ ^[ABCDEFGHIJ]+$ ]] || { echo "bench: --sections takes letters of ABCDEFGHIJ" >&2; exit 2; }

T0=$EPOCHREALTIME
declare -a phase_names=() phase_secs=()
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }
phase() { phase_names+=("$1"); phase_secs+=("$2"); }
say() { printf '[%6.1fs] %s\n' "$(since "$T0")" "$*"; }

mkdir -p "$build"
build=$(cd "$build" && pwd)
release=$(lane_release "$lane")

# --- the source measured ----------------------------------------------------------------------
t=$EPOCHREALTIME
bench_source "$top" "$build" "$source" || exit 2
say "measuring $src_desc"

# --- builds -------------------------------------------------------------------------------------
moddir=$build/kmod-$lane-$release
say "building mutex_proxy.ko for $release (log: $moddir.log)"
mkdir -p "$moddir"
"$src/kmod/build.sh" "$(lane_builddir "$lane")" "$moddir" >"$moddir.log" 2>&1 || {
	tail -30 "$moddir.log"; echo "bench: module build failed" >&2; exit 1; }
tool=$build/connrate
gcc -O2 -Wall -Wextra -Werror -o "$tool" "$here/connrate.c"
# mutexctl and mutexd, optimized (section H times mutexctl on a million flows, I measures mutexd)
say "building mutexctl (Release; log: $build/userspace.log)"
mutexctl=$build/userspace-${rev:0:12}/mutexctl
{ cmake -S "$src" -B "$build/userspace-${rev:0:12}" -DCMAKE_BUILD_TYPE=Release &&
	cmake --build "$build/userspace-${rev:0:12}" -j"$(nproc)" --target mutexctl mutexd; } >"$build/userspace.log" 2>&1 || {
	tail -5 "$build/userspace.log"
	say "WARNING: no optimized mutexctl for this source (an older revision?): section H goes without"
	mutexctl=; }
command -v iperf3 >/dev/null || { echo "bench: iperf3 is missing: run tests/setup.sh" >&2; exit 1; }
phase "build (module, connrate, mutexctl)" "$(since "$t")"

# --- the VM ---------------------------------------------------------------------------------
gargs=(--module "$moddir" --vmtests "$src/tests/vm" --tool "$tool" --reps "$reps" --sections "$sections"
	--header "source: $src_desc"
	--header "host: $(hostname), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg); qemu -smp 1 -icount shift=3,sleep=off, lane $lane")
[ -z "$shapes" ] || gargs+=(--g-shapes "$shapes")
[ -z "$mutexctl" ] || gargs+=(--mutexctl "$mutexctl")
((quick)) && gargs+=(--reps 2 --iperf-secs 1 --rate-secs 0.5 --flows 500 --h-flows 50000 --h-window 16
	--i-rules 1000 --i-window 5 --i-scrapes 3 --j-flows 2000 --j-warm 3 --j-secs 1)
stamp=$(date +%Y%m%d-%H%M%S)
log=$build/bench-$lane-$stamp.log
outdir=$build/out-$lane-$stamp
report=$(mktemp)
trap 'rm -f "$report"' EXIT
say "booting the VM (lane $lane, one CPU, -icount shift=3,sleep=off); full log: $log"
t=$EPOCHREALTIME
declare -A sec_start=() sec_wall=() sec_guest=()
sec_order=()
vmrc=0
{
	"$top/tests/vm/vm-run.sh" --lane "$lane" --smp 1 --mem 3072 --timeout 7200 --outdir "$outdir" \
		--qemu-args "-icount shift=3,sleep=off" -- python3 "$here/guest_bench.py" "${gargs[@]}" 2>&1 || echo "@@vmrc $?"
} | {
	inreport=0
	while IFS= read -r line; do
		echo "$line" >>"$log"
		case "$line" in
		"@@report-begin") inreport=1 ;;
		"@@report-end") inreport=0 ;;
		"@@begin "*) n=${line#@@begin }; sec_start[$n]=$EPOCHREALTIME; sec_order+=("$n") ;;
		"@@end "*)
			read -r n g <<<"${line#@@end }"
			sec_wall[$n]=$(since "${sec_start[$n]}"); sec_guest[$n]=$g
			say "section $n done: ${sec_wall[$n]} s wall, $g s guest" ;;
		"@@vmrc "*) echo "${line#@@vmrc }" >"$report.rc" ;;
		*) if ((inreport)); then echo "$line" >>"$report"; else say "$line"; fi ;;
		esac
	done
	for n in "${sec_order[@]}"; do echo "$n ${sec_wall[$n]:-?} ${sec_guest[$n]:-?}"; done >"$report.sections"
}
[ ! -s "$report.rc" ] || vmrc=$(cat "$report.rc")
vm_wall=$(since "$t")
total=$(since "$T0")

echo
echo "=== where the time went (wall clock on the host; guest time inside the VM) ==="
for i in "${!phase_names[@]}"; do printf '  %-34s %7s s\n' "${phase_names[$i]}" "${phase_secs[$i]}"; done
in_sections=0
while read -r n w g; do
	printf '  %-34s %7s s   (guest %s s)\n' "VM: section $n" "$w" "$g"
	in_sections=$(awk -v a="$in_sections" -v b="$w" 'BEGIN { print a + (b == "?" ? 0 : b) }')
done <"$report.sections"
printf '  %-34s %7s s\n' "VM: boot, module loads, shutdown" "$(awk -v a="$vm_wall" -v b="$in_sections" 'BEGIN { printf "%.1f", a - b }')"
printf '  %-34s %7s s\n' "total" "$total"
rm -f "$report.sections" "$report.rc"

echo
if [ -s "$report" ]; then
	echo "=== results ==="
	cat "$report"
elif [ -s "$outdir/report.txt" ]; then
	echo "=== results: PARTIAL, the VM ended early (vm-run exit $vmrc; see above and $log) ==="
	cat "$outdir/report.txt"
else
	echo "bench: the VM produced no report (vm-run exit $vmrc); see $log" >&2
fi
if [ "$vmrc" != 0 ]; then
	echo
	echo "bench: WARNING: vm-run exited with $vmrc (124 timeout, 125 kernel report such as a WARN, 126 VM failure)"
	echo "       after or during the measurements; the kernel's messages are above and in $log"
fi

echo
echo "=== to reproduce ==="
src_arg=${rev:0:12}
echo "  cd $top && tests/setup.sh && tests/bench/run.sh --lane $lane --source $src_arg --reps $reps$( ((quick)) && echo ' --quick')$([ "$sections" = ABCDEFGHIJ ] || echo " --sections $sections")"
echo "  (benchmark scripts at $(git -C "$top" rev-parse --short HEAD)$([ -z "$(git -C "$top" status --porcelain -- tests/bench)" ] || echo ' + uncommitted tests/bench'); kernel $release;"
echo "   the VM: tests/vm/vm-run.sh --lane $lane --smp 1 --qemu-args '-icount shift=3,sleep=off' -- python3 tests/bench/guest_bench.py ...;"
echo "   full log of this run: $log)"
[ -s "$report" ] && [ "$vmrc" = 0 ]
