"""The benchmark's figures agree with an independent rule check of the grids it returns."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from model import board, search
from model.benchmark import (
    format_markdown,
    generated_sets,
    load_file_set,
    run_benchmark,
    shared_benchmark_dir,
    write_report,
)
from model.generator import generate_puzzles
from model.verified import VerifiedSettings
from training.exit_codes import EXIT_MODEL


def grid_of(text: str) -> np.ndarray:
    """81 chars -> (81,) int8 without parse_grid's clash check (wrong grids must stay readable)."""
    return np.array([0 if c == "." else int(c) for c in text], dtype=np.int8)


def write_set(path: Path, puzzles) -> Path:
    lines = ["# a tiny test set"] + [board.format_grid(p) for p in puzzles]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def tiny_sets(tmp_path_factory):
    """Two tiny puzzle files (easy and hard) and their known solutions."""
    folder = tmp_path_factory.mktemp("sets")
    easy = generate_puzzles(6, givens=(36, 45), difficulty="singles", seed=3)
    hard = generate_puzzles(6, givens=(20, 30), difficulty="hard", seed=4)
    solutions = {board.format_grid(g.puzzle): g.solution for g in easy + hard}
    paths = [
        write_set(folder / "tiny_easy.txt", [g.puzzle for g in easy]),
        write_set(folder / "tiny_hard.txt", [g.puzzle for g in hard]),
    ]
    return paths, solutions


class ScriptedModel:
    """Stands in for EnergyModel: right on every other puzzle, wrong (one cell off) on the rest."""

    provider = "scripted"

    def __init__(self, path: Path, solutions: dict[str, np.ndarray]):
        self.path = path
        self.solutions = solutions
        self.calls = 0

    def default_settings(self):
        from model.runtime import DescentSettings

        return DescentSettings(steps=3, chains=2, step_size=0.1, noise=0.0)

    def solve(self, puzzle, settings=None):
        from model.runtime import NeuralResult

        solution = self.solutions[board.format_grid(puzzle)]
        right = self.calls % 2 == 0
        grid = solution.copy()
        if not right:
            cell = int(np.flatnonzero(puzzle == 0)[0])
            grid[cell] = grid[cell] % 9 + 1
        self.calls += 1
        return NeuralResult(
            grid=grid, probs=np.eye(9, dtype=np.float32)[grid - 1], valid=right, energy=0.5,
            energy_trace=[1.0, 0.5], steps=3, ms=0.1,
            any_chain_valid=right or self.calls % 3 == 0, initial_valid=self.calls % 4 == 1,
        )


def test_load_file_set_reads_skips_comments_and_limits(tiny_sets):
    paths, solutions = tiny_sets
    loaded = load_file_set(paths[0])
    assert loaded.puzzles.shape == (6, 81) and loaded.puzzles.dtype == np.int8
    assert loaded.name == "tiny_easy" and loaded.origin == str(paths[0])
    assert load_file_set(paths[0], limit=2).puzzles.shape == (2, 81)
    assert all(board.format_grid(p) in solutions for p in loaded.puzzles)


def test_generated_sets_are_fixed_by_seed():
    first = generated_sets(3, seed=7)
    again = generated_sets(3, seed=7)
    assert [s.name for s in first] == ["generated-easy", "generated-medium", "generated-hard"]
    for a, b in zip(first, again, strict=True):
        assert np.array_equal(a.puzzles, b.puzzles) and a.puzzles.shape == (3, 81)
    easy, _, hard = first
    assert np.all((easy.puzzles > 0).sum(axis=1) >= 36)
    assert "seed=" in hard.origin


def test_shared_benchmark_dir_is_next_to_the_project():
    assert shared_benchmark_dir().parts[-2:] == ("shared", "benchmarks")


def test_scripted_model_figures_match_an_independent_rule_check(tiny_sets, tmp_path):
    paths, solutions = tiny_sets
    model_file = tmp_path / "scripted.onnx"
    model_file.write_bytes(b"not really a model")
    model = ScriptedModel(model_file, solutions)
    sets = [load_file_set(p) for p in paths]
    report = run_benchmark(model, sets, VerifiedSettings(early_stop=False), keep_grids=True)

    assert len(report["model"]["sha256"]) == 64 and report["machine"]["cores"] >= 1
    for row in report["sets"]:
        grids = row["grids"]
        puzzles = [grid_of(g["puzzle"]) for g in grids]
        neural = [grid_of(g["neural_grid"]) for g in grids]
        verified = [grid_of(g["verified_grid"]) for g in grids]
        ok = [board.is_valid_solution(n, p) for n, p in zip(neural, puzzles, strict=True)]
        assert row["puzzles"] == 6
        assert row["neural_acc"] == pytest.approx(np.mean(ok)) == pytest.approx(0.5)
        assert row["verified_acc"] == 1.0
        for p, v in zip(puzzles, verified, strict=True):
            assert np.array_equal(v, solutions[board.format_grid(p)])
        empty = sum(int((p == 0).sum()) for p in puzzles)
        assert row["cell_acc"] == pytest.approx((empty - 3) / empty)  # 3 wrong grids, 1 cell each
        assert row["by_neural"] == 3 and row["by_search"] == 3
        assert row["nodes_guided_mean"] >= 1 and row["nodes_plain_mean"] >= 1
        assert row["verified_ms_median"] >= row["neural_ms_median"] > 0

    text = format_markdown(report)
    assert "| tiny_easy | 6 | 50.0% |" in text and "| tiny_hard | 6 | 50.0% |" in text
    md, js = write_report(report, tmp_path / "out" / "bench.md")
    assert md.read_text() == text
    assert json.loads(js.read_text())["sets"][0]["set"] == "tiny_easy"


def test_tiny_onnx_model_benchmark_matches_rule_check(tiny_onnx_model, tiny_sets, tmp_path):
    from model.runtime import EnergyModel

    paths, solutions = tiny_sets
    model = EnergyModel.load(tiny_onnx_model, provider="cpu")
    sets = [load_file_set(p, limit=4) for p in paths]
    seen = []
    report = run_benchmark(model, sets, keep_grids=True, progress=lambda d, t, n: seen.append(d))
    assert seen == list(range(1, 9))
    for row in report["sets"]:
        grids = row["grids"]
        ok = [
            board.is_valid_solution(grid_of(g["neural_grid"]), grid_of(g["puzzle"])) for g in grids
        ]
        assert row["neural_acc"] == pytest.approx(np.mean(ok))
        assert row["verified_acc"] == 1.0
        for g in grids:
            assert np.array_equal(grid_of(g["verified_grid"]), solutions[g["puzzle"]])
        assert row["best_when_any"] <= 1.0
    md, _ = write_report(report, tmp_path / "bench.md")
    assert "tiny_hard" in md.read_text()


def test_bench_command_writes_markdown_and_json(tiny_onnx_model, tiny_sets, tmp_path, capsys):
    from training.cli import main

    paths, _ = tiny_sets
    out = tmp_path / "bench.md"
    code = main(["bench", "--model", str(tiny_onnx_model), "--sets", *map(str, paths),
                 "--generated", "2", "--limit", "2", "--out", str(out), "--no-progress"])
    assert code == 0
    report = json.loads(out.with_suffix(".json").read_text())
    names = [row["set"] for row in report["sets"]]
    assert names == ["tiny_easy", "tiny_hard", "generated-easy", "generated-medium",
                     "generated-hard"]
    assert all(row["puzzles"] == 2 and row["verified_acc"] == 1.0 for row in report["sets"])
    assert report["model"]["provider"] and "| tiny_hard | 2 |" in out.read_text()
    assert "| generated-hard | 2 |" in capsys.readouterr().out


def test_solve_verified_command_reports_search_and_statuses(tiny_onnx_model, tmp_path, capsys):
    from training.cli import main

    made = generate_puzzles(2, givens=(20, 30), difficulty="hard", seed=9)
    lines = [board.format_grid(g.puzzle) for g in made] + ["." * 81]
    puzzles = write_set(tmp_path / "p.txt", [])
    puzzles.write_text("\n".join(lines) + "\n")
    code = main(["solve", str(puzzles), "--mode", "verified", "--model", str(tiny_onnx_model)])
    assert code == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    for row, item in zip(rows[:2], made, strict=True):
        assert row["status"] == "solved" and row["by"] in ("neural", "search")
        assert row["solution"] == board.format_grid(item.solution)
        assert row["nodes_plain"] >= 1 and len(row["source"]) == 81
    assert rows[2]["status"] == "multiple" and len(rows[2]["solutions"]) == 2


def test_bench_command_without_model_fails_clearly(tmp_path, capsys):
    from training.cli import main

    code = main(["bench", "--model", str(tmp_path / "missing.onnx"), "--generated", "1",
                 "--out", str(tmp_path / "b.md")])
    assert code == EXIT_MODEL
    assert "missing.onnx" in capsys.readouterr().err


def _several_and_no_solution(puzzle: np.ndarray, solution: np.ndarray, rng):
    """From a unique puzzle: one with several solutions (givens removed) and one with none (an
    empty cell given a wrong digit that clashes with no given)."""
    several = puzzle.copy()
    while search.solve(several, limit=2).status != "multiple":
        several[rng.choice(np.flatnonzero(several))] = 0
    for cell in np.flatnonzero(puzzle == 0):
        for digit in range(1, 10):
            none = puzzle.copy()
            none[cell] = digit
            if digit != solution[cell] and not board.conflict_pairs(none) and \
                    search.solve(none, limit=2).status == "no-solution":
                return several, none
    raise AssertionError("no unsolvable variant found")


def test_puzzles_with_several_solutions_or_none_are_counted_apart_and_not_scored(tmp_path):
    made = generate_puzzles(3, givens=(30, 34), seed=11)
    several, none = _several_and_no_solution(made[0].puzzle, made[0].solution,
                                             np.random.default_rng(0))
    solutions = {board.format_grid(g.puzzle): g.solution for g in made}
    # the model is right on each unique puzzle and "valid" on the one with several solutions
    solutions[board.format_grid(several)] = search.solve(several, limit=2).solutions[0]
    solutions[board.format_grid(none)] = np.where(none > 0, none, 1).astype(np.int8)

    class AlwaysRight(ScriptedModel):
        def solve(self, puzzle, settings=None):
            self.calls = 0  # the scripted model is right on its even calls
            return super().solve(puzzle, settings)

    path = write_set(tmp_path / "mixed.txt", [g.puzzle for g in made] + [several, none])
    report = run_benchmark(AlwaysRight(path, solutions), [load_file_set(path)],
                           VerifiedSettings(early_stop=False))
    row = report["sets"][0]
    assert (row["puzzles"], row["unique"], row["multiple"], row["no_solution"]) == (5, 3, 1, 1)
    assert row["neural_acc"] == row["verified_acc"] == row["cell_acc"] == 1.0
    assert row["by_neural"] == 3 and row["by_search"] == 0
    assert "| mixed | 3 | 100.0% | 100.0% | 100.0% | 3 / 0 | 1 | 1 |" in format_markdown(report)
