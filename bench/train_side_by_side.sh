#!/usr/bin/env bash
# Training speed of both families' defaults: old and new code side by side (bench/side_by_side.sh, this tree's
# bench/train.py for both, so both print their loss curves), then the new code's drum_kit in float32 (its
# default, precision=auto, is mixed_bfloat16 on a CPU with bfloat16 units), and Magenta's own drum_kit
# training where MAGENTA_PYTHON names a Python with magenta installed (bench/magenta_train.py), in each round,
# so all see the same load; the transformer's where TRANSFORMER_RECORDS is set.
# Usage: [MAGENTA_PYTHON=...] [TRANSFORMER_RECORDS=...] bash bench/train_side_by_side.sh OLD_REV RECORDS [ROUNDS]
#   RECORDS: drum_kit's, e.g. Magenta's drums_rnn_create_dataset output or seqgen's create_dataset --config drum_kit
#   TRANSFORMER_RECORDS: drum_kit_transformer's, e.g. create_dataset --split_long_tracks
set -euo pipefail
cd "$(dirname "$0")/.."
old_rev=${1:?usage: bash bench/train_side_by_side.sh OLD_REV RECORDS [ROUNDS]}
records=${2:?usage: bash bench/train_side_by_side.sh OLD_REV RECORDS [ROUNDS]}
rounds=${3:-2}
for ((round = 1; round <= rounds; round++)); do
  if [ -n "${MAGENTA_PYTHON:-}" ]; then
    echo "== Magenta: bench/magenta_train.py (drums_rnn_train --config=drum_kit)"
    python3 bench/magenta_train.py --python "$MAGENTA_PYTHON" --records "$records" --steps 5
  fi
  bash bench/side_by_side.sh "$old_rev" 1 "$PWD/bench/train.py" --config drum_kit --warmup 2 --steps 4 --records "$records"
  echo "== new $(git rev-parse --short HEAD), float32: bench/train.py --config drum_kit"
  python3 bench/train.py --config drum_kit --hparams precision=float32 --warmup 2 --steps 4 \
    --records "$records" 2>&1 | grep -v "^WARNING\|^I0000\|oneDNN" || true
  if [ -n "${TRANSFORMER_RECORDS:-}" ]; then
    bash bench/side_by_side.sh "$old_rev" 1 "$PWD/bench/train.py" --config drum_kit_transformer --warmup 2 \
      --steps 8 --records "$TRANSFORMER_RECORDS"
  fi
done
