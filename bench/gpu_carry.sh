#!/usr/bin/env bash
# TensorFlow for a GPU machine that has no TensorFlow, no CUDA 12 and no package index, only CUDA 13's
# libraries (the lent machines of docs/benchmarks.md, "The GPU path"), carried in pieces small enough for
# each call's 64 MiB.
#
#   bash bench/gpu_carry.sh pack DIR RECORDS
#                                         here: DIR/c?/ hold TensorFlow's wheel (its headers left out, its
#                                         libraries stripped, xz) in 50 MB pieces; DIR/cg/pkgs the small
#                                         wheels and CUDA 12's runtime; DIR/cg the training RECORDS.
#   source bench/gpu_carry.sh unpack DIR  there, in the checkout's root: DIR holds all pieces and pkgs/ (copy each call's piece out of
#                                         the checkout: the next call's carry removes it); installs into
#                                         /tmp/seqgen-gpu, sets PYTHONPATH (this checkout first) and
#                                         LD_LIBRARY_PATH.
#
# TensorFlow 2.21 dlopens CUDA 12's libraries by name. CUDA 12's runtime is carried; cuBLAS, cuFFT, cuSOLVER
# and cuSPARSE are CUDA 13's, linked under the CUDA 12 names (TensorFlow looks their functions up by name;
# seqgen's networks use cuBLAS only). cuDNN 9 is the machine's.
set -uo pipefail
mode=${1:?usage: bash bench/gpu_carry.sh pack|unpack DIR} dir=${2:?usage: bash bench/gpu_carry.sh pack|unpack DIR}
platform=(--only-binary=:all: --python-version 3.12 --implementation cp --platform manylinux_2_28_x86_64
          --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64)

if [ "$mode" = pack ]; then
  set -e
  records=$(realpath "${3:?usage: bash bench/gpu_carry.sh pack DIR RECORDS}") dir=$(realpath -m "$dir")
  cd "$(dirname "$0")/.."
  mkdir -p "$dir/whl" "$dir/site" "$dir/cg/pkgs"
  pip download -q --no-deps "${platform[@]}" -d "$dir/whl" tensorflow==2.21.0 nvidia-cuda-runtime-cu12==12.9.79 \
    keras==3.15.1 namex==0.1.0 optree==0.20.0 ml_dtypes==0.6.0 gast==0.7.0 astunparse==1.6.3 google-pasta==0.2.0 \
    termcolor==3.3.0 protobuf==7.36.2 pluggy==1.7.0 attrs==26.1.0 tqdm==4.70.1 opt_einsum==3.4.0 flatbuffers==25.12.19
  unzip -q -o "$dir"/whl/tensorflow-*.whl -d "$dir/site"
  rm -rf "$dir/site/tensorflow/include"
  find "$dir/site" -name "*.so*" -type f -print0 | xargs -0 strip --strip-unneeded
  tar -C "$dir/site" -cf - . | xz -6 -T2 | split -b 50000000 -a 1 - "$dir/tf.tar.xz."
  rm -rf "$dir/site"
  for piece in "$dir"/tf.tar.xz.?; do mkdir -p "$dir/c${piece##*.}" && mv "$piece" "$dir/c${piece##*.}/"; done
  mv "$dir"/whl/*.whl "$dir/cg/pkgs/" && rm "$dir"/cg/pkgs/tensorflow-*.whl
  unzip -q -o -j "$dir"/cg/pkgs/nvidia_cuda_runtime_cu12-*.whl 'nvidia/cuda_runtime/lib/libcudart.so.12' -d "$dir/cg/pkgs"
  rm "$dir"/cg/pkgs/nvidia_cuda_runtime_cu12-*.whl
  pip wheel -q --no-deps -w "$dir/cg/pkgs" . ./plugins/drums  # entry points; the code runs from this checkout
  cp "$records" "$dir/cg/"
  exit
fi

site=/tmp/seqgen-gpu
rm -rf "$site" && mkdir -p "$site/tf" "$site/pkgs" "$site/cuda"
if command -v xz >/dev/null; then unxz=(xz -d -T0); else
  unxz=(python3 -c "import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.stdin.buffer), sys.stdout.buffer)"); fi
cat "$dir"/tf.tar.xz.? | "${unxz[@]}" | tar -C "$site/tf" -xf - || return 1
python3 -m pip install -q --no-index --no-deps --no-compile --target "$site/pkgs" "$dir"/pkgs/*.whl || return 1
cp "$dir/pkgs/libcudart.so.12" "$site/cuda/"
libs=$(find /opt /usr/local /usr/lib/x86_64-linux-gnu \( -name 'libcu*.so.1[0-9]' -o -name 'libcudnn*.so.9' \
  -o -name 'libnvJitLink.so.*' -o -name 'libcuda.so.1' \) -not -path '*/compat/*' 2>/dev/null)
library_path=$site/cuda
for names in libcublas.so.12:libcublas.so.13 libcublasLt.so.12:libcublasLt.so.13 libcufft.so.11:libcufft.so.12 \
             libcusolver.so.11:libcusolver.so.12 libcusparse.so.12:libcusparse.so.12 libcudnn.so.9:libcudnn.so.9 \
             libcuda.so.1:libcuda.so.1; do
  found=$(grep "/${names#*:}\$" <<<"$libs" | head -1)
  echo "${names%%:*} -> ${found:-missing}"
  [ -n "$found" ] || continue
  [ "${names%%:*}" = "${names#*:}" ] || ln -sf "$found" "$site/cuda/${names%%:*}"
  library_path+=":$(dirname "$found")"
done
export LD_LIBRARY_PATH=$library_path${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export PYTHONPATH=$PWD:$PWD/plugins/drums:$site/pkgs:$site/tf
