"""Torch -> ONNX: the puzzle encoder and one descent step, with the energy gradient in the graph.

The runtime (`model/runtime.py`) runs the real energy descent without torch, so the exported step
holds the energy *and* its gradient with respect to the state s. The gradient is the closed form
of `DescentEnergy.energy_and_grad` (plain matmuls, checked against autograd in the tests), so both
graphs export directly with `torch.onnx.export(..., dynamo=True)`: no make_fx, no double backward,
a dynamic row axis (one row per puzzle and chain) and a dynamic chains axis on the encoder.

The encode graph and the step graph are merged into ONE file (`onnx.compose.merge_models`,
prefixes `encode/` and `step/`); the runtime splits them. The file is written atomically
(tmp + fsync + os.replace) with its metadata in `metadata_props`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import logging
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import onnx
import onnx.compose
import torch

from model.atomic_file import atomic_write_bytes

FORMAT_VERSION = "2"  # 2: state descent (z_context = the energy's context bias)

# Graph interface (prefixes added by the merge). The runtime checks these names on load.
ENCODE_INPUTS = ("puzzle", "start_noise")
ENCODE_OUTPUTS = ("z_context", "z_start")
STEP_INPUTS = ("z_context", "puzzle", "z", "step_size", "noise")
STEP_OUTPUTS = ("z_next", "energy", "probs")
ENCODE_PREFIX = "encode/"
STEP_PREFIX = "step/"

@contextlib.contextmanager
def _quiet_exporter() -> Iterator[None]:
    """The dynamo exporter logs torchvision notices and prints progress: keep the CLI readable."""
    loggers = [logging.getLogger(n) for n in ("torch.onnx", "torch._dynamo", "torch.export")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def export_module(
    module: torch.nn.Module,
    example_inputs: tuple[torch.Tensor, ...],
    input_names: tuple[str, ...],
    output_names: tuple[str, ...],
    dynamic_axes: dict[str, dict[int, str]],
    varargs: bool = False,
) -> onnx.ModelProto:
    """`torch.onnx.export(dynamo=True)` with named dynamic axes (no gradients: no make_fx).

    `varargs`: the module's forward takes `*inputs` (one dynamic-shapes entry for all of them).
    """
    dims: dict[str, torch.export.Dim] = {}
    dynamic_shapes = []
    for name in input_names:
        axes = dynamic_axes.get(name)
        if not axes:
            dynamic_shapes.append(None)
            continue
        spec = {}
        for axis, dim_name in axes.items():
            dims.setdefault(dim_name, torch.export.Dim(dim_name, min=1, max=4096))
            spec[axis] = dims[dim_name]
        dynamic_shapes.append(spec)
    shapes = (tuple(dynamic_shapes),) if varargs else tuple(dynamic_shapes)
    with _quiet_exporter(), torch.no_grad():
        program = torch.onnx.export(
            module.eval(),
            tuple(example_inputs),
            dynamo=True,
            input_names=list(input_names),
            output_names=list(output_names),
            dynamic_shapes=shapes,
            optimize=True,
            verbose=False,
        )
    proto = program.model_proto
    _name_dynamic_axes(proto, dynamic_axes)
    return proto


def _name_dynamic_axes(proto: onnx.ModelProto, dynamic_axes: dict[str, dict[int, str]]) -> None:
    """Give the graph inputs readable symbolic dims (the exporter may name them s0, s1, ...)."""
    for value in proto.graph.input:
        for axis, dim_name in dynamic_axes.get(value.name, {}).items():
            dim = value.type.tensor_type.shape.dim[axis]
            if not dim.HasField("dim_value"):
                dim.dim_param = dim_name


# --------------------------------------------------------------------------------------------
# the solver file: encode + step in one model, with metadata
# --------------------------------------------------------------------------------------------
def merge_solver_graphs(encode: onnx.ModelProto, step: onnx.ModelProto) -> onnx.ModelProto:
    """Two disjoint graphs in one model; names get `encode/` and `step/` prefixes."""
    opset = {o.domain: o.version for o in encode.opset_import}
    for o in step.opset_import:
        opset[o.domain] = max(opset.get(o.domain, 0), o.version)
    for model in (encode, step):
        if model.ir_version != encode.ir_version:
            model.ir_version = encode.ir_version
        del model.opset_import[:]
        model.opset_import.extend(onnx.helper.make_opsetid(d, v) for d, v in opset.items())
        del model.metadata_props[:]
    encode = onnx.compose.add_prefix(encode, ENCODE_PREFIX)
    step = onnx.compose.add_prefix(step, STEP_PREFIX)
    merged = onnx.compose.merge_models(encode, step, io_map=[])
    merged.producer_name = "sudoku-jepa"
    return merged


def set_metadata(model: onnx.ModelProto, metadata: dict[str, Any]) -> None:
    """Strings stay strings; dicts and lists are stored as JSON."""
    del model.metadata_props[:]
    for key, value in metadata.items():
        text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
        entry = model.metadata_props.add()
        entry.key, entry.value = key, text


def write_atomic(model: onnx.ModelProto, out_path: Path) -> Path:
    """tmp in the same folder, fsync, os.replace: a reader never sees half a model."""
    out_path = Path(out_path)
    atomic_write_bytes(out_path, model.SerializeToString(), make_parents=True)
    return out_path


def git_commit() -> str:
    """The commit of the source tree the export came from ('' outside a git checkout)."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


def base_metadata(**meta: Any) -> dict[str, Any]:
    """Every key the runtime and the app read, with defaults for the ones not given."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    data: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "config": {},
        "training_data": "",
        "val_metrics": {},
        "run_name": "",
        "created": now,
        "git_commit": git_commit(),
        "default_settings": {},
        "torch_version": torch.__version__,
        "python_version": sys.version.split()[0],
    }
    data.update({k: v for k, v in meta.items() if v is not None})
    return data


# --------------------------------------------------------------------------------------------
# the JEPA model -> the solver file
# --------------------------------------------------------------------------------------------
# Defaults of the descent stored in the file (the step count and step size come from the
# checkpoint: the validated eval_steps and the learned step). Override: `sudoku-jepa export`.
DEFAULT_SETTINGS = {"steps": 64, "chains": 1, "noise": 0.0}  # measured: see assets/MODEL_CARD.md


class ExportError(ValueError):
    """A checkpoint that cannot be exported; the message names the path and the reason."""


class _EncodePuzzle(torch.nn.Module):
    """puzzle (P, 81) int64, start_noise (P, C, 81, Z) -> context (P, 81, K), s_0 (P, C, 81, Z).

    Step 1 of `model.langevin` (start noise already scaled; chain 0's is zero): `prepare`, once
    per puzzle. The graph output keeps the name z_context for the runtime's interface.
    """

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, puzzle: torch.Tensor, start_noise: torch.Tensor):
        from model.units import puzzle_onehot

        _, context, s0 = self.model.prepare(puzzle_onehot(puzzle))
        return context, s0.unsqueeze(1) + start_noise


class _SolveStep(torch.nn.Module):
    """(context, puzzle, s, step_size, noise) -> (s_next, energy at s, probs at s)."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, context, puzzle, s, step_size, noise):
        from model.units import puzzle_onehot

        return self.model.solve_step(context, puzzle_onehot(puzzle), s, step_size, noise)


def solver_graphs(model: torch.nn.Module) -> tuple[onnx.ModelProto, onnx.ModelProto]:
    """The encode graph and the descent-step graph of a trained `SudokuJEPA` (eval mode).

    Dynamic axes: encode has `chains` (one puzzle a call); the step works on rows of (puzzle,
    chain) pairs, axis `batch` (x and puzzle repeated per chain by the caller), so one call can
    hold several chains of several puzzles. Traced at sizes > 1 (a size of 1 specialises).
    """
    model = model.eval()
    Z = model.cfg.z_dim
    encoder = _EncodePuzzle(model)
    P, C = 1, 3
    puzzle = torch.zeros(P, 81, dtype=torch.int64)
    puzzle[0, :9] = torch.arange(1, 10)
    start_noise = torch.randn(P, C, 81, Z) * 0.1
    encode_proto = export_module(encoder, (puzzle, start_noise), ENCODE_INPUTS, ENCODE_OUTPUTS,
                                 {"start_noise": {1: "chains"}})
    with torch.no_grad():
        x, s0 = encoder(puzzle, start_noise)
    rows = {0: "batch"}
    step_inputs = (x.repeat_interleave(C, 0), puzzle.repeat_interleave(C, 0),
                   s0.reshape(P * C, 81, Z), torch.tensor(0.5), torch.randn(P * C, 81, Z) * 0.1)
    step_proto = export_module(_SolveStep(model), step_inputs, STEP_INPUTS, STEP_OUTPUTS,
                               {"z_context": rows, "puzzle": rows, "z": rows, "noise": rows})
    return encode_proto, step_proto


def default_settings(model: torch.nn.Module) -> dict[str, Any]:
    """The descent the file runs by default: the validated step count, the learned step size."""
    return {**DEFAULT_SETTINGS, "steps": int(model.cfg.eval_steps),
            "step_size": round(model.default_step_size(), 6)}


def export_model(model: torch.nn.Module, out_path: str | Path, **meta: Any) -> Path:
    """Export a `SudokuJEPA` to one ONNX solver file with metadata; returns the path."""
    if not model.cfg.jepa:
        raise ExportError(f"{out_path}: the baseline model (jepa=False) has no energy to export")
    encode_proto, step_proto = solver_graphs(model)
    merged = merge_solver_graphs(encode_proto, step_proto)
    onnx.checker.check_model(merged)
    meta.setdefault("config", model.cfg.to_dict())
    meta["default_settings"] = {**default_settings(model), **(meta.get("default_settings") or {})}
    set_metadata(merged, base_metadata(**meta))
    return write_atomic(merged, Path(out_path))


def export_checkpoint(checkpoint_path: str | Path, out_path: str | Path,
                      steps: int | None = None, **meta: Any) -> Path:
    """Rebuild the model a training checkpoint holds and export it (the trainer calls this).

    Metadata not given is taken from the checkpoint: run name (runs/<name>/checkpoints/...),
    validation metrics of the best step, training data summary. `steps` overrides the default
    descent steps (the validated eval_steps).
    """
    from model.checkpoint import CheckpointError, load_checkpoint, model_from_checkpoint

    path = Path(checkpoint_path)
    try:
        ck = load_checkpoint(path)
        model = model_from_checkpoint(ck, path, eval_steps=steps)
    except CheckpointError as exc:
        raise ExportError(str(exc)) from exc
    train_cfg = ck["config"]
    run_dir = path.parent.parent if path.parent.name == "checkpoints" else path.parent
    data_cfg = train_cfg.get("data", {}) if isinstance(train_cfg, dict) else {}
    meta.setdefault("run_name", run_dir.name)
    meta.setdefault("val_metrics", ck.get("best") or {})
    meta.setdefault("training_data", {
        "data": data_cfg, "step": ck.get("step"),
        "samples": (ck.get("step") or 0) * int(train_cfg.get("batch_size", 0) or 0)})
    meta.setdefault("checkpoint", "/".join(path.resolve().parts[-3:]))  # <run>/checkpoints/x.pt
    return export_model(model, out_path, **meta)
