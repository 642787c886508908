#!/usr/bin/env bash
# Old and new code side by side in one run: each benchmark alternates the code of OLD_REV (checked out
# in a temporary worktree, put first on PYTHONPATH) and this tree, ROUNDS times, so both see the same load.
# Usage: bash bench/side_by_side.sh OLD_REV [ROUNDS] [bench script and its flags, default: the start-up
# and generation benchmarks], e.g.
#   bash bench/side_by_side.sh 2b6919e 3
#   bash bench/side_by_side.sh 2b6919e 2 bench/train.py --records gmd/drum_kit_windows/train_drum_tracks.tfrecord
# A script given by an absolute path runs from this tree for both (for scripts the old tree lacks):
#   bash bench/side_by_side.sh 2b6919e 3 "$PWD/bench/command_time.py" -- generate --bundle_file X.mag --output_dir OUT
set -euo pipefail
cd "$(dirname "$0")/.."
old_rev=${1:?usage: bash bench/side_by_side.sh OLD_REV [ROUNDS] [bench script args...]}
rounds=${2:-3}
shift $(( $# < 2 ? $# : 2 ))
old=$(mktemp -d)
trap 'git worktree remove --force "$old" >/dev/null 2>&1 || rm -rf "$old"' EXIT
git worktree add -f --detach "$old" "$old_rev" >/dev/null
benches=("$@")
[ ${#benches[@]} -gt 0 ] || benches=(bench/cli_startup.py bench/generate.py)
run() {  # run LABEL TREE PYTHONPATH SCRIPT ARGS...
  local label=$1 tree=$2 path=$3; shift 3
  echo "== $label: $*"
  (cd "$tree" && PYTHONPATH="$path" python3 "$@") 2>&1 | grep -v "^WARNING\|^I0000\|oneDNN" || true
}
for ((round = 1; round <= rounds; round++)); do
  echo "### round $round"
  if [ $# -gt 0 ]; then
    run "old $old_rev" "$old" "$old:$old/plugins/drums" "$@"
    run "new $(git rev-parse --short HEAD)" "$PWD" "$PWD:$PWD/plugins/drums" "$@"
  else
    for bench in "${benches[@]}"; do
      run "old $old_rev" "$old" "$old:$old/plugins/drums" "$bench" --runs 5
      run "new $(git rev-parse --short HEAD)" "$PWD" "$PWD:$PWD/plugins/drums" "$bench" --runs 5
    done
  fi
done
