"""Puzzle files: every supported format, per-record errors with line numbers, strict loading."""

import numpy as np
import pytest

from model.board import PuzzleError, format_grid
from model.puzzle_io import load_puzzles, parse_puzzles, read_puzzles, write_puzzles

PUZZLE = "53..7....6..195....98....6.8...6...34..8.3..17...2...6.6....28....419..5....8..79"
SOLUTION = "534678912672195348198342567859761423426853791713924856961537284287419635345286179"
OTHER = "4...3.......6..8..........1....5..9..8....6...7.2........1.27..5.3....4.9........"


def grid_text(puzzle: str, boxed: bool = True) -> str:
    rows = [puzzle[i : i + 9] for i in range(0, 81, 9)]
    if not boxed:
        return "\n".join(rows)
    lines = []
    for r, row in enumerate(rows):
        if r in (3, 6):
            lines.append("------+-------+------")
        lines.append(" ".join(row[0:3]) + " | " + " ".join(row[3:6]) + " | " + " ".join(row[6:9]))
    return "\n".join(lines)


def texts(records):
    return [None if r.puzzle is None else format_grid(r.puzzle) for r in records]


def test_line_file_with_comments_blank_lines_zeros_and_crlf(tmp_path):
    path = tmp_path / "p.txt"
    path.write_bytes(
        f"# a comment\r\n{PUZZLE}\r\n\r\n{OTHER.replace('.', '0')}\r\n".encode()
    )
    records = list(read_puzzles(path))
    assert texts(records) == [PUZZLE, OTHER]
    assert [r.line for r in records] == [2, 4]
    assert all(r.error is None and r.solution is None for r in records)


def test_line_with_trailing_fields_keeps_the_first():
    records = list(parse_puzzles(f"{PUZZLE} 3.5 rating\n"))
    assert texts(records) == [PUZZLE]


def test_nine_line_grids_with_and_without_separators():
    text = grid_text(PUZZLE) + "\n\n" + grid_text(OTHER, boxed=False) + "\n"
    records = list(parse_puzzles(text))
    assert texts(records) == [PUZZLE, OTHER]
    assert records[0].line == 1 and records[1].line == 13


def test_sdk_file_skips_metadata_and_state_sections(tmp_path):
    path = tmp_path / "p.sdk"
    path.write_text(
        "#AAuthor\n#DA description\n[Puzzle]\n" + grid_text(PUZZLE, boxed=False)
        + "\n[State]\n" + grid_text(SOLUTION, boxed=False) + "\n"
    )
    assert texts(read_puzzles(path)) == [PUZZLE]


def test_kaggle_csv_with_solutions(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text(f"puzzle,solution\n{PUZZLE.replace('.', '0')},{SOLUTION}\n{OTHER},\n")
    records = list(read_puzzles(path))
    assert texts(records) == [PUZZLE, OTHER]
    assert format_grid(records[0].solution) == SOLUTION and records[1].solution is None
    assert [r.line for r in records] == [2, 3]


def test_csv_with_a_wrong_solution_is_a_record_error(tmp_path):
    path = tmp_path / "p.csv"
    wrong = SOLUTION[:-2] + SOLUTION[-1] + SOLUTION[-2]
    path.write_text(f"quizzes,solutions\n{PUZZLE},{wrong}\n")
    (record,) = read_puzzles(path)
    assert record.puzzle is None
    assert record.error.startswith(f"{path}:2: solution:")


def test_bad_records_carry_line_numbers_and_the_run_goes_on(tmp_path):
    path = tmp_path / "p.txt"
    bad_char = PUZZLE[:5] + "x" + PUZZLE[6:]
    clash = "11" + PUZZLE[2:]
    path.write_text(f"{PUZZLE}\n{PUZZLE[:80]}\n{bad_char}\n{clash}\n{OTHER}\n")
    records = list(read_puzzles(path))
    assert texts(records) == [PUZZLE, None, None, None, OTHER]
    assert records[1].error == f"{path}:2: wrong length: expected 81 cells, got 80"
    assert records[2].error.startswith(f"{path}:3: bad character 'x' at index 5")
    assert records[3].error.startswith(f"{path}:4: r1c1 and r1c2 both hold 1 in row 1")
    assert records[1].text == PUZZLE[:80]


def test_short_line_and_incomplete_grid_report_wrong_length():
    records = list(parse_puzzles("12345\n\n" + "\n".join([PUZZLE[:9]] * 4) + "\n", "f.txt"))
    assert records[0].error == "f.txt:1: wrong length: expected 81 cells, got 5"
    assert records[1].error == "f.txt:3: wrong length: grid has 4 rows, expected 9"


def test_load_puzzles_is_strict(tmp_path):
    path = tmp_path / "p.txt"
    path.write_text(f"{PUZZLE}\n{PUZZLE[:80]}\n")
    with pytest.raises(PuzzleError, match=r"p\.txt:2: wrong length"):
        load_puzzles(path)


def test_missing_file_is_a_puzzle_error(tmp_path):
    with pytest.raises(PuzzleError, match="cannot read puzzle file"):
        list(read_puzzles(tmp_path / "nope.txt"))


def test_write_then_read_round_trip(tmp_path):
    puzzles = [np.frombuffer(p.replace(".", "0").encode(), np.uint8) - 48 for p in (PUZZLE, OTHER)]
    write_puzzles(tmp_path / "a.txt", puzzles)
    assert texts(read_puzzles(tmp_path / "a.txt")) == [PUZZLE, OTHER]
    solution = np.frombuffer(SOLUTION.encode(), np.uint8) - 48
    write_puzzles(tmp_path / "b.csv", puzzles[:1], [solution])
    (record,) = read_puzzles(tmp_path / "b.csv")
    assert format_grid(record.solution) == SOLUTION


def test_a_record_with_clashing_givens_is_an_error_that_keeps_its_grid():
    clash = "55" + "." * 79
    good, bad = parse_puzzles(f"{'.' * 81}\n{clash}\n", "p.txt")
    assert good.error is None and good.grid is good.puzzle
    assert bad.puzzle is None and bad.error == "p.txt:2: r1c1 and r1c2 both hold 5 in row 1"
    assert format_grid(bad.grid) == clash
