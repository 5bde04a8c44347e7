"""Torch -> ONNX: the puzzle encoder and one Langevin step, with the energy gradient in the graph.

The runtime (`model/runtime.py`) must run the real energy descent without torch, so the exported
step holds the forward energy *and* its gradient with respect to z. How (measured with torch 2.13,
onnx 1.23, onnxscript 0.7):

1. The pure step function is traced with `make_fx(..., tracing_mode="symbolic")`, parameters passed
   as inputs. During the trace `torch.func.grad` is swapped for an equivalent built on
   `torch.autograd.grad` (`autograd_grad`): make_fx records the backward ops as they run, and the
   chains dimension stays symbolic. Traced straight through `torch.func.grad`, `F.linear` with a
   bias on a 3-d input specialises every reshape to the traced chain count (a torch bug), which
   is why earlier attempts came out with a fixed batch.
2. The traced graph's parameter inputs are registered as buffers of a wrapper module, which
   `torch.onnx.export(..., dynamo=True)` exports with a dynamic row axis (one row per puzzle and
   chain). The encoder needs no gradient: it is exported directly, chains axis dynamic.
3. The encode graph and the step graph are merged into ONE file (`onnx.compose.merge_models`,
   prefixes `encode/` and `step/`); the runtime splits them with `onnx.utils.Extractor`.

The file is written atomically (tmp + fsync + os.replace) with its metadata in `metadata_props`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import logging
import os
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import onnx
import onnx.compose
import torch
from torch.fx.experimental.proxy_tensor import make_fx

FORMAT_VERSION = "1"

# Graph interface (prefixes added by the merge). The runtime checks these names on load.
ENCODE_INPUTS = ("puzzle", "start_noise")
ENCODE_OUTPUTS = ("z_context", "z_start")
STEP_INPUTS = ("z_context", "puzzle", "z", "step_size", "noise")
STEP_OUTPUTS = ("z_next", "energy", "probs")
ENCODE_PREFIX = "encode/"
STEP_PREFIX = "step/"

PureFn = Callable[..., Any]  # fn(params: dict[str, Tensor], *inputs) -> tuple[Tensor, ...]


# --------------------------------------------------------------------------------------------
# torch.func.grad, reimplemented on autograd for tracing
# --------------------------------------------------------------------------------------------
def autograd_grad(func: Callable, argnums: int | tuple[int, ...] = 0, has_aux: bool = False):
    """Same contract as `torch.func.grad`, computed with `torch.autograd.grad`.

    Why: make_fx traces autograd's backward with symbolic shapes intact, while tracing through the
    functorch transform specialises the batch dimension. Only used while exporting.
    """
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)

    def wrapped(*args, **kwargs):
        with torch.enable_grad():
            args = list(args)
            for i in nums:
                args[i] = args[i].detach().requires_grad_(True)
            out = func(*args, **kwargs)
            value, aux = out if has_aux else (out, None)
            grads = torch.autograd.grad(value, [args[i] for i in nums])
        grads = grads[0] if isinstance(argnums, int) else tuple(grads)
        if has_aux:
            aux = torch.utils._pytree.tree_map(
                lambda t: t.detach() if isinstance(t, torch.Tensor) else t, aux
            )
            return grads, aux
        return grads

    return wrapped


@contextlib.contextmanager
def _grad_on_autograd(modules: tuple[Any, ...] = ()) -> Iterator[None]:
    """Swap `torch.func.grad` (and module-level aliases of it in `modules`) for `autograd_grad`."""
    original = torch.func.grad
    patched: list[tuple[Any, str]] = [(torch.func, "grad")]
    for module in modules:
        for name, value in vars(module).items():
            if value is original:
                patched.append((module, name))
    for owner, name in patched:
        setattr(owner, name, autograd_grad)
    try:
        yield
    finally:
        for owner, name in patched:
            setattr(owner, name, original)


# --------------------------------------------------------------------------------------------
# one pure function -> one ONNX graph
# --------------------------------------------------------------------------------------------
class _TracedWithBuffers(torch.nn.Module):
    """A traced graph whose leading inputs (the parameters) are held as buffers."""

    def __init__(self, graph: torch.fx.GraphModule, tensors: list[torch.Tensor]) -> None:
        super().__init__()
        self.graph_module = graph
        self.count = len(tensors)
        for i, tensor in enumerate(tensors):
            self.register_buffer(f"p{i}", tensor.detach().clone())

    def forward(self, *inputs: torch.Tensor):
        params = [getattr(self, f"p{i}") for i in range(self.count)]
        return self.graph_module(*params, *inputs)


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


def export_pure_function(
    fn: PureFn,
    params: dict[str, torch.Tensor],
    example_inputs: tuple[torch.Tensor, ...],
    input_names: tuple[str, ...],
    output_names: tuple[str, ...],
    dynamic_axes: dict[str, dict[int, str]],
    grad_alias_modules: tuple[Any, ...] = (),
) -> onnx.ModelProto:
    """Trace `fn(params, *inputs)` (gradients included) and export it as one ONNX graph.

    `dynamic_axes` maps an input name to `{axis: dim_name}`; inputs not named are static.
    """
    names = list(params)
    tensors = [params[n].detach() for n in names]

    def flat(*args: torch.Tensor):
        return tuple(fn(dict(zip(names, args[: len(names)], strict=True)), *args[len(names) :]))

    with _grad_on_autograd(grad_alias_modules):
        graph = make_fx(flat, tracing_mode="symbolic")(*tensors, *example_inputs)
    wrapper = _TracedWithBuffers(graph, tensors).eval()

    return export_module(wrapper, example_inputs, input_names, output_names, dynamic_axes,
                         varargs=True)


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
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(out_path.name + ".tmp")
    data = model.SerializeToString()
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, out_path)
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
# Sized for the <= 50 ms budget with the cpu preset on 2 shared cores (benchmarks/bench_runtime.py
# --sweep): encode ~9-23 ms (64 iterations) + 7 evaluations x ~3.2 ms at 4 chains. Step size and
# noise measured on the cpu run's checkpoints: at 0.5 / 0.3 the energy *rose* (overshoot, noise);
# at 0.05 / 0.02 the mean energy over chains fell on 95% of puzzles, with the same accuracy. More
# steps or chains did not raise accuracy there. Override: `sudoku-jepa export --steps N ...`.
DEFAULT_SETTINGS = {"steps": 6, "chains": 4, "step_size": 0.05, "noise": 0.02}


class ExportError(ValueError):
    """A checkpoint that cannot be exported; the message names the path and the reason."""


class _EncodePuzzle(torch.nn.Module):
    """puzzle (P, 81) int64, start_noise (P, C, 81, Z) -> z_context (P, 81, D), z_0 (P, C, 81, Z).

    Steps 1-2 of `model.langevin` (start noise already scaled; chain 0's is zero). The encoder
    runs once per puzzle, not once per chain.
    """

    def __init__(self, model: torch.nn.Module, iters: int | None) -> None:
        super().__init__()
        self.model = model
        self.iters = iters

    def forward(self, puzzle: torch.Tensor, start_noise: torch.Tensor):
        from model.network import l2_normalize, puzzle_onehot

        givens = puzzle_onehot(puzzle)  # (P, 81, 9)
        z_context = self.model.encode(givens, self.iters)[-1]  # (P, 81, D)
        start = self.model.start_latent(z_context)  # (P, 81, Z)
        z0 = l2_normalize(start.unsqueeze(1) + start_noise)  # (P, C, 81, Z)
        return z_context, z0


def solver_graphs(model: torch.nn.Module, iters: int | None = None,
                  ) -> tuple[onnx.ModelProto, onnx.ModelProto]:
    """The encode graph and the Langevin-step graph of a trained `SudokuJEPA` (eval mode).

    Dynamic axes: encode has `chains` (one puzzle a call); the step works on rows of (puzzle,
    chain) pairs, axis `batch` (z_context and puzzle repeated per chain by the caller), so one
    call can hold several chains of several puzzles. Traced at sizes > 1 (a size of 1 specialises).
    """
    import model.langevin as langevin
    from model.energy import EnergyFunction
    from model.network import puzzle_onehot

    model = model.eval()
    Z = model.cfg.z_dim
    encoder = _EncodePuzzle(model, iters)
    energy_fn = EnergyFunction(model)
    step_params = _params_and_buffers(energy_fn)

    def step(params, z_context, puzzle, z, step_size, noise):
        givens = puzzle_onehot(puzzle)  # (B, 81, 9)
        return langevin.langevin_step(params, energy_fn, z_context, givens, z, step_size, noise)

    P, C = 1, 3  # the encoder's puzzle axis stays static: symbolic shapes through its 32-64
    # unrolled iterations made the export take minutes; the runtime encodes puzzle by puzzle
    puzzle = torch.zeros(P, 81, dtype=torch.int64)
    puzzle[0, :9] = torch.arange(1, 10)
    start_noise = torch.randn(P, C, 81, Z) * 0.1
    encode_proto = export_module(  # no gradient here: exported directly (4x faster than make_fx)
        encoder, (puzzle, start_noise), ENCODE_INPUTS, ENCODE_OUTPUTS,
        {"start_noise": {1: "chains"}})
    with torch.no_grad():
        z_context, z0 = encoder(puzzle, start_noise)
    rows = {0: "batch"}
    step_inputs = (z_context.repeat_interleave(C, 0), puzzle.repeat_interleave(C, 0),
                   z0.reshape(P * C, 81, Z), torch.tensor(0.5), torch.randn(P * C, 81, Z) * 0.1)
    step_proto = export_pure_function(
        step, step_params, step_inputs, STEP_INPUTS, STEP_OUTPUTS,
        {"z_context": rows, "puzzle": rows, "z": rows, "noise": rows},
        grad_alias_modules=(langevin,))
    return encode_proto, step_proto


def _params_and_buffers(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    tensors = dict(module.named_parameters())
    tensors.update(dict(module.named_buffers()))
    return {k: v.detach() for k, v in tensors.items()}


def export_model(model: torch.nn.Module, out_path: str | Path, **meta: Any) -> Path:
    """Export a `SudokuJEPA` to one ONNX solver file with metadata; returns the path."""
    if not getattr(model.cfg, "jepa", False):
        raise ExportError(f"{out_path}: the baseline model (jepa=False) has no energy to export")
    encode_proto, step_proto = solver_graphs(model)
    merged = merge_solver_graphs(encode_proto, step_proto)
    onnx.checker.check_model(merged)
    meta.setdefault("config", model.cfg.to_dict())
    meta.setdefault("default_settings", DEFAULT_SETTINGS)
    set_metadata(merged, base_metadata(**meta))
    return write_atomic(merged, Path(out_path))


def export_checkpoint(checkpoint_path: str | Path, out_path: str | Path,
                      iters: int | None = None, **meta: Any) -> Path:
    """Rebuild the model a training checkpoint holds and export it (the trainer calls this).

    Metadata not given is taken from the checkpoint: run name (runs/<name>/checkpoints/...),
    validation metrics of the best step, training data summary. `iters` overrides the encoder's
    inference iterations: a weight-tied encoder buys accuracy with test-time iterations.
    """
    from model.checkpoint import CheckpointError, load_checkpoint, model_from_checkpoint

    path = Path(checkpoint_path)
    try:
        ck = load_checkpoint(path)
        model = model_from_checkpoint(ck, path, eval_iters=iters)
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
