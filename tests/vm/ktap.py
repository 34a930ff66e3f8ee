#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Summarise KUnit results (KTAP/TAP) found in a kernel log.

Usage: ktap.py [--require SUITE]... [--verbose] [FILE]     (FILE defaults to stdin)

FILE is a dmesg dump, a console log or a debugfs results file; timestamps and printk
prefixes ("[   12.345678] ", "[  T123] ", "<6>", "kernel: ") are stripped. Prints one line per
suite and a closing line "ktap: N passed, N failed, N skipped". Exits 1 if any test case
failed, if a suite crashed or is incomplete (fewer results than its plan, or no result line
of its own), if a --require'd suite did not run, or if no test case ran at all; 2 on usage
errors. A suite that ran twice (a module loaded twice) is reported twice.
"""
import argparse
import re
import sys

PREFIX = re.compile(
    r"^(?:<\d+>)?(?:\S+\s+kernel:\s)?(?:\[\s*\d+\.\d+\])?(?:\[\s*[TC]\d+\])?(?: (?=\S| ))?")
RESULT = re.compile(r"^(ok|not ok) (\d+)(?: -)?(?: ([^#]*?))?\s*(?:#\s*(.*))?$")
PLAN = re.compile(r"^1\.\.(\d+)")
SUBTEST = re.compile(r"^# Subtest: (.+)$")


class Group:
    """A test with subtests: a suite, or a parameterised test case inside one."""

    def __init__(self, name, indent, parent):
        self.name = name
        self.indent = indent
        self.parent = parent
        self.plan = None
        self.cases = []  # (name, status) status: pass | fail | skip
        self.diag = []
        self.result = None  # own result line: pass | fail | skip
        self.depth = 0 if parent is None else parent.depth + 1


def strip(line):
    line = line.rstrip("\r\n")
    return PREFIX.sub("", line, count=1)


def status_of(ok, directive):
    d = (directive or "").strip().upper()
    if d.startswith("SKIP"):
        return "skip"
    return "pass" if ok == "ok" else "fail"


def parse(lines):
    suites = []
    stack = []  # open groups, innermost last

    for raw in lines:
        line = strip(raw)
        text = line.lstrip(" ")
        indent = len(line) - len(text)
        if not text:
            continue
        m = SUBTEST.match(text)
        if m:
            # A group at this indent or deeper still open here never printed its result.
            while stack and stack[-1].indent >= indent:
                stack.pop()
            parent = stack[-1] if stack else None
            g = Group(m.group(1).strip(), indent, parent)
            stack.append(g)
            if parent is None:
                suites.append(g)
            continue
        m = PLAN.match(text)
        if m:
            if stack and stack[-1].indent == indent and stack[-1].plan is None:
                stack[-1].plan = int(m.group(1))
            continue
        m = RESULT.match(text)
        if m:
            ok, _num, name, directive = m.groups()
            name = (name or "").strip()
            st = status_of(ok, directive)
            # A result less indented than the innermost group is the result of the outermost
            # group deeper than it (any group inside that one stays incomplete).
            closed = None
            while stack and stack[-1].indent > indent:
                closed = stack.pop()
            if closed is not None:
                closed.result = st
                if closed.parent is not None:
                    # A parameterised case: one case of its parent.
                    closed.parent.cases.append((closed.name, st))
            elif stack and stack[-1].indent == indent:
                stack[-1].cases.append((name, st))
            continue
        if stack and indent >= stack[-1].indent and not text.startswith("KTAP version"):
            stack[-1].diag.append(text)
    return suites


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("file", nargs="?", default="-")
    ap.add_argument("--require", action="append", default=[], metavar="SUITE",
                    help="fail unless this suite ran (repeatable)")
    ap.add_argument("--verbose", "-v", action="store_true", help="list every case")
    args = ap.parse_args()
    if args.file == "-":
        lines = sys.stdin.read().splitlines()
    else:
        try:
            with open(args.file, encoding="utf-8", errors="replace") as f:
                lines = f.read().splitlines()
        except OSError as e:
            print(f"ktap: {e}", file=sys.stderr)
            return 2

    suites = parse(lines)
    bad = False
    totals = {"pass": 0, "fail": 0, "skip": 0}
    for s in suites:
        counts = {"pass": 0, "fail": 0, "skip": 0}
        for _name, st in s.cases:
            counts[st] += 1
            totals[st] += 1
        n = len(s.cases)
        problems = []
        if s.result is None:
            problems.append("INCOMPLETE (no result line: crashed or still running)")
        if s.plan is not None and n < s.plan:
            problems.append(f"INCOMPLETE ({n} of {s.plan} planned cases reported)")
        if counts["fail"] or s.result == "fail" and not problems:
            verdict = "FAILED"
        elif problems:
            verdict = "; ".join(problems)
        elif s.result == "skip" or (n and counts["skip"] == n):
            verdict = "SKIPPED"
        else:
            verdict = "ok"
        if counts["fail"] or problems or s.result == "fail":
            bad = True
        print(f"suite {s.name}: pass {counts['pass']}, fail {counts['fail']}, "
              f"skip {counts['skip']}, total {n}: {verdict}")
        for name, st in s.cases:
            if st == "fail" or args.verbose:
                print(f"    {st.upper():4} {name}")
        if counts["fail"] or problems:
            for d in s.diag[:40]:
                print(f"      {d}")
    ran = {s.name for s in suites}
    for r in args.require:
        if r not in ran:
            print(f"ktap: required suite {r} did not run")
            bad = True
    if totals["pass"] + totals["fail"] == 0:
        print("ktap: no test case ran")
        bad = True
    print(f"ktap: {totals['pass']} passed, {totals['fail']} failed, {totals['skip']} skipped")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
