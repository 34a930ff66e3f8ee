# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Sourced by tests/bench/run.sh and tests/bench/mechanisms.sh: the source a benchmark measures.
#
#   bench_source TOP BUILD SOURCE
#
# SOURCE is worktree (the checkout TOP as it is) or a git revision, exported once with
# `git archive` into BUILD/src-<commit>, so colleagues' uncommitted work is never measured by
# accident. Sets src (the tree), src_desc (for the report) and rev (the commit, or worktree).
bench_source() {
	local top=$1 build=$2 source=$3
	rev=worktree
	if [ "$source" = worktree ]; then
		src=$top
		src_desc="working tree of $top at $(git -C "$top" rev-parse --short HEAD)"
		[ -z "$(git -C "$top" status --porcelain -- kmod include Kbuild)" ] ||
			src_desc+=" with uncommitted changes in kmod/include"
		return 0
	fi
	rev=$(git -C "$top" rev-parse --verify "$source^{commit}") || { echo "bench: no revision $source" >&2; return 2; }
	src=$build/src-${rev:0:12}
	if [ ! -e "$src/.complete" ]; then
		rm -rf "$src"
		mkdir -p "$src"
		git -C "$top" archive "$rev" | tar -x -C "$src"
		touch "$src/.complete"
	fi
	src_desc="commit $(git -C "$top" log -1 --format='%h %s' "$rev")"
}
