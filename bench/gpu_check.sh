#!/usr/bin/env bash
# The GPU path (docs/benchmarks.md, "The GPU path"), on a machine with an NVIDIA GPU and seqgen[gpu]:
# 1. a short training run of each family, each run directory packed (in pieces of 15 MB) with a bundle
#    made from it, to load and sample on a CPU;
# 2. step times: the training runs' logs (float32, automatic micro batches), then bench/train.py with
#    drum_kit's whole batch in one slice and both families in mixed_float16 and mixed_bfloat16.
# Usage: bash bench/gpu_check.sh RECORDS OUT_DIR [STEPS]
#   RECORDS: e.g. gmd/drum_kit_windows/train_drum_tracks.tfrecord (docs/models.md says how it is made).
set -uo pipefail
cd "$(dirname "$0")/.."
records=${1:?usage: bash bench/gpu_check.sh RECORDS OUT_DIR [STEPS]}
out=${2:?usage: bash bench/gpu_check.sh RECORDS OUT_DIR [STEPS]}
steps=${3:-30}
runs=$(mktemp -d)
mkdir -p "$out"

python3 -c "import tensorflow as tf; print('TensorFlow', tf.__version__, 'built for CUDA',
  tf.sysconfig.get_build_info().get('cuda_version'), 'sees', tf.config.list_physical_devices('GPU'))"

train() {  # name config hparams
  echo "== seqgen train --config $2 --hparams '$3' --num_training_steps $steps"
  python3 -m seqgen train --config "$2" --hparams "$3" --run_dir "$runs/$1" --sequence_example_file "$records" \
    --num_training_steps "$steps" --save_checkpoint_secs 0 --summary_frequency 10
  python3 -m seqgen generate --run_dir "$runs/$1" --save_generator_bundle --bundle_file "$out/$1.seqgen"
  tar -C "$runs" -cf - "$1" | split -b 15000000 - "$out/$1.tar."
}
train drum_kit drum_kit ""
train transformer drum_kit_transformer ""

bench() {  # config precision micro_batch_size (0: automatic slices, sized for 3 GB)
  echo "== bench/train.py --config $1 --hparams precision=$2 --micro_batch_size $3"
  timeout 150 python3 bench/train.py --config "$1" --hparams "precision=$2" --records "$records" --warmup 3 --steps 5 \
    --micro_batch_size "$3" | grep -E '"(seconds_per_step|useful_tokens_per_second|gpu_peak_memory_gb|device|step_seconds)"'
}
for precision in float32 mixed_float16 mixed_bfloat16; do
  bench drum_kit $precision 128  # the whole batch in one slice
done
for precision in mixed_float16 mixed_bfloat16; do
  bench drum_kit_transformer $precision 0
done
