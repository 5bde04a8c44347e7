"""Board rules: unit tables, parsing of one puzzle, conflicts, candidates, validity."""

import numpy as np
import pytest

from model.board import (
    BOXES,
    COLS,
    PEERS,
    ROWS,
    UNITS,
    PuzzleError,
    as_puzzle,
    candidate_mask,
    cell_name,
    check_givens,
    conflict_pairs,
    conflicts,
    format_grid,
    is_complete,
    is_valid_solution,
    parse_grid,
)

PUZZLE = "53..7....6..195....98....6.8...6...34..8.3..17...2...6.6....28....419..5....8..79"
SOLUTION = "534678912672195348198342567859761423426853791713924856961537284287419635345286179"


def test_unit_tables_have_the_sudoku_shape():
    assert UNITS.shape == (27, 9) and PEERS.shape == (81, 20)
    assert sorted(np.bincount(UNITS.ravel())) == [3] * 81  # every cell in one row, col, box
    assert ROWS[10] == 1 and COLS[10] == 1 and BOXES[10] == 0 and BOXES[80] == 8
    assert 0 not in PEERS[0] and {1, 9, 10, 8, 72}.issubset(set(PEERS[0].tolist()))
    assert 80 not in PEERS[0]


def test_parse_and_format_round_trip_with_both_blank_styles():
    grid = parse_grid(PUZZLE)
    assert grid.dtype == np.int8 and grid.shape == (81,)
    assert grid[0] == 5 and grid[2] == 0
    assert format_grid(grid) == PUZZLE
    assert format_grid(parse_grid(PUZZLE.replace(".", "0"))) == PUZZLE


def test_parse_nine_line_grid_with_separators():
    rows = [PUZZLE[i : i + 9] for i in range(0, 81, 9)]
    lines = []
    for r, row in enumerate(rows):
        if r in (3, 6):
            lines.append("------+-------+------")
        lines.append(" ".join(row[0:3]) + " | " + " ".join(row[3:6]) + " | " + " ".join(row[6:9]))
    assert format_grid(parse_grid("\n".join(lines))) == PUZZLE
    assert format_grid(parse_grid("\n".join(rows) + "\n")) == PUZZLE


def test_wrong_length_names_the_length():
    with pytest.raises(PuzzleError, match="wrong length: expected 81 cells, got 80"):
        parse_grid(PUZZLE[:80])
    with pytest.raises(PuzzleError, match="got 82"):
        parse_grid(PUZZLE + "1")


def test_bad_character_names_char_and_index():
    text = PUZZLE[:17] + "x" + PUZZLE[18:]
    with pytest.raises(PuzzleError, match=r"bad character 'x' at index 17 \(r2c9\)"):
        parse_grid(text)


@pytest.mark.parametrize(
    ("index_a", "index_b", "unit"),
    [(0, 4, "row 1"), (0, 36, "column 1"), (0, 20, "box 1")],
)
def test_duplicate_givens_name_both_cells_and_the_unit(index_a, index_b, unit):
    cells = ["."] * 81
    cells[index_a] = cells[index_b] = "3"
    message = f"{cell_name(index_a)} and {cell_name(index_b)} both hold 3 in {unit}"
    with pytest.raises(PuzzleError, match=message):
        parse_grid("".join(cells))


def test_duplicate_message_names_both_cells_the_digit_and_the_unit():
    with pytest.raises(PuzzleError, match="r1c1 and r1c5 both hold 3 in row 1"):
        check_givens(np.array([3, 0, 0, 0, 3] + [0] * 76, dtype=np.int8))


def test_conflicts_and_pairs_mark_repeated_digits():
    grid = np.zeros(81, dtype=np.int8)
    grid[[0, 8, 40]] = 5  # r1c1 and r1c9 clash; r5c5 is free
    assert conflict_pairs(grid) == [(0, 8)]
    assert np.flatnonzero(conflicts(grid)).tolist() == [0, 8]
    assert not conflicts(parse_grid(SOLUTION)).any()


def test_candidate_mask_excludes_peer_digits_and_fixes_givens():
    grid = parse_grid(PUZZLE)
    mask = candidate_mask(grid)
    assert mask.shape == (81, 9) and mask.dtype == bool
    assert mask[0].tolist() == [d == 5 for d in range(1, 10)]  # given 5
    # r1c3: row has 5,3,7; column 8; box 5,3,6,9,8 -> candidates 1, 2, 4
    assert np.flatnonzero(mask[2]).tolist() == [0, 1, 3]


def test_validity_and_completeness():
    puzzle, solution = parse_grid(PUZZLE), parse_grid(SOLUTION)
    assert is_complete(solution) and not is_complete(puzzle)
    assert is_valid_solution(solution, puzzle) and is_valid_solution(solution)
    assert not is_valid_solution(puzzle)
    swapped = solution.copy()
    swapped[[0, 1]] = swapped[[1, 0]]  # still complete, now two clashes
    assert not is_valid_solution(swapped)
    other = puzzle.copy()
    other[2] = 1  # a given the solution does not keep
    assert not is_valid_solution(solution, other)


def test_as_puzzle_is_the_one_input_check():
    grid = parse_grid(SOLUTION)
    for given in (grid, grid.reshape(9, 9), grid.tolist(), grid.astype(np.float32), SOLUTION):
        out = as_puzzle(given)
        assert out.shape == (81,) and out.dtype == np.int8 and np.array_equal(out, grid)
    assert as_puzzle(grid) is not grid  # a new array: the caller's stays untouched
    clash = np.zeros(81, np.int8)
    clash[[0, 1]] = 5
    assert np.array_equal(as_puzzle(clash), clash)  # clashes are check_givens' job
    bad = grid.astype(np.float32)
    bad[3] = 2.5
    big = np.where(np.arange(81) == 3, 12, grid)
    for given, message in ((grid[:80], "wrong length: expected 81 cells, got 80"),
                           (big, r"bad value 12 at index 3 \(r1c4\)"),
                           (bad, r"bad value 2.5 at index 3"),
                           (np.array(list(SOLUTION)), "digits 0..9, got dtype")):
        with pytest.raises(PuzzleError, match=message):
            as_puzzle(given)
