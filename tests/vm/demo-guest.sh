#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Runs inside the demonstration VM (see tests/demo.sh): loads the module and walks through what
# an operator does and sees, with real traffic between network namespaces:
#
#   the VM's root namespace = the validator node, mutex_proxy loaded, mutexd running on
#                             tests/vm/demo/mutexd.toml
#     lan0 10.20.0.1/24 (bridge) -- netns sentry-a 10.20.0.11 and netns sentry-b 10.20.0.12,
#                                   each a tests/vm/demo/peer.py on port 26656 greeting with its name
#     wan0 192.0.2.2/24          -- netns wan 192.0.2.1, the default route ("the internet"): the
#                                   peers 10.255.0.1:26656 and 198.51.100.7:30303 themselves
#                                   (peer.py), and an nftables counter of the packets that reach them
#     port 12345                    tests/vm/demo/proxy-client.py (reads SO_ORIGINAL_DST)
#
# It doubles as a smoke test: a step that does not do what it shows ends the run with
# "DEMO FAILED: ..." and exit status 1. Parts that another change is still bringing (mutexctl
# flows and origdst, the counters bytes_steered and flow_count) are announced as missing and
# skipped.
# Usage: demo-guest.sh MODULE_DIR MUTEXCTL MUTEXD   (MUTEX_DEMO_COLOR=1: bold headings)
# shellcheck disable=SC2016 # try takes shell lines to show and run as they are written
set -euo pipefail
moddir=$(realpath "$1")
demo=$(cd "$(dirname "$0")/demo" && pwd)
work=/run/demo
mkdir -p "$work/bin"
ln -sf "$(realpath "$2")" "$work/bin/mutexctl" # so that the commands read as an operator types them
ln -sf "$(realpath "$3")" "$work/bin/mutexd"
export PATH=$work/bin:$PATH
cd "$work"
exec 2>&1 # one stream, in order

# --- presentation and checks -----------------------------------------------------------------
if [ "${MUTEX_DEMO_COLOR:-0}" = 1 ]; then bold=$'\033[1m' dim=$'\033[2m' off=$'\033[0m'; else bold='' dim='' off=''; fi
step=0
say() { step=$((step + 1)); printf '\n%s%d. %s%s\n' "$bold" "$step" "$*" "$off"; }
note() { printf '%s# %s%s\n' "$dim" "$*" "$off"; }
show() { printf '%s$ %s%s\n' "$bold" "$1" "$off"; }
# run CMD...: show a command and run it.
run() { show "$*"; "$@"; }
# try 'SHELL LINE': show it, run it (eval: redirections and pipes as written), print its output
# and keep it in $out; returns the line's status.
try() {
	show "$1"
	local rc=0
	out=$(eval "$1" 2>&1) || rc=$?
	[ -z "$out" ] || printf '%s\n' "$out"
	return $rc
}
fail() { printf '\n%sDEMO FAILED: %s%s\n' "$bold" "$*" "$off"; exit 1; }
ok() { printf '%s  ok: %s%s\n' "$dim" "$*" "$off"; }
# expect WHAT GOT WANT
expect() { [ "$2" = "$3" ] || fail "$1: got '$2', expected '$3'"; ok "$1: $3"; }
# check WHAT JQ-EXPRESSION JSON: the expression must be true of the JSON
check() { [ "$(jq -e "$2" <<<"$3" 2>/dev/null)" = true ] || fail "$1 (jq: $2) in: $3"; ok "$1"; }
# missing WHAT: a part another change is still bringing; say so and go on.
missing() { printf '%s  (not in this build yet: %s; skipped)%s\n' "$dim" "$*" "$off"; }
set -E
trap 'fail "line $LINENO: \"$BASH_COMMAND\" exited with $?"' ERR
# Debian's python3: a python3 earlier on PATH (pyenv's shim) can take 10 s to start in the VM.
py=/usr/bin/python3
[ -x "$py" ] || py=python3
pids=()
declare -A sentry_pid
cleanup() {
	exec 3>&- 4>&-
	for p in "${pids[@]}" "${sentry_pid[@]}"; do kill "$p" 2>/dev/null || true; done
	pids=()
	sentry_pid=()
}
# start_sentry NAME ADDRESS: a sentry's peer.py in its namespace
start_sentry() {
	: >"$work/$1.log"
	ip netns exec "$1" "$py" "$demo/peer.py" "$1" "$2:26656" >"$work/$1.log" &
	sentry_pid[$1]=$!
	for _ in $(seq 300); do [ -s "$work/$1.log" ] && return; sleep 0.1; done
	fail "$1 did not start"
}
# wait_log TEXT: until mutexd's log has TEXT past the mark (set by mark_log)
log_mark=0
mark_log() { log_mark=$(wc -c <"$work/mutexd.log"); }
wait_log() {
	for _ in $(seq 600); do
		tail -c +$((log_mark + 1)) "$work/mutexd.log" | grep -qF -- "$1" && return
		sleep 0.1
	done
	fail "mutexd did not log '$1' within a minute"
}
# the log lines since the mark, without their time stamps
new_log() { tail -c +$((log_mark + 1)) "$work/mutexd.log" | sed 's/^[0-9-]* [0-9:.]* //'; }
trap cleanup EXIT

dial() { try 'socat - TCP:10.255.0.1:26656,connect-timeout=3 </dev/null'; }
# The internet's count of the packets the node sends straight to the peers: (re)started from 0.
# (No nft sets or named counters: the debug lane's kernel has no nft_objref, and its lockdep
# reports nf_tables' own set lookup.)
watch_direct() {
	ip netns exec wan nft delete table ip watch 2>/dev/null || true
	ip netns exec wan nft -f - <<-'EOF'
		table ip watch {
			chain in {
				type filter hook prerouting priority 0;
				ip daddr 10.255.0.1 counter
				ip daddr 198.51.100.0/24 counter
			}
		}
	EOF
}
direct() { try 'ip netns exec wan nft list chain ip watch in | grep -o "ip daddr.*"'; }
direct_pkts() { ip netns exec wan nft list chain ip watch in | awk '$4 == "counter" { n += $6 } END { print n + 0 }'; }
backend() { # the backend at ADDRESS (or port PORT) as config show -j gives it, one line
	mutexctl -j config show | jq -c --arg a "$1" '.backends[] | select(.address == $a or (.port | tostring) == $a)'
}

# ---------------------------------------------------------------------------------------------
# Loading and unloading the module must not flip netfilter's static keys under qemu's TCG while
# traffic runs (see ../pin-hooks.nft); not part of what an operator does.
nft -f "$demo/../pin-hooks.nft"

say "Load mutex_proxy into the VM's kernel ($(uname -r))"
deps=$(modinfo -F depends "$moddir/mutex_proxy.ko" | tr , ' ')
if [ -n "$deps" ]; then # none where the kernel has conntrack and NAT built in (debug lane)
	note "its dependencies, then the module (installed with DKMS, 'modprobe mutex_proxy' does both)"
	# shellcheck disable=SC2086 # one word per dependency
	run modprobe -a $deps
fi
run insmod "$moddir/mutex_proxy.ko"
run mutexctl status
have_flows=0
mutexctl -j status | jq -e '.features | index("flows")' >/dev/null && mutexctl flows --help >/dev/null 2>&1 &&
	have_flows=1

# ---------------------------------------------------------------------------------------------
say "The network: a validator node, two sentries, the internet"
cat <<'EOF'
  this VM (root namespace) = the validator node, mutex_proxy loaded
    lan0 10.20.0.1/24 ---+-- netns sentry-a  10.20.0.11: a sentry, answers on :26656 "sentry-a"
                         +-- netns sentry-b  10.20.0.12: the standby sentry, answers "sentry-b"
    wan0 192.0.2.2/24 ------ netns wan: the internet (default route), where the peers
                             10.255.0.1:26656 and 198.51.100.7:30303 themselves answer;
                             it counts the packets the node sends them directly
    port 12345               a local proxy client for Ethereum devp2p (SOCKS, relay, ...)
EOF
{
	ip link add lan0 type bridge
	ip addr add 10.20.0.1/24 dev lan0
	ip link set lan0 up
	for s in a:10.20.0.11 b:10.20.0.12; do
		ns=sentry-${s%%:*} addr=${s#*:}
		ip netns add "$ns"
		ip link add "$ns" type veth peer name eth0 netns "$ns"
		ip link set "$ns" master lan0 up
		ip -n "$ns" link set lo up
		ip -n "$ns" addr add "$addr/24" dev eth0
		ip -n "$ns" link set eth0 up
		ip -n "$ns" route add default via 10.20.0.1
		start_sentry "$ns" "$addr"
	done
	ip netns add wan
	ip link add wan0 type veth peer name eth0 netns wan
	ip addr add 192.0.2.2/24 dev wan0
	ip link set wan0 up
	ip -n wan link set lo up
	ip -n wan addr add 192.0.2.1/24 dev eth0
	ip -n wan addr add 10.255.0.1/32 dev lo
	ip -n wan addr add 198.51.100.7/32 dev lo
	ip -n wan link set eth0 up
	ip route add default via 192.0.2.1
	watch_direct
	ip netns exec wan "$py" "$demo/peer.py" "peer-itself: reached directly, it sees the node's address {client}" \
		10.255.0.1:26656 198.51.100.7:30303 >"$work/wan.log" &
	pids+=($!)
	"$py" "$demo/proxy-client.py" 12345 >"$work/proxy-client.log" &
	pids+=($!)
	for f in wan proxy-client; do
		for _ in $(seq 300); do [ -s "$work/$f.log" ] && break; sleep 0.1; done
		[ -s "$work/$f.log" ] || fail "$f did not start"
	done
} >/dev/null
note "without a configuration the module steers nothing: the validator's dial goes straight out"
dial || fail "the direct connection to 10.255.0.1:26656 failed"
[[ $out == "peer-itself: reached directly, it sees the node's address 192.0.2.2" ]] ||
	fail "the direct dial reached '$out'"
direct
[ "$(direct_pkts)" -gt 0 ] || fail "the internet's counter did not count the direct connection"
note "that is the leak mutex_proxy is for (the counter starts again from 0)"
watch_direct

# ---------------------------------------------------------------------------------------------
say "Start mutexd: the peer address to the sentries (failover), devp2p to the proxy client"
note "the configuration file, modelled on daemon/mutexd.toml:"
cp "$demo/mutexd.toml" .
run cat mutexd.toml
run mutexd --check --config mutexd.toml
note "mutexd puts it into the kernel in one step and health-checks the sentries (on a node:"
note "systemctl enable --now mutexd; it logs to the journal)"
show 'mutexd --config mutexd.toml >mutexd.log 2>&1 &'
: >"$work/mutexd.log"
mutexd --config mutexd.toml >"$work/mutexd.log" 2>&1 &
mutexd_pid=$!
pids+=("$mutexd_pid")
wait_log "ready:"
try 'sed "s/^[0-9-]* [0-9:.]* //" mutexd.log'
note "what the kernel holds now, defaults filled in:"
run mutexctl config show

# ---------------------------------------------------------------------------------------------
say "The validator dials its peer 10.255.0.1:26656 again: the preferred sentry answers"
dial || fail "the connection to 10.255.0.1:26656 failed"
expect "answered by" "$out" sentry-a
note "a long-lived peer connection, kept open on fd 3 for the rest of the demo:"
show 'exec 3<>/dev/tcp/10.255.0.1/26656'
exec 3<>/dev/tcp/10.255.0.1/26656
try 'read -r -t 5 line <&3 && echo "$line"' || fail "no greeting on the long-lived connection"
expect "answered by" "$out" sentry-a
note "the kernel's own conntrack shows the NAT (mutex_proxy works through it; the entry answered by"
note "10.255.0.1 itself is the dial before the configuration):"
try 'conntrack -L -p tcp --orig-dst 10.255.0.1 2>/dev/null'
[ "$(grep -c 'src=10.20.0.11 dst=192.0.2.2 sport=26656' <<<"$out")" = 2 ] ||
	fail "conntrack does not show both connections NATed to sentry-a"
ok "both connections NATed to 10.20.0.11"

say "Ethereum devp2p to 198.51.100.7:30303 goes to the proxy client, which learns the destination"
show 'exec 4<>/dev/tcp/198.51.100.7/30303'
exec 4<>/dev/tcp/198.51.100.7/30303
try 'read -r -t 5 line <&4 && echo "$line"' || fail "no answer on the devp2p connection"
re='^proxy client: connection from ([0-9.]+):([0-9]+) to ([0-9.]+):([0-9]+), SO_ORIGINAL_DST = ([0-9.:]+)$'
[[ $out =~ $re ]] || fail "the devp2p connection did not reach the proxy client"
expect "SO_ORIGINAL_DST" "${BASH_REMATCH[5]}" 198.51.100.7:30303
if ((have_flows)); then
	note "the same answer over netlink (for UDP too), given the connection as the proxy sees it:"
	try "mutexctl origdst tcp ${BASH_REMATCH[1]} ${BASH_REMATCH[2]} ${BASH_REMATCH[3]} ${BASH_REMATCH[4]}" ||
		fail "mutexctl origdst"
	expect "mutexctl origdst" "$out" "198.51.100.7 30303"
else
	missing "mutexctl origdst"
fi

# ---------------------------------------------------------------------------------------------
say "What the module tracks: flows, counters, flows per backend"
flows_bytes=''
if ((have_flows)); then
	run mutexctl flows
	j=$(mutexctl -j flows)
	check "two flows to 10.255.0.1:26656 went to sentry-a, with packets and bytes both ways" \
		'[.[] | select(.orig_dst_addr == "10.255.0.1" and .orig_dst_port == 26656 and .action == "dnat"
		   and .dst_addr == "10.20.0.11" and .dst_port == 26656
		   and .pkts_orig > 0 and .bytes_orig > 0 and .pkts_reply > 0 and .bytes_reply > 0)] | length == 2' "$j"
	check "one flow to 198.51.100.7:30303 was redirected to port 12345" \
		'[.[] | select(.orig_dst_addr == "198.51.100.7" and .orig_dst_port == 30303
		   and .action == "redirect" and .dst_port == 12345)] | length == 1' "$j"
	flows_bytes=$(jq '[.[] | .bytes_orig + .bytes_reply] | add' <<<"$j")
else
	missing "mutexctl flows"
fi
run mutexctl stats
j=$(mutexctl -j stats)
check "3 flows steered, their packets counted" '.flows_steered == 3 and .pkts_steered > 0' "$j"
if jq -e 'has("bytes_steered") and has("flow_count")' <<<"$j" >/dev/null; then
	check "their bytes counted, 3 flows in the table" '.bytes_steered > 0 and .flow_count == 3' "$j"
	[ -z "$flows_bytes" ] || check "bytes_steered is the sum over the flows ($flows_bytes)" \
		".bytes_steered == $flows_bytes" "$j"
else
	missing "the counters bytes_steered and flow_count"
fi
note "each backend's active and total flows, packets and bytes:"
try "mutexctl -j config show | jq -c '.backends[]'"
check "sentry-a: 2 flows" '.active_flows == 2 and .total_flows == 2 and .pkts > 0 and .bytes > 0' \
	"$(backend 10.20.0.11)"
check "sentry-b: none" '.total_flows == 0' "$(backend 10.20.0.12)"
check "the proxy client: 1" '.active_flows == 1 and .total_flows == 1' "$(backend 12345)"

# ---------------------------------------------------------------------------------------------
say "Failover: sentry-a dies, mutexd's checks notice and move new connections to sentry-b"
mark_log
gen=$(mutexctl -j config show | jq .generation)
start=$(date +%s.%N)
show "kill ${sentry_pid[sentry-a]}   # sentry-a's p2p process"
kill "${sentry_pid[sentry-a]}"
unset 'sentry_pid[sentry-a]'
wait_log "backend 10.20.0.11:26656: up -> down"
took=$(echo "$(date +%s.%N) - $start" | bc)
try new_log
ok "sentry-a out $(printf '%.1f' "$took") s after it died (check every 500 ms, fall 2)"
check "the kernel holds sentry-a down, the same generation" ".generation == $gen" "$(mutexctl -j config show)"
check "sentry-a is down" '.state == "down"' "$(backend 10.20.0.11)"
note "a new connection goes to sentry-b"
dial || fail "the connection to 10.255.0.1:26656 failed after failover"
expect "answered by" "$out" sentry-b
check "sentry-b has the new flow" '.state == "up" and .total_flows == 1' "$(backend 10.20.0.12)"

say "sentry-a comes back: up after two good checks, and preferred again"
mark_log
show 'ip netns exec sentry-a peer.py sentry-a 10.20.0.11:26656 &   # restarted'
start_sentry sentry-a 10.20.0.11
wait_log "backend 10.20.0.11:26656: down -> up"
try new_log
dial || fail "the connection to 10.255.0.1:26656 failed after sentry-a returned"
expect "answered by" "$out" sentry-a

say "Failure mode closed: both sentries die, the connection fails rather than go out directly"
mark_log
show "kill ${sentry_pid[sentry-a]} ${sentry_pid[sentry-b]}   # both sentries' p2p processes"
kill "${sentry_pid[sentry-a]}" "${sentry_pid[sentry-b]}"
sentry_pid=()
wait_log "backend 10.20.0.11:26656: up -> down"
wait_log "backend 10.20.0.12:26656: up -> down"
try new_log
dropped=$(mutexctl -j stats | jq .flows_dropped)
if dial; then fail "a connection got through with no sentry up"; fi
[[ $out == *"timed out"* ]] || fail "the connection should time out (its packets dropped), not: $out"
ok "the connection failed"
check "its SYNs were dropped by the module" ".flows_dropped > $dropped" "$(mutexctl -j stats)"
note "packets the node sent directly to 10.255.0.1 or 198.51.100.0/24 since it was configured:"
direct
expect "packets sent directly to a peer" "$(direct_pkts)" 0

# ---------------------------------------------------------------------------------------------
say "Metrics for Prometheus (mutexd, 127.0.0.1:9477/metrics) and the live view, mutexctl top"
note "a few of the families; daemon/metrics/grafana-dashboard.json charts them all"
scrape() { "$py" -c 'import urllib.request; print(urllib.request.urlopen("http://127.0.0.1:9477/metrics").read().decode(), end="")'; }
try 'scrape | grep -E "^mutex_proxy_(backend_healthy|backend_flows_total|rule_matches_total|flows_total)"'
check "both sentries down in the metrics" '. == 2' \
	"$(grep -cE '^mutex_proxy_backend_healthy\{pool="cosmos-sentries",backend="10.20.0.1[12]:26656"\} 0$' <<<"$out")"
note "mutexctl top refreshes every second in a terminal (q quits); here one refresh:"
try 'mutexctl top --count 1'
check "top shows the rules" 'test("cosmos-p2p")' "$(jq -Rs . <<<"$out")"

# ---------------------------------------------------------------------------------------------
say "Tuning at run time, through netlink or sysfs"
run mutexctl params set perf_batch_size 64
try 'echo 4096 >/sys/module/mutex_proxy/parameters/perf_cache_size'
note "a bad value is refused, and so is a bad configuration; nothing changes"
if run mutexctl params set perf_cache_size 1000; then fail "perf_cache_size 1000 was accepted"; fi
if try 'echo 0 | tee /sys/module/mutex_proxy/parameters/perf_batch_size'; then
	fail "perf_batch_size 0 was accepted"
fi
note "an operator saves the file with a typo: mutexd reloads it (it watches the file), refuses it"
note "with the place of the mistake, and the running configuration stays"
gen=$(mutexctl -j config show | jq .generation)
mark_log
try "sed -i 's/\"failover\"/\"fail-over\"/' mutexd.toml"
wait_log "refused: the running configuration"
try new_log
check "the configuration is unchanged (generation $gen)" ".generation == $gen" "$(mutexctl -j config show)"
run mutexctl params
check "perf_batch_size 64 and perf_cache_size 4096" '.perf_batch_size == 64 and .perf_cache_size == 4096' \
	"$(mutexctl -j params)"

# ---------------------------------------------------------------------------------------------
say "State is per network namespace: sentry-a's namespace has its own, empty configuration"
run ip netns exec sentry-a mutexctl config show
try 'ip netns exec sentry-a mutexctl stats | grep flow'
check "nothing steered there" '.flows_steered == 0' "$(ip netns exec sentry-a mutexctl -j stats)"

say "/proc/net/mutex_proxy; mutexd stops, the kernel keeps steering; unload"
run cat /proc/net/mutex_proxy
mark_log
run kill -TERM "$mutexd_pid"
wait "$mutexd_pid" || fail "mutexd exited with $?"
try new_log
cleanup
run rmmod mutex_proxy
printf '\n%sThe demonstration ran to the end: every step did what it showed.%s\n' "$bold" "$off"
