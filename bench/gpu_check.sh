#!/usr/bin/env bash
# The GPU check, run from the repository root on a machine with a CUDA GPU, $OUT set to an empty folder
# (default bench/out/gpu). Needs torch and transformers there, and the folder .gpu/ that
# bench/gpu_prepare.sh writes (MiniLM as float16 weights; wheels of pybase64, pyyaml, jinja2, markupsafe,
# pytest, pluggy, iniconfig, installed into /tmp/rg-site on PYTHONPATH).
# Each step has its own time limit and its own output file; a failing step does not stop the next.
# Files: summary.txt, env.txt, tests.txt, agree.txt, minilm_float32.txt, minilm_bfloat16.txt,
# bert_float32.txt, bert_bfloat16.txt. The limits add up to 7 min 25 s (445 s); a run normally takes less.
set -u
cd "$(dirname "$0")/.."
OUT=${OUT:-bench/out/gpu}
mkdir -p "$OUT"
export HF_HUB_OFFLINE=1 PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1  # tokenizers keep their threads, as for users
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
if ls .gpu/wheels/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/rg-site .gpu/wheels/*.whl \
    && export PYTHONPATH="$PYTHONPATH:/tmp/rg-site"
fi
MINILM=()
[ -d .gpu/minilm ] && MINILM=(--minilm "$PWD/.gpu/minilm")

step() {  # step NAME SECONDS COMMAND...: output to $OUT/NAME.txt, one line to summary.txt
  local name=$1 limit=$2 start rc
  shift 2
  start=$(date +%s)
  echo "\$ $*" >"$OUT/$name.txt"
  timeout -k 5 "$limit" "$@" >>"$OUT/$name.txt" 2>&1
  rc=$?
  echo "$name: exit $rc after $(($(date +%s) - start)) s (limit $limit s)$([ $rc = 124 ] && echo ', TIMED OUT')" | tee -a "$OUT/summary.txt"
}

BENCH=(python3 bench/gpu.py --device cuda "${MINILM[@]}" --examples 1000 10000 --workdir /tmp)
step env 20 bash -c 'nvidia-smi --query-gpu=name,memory.total,memory.used,driver_version --format=csv; python3 -c "
import torch, transformers, numpy; print(\"torch\", torch.__version__, \"transformers\", transformers.__version__, \"numpy\", numpy.__version__)
print(torch.cuda.get_device_name(), torch.cuda.mem_get_info())
import yaml, jinja2, pybase64; print(\"yaml, jinja2, pybase64: ok\")"'
step tests 70 python3 -m pytest -q -p no:cacheprovider tests/test_device.py
step agree 70 bash -c "python3 bench/gpu.py --device cuda ${MINILM[*]} --agree 1000 --model minilm --workdir /tmp; python3 bench/gpu.py --device cuda ${MINILM[*]} --agree 200 --model bert-base --workdir /tmp"
step minilm_float32 75 bash -c "${BENCH[*]} --model minilm --dtype float32 --max-tokens 4096 32768 auto; ${BENCH[*]} --model minilm --dtype float32 --examples 10000 --max-tokens auto --no-overlap"
step bert_float32 75 "${BENCH[@]}" --model bert-base --dtype float32 --max-tokens 4096 32768 auto
step minilm_bfloat16 60 "${BENCH[@]}" --model minilm --dtype bfloat16 --max-tokens 4096 32768 auto
step bert_bfloat16 75 "${BENCH[@]}" --model bert-base --dtype bfloat16 --max-tokens 4096 32768 auto
