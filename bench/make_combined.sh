#!/usr/bin/env bash
# make_combined.sh DEST SRC.git [SRC.git ...]
#
# One bare repository holding the whole history of every SRC (complete bare repos, e.g. made
# by make-full-repo.sh): each SRC's branches go to refs/heads/<name>/*, its tags to
# refs/tags/<name>/*, HEAD points at the first SRC's HEAD branch. Then one `git repack -a -d`
# (deltas reused, not recomputed) so the store looks like a normal clone's: one pack.
# <name> is the SRC's basename without .git. Used to build the 200k+-commit repository and the
# intermediate sizes of the growth table in bench_history.py --phases.
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 DEST SRC.git [SRC.git ...]" >&2
  exit 2
fi
DEST=$1; shift
if [ -e "$DEST" ]; then
  echo "error: $DEST exists; remove it first" >&2
  exit 1
fi
git init -q --bare "$DEST"
first=""
for src in "$@"; do
  name=$(basename "$src" .git)
  git -C "$DEST" fetch -q --no-tags "$src" \
    "+refs/heads/*:refs/heads/$name/*" "+refs/tags/*:refs/tags/$name/*"
  if [ -z "$first" ]; then
    first=$name
    head=$(git -C "$src" symbolic-ref -q --short HEAD || echo main)
    git -C "$DEST" symbolic-ref HEAD "refs/heads/$name/$head"
  fi
done
git -C "$DEST" repack -a -d -q
git -C "$DEST" pack-refs --all
commits=$(git -C "$DEST" rev-list --all --count)
blobs=$(git -C "$DEST" cat-file --batch-all-objects --batch-check='%(objecttype)' | grep -c '^blob$')
echo "[combined] OK $DEST: sources=$* refs=$(git -C "$DEST" for-each-ref | wc -l) commits=$commits blobs=$blobs"
