"""Training configuration, the named presets and `--config FILE` / `--set key=value` overrides."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from model.network import ModelConfig
from training.data import DataConfig
from training.losses import LossWeights


@dataclass
class TrainConfig:
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    loss: LossWeights = field(default_factory=LossWeights)
    batch_size: int = 64  # per process
    lr: float = 2e-3
    min_lr_frac: float = 0.05  # cosine floor, as a fraction of lr
    weight_decay: float = 0.01
    warmup_steps: int = 200  # capped at total_steps // 5
    total_steps: int = 2000  # with `minutes`, re-estimated from the measured step time
    minutes: float | None = None  # wall-clock budget; stops (and checkpoints) when spent
    grad_clip: float = 1.0
    ema_start: float = 0.996
    ema_end: float = 1.0
    log_every: int = 20
    eval_every: int = 200
    checkpoint_minutes: float = 3.0  # latest.pt at least this often (and at every eval)
    energy_gap_size: int = 64  # validation puzzles for the energy-gap monitor
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda
    compile: bool = False  # opt-in torch.compile
    threads: int = 0  # torch CPU threads; 0 = cores / processes
    export: bool = True  # export best.pt to export/model.onnx when the run finishes

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> TrainConfig:
        cfg = cls()
        apply_overrides(cfg, _flatten(data))
        return cfg


def _flatten(data: dict, prefix: str = "") -> dict[str, Any]:
    out = {}
    for k, v in data.items():
        if isinstance(v, dict):
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def _coerce(value: Any, current: Any) -> Any:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return value
    if isinstance(current, tuple) and isinstance(value, list):
        return tuple(tuple(v) if isinstance(v, list) else v for v in value)
    if isinstance(current, float) and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def apply_overrides(cfg: TrainConfig, overrides: dict[str, Any]) -> TrainConfig:
    """Set dotted keys (`model.d_model`, `lr`, `data.val_size`); unknown keys are an error."""
    for key, raw in overrides.items():
        obj, parts = cfg, key.split(".")
        for part in parts[:-1]:
            if not dataclasses.is_dataclass(obj) or not hasattr(obj, part):
                raise ValueError(f"unknown config key {key!r}")
            obj = getattr(obj, part)
        if not dataclasses.is_dataclass(obj) or parts[-1] not in {f.name for f in
                                                                  dataclasses.fields(obj)}:
            raise ValueError(f"unknown config key {key!r}")
        setattr(obj, parts[-1], _coerce(raw, getattr(obj, parts[-1])))
    return cfg


def parse_set(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        if "=" not in item:
            raise ValueError(f"--set expects key=value, got {item!r}")
        k, v = item.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def preset(name: str) -> TrainConfig:
    """tiny: learns visibly in < 1 minute on 2 CPU cores (tests use it; the descent family).
    cpu: the shipped model's recipe (family B: the recurrent update with its energy fitted along
    it), a time budget on 2 cores, curriculum down to 17-25 givens.
    cpu-descent: family A at the same size (every step a gradient step on E), for comparison.
    gpu: family B at full scale on one GPU (batch 512; a time budget of 8 minutes by default).

    `--set model.jepa=false` gives the free-recurrence baseline of the same size."""
    if name == "tiny":
        return TrainConfig(
            model=ModelConfig(d_model=32, mlp_hidden=64, encoder_layers=1, z_dim=16,
                              energy_hidden=32, steps=4, steps_jitter=2, prefix_steps=4,
                              eval_steps=8, iters=6, eval_iters=8, supervised_iters=3,
                              iters_jitter=2),
            data=DataConfig(bands=((34, 44),), start_weights=(1.0,), end_weights=(1.0,),
                            val_size=64, val_bands=(("easy", 34, 44),)),
            batch_size=32, lr=3e-3, warmup_steps=10, total_steps=120, log_every=10,
            eval_every=40, energy_gap_size=16, checkpoint_minutes=1.0)
    if name in ("cpu", "cpu-descent"):
        cfg = TrainConfig(
            model=ModelConfig(update="recurrent", d_model=96, mlp_hidden=192,
                              encoder_layers=2, z_dim=96, energy_hidden=96, quad=0.0,
                              steps=16, steps_jitter=8, prefix_steps=0, eval_steps=64,
                              noise=1.0, iters=16, eval_iters=64, supervised_iters=16,
                              iters_jitter=8),
            data=DataConfig(val_size=100),
            batch_size=64, lr=2e-3, warmup_steps=100, total_steps=4000, minutes=70.0,
            log_every=20, eval_every=200, checkpoint_minutes=3.0, energy_gap_size=64,
            threads=1)  # 2 threads gained no wall time on the shared 2-core machine
        if name == "cpu-descent":
            cfg.model = ModelConfig(d_model=96, mlp_hidden=192, encoder_layers=2, z_dim=64,
                                    energy_hidden=192, steps=16, steps_jitter=8,
                                    prefix_steps=32, eval_steps=64, noise=0.05)
        return cfg
    if name == "gpu":
        return TrainConfig(
            model=ModelConfig(update="recurrent", d_model=128, mlp_hidden=256,
                              encoder_layers=2, z_dim=128, energy_hidden=128, quad=0.0,
                              steps=16, steps_jitter=8, prefix_steps=0, eval_steps=64,
                              noise=1.0, iters=16, eval_iters=64, supervised_iters=16,
                              iters_jitter=8),
            data=DataConfig(val_size=500, curriculum_frac=0.4, pool_size=200_000),
            batch_size=512, lr=1e-3, warmup_steps=300, total_steps=20000, minutes=8.0,
            log_every=50, eval_every=500, checkpoint_minutes=2.0)
    raise ValueError(f"unknown preset {name!r}; choose tiny, cpu, cpu-descent or gpu")


def load_config_file(path: str | Path) -> dict:
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: cannot read config ({exc})") from exc
