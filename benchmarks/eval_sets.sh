#!/usr/bin/env bash
# The evaluation sets of the model card, rebuilt from fixed seeds and the shared benchmark files
# (evaluation only: nothing is trained or tuned on them). Usage: benchmarks/eval_sets.sh DIR
set -euo pipefail
out=${1:-/tmp/evalsets}
mkdir -p "$out"
sj=${SUDOKU_JEPA:-.venv/bin/sudoku-jepa}
$sj generate --count 500 --givens 17-25 --seed 777 --solutions --out "$out/generated-hard.csv" --no-progress
$sj generate --count 300 --givens 30-40 --seed 778 --solutions --out "$out/generated-easy.csv" --no-progress
grep -v '^#' ../shared/benchmarks/puzzles2_17_clue.txt | head -1000 > "$out/17clue-1000.txt"
grep -v '^#' ../shared/benchmarks/puzzles3_magictour_top1465.txt | head -1000 > "$out/top1465-1000.txt"
