"""The training loop: config, data, model, optimiser, schedule, loop, evaluate, checkpoint.

Runs alone or under `torchrun` (DistributedDataParallel: nccl on GPUs, gloo on CPU). Rank 0 owns
the run directory. A checkpoint holds everything needed to continue exactly: model (with the
target encoder), optimiser, scheduler, step, total steps, RNG and data-stream states, config.
"""

from __future__ import annotations

import math
import os
import random
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist

from model.network import SudokuJEPA, count_parameters, ema_momentum, ema_update, puzzle_onehot
from training.data import (
    FileStream,
    GeneratedStream,
    PoolStream,
    exclusion_set,
    validation_sets,
)
from training.evaluation import corrupt, evaluate_choices, iteration_choices, monitors
from training.losses import compute_losses
from training.presets import TrainConfig
from training.run import (
    CheckpointError,
    CheckpointWriteError,
    RunDir,
    load_checkpoint,
    save_checkpoint,
)

EXIT_DIVERGED = 3
EXIT_CHECKPOINT_FAILED = 4  # a checkpoint could not be written (full disk, ...)


class TrainingDivergedError(RuntimeError):
    """A non-finite loss: the message names the step and the loss term."""


# ---------------------------------------------------------------- schedule


def warmup_steps(cfg_warmup: int, total_steps: int) -> int:
    return max(0, min(cfg_warmup, total_steps // 5))


def lr_factor(step: int, warmup: int, total_steps: int, min_frac: float = 0.05) -> float:
    """Linear warmup (capped at total//5) then cosine to `min_frac`; the period is always > 0."""
    warmup = warmup_steps(warmup, total_steps)
    if step < warmup:
        return (step + 1) / warmup
    period = max(total_steps - warmup, 1)
    t = min((step - warmup) / period, 1.0)
    return min_frac + (1.0 - min_frac) * 0.5 * (1.0 + math.cos(math.pi * t))


def is_better(metrics: dict, best: dict | None) -> bool:
    """Best checkpoint: highest val puzzle accuracy, ties by cell accuracy; energy never counts."""
    if best is None:
        return True
    key = (metrics["val_puzzle_acc"], metrics["val_cell_acc"])
    return key > (best["val_puzzle_acc"], best["val_cell_acc"])


# ---------------------------------------------------------------- devices


def pick_device(name: str, local_rank: int = 0) -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda":
        if not torch.cuda.is_available():
            raise ValueError("--device cuda: no CUDA device is available")
        return torch.device("cuda", local_rank)
    if name != "cpu":
        raise ValueError(f"--device must be auto, cpu or cuda, got {name!r}")
    return torch.device("cpu")


# ---------------------------------------------------------------- progress


class Progress:
    """One terminal line with step, loss, accuracy and ETA (plain lines when not a tty)."""

    def __init__(self, total: int, enabled: bool):
        self.total, self.enabled = total, enabled
        self.tty = sys.stderr.isatty()

    def update(self, step: int, loss: float, acc: float | None, sps: float, eta_s: float) -> None:
        if not self.enabled:
            return
        frac = min(step / max(self.total, 1), 1.0)
        bar = "#" * int(frac * 24) + "-" * (24 - int(frac * 24))
        acc_s = f" val {acc:.1%}" if acc is not None else ""
        line = (f"[{bar}] {step}/{self.total} loss {loss:.4f}{acc_s} {sps:.0f} samples/s "
                f"ETA {int(eta_s) // 60}m{int(eta_s) % 60:02d}s")
        sys.stderr.write(("\r" + line) if self.tty else (line + "\n"))
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled and self.tty:
            sys.stderr.write("\n")


# ---------------------------------------------------------------- the trainer


@dataclass
class Dist:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0


def setup_distributed(device_name: str) -> Dist:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Dist()
    rank, local = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = device_name == "cuda" or (device_name == "auto" and torch.cuda.is_available())
    dist.init_process_group("nccl" if use_cuda else "gloo")
    return Dist(rank, world, local)


class Trainer:
    def __init__(self, cfg: TrainConfig, run: RunDir | None, resume: dict | None = None,
                 dist_info: Dist | None = None, quiet: bool = False,
                 steps: int | None = None):
        self.cfg, self.run = cfg, run
        self.dist = dist_info or Dist()
        self.device = pick_device(cfg.device, self.dist.local_rank)
        threads = cfg.threads or max(1, (os.cpu_count() or 1) // self.dist.world)
        if self.device.type == "cpu":
            torch.set_num_threads(threads)
        seed = cfg.seed
        torch.manual_seed(seed + self.dist.rank)
        random.seed(seed + self.dist.rank)
        np.random.seed(seed + self.dist.rank)

        self.model = SudokuJEPA(cfg.model).to(self.device)
        self.optimizer = torch.optim.AdamW(
            [p for p in self.model.parameters() if p.requires_grad],
            lr=cfg.lr, weight_decay=cfg.weight_decay)
        self.total_steps = steps if steps is not None else cfg.total_steps
        self.iter_choices = iteration_choices(cfg.model)
        # the validated best test-time count, saved as eval_steps (eval_iters for the baseline)
        self.chosen_iters = cfg.model.eval_steps if cfg.model.jepa else cfg.model.eval_iters
        self.fixed_steps = steps is not None  # --steps N: no time-based re-estimation
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda s: lr_factor(s, cfg.warmup_steps, self.total_steps,
                                                cfg.min_lr_frac))
        self.step = 0
        self.best: dict | None = None
        self.elapsed_before = 0.0

        self.val_sets = validation_sets(cfg.data) if self.dist.main else {}
        exclude = exclusion_set(self.val_sets) if self.dist.main else exclusion_set(
            validation_sets(cfg.data))
        stream_seed = cfg.seed * 1000 + self.dist.rank
        if cfg.data.train_file:
            self.stream = FileStream(cfg.data.train_file, stream_seed, exclude)
        elif cfg.data.pool_size > 0:
            self.stream = PoolStream(cfg.data, stream_seed, exclude)
        else:
            self.stream = GeneratedStream(cfg.data, stream_seed, exclude)
        if resume is not None:
            self._restore(resume)
            if steps is not None:  # --resume with --steps N: extend or shorten the run
                self.total_steps = max(steps, self.step)

        self.net = self.model
        if cfg.compile:
            self.net = torch.compile(self.model)
        if self.dist.world > 1:
            ids = [self.device.index] if self.device.type == "cuda" else None
            # a no-grad prefix cuts s_0 (and the start projection) out of the loss
            unused = cfg.model.jepa and cfg.model.prefix_steps > 0
            self.net = torch.nn.parallel.DistributedDataParallel(
                self.net, device_ids=ids, find_unused_parameters=unused)
        self.progress = Progress(self.total_steps, self.dist.main and not quiet)
        self._stop_signal: str | None = None
        self._t0: float | None = None  # wall clock of this process's fit()
        self._tb = False  # the TensorBoard writer: False = not tried yet, None = not installed
        self._eval_better = False  # whether the last evaluation improved on the best

    # ---- checkpoint state
    def state_dict(self) -> dict:
        return {
            "model": self.model.state_dict(),  # includes target_encoder.* (the EMA encoder)
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "step": self.step,
            "total_steps": self.total_steps,
            "best": self.best,
            "elapsed_s": self.elapsed(),
            "rng": {"torch": torch.get_rng_state(), "numpy": np.random.get_state(),
                    "python": random.getstate(),
                    "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None},
            "data": self.stream.state_dict(),
            "config": self.cfg.to_dict(),
            # the model as it should run: eval_iters = the validated best iteration count
            "model_config": {**self.cfg.model.to_dict(), **self._chosen()},
        }

    def _restore(self, ck: dict) -> None:
        try:
            self.model.load_state_dict(ck["model"])
        except RuntimeError as exc:  # weights of another model version or size
            raise CheckpointError(f"the checkpoint's weights do not fit this model: {exc}") from exc
        self.optimizer.load_state_dict(ck["optimizer"])
        self.total_steps = ck["total_steps"]
        self.scheduler.load_state_dict(ck["scheduler"])
        self.step = ck["step"]
        self.best = ck.get("best")
        stored = ck.get("model_config", {})
        self.chosen_iters = stored.get("eval_steps" if self.cfg.model.jepa else "eval_iters",
                                       self.chosen_iters)
        self.elapsed_before = ck.get("elapsed_s", 0.0)
        torch.set_rng_state(ck["rng"]["torch"])
        np.random.set_state(ck["rng"]["numpy"])
        random.setstate(ck["rng"]["python"])
        if ck["rng"].get("cuda") and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(ck["rng"]["cuda"])
        self.stream.load_state_dict(ck["data"])

    def _chosen(self) -> dict:
        return {"eval_steps" if self.cfg.model.jepa else "eval_iters": self.chosen_iters}

    def elapsed(self) -> float:
        return self.elapsed_before + (time.time() - self._t0 if self._t0 is not None else 0.0)

    def save(self, best: bool = False) -> None:
        if not self.dist.main or self.run is None:
            return
        payload = self.state_dict()
        save_checkpoint(self.run.latest, payload)
        if best:
            save_checkpoint(self.run.best, payload)
        self._last_ckpt = time.time()

    # ---- one step
    def train_step(self) -> dict[str, float]:
        cfg, mcfg = self.cfg, self.cfg.model
        progress = self.step / max(self.total_steps, 1)
        puzzles, solutions = self.stream.batch(cfg.batch_size, progress)
        p = torch.as_tensor(puzzles).long()
        s = torch.as_tensor(solutions).long()
        givens = puzzle_onehot(p).to(self.device)
        sol1 = puzzle_onehot(s).to(self.device)
        target = (s - 1).to(self.device)  # (B, 81) digit index: the (row, col, digit) layout
        empty = (p == 0).float().to(self.device)
        # random lengths, prefixes, step sizes and noise, so the solve extrapolates past its
        # trained length: drawn from (seed, step) alone, so every DDP rank unrolls the same graph
        # (ranks unrolling different no-grad prefixes broke gloo's gradient all-reduce)
        gen = torch.Generator().manual_seed(cfg.seed * 1_000_003 + self.step)

        def draw(lo: int, hi: int) -> int:
            return int(torch.randint(lo, hi + 1, (1,), generator=gen))

        if mcfg.jepa:
            j = mcfg.steps_jitter
            use_prefix = mcfg.prefix_steps > 0 and draw(0, 1) == 1
            kwargs = dict(
                steps=mcfg.steps + draw(-j, j),
                prefix=draw(0, mcfg.prefix_steps) if use_prefix else 0,
                step_scale=float(0.5 + torch.rand(1, generator=gen)),
                noise=float(mcfg.noise * torch.rand(1, generator=gen)),
                negative=puzzle_onehot(corrupt(s, p, 4)).to(self.device))
        else:
            j = mcfg.iters_jitter
            kwargs = dict(iters=mcfg.iters + draw(-j, j))
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=self.device.type == "cuda"):
            out = self.net(givens, sol1, **kwargs)
        losses = compute_losses(self.model, out, target, empty, cfg.loss)
        for name, value in losses.items():
            if not torch.isfinite(value):
                raise TrainingDivergedError(
                    f"step {self.step}: loss term {name} is {float(value.detach())}")
        self.optimizer.zero_grad(set_to_none=True)
        losses["loss"].backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.grad_clip)
        self.optimizer.step()
        self.scheduler.step()
        if mcfg.jepa:
            m = ema_momentum(self.step, self.total_steps, cfg.ema_start, cfg.ema_end)
            ema_update(self.model.target_encoder, self.model.context_encoder, m)
        self.step += 1
        return {k: float(v.detach()) for k, v in losses.items()}

    # ---- the loop
    def _handle_signal(self, signum, frame) -> None:  # noqa: ARG002
        self._stop_signal = signal.Signals(signum).name

    def _should_stop(self, deadline: float | None) -> bool:
        flag = float(self._stop_signal is not None or (deadline is not None
                                                       and time.time() >= deadline))
        if self.dist.world > 1:  # every rank stops at the same step
            t = torch.tensor([flag], device=self.device)
            dist.all_reduce(t, op=dist.ReduceOp.MAX)
            flag = float(t)
        return flag > 0

    def fit(self, minutes: float | None = None) -> int:
        """Train until total steps or the time budget; returns the process exit code.

        minutes: wall-clock budget of this process (default cfg.minutes unless --steps was given).
        """
        cfg, run, main = self.cfg, self.run, self.dist.main
        if minutes is None and not self.fixed_steps:
            minutes = cfg.minutes
        self.progress.total = self.total_steps
        self._t0 = time.time()
        self._start_step = self.step
        self._last_ckpt = time.time()
        deadline = self._t0 + minutes * 60 if minutes is not None else None
        if main and threading_main():
            signal.signal(signal.SIGINT, self._handle_signal)
            signal.signal(signal.SIGTERM, self._handle_signal)
        if main and run is not None:
            for tmp in run.remove_stale_temp_files():
                run.log(f"removed {tmp.name}, a temp file of a killed writer")
            run.write_state(state="running", step=self.step, total_steps=self.total_steps,
                            best=self.best, message="training")
            n = count_parameters(self.model)
            run.log(f"start step {self.step}/{self.total_steps} on {self.device} x{self.dist.world}"
                    f", {n} trainable parameters, batch {cfg.batch_size}")
        window_t, window_n, n_since, acc = time.time(), 0, 0, None
        sums: dict[str, float] = {}
        calibrate_at = self.step + 10 if minutes is not None else None
        if calibrate_at is not None:  # a resumed run's old total must not end it before then
            self.total_steps = max(self.total_steps, calibrate_at + 1)
        try:
            while self.step < self.total_steps:
                losses = self.train_step()
                window_n += cfg.batch_size * self.dist.world
                n_since += 1
                for k, v in losses.items():
                    sums[k] = sums.get(k, 0.0) + v
                if calibrate_at is not None and self.step == calibrate_at:
                    self._estimate_total(deadline)
                    calibrate_at = None
                at_eval = self.step % cfg.eval_every == 0 or self.step == self.total_steps
                if self.step % cfg.log_every == 0 or at_eval:
                    now = time.time()
                    sps = window_n / max(now - window_t, 1e-9)
                    row = {k: v / max(n_since, 1) for k, v in sums.items()}
                    sums, window_t, window_n, n_since = {}, now, 0, 0
                    remaining = (self.total_steps - self.step) * cfg.batch_size * self.dist.world
                    eta = remaining / max(sps, 1e-9)
                    if deadline is not None:
                        eta = min(eta, max(deadline - now, 0.0))
                    row.update(step=self.step, time=now, elapsed_s=self.elapsed(),
                               lr=self.scheduler.get_last_lr()[0], samples_per_s=sps, eta_s=eta)
                    if at_eval:
                        if minutes is not None and self.step > 10:
                            self._estimate_total(deadline)
                        row.update(self._eval_and_checkpoint(save=False))
                        acc = row.get("val_puzzle_acc")
                    if main and run is not None:
                        run.append_metrics(row)
                        self._tensorboard(row)
                    if at_eval:  # after the row: a kill in between loses no logged step
                        self._checkpoint_after_eval()
                    if main and run is not None:
                        run.write_state(state="running", step=self.step,
                                        total_steps=self.total_steps, best=self.best)
                    self.progress.total = self.total_steps
                    self.progress.update(self.step, row["loss"], acc, sps, eta)
                if main and time.time() - self._last_ckpt > cfg.checkpoint_minutes * 60:
                    self.save()
                if self._should_stop(deadline):
                    break
        except TrainingDivergedError as exc:
            return self._fail(exc, EXIT_DIVERGED, "; the last good checkpoint is kept")
        except CheckpointWriteError as exc:
            return self._fail(exc, EXIT_CHECKPOINT_FAILED)
        self.progress.close()
        finished = self.step >= self.total_steps or (deadline is not None
                                                    and time.time() >= deadline)
        try:
            if self.step % cfg.eval_every != 0:
                final = self._eval_and_checkpoint(save=False)
                if main and run is not None:
                    run.append_metrics({"step": self.step, "time": time.time(),
                                        "elapsed_s": self.elapsed(), **final})
                self._checkpoint_after_eval()
            else:
                self.save()
        except CheckpointWriteError as exc:
            return self._fail(exc, EXIT_CHECKPOINT_FAILED)
        if self._stop_signal is not None and not (self.step >= self.total_steps):
            msg = f"stopped by {self._stop_signal} at step {self.step}; resume with --resume"
            state = "stopped"
        else:
            msg, state = f"finished at step {self.step}", "finished" if finished else "stopped"
        if main and run is not None:
            run.write_state(state=state, step=self.step, total_steps=self.total_steps,
                            best=self.best, message=msg)
            run.log(msg)
            if state == "finished" and cfg.export:
                self._export()
        if main:
            print(msg, file=sys.stderr)
        return 0

    def _fail(self, exc: Exception, code: int, note: str = "") -> int:
        """Stop with state "failed" and the reason; on a full disk even that write may fail, so
        the reason always reaches stderr."""
        self.progress.close()
        if self.dist.main and self.run is not None:
            try:
                self.run.log(f"FAILED: {exc}{note}")
                self.run.write_state(state="failed", step=self.step, message=str(exc))
            except OSError as write_exc:
                print(f"warning: could not record the failure in {self.run.path}: {write_exc}",
                      file=sys.stderr)
        print(f"training stopped: {exc}{note}", file=sys.stderr)
        return code

    def _tensorboard(self, row: dict) -> None:
        """Mirror numeric metrics to TensorBoard events when tensorboard is installed."""
        if self.run is None:
            return
        if self._tb is False:  # not tried yet
            try:
                from torch.utils.tensorboard import SummaryWriter

                self._tb = SummaryWriter(str(self.run.path / "tensorboard"))
            except ImportError:
                self._tb = None
        if self._tb is not None:
            for k, v in row.items():
                if k not in ("step", "time") and isinstance(v, int | float):
                    self._tb.add_scalar(k, v, self.step)
            self._tb.flush()

    def _estimate_total(self, deadline: float | None) -> None:
        """With a time budget: total steps = done + remaining time / recent step time."""
        if deadline is None:
            return
        now = time.time()
        per_step = (now - self._t0) / max(self.step - self._start_step, 1)
        remaining = max(deadline - now, 0.0)
        self.total_steps = max(self.step + int(remaining / per_step), self.step + 1)
        self.progress.total = self.total_steps

    def _eval_and_checkpoint(self, save: bool = True) -> dict:
        """Rank 0 evaluates and checkpoints (latest, and best by accuracy); others wait.

        save=False: the caller appends the metrics row, then calls `_checkpoint_after_eval()`;
        a checkpoint is never ahead of the log, so a SIGKILL in between loses no row."""
        row: dict = {}
        if self.dist.main:
            row = evaluate_choices(self.model, self.val_sets, self.device, self.iter_choices)
            row.update(monitors(self.model, self.val_sets, self.device, self.cfg.energy_gap_size))
            better = is_better(row, self.best)
            self.chosen_iters = row["val_iters"]
            if better:
                self.best = {"step": self.step, "val_puzzle_acc": row["val_puzzle_acc"],
                             "val_cell_acc": row["val_cell_acc"], "val_iters": row["val_iters"]}
            self._eval_better = better
            if self.run is not None:
                self.run.log(f"step {self.step}: val cell {row['val_cell_acc']:.4f} "
                             f"puzzle {row['val_puzzle_acc']:.4f} at {row['val_iters']} iterations")
        if save:
            self._checkpoint_after_eval()
        return row

    def _checkpoint_after_eval(self) -> None:
        """latest.pt (and best.pt when the last eval improved); every rank waits for it."""
        if self.dist.main:
            self.save(best=self._eval_better)
        if self.dist.world > 1:
            dist.barrier()

    def _export(self) -> None:
        """Export the best checkpoint to ONNX when model.export exists; failures only log."""
        try:
            from model.export import export_checkpoint
        except ImportError:
            self.run.log("export skipped: model.export is not available")
            return
        src = self.run.best if self.run.best.is_file() else self.run.latest
        out = self.run.export_model
        try:
            export_checkpoint(src, out)
            self.run.log(f"exported {src.name} to {out}")
        except Exception as exc:  # the run itself succeeded; say why the export did not
            self.run.log(f"export FAILED ({type(exc).__name__}: {exc})")
            print(f"warning: ONNX export failed: {exc}", file=sys.stderr)


def threading_main() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def load_resume(path: str | Path) -> tuple[RunDir, dict]:
    """--resume DIR: the run folder and its latest checkpoint (CheckpointError if unusable)."""
    run = RunDir(path)
    return run, load_checkpoint(run.latest)
