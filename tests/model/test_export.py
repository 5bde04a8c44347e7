"""The exported ONNX solver against the torch model it came from: step, encode, whole solve."""

from __future__ import annotations

import math

import numpy as np
import onnx
import pytest
import torch

from model import langevin
from model.checkpoint import load_checkpoint, model_from_checkpoint
from model.energy import descent_step
from model.export import FORMAT_VERSION, ExportError, export_checkpoint
from model.generator import generate_puzzles
from model.network import SudokuJEPA, puzzle_onehot
from model.runtime import (
    ENCODE_INPUTS,
    ENCODE_OUTPUTS,
    STEP_INPUTS,
    STEP_OUTPUTS,
    DescentSettings,
    EnergyModel,
)
from training.exit_codes import EXIT_MODEL


@pytest.fixture(scope="module")
def torch_model(tiny_checkpoint) -> SudokuJEPA:
    return model_from_checkpoint(load_checkpoint(tiny_checkpoint), tiny_checkpoint).eval()


@pytest.fixture(scope="module")
def onnx_model(tiny_onnx_model) -> EnergyModel:
    return EnergyModel.load(tiny_onnx_model, provider="cpu")


@pytest.fixture(scope="module")
def puzzles() -> list[np.ndarray]:
    return [g.puzzle for g in generate_puzzles(3, givens=(34, 40), seed=7)]


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).max() / max(np.abs(a).max(), 1e-6))


def _torch_step(model, x, puzzle, s, step_size, noise):
    """One descent step in torch: the ONNX step input z_context is the energy's context bias
    x = model.energy.context_bias(z_context), (rows, 81, energy_hidden)."""
    givens = puzzle_onehot(torch.as_tensor(puzzle, dtype=torch.int64))
    with torch.no_grad():
        out = descent_step(model.energy, torch.as_tensor(x), givens, torch.as_tensor(s),
                           step_size, torch.as_tensor(noise))
    return [t.numpy() for t in out]


@pytest.mark.parametrize("rows", [1, 3, 8, 13])
def test_step_matches_torch_for_random_inputs(torch_model, onnx_model, puzzles, rows):
    """Rows are (puzzle, chain) pairs: here chains of two different puzzles in one call."""
    rng = np.random.default_rng(rows)
    Z, H = torch_model.cfg.z_dim, torch_model.cfg.energy_hidden
    which = np.arange(rows) % 2
    puzzle = np.stack([puzzles[0], puzzles[1]]).astype(np.int64)[which]  # (rows, 81)
    z_context = rng.standard_normal((rows, 81, H)).astype(np.float32)
    z = rng.standard_normal((rows, 81, Z)).astype(np.float32)
    noise = (0.1 * rng.standard_normal((rows, 81, Z))).astype(np.float32)
    expected = _torch_step(torch_model, z_context, puzzle, z, 0.3, noise)
    got = onnx_model._step.run(list(STEP_OUTPUTS), dict(zip(STEP_INPUTS, [
        z_context, puzzle, z, np.array(0.3, np.float32), noise], strict=True)))
    for name, want, have in zip(STEP_OUTPUTS, expected, got, strict=True):
        assert have.shape == want.shape, name
        assert _rel(want, have) < 1e-4, f"{name}: relative error {_rel(want, have):.2e}"


def test_gradient_is_in_the_graph(torch_model, onnx_model, puzzles):
    """s_next - s - noise = -step_size * dE/ds: compare with torch autograd's gradient of
    DescentEnergy.energy (the plain formula) at the encoder's own context."""
    rng = np.random.default_rng(0)
    Z = torch_model.cfg.z_dim
    puzzle = puzzles[1].astype(np.int64)[None].repeat(2, 0)  # (2, 81): two chains
    x, s0 = onnx_model._encode.run(list(ENCODE_OUTPUTS), {
        ENCODE_INPUTS[0]: puzzle[:1], ENCODE_INPUTS[1]: np.zeros((1, 2, 81, Z), np.float32)})
    x, s0 = x.repeat(2, 0), s0[0]
    s = (s0 + 0.3 * rng.standard_normal(s0.shape, np.float32)).astype(np.float32)
    s_leaf = torch.as_tensor(s).requires_grad_(True)
    givens = puzzle_onehot(torch.as_tensor(puzzle))
    energy = torch_model.energy.energy(torch.as_tensor(x), givens, s_leaf)
    (grad,) = torch.autograd.grad(energy.sum(), s_leaf)
    got, e, _ = onnx_model._step.run(list(STEP_OUTPUTS), dict(zip(STEP_INPUTS, [
        x, puzzle, s, np.array(1e-3, np.float32), np.zeros_like(s)], strict=True)))
    assert np.abs(grad.numpy()).max() > 0
    assert _rel((-1e-3 * grad).numpy(), got - s) < 1e-2  # the tiny move itself is the gradient
    assert _rel(energy.detach().numpy(), e) < 1e-4


@pytest.mark.parametrize("count, chains", [(1, 4), (1, 1), (1, 7)])
def test_encode_matches_torch(torch_model, onnx_model, puzzles, count, chains):
    Z = torch_model.cfg.z_dim
    puzzle = np.stack(puzzles[:count]).astype(np.int64)  # (P, 81)
    start_noise = (0.05 * np.random.default_rng(1).standard_normal((count, chains, 81, Z))
                   ).astype(np.float32)
    got = onnx_model._encode.run(list(ENCODE_OUTPUTS), {
        ENCODE_INPUTS[0]: puzzle, ENCODE_INPUTS[1]: start_noise})
    with torch.no_grad():
        z_context = torch_model.encode(puzzle_onehot(torch.as_tensor(puzzle)))[-1]
        x = torch_model.energy.context_bias(z_context)  # what the step graph takes
        start = torch_model.start_state(z_context).unsqueeze(1)
        z0 = start + torch.as_tensor(start_noise)  # the state is not normalised
    assert got[0].shape == (count, 81, torch_model.cfg.energy_hidden)
    assert got[1].shape == (count, chains, 81, Z)
    assert _rel(x.numpy(), got[0]) < 1e-4
    assert _rel(z0.numpy(), got[1]) < 1e-4


def _torch_solve_with_runtime_noise(model, puzzle, s: DescentSettings) -> tuple[np.ndarray, float]:
    """langevin_solve's algorithm in torch, fed the runtime's numpy random numbers."""
    rng = np.random.default_rng(s.seed)
    Z = model.cfg.z_dim
    scale = 1.0 / math.sqrt(Z)
    p = torch.as_tensor(puzzle.astype(np.int64))[None]
    givens = puzzle_onehot(p).expand(s.chains, -1, -1)
    with torch.no_grad():
        z_ctx = model.encode(puzzle_onehot(p))[-1]
        start = rng.standard_normal((s.chains, 81, Z), dtype=np.float32) * np.float32(
            s.noise * scale)
        start[0] = 0.0
        z = model.start_state(z_ctx) + torch.as_tensor(start)
        x = model.energy.context_bias(z_ctx).expand(s.chains, -1, -1)
        best = (math.inf, None)
        for t in range(s.steps + 1):
            if t < s.steps:
                level = s.noise * (1.0 - t / max(s.steps, 1))
                eps = rng.standard_normal((s.chains, 81, Z), dtype=np.float32) * np.float32(
                    level * scale)
                z_new, e, probs = descent_step(model.energy, x, givens, z, s.step_size,
                                               torch.as_tensor(eps))
            else:
                e, _, probs = model.energy.energy_and_grad(x, givens, z)
                z_new = z
            k = int(e.argmin())
            if float(e[k]) < best[0]:
                best = (float(e[k]), probs[k].argmax(-1).numpy() + 1)
            z = z_new
    grid = best[1].astype(np.int8)
    grid[puzzle > 0] = puzzle[puzzle > 0]
    return grid, best[0]


def test_whole_solve_gives_the_same_grid_as_torch(torch_model, onnx_model, puzzles):
    s = DescentSettings(steps=8, chains=4, step_size=0.5, noise=0.3, seed=5)
    for puzzle in puzzles[:2]:
        want_grid, want_energy = _torch_solve_with_runtime_noise(torch_model, puzzle, s)
        got = onnx_model.solve(puzzle, s)
        np.testing.assert_array_equal(got.grid, want_grid)
        assert got.energy == pytest.approx(want_energy, rel=1e-4)


def test_noise_free_solve_matches_langevin_solve(torch_model, onnx_model, puzzles):
    """Without noise the torch RNG plays no part: the runtime equals `langevin_solve` itself."""
    puzzle = puzzles[0]
    res = langevin.langevin_solve(torch_model, torch.as_tensor(puzzle.astype(np.int64))[None],
                                  steps=6, chains=2, step_size=0.5, noise=0.0)
    got = onnx_model.solve(puzzle, DescentSettings(steps=6, chains=2, step_size=0.5, noise=0.0))
    want = res.grid[0].numpy().astype(np.int8)
    want[puzzle > 0] = puzzle[puzzle > 0]
    np.testing.assert_array_equal(got.grid, want)
    assert got.energy == pytest.approx(float(res.energy[0]), rel=1e-4)


def test_metadata_is_complete(tiny_onnx_model, torch_model):
    proto = onnx.load(tiny_onnx_model)
    meta = {p.key: p.value for p in proto.metadata_props}
    for key in ("format_version", "config", "training_data", "val_metrics", "run_name",
                "created", "git_commit", "default_settings"):
        assert key in meta, key
    assert meta["format_version"] == FORMAT_VERSION
    loaded = EnergyModel.load(tiny_onnx_model, provider="cpu")
    assert loaded.config["z_dim"] == torch_model.cfg.z_dim
    assert loaded.metadata["run_name"] == "tiny"
    assert set(loaded.metadata["default_settings"]) >= {"steps", "chains", "step_size", "noise"}
    assert "val_cell_acc" in loaded.metadata["val_metrics"]


@pytest.mark.slow  # a second export (~15-40 s here); the fixture's run already used this path
def test_export_command_writes_a_loadable_file_atomically(tiny_checkpoint, tmp_path, capsys):
    from training.cli import main

    out = tmp_path / "sub" / "model.onnx"
    code = main(["export", "--checkpoint", str(tiny_checkpoint), "--out", str(out),
                 "--run-name", "again"])
    assert code == 0
    assert out.is_file() and not list(out.parent.glob("*.tmp"))
    assert "wrote" in capsys.readouterr().err
    assert EnergyModel.load(out, provider="cpu").metadata["run_name"] == "again"


def test_export_command_reports_a_bad_checkpoint(tmp_path, capsys):
    from training.cli import main

    assert main(["export", "--checkpoint", str(tmp_path / "nope.pt"), "--out",
                 str(tmp_path / "m.onnx")]) == EXIT_MODEL
    assert "nope.pt: checkpoint not found" in capsys.readouterr().err


def test_export_checkpoint_errors_name_the_path(tmp_path):
    with pytest.raises(ExportError, match="missing.pt: checkpoint not found"):
        export_checkpoint(tmp_path / "missing.pt", tmp_path / "m.onnx")
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(ExportError, match="junk.pt: corrupt or unreadable"):
        export_checkpoint(junk, tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()
