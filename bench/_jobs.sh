#!/bin/sh
# keytrap scan --history --jobs N on one repository, N in 1 2 3, interleaved rounds: wall and CPU.
# usage: bench/_jobs.sh REPO ROUNDS KEYTRAP
repo=$1; rounds=${2:-3}; kt=${3:-keytrap}
echo "| round | jobs | wall s | user+sys s |"; echo "|---|---|---|---|"
for r in $(seq "$rounds"); do
  for j in 1 2 3; do
    /usr/bin/time -f "| $r | $j | %e | %U+%S |" "$kt" scan "$repo" --history --no-worktree --format json --no-progress --jobs "$j" 2>&1 >/dev/null | grep '^|'
  done
done
