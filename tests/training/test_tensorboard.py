"""The optional TensorBoard mirror (`pip install .[tensorboard]`); skipped where it is not
installed, so it runs wherever the extra is."""

import json

import pytest

pytest.importorskip("tensorboard")

from tensorboard.backend.event_processing.event_accumulator import (  # noqa: E402
    EventAccumulator,
)

from training.run import RunDir  # noqa: E402
from training.trainer import Trainer  # noqa: E402

from .conftest import micro_config  # noqa: E402


def test_every_logged_metric_is_mirrored_to_tensorboard_events(tmp_path):
    cfg = micro_config(log_every=2, eval_every=4)
    run = RunDir(tmp_path / "tb")
    run.create(cfg.to_dict())
    assert Trainer(cfg, run, steps=4, quiet=True).fit() == 0

    rows = [json.loads(line) for line in run.metrics_path.read_text().splitlines()]
    events = EventAccumulator(str(run.path / "tensorboard"))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    assert {"loss", "val_puzzle_acc", "lr"} <= tags
    logged = [(row["step"], row["loss"]) for row in rows if "loss" in row]
    mirrored = [(e.step, e.value) for e in events.Scalars("loss")]
    assert [s for s, _ in mirrored] == [s for s, _ in logged] == [2, 4]
    assert [v for _, v in mirrored] == pytest.approx([v for _, v in logged], rel=1e-6)
