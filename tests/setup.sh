#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Installs everything mutex_proxy needs to build, demonstrate and test itself on Debian 12:
# Debian packages, the stock 6.1 and 6.12 kernels (images and headers), and the debug kernel
# (built once from Debian's kernel source and cached outside the checkout). Idempotent: a
# second run installs nothing and returns in seconds.
# Usage: tests/setup.sh [--packages | --demo [6.1|6.12]]
#   --packages  the Debian packages only (tests/run.sh times the packages and the debug kernel
#               apart)
#   --demo      only what tests/demo.sh needs for its lane (default 6.1): the build without its
#               tests, that stock kernel (a Debian 12 machine runs 6.1 already: its headers) and
#               the VM harness; no test tools, no debug kernel, so a fresh machine reaches the
#               demonstration in minutes
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mode=${1:-all}
demo_lane=${2:-6.1}
case "$mode" in all | --packages | --demo) ;; *) echo "usage: $0 [--packages|--demo [6.1|6.12]]" >&2; exit 2 ;; esac
case "$demo_lane" in
6.1) demo_kernel=(linux-image-amd64 linux-headers-amd64) ;;
6.12) demo_kernel=(linux-image-6.12-amd64 linux-headers-6.12-amd64) ;;
*) echo "usage: $0 --demo [6.1|6.12]" >&2; exit 2 ;;
esac

# What the demonstration needs: building mutexctl, mutexd and the module, and the VM it runs in.
demo_packages=(
	# build: userspace (without the tests)
	build-essential cmake pkg-config g++
	libmnl-dev libnl-3-dev libnl-route-3-dev libboost-dev libspdlog-dev libfmt-dev
	libtomlplusplus-dev libcli11-dev nlohmann-json3-dev libsystemd-dev zlib1g-dev
	# build: kernel module against the demo lane's stock kernel
	bc bison flex libelf-dev libssl-dev dwarves kmod "${demo_kernel[@]}"
	# VM harness and the tools the demonstration runs inside it
	qemu-system-x86 busybox-static cpio iproute2 util-linux procps python3 socat conntrack jq
	nftables
)
# The rest of what the tests and benchmarks need.
test_packages=(
	# both stock kernels
	linux-image-amd64 linux-headers-amd64 linux-image-6.12-amd64 linux-headers-6.12-amd64
	# unit tests and lint
	clang-format clang-tidy libgtest-dev libgmock-dev
	# module lint (sparse), the debug kernel's source and build, DKMS (openssl: it signs modules)
	sparse xz-utils dkms openssl linux-source-6.1
	# in-VM test tools
	iptables
	# the systemd unit is checked with systemd-analyze
	systemd
	# benchmarks (tests/bench/): throughput between namespaces
	iperf3
	# metrics: promtool checks a scrape, a real Prometheus server scrapes mutexd in the VM
	prometheus
	# mutexctl top is used under tmux as a person would
	tmux
	# the Debian packages: built with the standard tools and checked with lintian (tests/deb.sh)
	debhelper dh-dkms help2man lintian
)
packages=("${demo_packages[@]}")
[ "$mode" = --demo ] || packages+=("${test_packages[@]}")

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
	echo "setup: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	# The tests start their own Prometheus inside the VM; the package's host service, enabled
	# by its installation, is not wanted on a build machine.
	if [[ " ${missing[*]} " == *" prometheus "* ]] && command -v systemctl >/dev/null; then
		systemctl disable --now prometheus >/dev/null 2>&1 || true
	fi
fi

[ "$mode" != all ] || "$here/vm/debug-kernel.sh"
