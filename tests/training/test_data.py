"""Data: unique generated puzzles by curriculum, reproducible streams, disjoint validation,
file datasets."""

import numpy as np
import pytest

from model.board import format_grid, is_valid_solution
from training.data import (
    DataConfig,
    DataError,
    GeneratedStream,
    band_weights,
    exclusion_set,
    read_dataset,
    validation_sets,
)

CFG = DataConfig(val_size=8)


def test_stream_yields_valid_unique_puzzles_in_the_band():
    stream = GeneratedStream(DataConfig(bands=((30, 40),), start_weights=(1.0,),
                                        end_weights=(1.0,)), seed=1)
    puzzles, solutions = stream.batch(6, 0.0)
    assert puzzles.shape == solutions.shape == (6, 81)
    for p, s in zip(puzzles, solutions, strict=True):
        assert is_valid_solution(s, p)
        assert 30 <= np.count_nonzero(p) <= 40


def test_curriculum_moves_to_hard_bands():
    assert band_weights(CFG, 0.0)[0] == 1.0
    end = band_weights(CFG, 1.0)
    assert np.allclose(end, np.array(CFG.end_weights) / sum(CFG.end_weights))
    assert band_weights(CFG, CFG.curriculum_frac)[2] == pytest.approx(end[2])


def test_stream_state_resumes_exactly():
    a = GeneratedStream(CFG, seed=3)
    a.batch(2, 0.5)
    state = a.state_dict()
    nxt = a.batch(3, 0.5)
    b = GeneratedStream(CFG, seed=99)
    b.load_state_dict(state)
    assert np.array_equal(b.batch(3, 0.5)[0], nxt[0])


def test_validation_sets_fixed_and_disjoint_from_training():
    sets = validation_sets(CFG)
    again = validation_sets(CFG)
    assert set(sets) == {"easy", "hard"}
    assert np.array_equal(sets["hard"][0], again["hard"][0])
    assert np.count_nonzero(sets["hard"][0], axis=1).max() <= 25
    exclude = exclusion_set(sets)
    stream = GeneratedStream(CFG, seed=0, exclude=exclude)
    puzzles, _ = stream.batch(8, 1.0)
    assert not {format_grid(p) for p in puzzles} & exclude


def test_read_csv_and_plain_lines(tmp_path):
    sets = validation_sets(DataConfig(val_size=3, val_bands=(("easy", 30, 40),)))
    puzzles, solutions = sets["easy"]
    csv = tmp_path / "k.csv"
    csv.write_text("quizzes,solutions\n" + "".join(
        f"{format_grid(p).replace('.', '0')},{format_grid(s)}\n"
        for p, s in zip(puzzles, solutions, strict=True)))
    lines = tmp_path / "p.txt"
    lines.write_text("".join(format_grid(p) + "\n" for p in puzzles))
    for path in (csv, lines):
        p, s = read_dataset(path)
        assert np.array_equal(p, puzzles) and np.array_equal(s, solutions)


def test_bad_file_names_path_and_line(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("." * 81 + "\n" + "x" * 81 + "\n")
    with pytest.raises(DataError, match=r"bad.txt:1"):  # line 1: an empty grid is not unique
        read_dataset(bad)
    with pytest.raises(DataError, match="no such"):
        read_dataset(tmp_path / "missing.txt")


def test_pool_stream_is_cached_valid_and_resumable(tmp_path):
    from training.data import PoolStream

    cfg = DataConfig(bands=((30, 40), (17, 25)), start_weights=(0.5, 0.5), end_weights=(0.5, 0.5),
                     pool_size=20, cache_dir=str(tmp_path))
    stream = PoolStream(cfg, seed=0)
    assert len(list(tmp_path.glob("pool-*.npz"))) == 2
    state = stream.state_dict()
    puzzles, solutions = stream.batch(5, 0.0)
    for p, s in zip(puzzles, solutions, strict=True):
        assert is_valid_solution(s, p)
    again = PoolStream(cfg, seed=7)  # reads the cache
    again.load_state_dict(state)
    assert np.array_equal(again.batch(5, 0.0)[0], puzzles)
