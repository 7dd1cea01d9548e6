#!/usr/bin/env bash
# `mpirun -np 2 wiresim plan ...` gives the ranking one process gives, byte for byte, and did run on two ranks.
#   tests/app/plan_mpi_test.sh path/to/wiresim
set -euo pipefail
wiresim=$1
args=(plan --topology dgx-h100 --model llama-3.1-8b --requests 30 --rate 4 --slo ttft=500,tpot=50 --json --jobs 1)
one=$("$wiresim" "${args[@]}")
err=$(mktemp)
trap 'rm -f "$err"' EXIT
# Open MPI refuses root without these; CI runs as root. Two ranks on a machine that may have fewer cores.
two=$(OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1 \
      mpirun -np 2 "$wiresim" "${args[@]}" 2>"$err")
if ! grep -q "2 MPI ranks" "$err"; then
  echo "mpirun -np 2: wiresim did not say it ran on 2 ranks; its stderr:" >&2
  cat "$err" >&2
  exit 1
fi
if [[ "$one" != "$two" ]]; then
  echo "mpirun -np 2 ranked differently from one process:" >&2
  diff <(echo "$one") <(echo "$two") | head -20 >&2
  exit 1
fi
echo "same ranking from 1 process and 2 MPI ranks ($(echo "$one" | wc -c) bytes of plans.json)"
