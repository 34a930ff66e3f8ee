#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# clang-tidy over the project's C++ translation units (tools/, daemon/, tests/unit/), with the
# repository's .clang-tidy files (every enabled check is an error; tests/unit/.clang-tidy leaves
# out the static analyzer). A translation unit that passed once is not checked again until it,
# any project header, the configuration, its compile command (with the checkout's and the
# build's paths taken out) or clang-tidy itself changes: the verdicts are cached outside the
# checkout in /var/cache/mutex_proxy/clang-tidy, shared by every checkout on the machine.
# Uncached, all 16 units took 188 s on an idle 2-core machine (516-782 s beside a VM lane
# before the unit tests dropped the analyzer). Usage: tests/clang-tidy.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
top=$(cd "$(dirname "$0")/.." && pwd)
cache=${MUTEX_CACHE:-/var/cache/mutex_proxy}/clang-tidy
mkdir -p "$cache"

# What every translation unit's verdict depends on besides its own text and compile command.
common=$({
	clang-tidy --version
	find "$top/.clang-tidy" "$top/tools" "$top/daemon" "$top/tests/unit" -name .clang-tidy -print0 2>/dev/null | sort -z | xargs -0 cat
	find "$top/tools" "$top/daemon" "$top/tests/unit" "$top/include" \
		\( -name '*.hpp' -o -name '*.h' \) -print0 2>/dev/null | sort -z | xargs -0 cat
} | sha256sum | cut -c1-64)

todo=()
while IFS=$'\t' read -r file command; do
	key=$({ echo "$common"; echo "$command"; cat "$file"; } | sha256sum | cut -c1-64)
	[ -e "$cache/$key" ] || todo+=("$file:$key")
done < <(python3 - "$build/compile_commands.json" "$top" "$build" <<'PY'
import json, re, sys
top, build = sys.argv[2], sys.argv[3]
for e in json.load(open(sys.argv[1])):
    f = e["file"]
    if re.match(re.escape(top) + r"/(tools|daemon|tests/unit)/.*\.cpp$", f):
        # The key must not depend on where the checkout is: a clean clone elsewhere (CI)
        # reuses the verdicts.
        cmd = e.get("command", " ".join(e.get("arguments", [])))
        print(f + "\t" + cmd.replace(build, "@BUILD@").replace(top, "@TOP@"))
PY
)

echo "clang-tidy: ${#todo[@]} translation units to check (the others passed before unchanged)"
((${#todo[@]})) || exit 0
check_one() {
	local file=${1%:*} key=${1##*:} out rc=0
	# The compile commands are GCC's: clang does not know some of its warning options.
	out=$(clang-tidy -quiet -p "$2" --extra-arg=-Wno-unknown-warning-option "$file" 2>&1) || rc=$?
	grep -v 'warnings\? generated\.$' <<<"$out" || true
	[ $rc = 0 ] && touch "$3/$key"
	return 0
}
export -f check_one
printf '%s\n' "${todo[@]}" | xargs -P "$(nproc)" -I{} bash -c 'check_one "$@"' _ {} "$build" "$cache"
failed=0
for t in "${todo[@]}"; do
	[ -e "$cache/${t##*:}" ] || { echo "clang-tidy: ${t%:*} has findings"; failed=1; }
done
exit $failed
