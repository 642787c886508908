#!/usr/bin/env bash
# Validation perplexity after the same number of steps in float32 and in mixed_bfloat16, two seeds each, for
# both model families (docs/models.md, "Mixed precision").
#
# Usage: bash bench/precision_quality.sh DATASET_DIR OUT_DIR [FAMILY [SEED...]]
#   FAMILY: events_rnn, transformer or both (the default); seeds 1 and 2 unless given.
#   DATASET_DIR holds train_drum_tracks.tfrecord and validation_drum_tracks.tfrecord from
#   `seqgen create_dataset --config drum_kit --split_csv GROOVE/info.csv --split_long_tracks`.
# Prints one line per run: family, precision, seed, steps, training seconds, validation perplexity.
set -euo pipefail
data=$1 out=$2 family=${3:-both}
seeds=("${@:4}")
[ ${#seeds[@]} -gt 0 ] || seeds=(1 2)
mkdir -p "$out"

run() {  # name config steps hparams seed precision
  local dir="$out/$1-$6-seed$5" start end
  start=$(date +%s)
  seqgen train --config "$2" --hparams "$4,precision=$6" --run_dir "$dir" --seed "$5" \
    --sequence_example_file "$data/train_drum_tracks.tfrecord" --num_training_steps "$3" \
    --save_checkpoint_secs 0 --summary_frequency 50 >"$dir.log" 2>&1
  end=$(date +%s)
  seqgen evaluate --run_dir "$dir" --sequence_example_file "$data/validation_drum_tracks.tfrecord" --json >"$dir.eval.json"
  python3 -c "import json, sys; d = json.load(open(sys.argv[1])); print(*sys.argv[2:], d['perplexity'])" \
    "$dir.eval.json" "$1" "$6" "seed=$5" "steps=$3" "train_s=$((end - start))"
}

for seed in "${seeds[@]}"; do
  for precision in float32 mixed_bfloat16; do
    [ "$family" = transformer ] || run events_rnn drum_kit 1000 "batch_size=64,rnn_layer_sizes=[64,64]" "$seed" "$precision"
    [ "$family" = events_rnn ] || run transformer drum_kit_transformer 300 "batch_size=64" "$seed" "$precision"
  done
done
