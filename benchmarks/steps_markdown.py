"""The "think longer" table in Markdown from `sudoku-jepa eval --json` lines: one row per file
and chain setting, one column per step count (puzzle accuracy; cell accuracy in brackets), plus
the energy columns of the longest solve.

Usage: python benchmarks/steps_markdown.py assets/steps.jsonl
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def table(rows: list[dict]) -> str:
    steps = sorted({r["steps"] for r in rows})
    head = ("| set | puzzles | chains x noise | " + " | ".join(f"{n} steps" for n in steps)
            + " | energy rose (longest) | AUROC right vs wrong (longest) |")
    lines = [head, "|---|---:|---|" + "---:|" * len(steps) + "---:|---:|"]
    groups: dict[tuple, dict[int, dict]] = {}
    for r in rows:
        groups.setdefault((r["file"], r["chains"], r["noise"]), {})[r["steps"]] = r
    for (file, chains, noise), by in groups.items():
        cells = [f"{by[n]['puzzle_acc']:.1%} ({by[n]['cell_acc']:.1%})" if n in by else ""
                 for n in steps]
        last = by[max(by)]
        rise, auc = last.get("energy_rise_frac"), last.get("energy_auroc")
        rise_s = "" if rise is None else f"{rise:.1%}"
        auc_s = "" if auc is None else f"{auc:.3f}"
        lines.append(f"| {Path(file).stem} | {last['puzzles']} | {chains} x {noise} | "
                     + " | ".join(cells) + f" | {rise_s} | {auc_s} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    rows = [json.loads(line) for line in Path(argv[0]).read_text().splitlines() if line.strip()]
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
