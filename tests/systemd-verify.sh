#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Checks daemon/mutexd.service as systemd reads it: `systemd-analyze verify` must say nothing
# (an unknown key, a bad value or a missing binary is a warning there, a failure here), and
# `systemd-analyze security` must rate its exposure at most 3.0 ("OK"; --threshold counts tenths). ExecStart points at
# the mutexd just built, since /usr/sbin/mutexd is not installed on a build machine.
# Usage: tests/systemd-verify.sh BUILD_DIR
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$1" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

sed "s|^ExecStart=/usr/sbin/mutexd|ExecStart=$build/mutexd|" "$top/daemon/mutexd.service" \
	>"$work/mutexd.service"
if ! out=$(systemd-analyze verify "$work/mutexd.service" 2>&1) || [ -n "$out" ]; then
	echo "systemd-analyze verify daemon/mutexd.service:"
	echo "$out"
	exit 1
fi
systemd-analyze security --offline=yes --threshold=30 "$work/mutexd.service" | tail -1
echo "daemon/mutexd.service: verified"
