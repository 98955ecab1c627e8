#!/usr/bin/env bash
# Instructions that triage (classify + redact) spends per byte of post text, and the data
# reads that miss a simulated 1 MiB cache (one core's L2 holds 1 to 2 MiB on the machines
# seen here), counted by callgrind: the same counts on every run of the same binary and
# input, however busy the machine is, where MB/s on a shared 2-core machine can move by a
# third from run to run.
# Triage is bound by memory as much as by instructions (trie states, model rows and the
# patterns' lazy DFAs do not all fit in L2), so both counts matter; neither is a time.
#
#   bench/triage/instructions.sh            # this work tree
#   bench/triage/instructions.sh REV        # this work tree and REV side by side, with the ratio
#
# The input is the project's own labeled and measuring sets (the `testdata` and `data`
# JSON Lines of steward-triage), read twice: the first pass builds most of the patterns'
# lazy DFA states (about 30% of a single pass's instructions), the second runs on them
# warm, as a desk that has seen a few thousand posts does. Only `Triager::triage` is counted: not reading, training the
# model or writing JSON. Needs valgrind (`apt-get install -y valgrind`).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
command -v valgrind >/dev/null || { echo "valgrind is missing: apt-get install -y valgrind" >&2; exit 2; }

work="$(mktemp -d /tmp/steward-ir.XXXXXX)"
trap 'git -C "$repo" worktree remove --force "$work/rev" 2>/dev/null || true; rm -rf "$work"' EXIT

sets=("$repo"/crates/steward-triage/data/*.jsonl "$repo"/crates/steward-triage/testdata/*.jsonl)
cat "${sets[@]}" "${sets[@]}" >"$work/posts.jsonl"
bytes=$(python3 -c '
import json, sys
print(sum(len(p.get("title", "").encode()) + len(p.get("body", "").encode())
          for p in map(json.loads, open(sys.argv[1])) ))' "$work/posts.jsonl")

div() { awk -v a="$1" -v b="$2" 'BEGIN { print a / b }'; }

count() { # label binary
    # One thread: with one per core, which posts each thread's pattern caches warm up on
    # changes from run to run, and so do the counts (by 5% seen). Revisions from before
    # `--jobs` ran on one thread anyway.
    local jobs=()
    if "$2" triage --help | grep -q -- --jobs; then jobs=(--jobs 1); fi
    valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" \
        --cache-sim=yes --D1=32768,8,64 --LL=1048576,8,64 \
        --toggle-collect='steward_triage::classify::Triager::triage' \
        "$2" triage "${jobs[@]}" "$work/posts.jsonl" >/dev/null 2>"$work/valgrind.log"
    # Events: Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw; print Ir and DLmr.
    awk '/^(summary|totals):/ { print $2, $9; exit }' "$work/cg.out"
}

build() { # dir target-dir
    (cd "$1" && CARGO_TARGET_DIR="$2" cargo build --release --locked -q -p steward)
    echo "$2/release/steward"
}

report() { # label instructions misses
    printf '%-12s %6.1f instructions and %6.3f L2 misses per byte (%s bytes of posts)\n' \
        "$1" "$(div "$2" "$bytes")" "$(div "$3" "$bytes")" "$bytes"
}

here_bin=$(build "$repo" "${CARGO_TARGET_DIR:-$repo/target}")
read -r here_ir here_miss < <(count here "$here_bin")
report "work tree" "$here_ir" "$here_miss"

if [ $# -ge 1 ]; then
    git -C "$repo" worktree add -q --detach "$work/rev" "$1"
    rev_bin=$(build "$work/rev" "${CARGO_TARGET_DIR:-$repo/target}/instructions-rev")
    read -r rev_ir rev_miss < <(count rev "$rev_bin")
    report "$1" "$rev_ir" "$rev_miss"
    printf 'ratio: %s spends %.2f× the instructions and %.2f× the L2 misses of the work tree\n' \
        "$1" "$(div "$rev_ir" "$here_ir")" "$(div "$rev_miss" "$here_miss")"
fi
