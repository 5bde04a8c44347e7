"""The built-in examples are real unique puzzles of their level; puzzle files open leniently."""

import numpy as np
import pytest

from app import puzzle_library
from model import board, generator, search


def test_library_levels_are_unique_puzzles_of_their_grade():
    puzzles = puzzle_library.load_library()
    assert {p.level for p in puzzles} == set(puzzle_library.LEVEL_NAMES)
    for item in puzzles:
        level = puzzle_library.level(item.level)
        lo, hi = level.givens
        assert lo <= np.count_nonzero(item.puzzle) <= hi, item.title
        assert search.solve(item.puzzle, limit=2).status == "unique", item.title
        assert generator.grade(item.puzzle)[0] == level.difficulty, item.title


@pytest.mark.parametrize("name", puzzle_library.LEVEL_NAMES)
def test_generate_each_level(name):
    puzzle = puzzle_library.generate(name, seed=3)
    assert search.solve(puzzle, limit=2).status == "unique"


def test_unknown_level_names_the_choices():
    with pytest.raises(ValueError, match="easy, medium, hard"):
        puzzle_library.generate("brutal")


def test_read_lines_grid_and_clash(tmp_path):
    first, second = (p.puzzle for p in puzzle_library.load_library()[:2])
    lines = tmp_path / "two.txt"
    lines.write_text(board.format_grid(first) + "\n" + board.format_grid(second) + "\n")
    grids, errors = puzzle_library.read_puzzle_file(lines)
    assert [board.format_grid(g) for g in grids] == [board.format_grid(first),
                                                     board.format_grid(second)]
    assert errors == []

    text = board.format_grid(first)
    grid_file = tmp_path / "grid.sdk"
    grid_file.write_text("\n".join(text[i : i + 9] for i in range(0, 81, 9)) + "\n")
    assert board.format_grid(puzzle_library.read_puzzle_file(grid_file)[0][0]) == text

    clash = tmp_path / "clash.txt"
    clash.write_text("55" + "." * 79 + "\n")
    grids, _ = puzzle_library.read_puzzle_file(clash)
    assert board.conflicts(grids[0])[:2].all()


def test_bad_file_names_path_and_line(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("12345\n")
    with pytest.raises(board.PuzzleError, match="bad.txt"):
        puzzle_library.read_puzzle_file(bad)
    with pytest.raises(board.PuzzleError, match="missing.txt"):
        puzzle_library.read_puzzle_file(tmp_path / "missing.txt")
