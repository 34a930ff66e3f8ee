#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Checks every unit the project ships (daemon/*.service) as systemd reads it: `systemd-analyze
# verify` must say nothing (an unknown key, a bad value or a missing binary is a warning there, a
# failure here), and `systemd-analyze security` must rate each one's exposure at most 3.0 ("OK";
# --threshold counts tenths). The units point at the binaries just built, since /usr/sbin/mutexd
# and /usr/bin/mutexctl are not installed on a build machine.
# Usage: tests/systemd-verify.sh BUILD_DIR
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$1" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

units=()
for unit in "$top"/daemon/*.service; do
	name=$(basename "$unit")
	sed -e "s|/usr/sbin/mutexd|$build/mutexd|g" -e "s|/usr/bin/mutexctl|$build/mutexctl|g" \
		"$unit" >"$work/$name"
	units+=("$work/$name")
done
[ "${#units[@]}" -ge 2 ] || { echo "systemd-verify: units missing in daemon/"; exit 1; }
# Verified together, so that each finds the others it names.
if ! out=$(cd "$work" && systemd-analyze verify "${units[@]}" 2>&1) || [ -n "$out" ]; then
	echo "systemd-analyze verify daemon/*.service:"
	echo "$out"
	exit 1
fi
for unit in "${units[@]}"; do
	rating=$(systemd-analyze security --offline=yes --threshold=30 "$unit" | tail -1)
	echo "$(basename "$unit"): $rating"
done
echo "daemon/*.service: verified (${#units[@]} units)"
