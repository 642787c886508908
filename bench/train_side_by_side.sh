#!/usr/bin/env bash
# Training speed of both families' defaults: old and new code side by side (bench/side_by_side.sh), then the
# new code in mixed_bfloat16, in each round, so all three see the same load.
# Usage: bash bench/train_side_by_side.sh OLD_REV RECORDS [ROUNDS]
#   RECORDS: e.g. gmd/drum_kit_windows/train_drum_tracks.tfrecord (docs/models.md says how it is made)
set -euo pipefail
cd "$(dirname "$0")/.."
old_rev=${1:?usage: bash bench/train_side_by_side.sh OLD_REV RECORDS [ROUNDS]}
records=${2:?usage: bash bench/train_side_by_side.sh OLD_REV RECORDS [ROUNDS]}
rounds=${3:-2}
for ((round = 1; round <= rounds; round++)); do
  for config in drum_kit drum_kit_transformer; do
    bash bench/side_by_side.sh "$old_rev" 1 bench/train.py --config "$config" --warmup 2 --steps 4 --records "$records"
    echo "== new $(git rev-parse --short HEAD), mixed_bfloat16: bench/train.py --config $config"
    python3 bench/train.py --config "$config" --hparams precision=mixed_bfloat16 --warmup 2 --steps 4 \
      --records "$records" 2>&1 | grep -v "^WARNING\|^I0000\|oneDNN" || true
  done
done
