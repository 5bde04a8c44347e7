"""The solver on onnxruntime: no torch in this process.

Runs exactly the algorithm of `model/langevin.py` on the graphs `model/export.py` writes:
1. encode once: the steps' context (1, 81, K) and the chains' start states s_0 (C, 81, Z) (chain
   0 starts clean, the others with `noise * randn / sqrt(Z)`); the step graph takes one row per
   chain;
2. per step t < steps: one graph call gives the energy and probabilities at s_t and s_{t+1}
   (`SudokuJEPA.solve_step`: a gradient step on E computed inside the graph, or the recurrent
   model's update) plus `noise_t * randn / sqrt(Z)`, noise_t annealed linearly from `noise` to 0;
   with `reject_rises`, a chain whose energy would rise stays where it was;
3. one more evaluation at the final state (step `steps`);
4. the winner is the (step, chain) state of lowest energy over the whole trace.
Random numbers come from `numpy.random.default_rng(seed)`: start noise first, then one draw a step.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import re
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnx.utils
import onnxruntime as ort

from model import board

SUPPORTED_FORMAT_VERSIONS = ("1", "2")  # 1: Langevin on a unit latent; 2: state descent
ENCODE_INPUTS = ("encode/puzzle", "encode/start_noise")
ENCODE_OUTPUTS = ("encode/z_context", "encode/z_start")
STEP_INPUTS = ("step/z_context", "step/puzzle", "step/z", "step/step_size", "step/noise")
STEP_OUTPUTS = ("step/z_next", "step/energy", "step/probs")
PROVIDERS = {"cpu": "CPUExecutionProvider", "cuda": "CUDAExecutionProvider"}
THREADS_ENV = "SUDOKU_JEPA_THREADS"  # onnxruntime intra-op threads on CPU (default 1)

ort.set_default_logger_severity(3)  # errors only: onnxruntime warns about harmless things


class ModelError(Exception):
    """A model file that cannot be used; str() names the path and the reason."""

    def __init__(self, path: str | Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = Path(path)
        self.reason = reason


@dataclass
class DescentSettings:
    steps: int
    chains: int
    step_size: float
    noise: float
    seed: int = 0
    reject_rises: bool = False  # True: a step that would raise a chain's energy is not taken


@dataclass
class DescentStep:
    step: int  # 0 = initial decode, before any Langevin update
    probs: np.ndarray  # (81, 9) of the best chain (givens one-hot)
    grid: np.ndarray  # (81,) int8 argmax of probs, givens kept
    energies: np.ndarray  # (chains,) inference energy per chain
    best_chain: int
    best_energy: float
    violations: int  # cells in `grid` whose digit repeats in a unit
    changed: np.ndarray  # (81,) bool: top digit changed since the previous step
    rejected: np.ndarray | None = None  # (chains,) bool: this step's move would have raised E
    chain_probs: np.ndarray | None = None  # (chains, 81, 9) every chain's probabilities: the
    #                                        step's own array, not a copy (read, don't keep)
    states: np.ndarray | None = None  # (chains, 81, Z) on the last step only: `descend(...,
    #                                   start=states)` continues the solve from here


@dataclass
class NeuralResult:
    grid: np.ndarray
    probs: np.ndarray
    valid: bool
    energy: float
    energy_trace: list[float]  # best energy at each step 0..steps
    steps: int
    ms: float
    any_chain_valid: bool  # some chain's grid at some step was a valid solution
    initial_valid: bool  # the step-0 decode of the best chain was already valid
    chain: int = 0  # the winning chain
    rejected_steps: int = 0  # steps of the winning chain whose move would have raised E
    trace: list[dict] | None = None  # with trace=True: the winning chain's steps (see solve)


# --------------------------------------------------------------------------------------------
# loading: validate everything before onnxruntime sees the bytes
# --------------------------------------------------------------------------------------------
def _read_model(path: Path) -> onnx.ModelProto:
    if not path.exists():
        raise ModelError(path, "file not found")
    if not path.is_file():
        raise ModelError(path, "not a file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelError(path, f"cannot read the file ({exc.strerror or exc})") from exc
    if not data:
        raise ModelError(path, "empty file (0 bytes)")
    try:
        model = onnx.load_model_from_string(data)
    except Exception as exc:  # protobuf DecodeError and friends
        raise ModelError(path, f"not an ONNX model: cannot parse it ({exc}); "
                               "the file may be truncated or corrupt") from exc
    if not model.graph.node:
        raise ModelError(path, "not an ONNX model: no graph found (truncated or corrupt file?)")
    return model


def _read_metadata(path: Path, model: onnx.ModelProto) -> dict[str, Any]:
    raw = {p.key: p.value for p in model.metadata_props}
    version = raw.get("format_version")
    readable = ", ".join(SUPPORTED_FORMAT_VERSIONS)
    if version is None:
        raise ModelError(path, "no format_version in the metadata: not a sudoku-jepa solver "
                               "model (or a truncated one); this runtime reads format version "
                               f"{readable}")
    if version not in SUPPORTED_FORMAT_VERSIONS:
        raise ModelError(path, f"format version {version!r} is not supported; this runtime reads "
                               f"format version {readable} (export the model again, or update)")
    meta: dict[str, Any] = {}
    for key, value in raw.items():
        if key in ("config", "val_metrics", "default_settings", "training_data"):
            try:
                meta[key] = json.loads(value) if value else {}
            except json.JSONDecodeError:
                if key in ("config", "default_settings"):
                    raise ModelError(path, f"metadata {key!r} is not valid JSON") from None
                meta[key] = value
        else:
            meta[key] = value
    return meta


def _check_graph(path: Path, model: onnx.ModelProto) -> None:
    try:
        onnx.checker.check_model(model)
    except Exception as exc:  # ValidationError, or anything the checker trips on
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(path, f"invalid ONNX graph ({first})") from exc
    inputs = {v.name for v in model.graph.input}
    outputs = {v.name for v in model.graph.output}
    missing_in = [n for n in ENCODE_INPUTS + STEP_INPUTS if n not in inputs]
    missing_out = [n for n in ENCODE_OUTPUTS + STEP_OUTPUTS if n not in outputs]
    if missing_in or missing_out:
        raise ModelError(path, "wrong graph: not a sudoku-jepa solver "
                               f"(missing inputs {missing_in or 'none'}, "
                               f"missing outputs {missing_out or 'none'})")


def _input_dim(model: onnx.ModelProto, name: str, axis: int) -> int:
    for value in model.graph.input:
        if value.name == name:
            dims = value.type.tensor_type.shape.dim
            if len(dims) > axis and dims[axis].HasField("dim_value"):
                return int(dims[axis].dim_value)
    return 0


@contextlib.contextmanager
def _captured_stderr() -> Iterator[list[str]]:
    """Collect what native code writes to fd 2 (onnxruntime's CUDA loader) instead of showing it."""
    lines: list[str] = []
    try:
        saved = os.dup(2)
    except OSError:  # no fd 2 (some GUI launches): nothing to hide
        yield lines
        return
    with tempfile.TemporaryFile(mode="w+b") as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield lines
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            text = sink.read().decode("utf-8", "replace")
            lines.extend(re.sub(r"\x1b\[[0-9;]*m", "", text).splitlines())


def _cuda_failure_reason(lines: list[str]) -> str:
    for line in lines:
        match = re.search(r"with error: (.*)", line)
        if match:
            return match.group(1).strip()
    for line in lines:
        if "cuda" in line.lower() or "error" in line.lower():
            return line.strip()[-200:]
    return "the CUDA provider did not start"


def _session_options() -> ort.SessionOptions:
    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    try:
        threads = int(os.environ.get(THREADS_ENV, "1"))
    except ValueError:
        threads = 1
    options.intra_op_num_threads = max(threads, 0)
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


def _make_sessions(path: Path, parts: tuple[bytes, bytes],
                   provider: str | None) -> tuple[list[ort.InferenceSession], str, str]:
    """CUDA when asked or (auto) when it really starts; else CPU. Returns sessions, name, reason."""
    if provider is not None and provider not in PROVIDERS:
        raise ModelError(path, f"unknown provider {provider!r}; choose cpu, cuda or auto")
    options = _session_options()
    reason = "requested" if provider == "cpu" else ""
    if provider in (None, "cuda"):
        if PROVIDERS["cuda"] not in ort.get_available_providers():
            reason = "onnxruntime has no CUDA provider in this install"  # e.g. plain onnxruntime
        else:
            with _captured_stderr() as lines, contextlib.redirect_stdout(io.StringIO()):
                with contextlib.suppress(Exception):  # CUDA/cuDNN from nvidia-* wheels, if any
                    ort.preload_dlls()
                try:
                    sessions = [ort.InferenceSession(
                        p, options, providers=[PROVIDERS["cuda"], PROVIDERS["cpu"]]) for p in parts]
                except Exception as exc:  # the CUDA provider can raise instead of falling back
                    sessions, lines = [], [str(exc)]
            if sessions and all(s.get_providers()[0] == PROVIDERS["cuda"] for s in sessions):
                why = "requested" if provider == "cuda" else "a usable GPU was found"
                return sessions, "cuda", why
            reason = f"the CUDA provider cannot start: {_cuda_failure_reason(lines)}"
        reason = (f"cuda requested, but {reason}; using CPU" if provider == "cuda"
                  else f"{reason}; using CPU")
    try:
        sessions = [ort.InferenceSession(p, options, providers=[PROVIDERS["cpu"]]) for p in parts]
    except Exception as exc:  # onnxruntime's own graph checks
        raise ModelError(path, f"onnxruntime cannot load the graph ({exc})") from exc
    return sessions, "cpu", reason


def _split(path: Path, model: onnx.ModelProto) -> tuple[bytes, bytes]:
    """The one file holds two disjoint graphs: cut out encode and step as separate models."""
    try:
        extractor = onnx.utils.Extractor(model)
        encode = extractor.extract_model(list(ENCODE_INPUTS), list(ENCODE_OUTPUTS))
        step = extractor.extract_model(list(STEP_INPUTS), list(STEP_OUTPUTS))
    except Exception as exc:
        raise ModelError(path, f"cannot split the encode and step graphs ({exc})") from exc
    return encode.SerializeToString(), step.SerializeToString()


# --------------------------------------------------------------------------------------------
# the solver
# --------------------------------------------------------------------------------------------
def _valid_grids(grids: np.ndarray) -> np.ndarray:
    """(C, 81) int8 grids that keep the givens -> (C,) bool: every unit holds 1..9 once."""
    units = np.sort(grids[:, board.UNITS], axis=-1)  # (C, 27, 9)
    return np.all(units == np.arange(1, 10, dtype=grids.dtype), axis=(1, 2))


def _reject_rises(kept: tuple[np.ndarray, ...], z: np.ndarray, energies: np.ndarray,
                  probs: np.ndarray, z_next: np.ndarray, noise: np.ndarray,
                  ) -> tuple[np.ndarray, ...]:
    """Chains whose new state has a higher energy than their kept one stay where they were; their
    next proposal is the kept state's move with this step's noise (moves are additive in the
    noise), so the energy each chain shows never rises. Returns (z, energies, probs, z_next,
    rejected (C,) bool)."""
    kept_z, kept_e, kept_p, kept_move = kept
    worse = energies > kept_e
    if not worse.any():
        return z, energies, probs, z_next, worse
    w3 = worse[:, None, None]
    return (np.where(w3, kept_z, z), np.where(worse, kept_e, energies),
            np.where(w3, kept_p, probs), np.where(w3, kept_move + noise, z_next), worse)


class EnergyModel:
    """A loaded solver file: two onnxruntime sessions (encode, step) and its metadata."""

    def __init__(self, path: Path, metadata: dict[str, Any], sessions: list[ort.InferenceSession],
                 provider: str, provider_reason: str, z_dim: int) -> None:
        self.path = path
        self.metadata = metadata
        self.provider = provider
        self.provider_reason = provider_reason
        self.z_dim = z_dim
        self.load_ms = 0.0
        self._encode, self._step = sessions

    @classmethod
    def load(cls, path: str | Path, provider: str | None = None) -> EnergyModel:
        """Validate and load; `provider` "cpu" | "cuda" | None (auto). Raises ModelError."""
        start = time.perf_counter()
        path = Path(path)
        model = _read_model(path)
        metadata = _read_metadata(path, model)
        _check_graph(path, model)
        z_dim = _input_dim(model, STEP_INPUTS[2], 2)
        if z_dim <= 0:
            raise ModelError(path, "wrong graph: the step input z has no fixed latent width")
        sessions, name, reason = _make_sessions(path, _split(path, model), provider)
        loaded = cls(path, metadata, sessions, name, reason, z_dim)
        loaded.load_ms = (time.perf_counter() - start) * 1000.0
        return loaded

    @property
    def config(self) -> dict[str, Any]:
        return self.metadata.get("config", {})

    def default_settings(self) -> DescentSettings:
        stored = self.metadata.get("default_settings") or {}
        return DescentSettings(
            steps=int(stored.get("steps", 6)), chains=int(stored.get("chains", 4)),
            step_size=float(stored.get("step_size", 0.05)),
            noise=float(stored.get("noise", 0.02)),
            seed=int(stored.get("seed", 0)),
            reject_rises=bool(stored.get("reject_rises", False)))

    def check_settings(self, settings: DescentSettings) -> None:
        if settings.steps < 0 or settings.chains < 1:
            raise ValueError(f"descent settings: steps >= 0 and chains >= 1 needed, got "
                             f"steps={settings.steps}, chains={settings.chains}")
        if not (math.isfinite(settings.step_size) and math.isfinite(settings.noise)):
            raise ValueError("descent settings: step_size and noise must be finite")

    def descend(self, puzzle: Any, settings: DescentSettings | None = None,
                start: np.ndarray | None = None) -> Iterator[DescentStep]:
        """Yield the state of the descent at steps 0..steps (see the module docstring).

        start: the last step's `states` of an earlier solve of this puzzle (same chain count):
        "think longer" continues from there instead of from the puzzle's start state."""
        for step, _, _, _ in self._trace(puzzle, settings, start):
            yield step

    def _trace(self, puzzle: Any, settings: DescentSettings | None,
               start: np.ndarray | None = None,
               ) -> Iterator[tuple[DescentStep, np.ndarray, np.ndarray, np.ndarray]]:
        """DescentStep plus every chain's energies (C,), probs (C, 81, 9) and grids (C, 81)."""
        settings = settings or self.default_settings()
        self.check_settings(settings)
        givens = board.as_puzzle(puzzle)
        given_mask = givens > 0
        given_onehot = np.eye(9, dtype=np.float32)[givens[given_mask] - 1]  # (givens, 9)
        C, Z = settings.chains, self.z_dim
        rng = np.random.default_rng(settings.seed)
        scale = 1.0 / math.sqrt(Z)
        puzzle_in = givens.astype(np.int64)[None]  # (1, 81)
        start_noise = rng.standard_normal((C, 81, Z), dtype=np.float32) * np.float32(
            settings.noise * scale)
        start_noise[0] = 0.0  # chain 0 starts clean
        z_context, z = self._encode.run(list(ENCODE_OUTPUTS), {
            ENCODE_INPUTS[0]: puzzle_in, ENCODE_INPUTS[1]: start_noise[None]})
        z = z[0]  # (C, 81, Z)
        if start is not None:
            if start.shape != z.shape:
                raise ValueError(f"descend: start states of shape {start.shape} do not fit "
                                 f"{z.shape} ({C} chains)")
            z = start.astype(np.float32, copy=True)
        feeds = {STEP_INPUTS[0]: np.repeat(z_context, C, axis=0),  # (C, 81, D): one row a chain
                 STEP_INPUTS[1]: np.repeat(puzzle_in, C, axis=0)}  # (C, 81)
        zero_noise = np.zeros((C, 81, Z), np.float32)
        previous = None
        kept: tuple[np.ndarray, ...] | None = None  # (z, energies, probs, z_next - noise)
        for t in range(settings.steps + 1):
            if t < settings.steps:
                level = settings.noise * (1.0 - t / max(settings.steps, 1))
                noise = rng.standard_normal((C, 81, Z), dtype=np.float32) * np.float32(
                    level * scale)
                step_size = np.array(settings.step_size, np.float32)
            else:  # one more evaluation at the final z: no update
                noise, step_size = zero_noise, np.array(0.0, np.float32)
            feeds[STEP_INPUTS[2]] = z
            feeds[STEP_INPUTS[3]] = step_size
            feeds[STEP_INPUTS[4]] = noise
            z_next, energies, probs = self._step.run(list(STEP_OUTPUTS), feeds)
            rejected = np.zeros(C, bool)
            if settings.reject_rises and kept is not None:
                z, energies, probs, z_next, rejected = _reject_rises(
                    kept, z, energies, probs, z_next, noise)
            kept = (z, energies, probs, z_next - noise)
            probs = probs.copy()
            probs[:, given_mask] = given_onehot  # exactly one-hot (the decoder's are ~1e-17 off)
            grids = (probs.argmax(-1) + 1).astype(np.int8)  # (C, 81)
            grids[:, given_mask] = givens[given_mask]
            best = int(np.argmin(energies))
            grid = grids[best].copy()
            changed = np.zeros(81, bool) if previous is None else grid != previous
            previous = grid
            yield DescentStep(
                step=t, probs=probs[best].copy(), grid=grid, energies=energies.copy(),
                best_chain=best, best_energy=float(energies[best]),
                violations=int(board.conflicts(grid).sum()), changed=changed, rejected=rejected,
                chain_probs=probs, states=z.copy() if t == settings.steps else None,
            ), energies, probs, grids
            z = z_next

    def solve(self, puzzle: Any, settings: DescentSettings | None = None,
              trace: bool = False) -> NeuralResult:
        """Run the whole descent; the lowest-energy (step, chain) state over the trace wins.

        trace=True: `result.trace` holds, for the winning chain, one dict per step 0..steps:
        energy, conflicts (cells whose digit repeats in a unit), decided (empty cells whose
        top probability is >= 0.9) and rejected (the step's move would have raised E, so the
        chain stayed).
        """
        start = time.perf_counter()
        givens = board.as_puzzle(puzzle)
        empty = givens == 0
        energy_trace: list[float] = []
        per_chain: list[tuple[np.ndarray, list[int], np.ndarray, np.ndarray]] = []
        rejected: np.ndarray | None = None  # (C,) rejected steps per chain
        winner: DescentStep | None = None
        initial_valid = any_valid = False
        for step, energies, probs, grids in self._trace(givens, settings):
            energy_trace.append(step.best_energy)
            if step.step == 0:
                initial_valid = board.is_valid_solution(step.grid, givens)
            any_valid = any_valid or bool(_valid_grids(grids).any())
            if winner is None or step.best_energy < winner.best_energy:
                winner = step
            rejected = step.rejected.astype(int) + (0 if rejected is None else rejected)
            if trace:
                decided = (probs[:, empty].max(-1) >= 0.9).sum(-1)  # (C,)
                conflicts = [int(board.conflicts(g).sum()) for g in grids]
                per_chain.append((energies.copy(), conflicts, decided, step.rejected.copy()))
        assert winner is not None  # steps >= 0 always yields step 0
        rows = None
        if trace:
            c = winner.best_chain
            rows = [{"step": t, "energy": round(float(e[c]), 6), "conflicts": k[c],
                     "decided": int(d[c]), "rejected": bool(r[c])}
                    for t, (e, k, d, r) in enumerate(per_chain)]
        return NeuralResult(
            grid=winner.grid, probs=winner.probs,
            valid=board.is_valid_solution(winner.grid, givens), energy=winner.best_energy,
            energy_trace=energy_trace, steps=len(energy_trace) - 1,
            ms=(time.perf_counter() - start) * 1000.0,
            any_chain_valid=any_valid, initial_valid=initial_valid, chain=winner.best_chain,
            trace=rows, rejected_steps=0 if rejected is None else int(rejected[winner.best_chain]),
        )
