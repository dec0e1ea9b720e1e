#!/usr/bin/env bash
# Installs the Debian packages RangeSeg needs, skipping what is already installed.
#   zlib1g-dev   deflate and CRC-32 for .npz and PNG
#   libdnnl-dev  Intel oneDNN 2.6, the network's compute kernels
#   libpcl-dev   the Point Cloud Library, for PCD/PLY and 3-D neighbour search
#   pcl-tools    PCL's command-line tools: a test checks that they read the PCD files RangeSeg writes
#   pkg-config   finds PCL's and Open MPI's include and link flags
#   libopenmpi-dev  Open MPI 4.1, with which `mpirun -np N rangeseg train` trains on N processes
#                   (rangeseg links it; without mpirun it never initialises MPI)
#   openmpi-bin  mpirun, which the tests run two-rank training with
# and for python3: NumPy, which the tests and tools/bench use to cross-check against NumPy, and
# onnx and onnxruntime, with which the tests check the models rangeseg export writes.
set -euo pipefail
packages=(zlib1g-dev libdnnl-dev libpcl-dev pcl-tools pkg-config libopenmpi-dev openmpi-bin)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all system packages present (${packages[*]})"
else
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! python3 -c "import numpy" 2>/dev/null; then
  echo "setup: installing numpy for $(command -v python3)"
  python3 -m pip install -q numpy
fi
if ! python3 -c "import onnx, onnxruntime" 2>/dev/null; then
  echo "setup: installing onnx and onnxruntime for $(command -v python3)"
  python3 -m pip install -q onnx onnxruntime
fi
echo "setup: done"
