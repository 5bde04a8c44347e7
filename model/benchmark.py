"""The benchmark: accuracy and speed of the neural descent and of verified mode, per puzzle set.

Every accuracy figure is a rule check (`board.is_valid_solution`) of a returned grid, over the
puzzles with exactly one solution (the exact solver decides), where a valid completion that keeps
the givens is THE solution. No status flag is trusted. Puzzles with several solutions or none
(a solver benchmark collection may have only those) are counted in their own columns: a valid
grid proves nothing for them, and scoring them would report 0% for a model that did no wrong.
The shared sets are for evaluation only; nothing is tuned on them.
Torch-free.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from model import board, search
from model.atomic_file import atomic_write_text
from model.verified import VerifiedSettings, finish_from_neural, solve_verified

if TYPE_CHECKING:
    from model.runtime import EnergyModel

# (name, givens range, generator difficulty): easy falls to singles; hard needs more.
GENERATED_KINDS = (
    ("generated-easy", (36, 45), "singles"),
    ("generated-medium", (27, 35), None),
    ("generated-hard", (20, 30), "hard"),
)
DEFAULT_SEED = 20261126
Progress = Callable[[int, int, str], None]  # (done, total, set name)


@dataclass
class PuzzleSet:
    name: str
    puzzles: np.ndarray  # (N, 81) int8
    origin: str  # file path, or "generated seed=... givens=... difficulty=..."


def shared_benchmark_dir() -> Path:
    """`../shared/benchmarks` next to the project root."""
    return Path(__file__).resolve().parents[1].parent / "shared" / "benchmarks"


def load_file_set(path, limit: int | None = None) -> PuzzleSet:
    """The first `limit` puzzles of a file (first, not sampled: comparable across runs)."""
    from model.puzzle_io import read_puzzles

    path = Path(path)
    rows = []
    for record in read_puzzles(path):
        if limit is not None and len(rows) >= limit:
            break
        if record.error is not None:
            raise board.PuzzleError(record.error)
        rows.append(record.puzzle)
    puzzles = np.asarray(rows, dtype=np.int8).reshape(-1, 81)  # (N, 81)
    return PuzzleSet(name=path.stem, puzzles=puzzles, origin=str(path))


def shared_sets(limit: int | None = None) -> list[PuzzleSet]:
    """Every puzzle file in the shared benchmark folder (none if it is missing)."""
    folder = shared_benchmark_dir()
    if not folder.is_dir():
        return []
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    return [load_file_set(p, limit) for p in files if p.suffix in (".txt", ".sdk", ".csv")]


def generated_sets(count: int, seed: int = DEFAULT_SEED) -> list[PuzzleSet]:
    """Fixed-seed generated sets by difficulty, so runs are comparable."""
    from model.generator import generate_puzzles

    sets = []
    for offset, (name, givens, difficulty) in enumerate(GENERATED_KINDS):
        made = generate_puzzles(count, givens=givens, difficulty=difficulty, seed=seed + offset)
        puzzles = np.stack([np.asarray(g.puzzle, dtype=np.int8) for g in made]).reshape(-1, 81)
        origin = f"generated seed={seed + offset} givens={givens[0]}-{givens[1]}"
        origin += f" difficulty={difficulty or 'any'}"
        sets.append(PuzzleSet(name=name, puzzles=puzzles, origin=origin))
    return sets


def run_benchmark(
    model: EnergyModel,
    sets: list[PuzzleSet],
    settings: VerifiedSettings | None = None,
    progress: Progress | None = None,
    keep_grids: bool = False,
) -> dict:
    """Run every puzzle of every set through the descent and verified mode; a JSON-ready report.

    `keep_grids=True` adds each set's per-puzzle grids (puzzle, neural, verified as 81-char
    strings) under "grids", so anyone can re-check the figures by the rules.
    """
    settings = settings or VerifiedSettings()
    descent = settings.descent or model.default_settings()
    settings = VerifiedSettings(
        descent=descent, guided=settings.guided, check_unique=settings.check_unique,
        compare_plain=True, early_stop=settings.early_stop,
    )
    total = sum(len(s.puzzles) for s in sets)
    done = 0
    rows = []
    for puzzle_set in sets:
        records = []
        for puzzle in puzzle_set.puzzles:
            records.append(_run_puzzle(model, puzzle, settings))
            done += 1
            if progress is not None:
                progress(done, total, puzzle_set.name)
        row = _summarise(puzzle_set, records)
        if keep_grids:
            row["grids"] = [
                {k: r[k] for k in ("puzzle", "neural_grid", "verified_grid")} for r in records
            ]
        rows.append(row)
    return {
        "created": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": " ".join(["sudoku-jepa", *sys.argv[1:]]) if sys.argv else "",
        "machine": machine_info(),
        "model": {
            "path": str(model.path),
            "sha256": file_sha256(model.path),
            "provider": model.provider,
            "settings": asdict(descent),
            "check_unique": settings.check_unique,
            "early_stop": settings.early_stop,
        },
        "sets": rows,
    }


def _run_puzzle(model: EnergyModel, puzzle: np.ndarray, settings: VerifiedSettings) -> dict:
    """One puzzle: full descent, verified mode, plain search; every verdict by the rules.

    Neural-only figures come from the full descent (`EnergyModel.solve`). Verified mode runs as
    a user gets it: with early stop it is a second, shorter descent that ends at the first valid
    grid; without, it finishes the full descent's result.
    """
    start = time.perf_counter()
    neural = model.solve(puzzle, settings.descent)
    neural_ms = (time.perf_counter() - start) * 1000.0
    if settings.early_stop:
        verified = solve_verified(model, puzzle, settings)
        verified_ms = verified.ms
    else:
        verified = finish_from_neural(puzzle, neural, settings)
        verified_ms = neural_ms + verified.search_ms

    plain_start = time.perf_counter()
    plain = search.solve(puzzle, limit=2)
    plain_ms = (time.perf_counter() - plain_start) * 1000.0

    answer = verified.grid
    verified_ok = (
        verified.status == "solved" and answer is not None
        and board.is_valid_solution(answer, puzzle)
    )
    neural_grid = np.asarray(neural.grid, dtype=np.int8)
    empty = puzzle == 0
    cells_right = int((neural_grid[empty] == answer[empty]).sum()) if verified_ok else 0
    return {
        "puzzle": board.format_grid(puzzle),
        "neural_grid": board.format_grid(neural_grid),
        "verified_grid": None if answer is None else board.format_grid(answer),
        "neural_ok": board.is_valid_solution(neural_grid, puzzle),
        "initial_ok": bool(neural.initial_valid),
        "any_chain_ok": bool(neural.any_chain_valid),
        "verified_ok": verified_ok,
        "by_neural": verified.by == "neural",
        "empty": int(empty.sum()),
        "cells_right": cells_right,
        "nodes_guided": verified.nodes_guided,
        "nodes_plain": verified.nodes_plain,
        "nodes_check": verified.nodes_check,
        "neural_ms": neural_ms,
        "verified_ms": verified_ms,
        "check_ms": verified.check_ms,
        "plain_search_ms": plain_ms,
        "plain_nodes": int(plain.nodes),
        "solutions": plain.status,  # "unique" | "multiple" | "no-solution"
    }


def _summarise(puzzle_set: PuzzleSet, records: list[dict]) -> dict:
    """One set's row. Accuracies and search effort are over the puzzles with one solution
    (`scored`); times are over every puzzle."""
    scored = [r for r in records if r["solutions"] == "unique"]
    n = len(scored)

    def share(key: str) -> float:
        return float(np.mean([r[key] for r in scored])) if n else 0.0

    def stat(key: str, q: float, subset=None) -> float:
        values = [r[key] for r in (records if subset is None else subset)]
        return float(np.percentile(values, q)) if values else 0.0

    searched = [r for r in scored if not r["by_neural"]]
    guided = float(np.mean([r["nodes_guided"] for r in searched])) if searched else 0.0
    plain = float(np.mean([r["nodes_plain"] for r in searched])) if searched else 0.0
    any_chain = sum(r["any_chain_ok"] for r in scored)
    best_given_any = sum(r["neural_ok"] and r["any_chain_ok"] for r in scored)
    empty = sum(r["empty"] for r in scored)
    return {
        "set": puzzle_set.name,
        "origin": puzzle_set.origin,
        "puzzles": len(records),
        "unique": n,
        "multiple": sum(r["solutions"] == "multiple" for r in records),
        "no_solution": sum(r["solutions"] == "no-solution" for r in records),
        "neural_acc": share("neural_ok"),
        "cell_acc": (sum(r["cells_right"] for r in scored) / empty) if empty else 0.0,
        "single_decode_acc": share("initial_ok"),
        "any_chain_acc": share("any_chain_ok"),
        "best_chain_acc": share("neural_ok"),
        "best_when_any": (best_given_any / any_chain) if any_chain else 0.0,
        "verified_acc": share("verified_ok"),
        "by_neural": sum(r["by_neural"] for r in scored),
        "by_search": len(searched),
        "nodes_guided_mean": guided,
        "nodes_plain_mean": plain,
        "guided_plain_ratio": (guided / plain) if plain else None,
        "nodes_check_mean": share("nodes_check"),
        # over every puzzle (0 search nodes when the model's grid was valid) vs plain search alone
        "nodes_verified_all_mean": share("nodes_guided"),
        "nodes_plain_all_mean": share("nodes_plain"),
        "neural_ms_median": stat("neural_ms", 50),
        "neural_ms_p95": stat("neural_ms", 95),
        "verified_ms_median": stat("verified_ms", 50),
        "verified_ms_p95": stat("verified_ms", 95),
        "check_ms_median": stat("check_ms", 50),
        "plain_search_ms_median": stat("plain_search_ms", 50),
        "plain_search_ms_p95": stat("plain_search_ms", 95),
    }


def machine_info() -> dict:
    """CPU model and core count, so numbers from different machines are never mixed up."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"cpu": cpu, "cores": cores, "platform": platform.platform(),
            "python": platform.python_version()}


def file_sha256(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


STEPS_TABLE = (1, 4, 16, 64, 256, 1024)  # "think longer": neural accuracy by descent steps


def steps_accuracy(model: EnergyModel, sets: list[PuzzleSet], steps: tuple[int, ...],
                   chains: int = 1, noise: float = 0.0,
                   progress: Progress | None = None) -> list[dict]:
    """Neural-only puzzle accuracy and median ms at each step count, per set: each count is its
    own solve (onnxruntime, one puzzle at a time), so ms is what a user waits for."""
    total = sum(len(s.puzzles) for s in sets) * len(steps)
    done = 0
    rows = []
    for puzzle_set in sets:
        for n in steps:
            settings = model.default_settings()
            settings.steps, settings.chains, settings.noise = n, chains, noise
            solved, times = 0, []
            for puzzle in puzzle_set.puzzles:
                result = model.solve(puzzle, settings)
                solved += board.is_valid_solution(result.grid, puzzle)
                times.append(result.ms)
                done += 1
                if progress is not None:
                    progress(done, total, f"{puzzle_set.name} {n} steps")
            rows.append({"set": puzzle_set.name, "steps": n, "chains": chains, "noise": noise,
                         "puzzles": len(puzzle_set.puzzles),
                         "neural_acc": solved / max(len(puzzle_set.puzzles), 1),
                         "ms_median": float(np.median(times)) if times else 0.0})
    return rows


def format_steps_markdown(rows: list[dict]) -> str:
    """The think-longer table: one row per set, one column per step count."""
    if not rows:
        return ""
    steps = sorted({r["steps"] for r in rows})
    head = rows[0]
    lines = ["## Think longer: neural-only accuracy by descent steps", "",
             f"{head['chains']} chain(s), noise {head['noise']}; each column is its own solve; "
             "in brackets the median ms a puzzle.", "",
             "| set | puzzles | " + " | ".join(f"{n} steps" for n in steps) + " |",
             "|---|---:|" + "---:|" * len(steps)]
    for name in dict.fromkeys(r["set"] for r in rows):
        by = {r["steps"]: r for r in rows if r["set"] == name}
        cells = [f"{_pct(by[n]['neural_acc'])} ({by[n]['ms_median']:.0f})" if n in by else ""
                 for n in steps]
        lines.append(f"| {name} | {by[steps[0]]['puzzles']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _pct(x: float) -> str:
    return f"{100.0 * x:.1f}%"


def format_markdown(report: dict) -> str:
    """Three tables: accuracy, what the energy earns, speed and search effort."""
    m, mod = report["machine"], report["model"]
    s = mod["settings"]
    lines = [
        "# Benchmark",
        "",
        f"Created {report['created']} by `{report['command']}`.",
        f"Machine: {m['cpu']}, {m['cores']} cores ({m['platform']}). Provider: {mod['provider']}.",
        f"Model: `{mod['path']}` sha256 `{mod['sha256'][:16]}…`. Descent: "
        + ", ".join(f"{k} {v}" for k, v in s.items())
        + f". Verified mode: uniqueness proof {'on' if mod['check_unique'] else 'off'},"
        + f" early stop at the first valid grid {'on' if mod.get('early_stop') else 'off'}.",
        "",
        "Accuracy is a rule check of each returned grid (complete, no conflicts, keeps givens),",
        "over the puzzles with one solution (the exact solver proves it), where a valid grid is",
        "the solution. Puzzles with several solutions or none are counted apart and not scored.",
        "Cell accuracy: empty cells of the neural grid equal to the verified solution.",
        "",
        "## Accuracy",
        "",
        "| set | one solution | neural-only | cell acc | verified | by neural / by search |"
        " several solutions | no solution |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in report["sets"]:
        lines.append(
            f"| {r['set']} | {r['unique']} | {_pct(r['neural_acc'])} | {_pct(r['cell_acc'])} | "
            f"{_pct(r['verified_acc'])} | {r['by_neural']} / {r['by_search']} | "
            f"{r['multiple']} | {r['no_solution']} |"
        )
    lines += [
        "",
        "## What the energy earns",
        "",
        "Single decode: the step-0 grid, no descent. Some chain: any chain's final grid was right;"
        " lowest energy: the chain the energy picked was right.",
        "",
        "| set | single decode | full descent | descent gain | some chain right |"
        " lowest-energy chain right | lowest right when some right |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in report["sets"]:
        gain = 100.0 * (r["best_chain_acc"] - r["single_decode_acc"])
        lines.append(
            f"| {r['set']} | {_pct(r['single_decode_acc'])} | {_pct(r['best_chain_acc'])} | "
            f"{gain:+.1f} pts | {_pct(r['any_chain_acc'])} | {_pct(r['best_chain_acc'])} | "
            f"{_pct(r['best_when_any'])} |"
        )
    lines += [
        "",
        "## Speed and search effort",
        "",
        "ms a puzzle, wall clock, one puzzle at a time. Neural = the full descent. Verified ="
        " descent (ended at the first valid grid when early stop is on) + rule check + guided"
        " search when needed + uniqueness proof. Nodes: mean over puzzles that needed search, to"
        " the first solution; guided = ordered by the model's probabilities, plain = the same"
        " solver's own ordering. All puzzles: the same means over every puzzle, 0 nodes when the"
        " model's grid was valid. Plain search = the exact solver alone, no model (limit 2).",
        "",
        "| set | neural median | neural p95 | verified median | verified p95 |"
        " uniqueness proof median | nodes guided | nodes plain | guided / plain |"
        " all puzzles: verified / plain nodes | plain search median | plain search p95 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in report["sets"]:
        ratio = "n/a" if r["guided_plain_ratio"] is None else f"{r['guided_plain_ratio']:.2f}"
        lines.append(
            f"| {r['set']} | {r['neural_ms_median']:.1f} | {r['neural_ms_p95']:.1f} | "
            f"{r['verified_ms_median']:.1f} | {r['verified_ms_p95']:.1f} | "
            f"{r['check_ms_median']:.2f} | {r['nodes_guided_mean']:.1f} | "
            f"{r['nodes_plain_mean']:.1f} | {ratio} | {r['nodes_verified_all_mean']:.1f} / "
            f"{r['nodes_plain_all_mean']:.1f} | {r['plain_search_ms_median']:.2f} | "
            f"{r['plain_search_ms_p95']:.2f} |"
        )
    if report.get("steps_table"):
        lines += ["", format_steps_markdown(report["steps_table"]).rstrip("\n")]
    lines += ["", "Sets:", ""]
    lines += [f"- {r['set']}: {r['origin']}" for r in report["sets"]]
    return "\n".join(lines) + "\n"


def write_report(report: dict, out) -> tuple[Path, Path]:
    """`out` (Markdown) and the same name with `.json`, each written atomically."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    json_path = out.with_suffix(".json")
    atomic_write_text(out, format_markdown(report))
    atomic_write_text(json_path, json.dumps(report, indent=2) + "\n")
    return out, json_path

