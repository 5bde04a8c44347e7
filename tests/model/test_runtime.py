"""The onnxruntime energy descent: the iterator, determinism, real descent, providers, bad files."""

from __future__ import annotations

import dataclasses

import numpy as np
import onnx
import onnx.helper as oh
import pytest

from model import board
from model.generator import generate_puzzles
from model.runtime import (
    SUPPORTED_FORMAT_VERSIONS,
    DescentSettings,
    DescentStep,
    EnergyModel,
    ModelError,
    NeuralResult,
)


@pytest.fixture(scope="module")
def model(tiny_onnx_model) -> EnergyModel:
    return EnergyModel.load(tiny_onnx_model, provider="cpu")


@pytest.fixture(scope="module")
def easy() -> list[np.ndarray]:
    return [g.puzzle for g in generate_puzzles(4, givens=(38, 44), seed=11)]


SMALL = DescentSettings(steps=6, chains=4, step_size=0.5, noise=0.3, seed=3)


def test_descend_yields_every_step_with_the_contract_shapes(model, easy):
    puzzle = easy[0]
    steps = list(model.descend(puzzle, SMALL))
    assert [s.step for s in steps] == list(range(SMALL.steps + 1))
    for s in steps:
        assert isinstance(s, DescentStep)
        assert s.probs.shape == (81, 9) and s.probs.dtype == np.float32
        assert s.grid.shape == (81,) and s.grid.dtype == np.int8
        assert s.energies.shape == (SMALL.chains,)
        assert s.best_chain == int(np.argmin(s.energies))
        assert s.best_energy == pytest.approx(float(s.energies.min()))
        assert s.violations == int(board.conflicts(s.grid).sum())
        assert s.changed.shape == (81,) and s.changed.dtype == bool
        given = puzzle > 0
        np.testing.assert_array_equal(s.grid[given], puzzle[given])  # givens always kept
        assert np.all((s.grid >= 1) & (s.grid <= 9))
        np.testing.assert_allclose(s.probs.sum(-1), 1.0, atol=1e-4)
    assert not steps[0].changed.any()
    for before, after in zip(steps, steps[1:], strict=False):
        np.testing.assert_array_equal(after.changed, after.grid != before.grid)


def test_descent_is_deterministic_for_a_seed(model, easy):
    first = [s.energies for s in model.descend(easy[1], SMALL)]
    again = [s.energies for s in model.descend(easy[1], SMALL)]
    other = [s.energies for s in model.descend(easy[1], dataclasses.replace(SMALL, seed=4))]
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(first[1:], other[1:], strict=True))


def test_energy_descent_lowers_the_mean_energy_on_easy_puzzles(model, easy):
    """The gradient term is real: mean energy over chains falls from the first to the last step."""
    settings = DescentSettings(steps=10, chains=4, step_size=0.5, noise=0.3)  # tiny model's scale
    for puzzle in easy:
        steps = list(model.descend(puzzle, settings))
        assert steps[-1].energies.mean() < steps[0].energies.mean()


def test_zero_step_size_changes_the_result(model, easy):
    settings = DescentSettings(steps=10, chains=4, step_size=0.5, noise=0.0)
    moved = model.solve(easy[2], settings)
    still = model.solve(easy[2], dataclasses.replace(settings, step_size=0.0))
    # no gradient step, no noise: z never moves (but for float rounding of the renormalisation)
    assert np.ptp(still.energy_trace) < 1e-5 * abs(still.energy_trace[0])
    assert moved.energy < still.energy
    assert moved.energy_trace != still.energy_trace


def test_solve_reports_the_lowest_energy_state(model, easy):
    puzzle = easy[3]
    result = model.solve(puzzle, SMALL)
    steps = list(model.descend(puzzle, SMALL))
    assert isinstance(result, NeuralResult)
    assert result.steps == SMALL.steps and len(result.energy_trace) == SMALL.steps + 1
    assert result.energy == pytest.approx(min(result.energy_trace))
    winner = min(steps, key=lambda s: s.best_energy)
    np.testing.assert_array_equal(result.grid, winner.grid)
    assert result.valid == board.is_valid_solution(result.grid, puzzle)
    assert result.initial_valid == board.is_valid_solution(steps[0].grid, puzzle)
    assert result.any_chain_valid or not result.valid
    assert result.ms > 0


def test_solve_is_the_winner_of_the_descent_it_streams(model, easy):
    """One descent loop: solve() reports the lowest-energy state that descend() streamed."""
    for puzzle in easy:
        steps = list(model.descend(puzzle, SMALL))
        want = min(steps, key=lambda s: s.best_energy)
        got = model.solve(puzzle, SMALL)
        np.testing.assert_array_equal(got.grid, want.grid)
        assert got.energy == pytest.approx(want.best_energy)
        assert got.energy_trace == pytest.approx([s.best_energy for s in steps])


def test_a_chain_count_that_was_not_traced_works(model, easy):
    for chains in (1, 3, 17):
        result = model.solve(easy[0], dataclasses.replace(SMALL, chains=chains, steps=2))
        assert len(result.energy_trace) == 3


def test_puzzle_input_forms_and_errors(model, easy):
    text = board.format_grid(easy[0])
    a = model.solve(text, SMALL)
    b = model.solve(list(easy[0]), SMALL)
    np.testing.assert_array_equal(a.grid, b.grid)
    with pytest.raises(board.PuzzleError, match="81 cells"):
        model.solve(np.zeros(80, np.int8), SMALL)
    bad = easy[0].astype(np.int64)
    bad[5] = 12
    with pytest.raises(board.PuzzleError, match="r1c6"):
        model.solve(bad, SMALL)
    with pytest.raises(ValueError, match="chains"):
        model.solve(easy[0], dataclasses.replace(SMALL, chains=0))


def test_provider_is_reported(tiny_onnx_model):
    auto = EnergyModel.load(tiny_onnx_model)
    assert auto.provider in ("cpu", "cuda") and auto.provider_reason
    cpu = EnergyModel.load(tiny_onnx_model, provider="cpu")
    assert cpu.provider == "cpu" and cpu.provider_reason == "requested"
    cuda = EnergyModel.load(tiny_onnx_model, provider="cuda")
    if cuda.provider == "cpu":  # no usable GPU here: said so, not a crash
        assert "cuda requested" in cuda.provider_reason and "using CPU" in cuda.provider_reason
    with pytest.raises(ModelError, match="unknown provider"):
        EnergyModel.load(tiny_onnx_model, provider="tpu")


def test_cli_neural_mode_writes_jsonl_with_an_energy_summary(tiny_onnx_model, easy, tmp_path):
    import json

    from training.cli import main

    puzzles = tmp_path / "p.txt"
    puzzles.write_text(board.format_grid(easy[0]) + "\nnot a puzzle\n")
    out = tmp_path / "out.jsonl"
    assert main(["solve", str(puzzles), "--mode", "neural", "--model", str(tiny_onnx_model),
                 "--jsonl", str(out)]) == 0
    first, second = [json.loads(line) for line in out.read_text().splitlines()]
    assert first["puzzle"] == board.format_grid(easy[0]) and first["mode"] == "neural"
    assert first["status"] in ("solved", "unsolved") and first["ms"] > 0
    assert (first["solution"] is None) == (first["status"] == "unsolved")
    trace = first["energy_trace"]
    assert trace["min"] <= trace["first"] and trace["steps"] >= 1
    assert first["energy"] == pytest.approx(trace["min"])
    assert len(first["grid"]) == 81
    assert second["status"] == "invalid" and "error" in second


def test_cli_neural_trace_has_one_entry_per_step(tiny_onnx_model, easy, tmp_path):
    import json

    from training.cli import main

    puzzles = tmp_path / "p.txt"
    puzzles.write_text("".join(board.format_grid(p) + "\n" for p in easy[:2]))
    out = tmp_path / "out.jsonl"
    assert main(["solve", str(puzzles), "--mode", "neural", "--model", str(tiny_onnx_model),
                 "--trace", "--steps", "5", "--chains", "2", "--jsonl", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 2
    for row in rows:
        trace = row["trace"]
        assert len(trace) == 6  # steps 0..5
        assert [t["step"] for t in trace] == list(range(6))
        for entry in trace:
            assert {"energy", "conflicts", "decided"} <= set(entry)
            assert isinstance(entry["energy"], float)
            assert 0 <= entry["conflicts"] <= 81 and 0 <= entry["decided"] <= 81
        assert row["energy_trace"]["steps"] == 5 and row["chain"] in (0, 1)
        assert min(t["energy"] for t in trace) == pytest.approx(row["energy"], abs=1e-5)


# ------------------------------------------------------------------ bad files: each refusal names
# the file and what is wrong with it, never a traceback from onnxruntime


def _expect_model_error(path, *fragments: str) -> ModelError:
    with pytest.raises(ModelError) as info:
        EnergyModel.load(path)
    message = str(info.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message, message
    return info.value


def test_missing_file_and_folder(tmp_path):
    _expect_model_error(tmp_path / "nope.onnx", "file not found")
    _expect_model_error(tmp_path, "not a file")


def test_empty_file(tmp_path):
    path = tmp_path / "empty.onnx"
    path.write_bytes(b"")
    _expect_model_error(path, "empty file")


@pytest.mark.parametrize("fraction", [0.001, 0.1, 0.5, 0.9, 0.999])
def test_truncated_file(tiny_onnx_model, tmp_path, fraction):
    data = tiny_onnx_model.read_bytes()
    path = tmp_path / "cut.onnx"
    path.write_bytes(data[: max(1, int(len(data) * fraction))])
    _expect_model_error(path)


def test_truncated_at_the_last_byte(tiny_onnx_model, tmp_path):
    path = tmp_path / "cut.onnx"
    path.write_bytes(tiny_onnx_model.read_bytes()[:-1])
    _expect_model_error(path)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_bytes(tmp_path, seed):
    path = tmp_path / "noise.onnx"
    path.write_bytes(np.random.default_rng(seed).integers(0, 256, 4096, np.uint8).tobytes())
    _expect_model_error(path)


def _tiny_graph(version: str | None) -> onnx.ModelProto:
    """A valid ONNX model that is not a solver: y = x + x."""
    x = oh.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1])
    y = oh.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1])
    graph = oh.make_graph([oh.make_node("Add", ["x", "x"], ["y"])], "other", [x], [y])
    proto = oh.make_model(graph, opset_imports=[oh.make_opsetid("", 18)])
    if version is not None:
        proto.metadata_props.add(key="format_version", value=version)
    return proto


def test_onnx_of_the_wrong_graph(tmp_path):
    path = tmp_path / "other.onnx"
    onnx.save(_tiny_graph(SUPPORTED_FORMAT_VERSIONS[0]), path)
    _expect_model_error(path, "wrong graph", "step/z")
    plain = tmp_path / "plain.onnx"
    onnx.save(_tiny_graph(None), plain)
    _expect_model_error(plain, "no format_version", "not a sudoku-jepa solver")


def test_future_format_version_names_the_versions_read(tiny_onnx_model, tmp_path):
    proto = onnx.load(tiny_onnx_model)
    for entry in proto.metadata_props:
        if entry.key == "format_version":
            entry.value = "99"
    path = tmp_path / "future.onnx"
    onnx.save(proto, path)
    error = _expect_model_error(path, "'99'", "not supported",
                                f"format version {SUPPORTED_FORMAT_VERSIONS[0]}")
    assert error.path == path


# ------------------------------------------------------------------ the shipped model


def test_shipped_model_loads_and_descends(shipped_model):
    model = EnergyModel.load(shipped_model, provider="cpu")
    for key in ("config", "training_data", "val_metrics", "run_name", "created", "git_commit"):
        assert key in model.metadata, key
    settings = model.default_settings()
    assert settings.steps >= 1 and settings.chains >= 1
    puzzle = generate_puzzles(1, givens=(36, 40), seed=99)[0].puzzle
    result = model.solve(puzzle, settings)
    given = puzzle > 0
    np.testing.assert_array_equal(result.grid[given], puzzle[given])
    assert result.energy <= result.energy_trace[0]
