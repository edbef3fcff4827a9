#!/usr/bin/env bash
# Sums every vitest summary line ("Tests  3 failed | 97 passed | 1 skipped (101)") in a log and
# prints the totals as one plain line, so a reader of the whole run sees them at the end.
sed 's/\x1b\[[0-9;]*m//g' "$1" | awk '
	/ Tests +[0-9]/ {
		for (i = 1; i <= NF; i++) {
			if ($(i + 1) ~ /^passed/) passed += $i
			if ($(i + 1) ~ /^failed/) failed += $i
			if ($(i + 1) ~ /^skipped/) skipped += $i
		}
	}
	END { printf "tests: %d passed, %d failed, %d skipped\n", passed, failed, skipped }'
