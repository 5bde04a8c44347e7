"""Reading puzzle files: 81-character lines, 9-line grids, `.sdk` files and Kaggle-style CSV.

`read_puzzles` yields one `PuzzleRecord` per puzzle, bad ones included (with `error` set), so a
command can report a malformed line and keep going; `load_puzzles` is the strict form that raises
`PuzzleError` at the first bad record. Every error names the file and line.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model.board import (
    GRID_SEPARATORS,
    PuzzleError,
    check_givens,
    format_grid,
    is_valid_solution,
    parse_grid,
)

__all__ = ["PuzzleRecord", "load_puzzles", "parse_puzzles", "read_puzzles", "write_puzzles"]

PUZZLE_COLUMNS = ("puzzle", "puzzles", "quizzes", "quiz")
SOLUTION_COLUMNS = ("solution", "solutions")
_GRID_ROW_MAX = 27  # a cleaned line shorter than this is one row of a 9-line grid


@dataclass
class PuzzleRecord:
    """One puzzle read from a file; exactly one of `puzzle` / `error` is set."""

    line: int  # 1-based line where the record starts
    text: str  # the record's text as it appears in the file (rows joined by newlines)
    puzzle: np.ndarray | None = None  # (81,) int8
    # (81,) int8 as read, also when `error` is only clashing givens (the app shows such a grid)
    grid: np.ndarray | None = None
    solution: np.ndarray | None = None  # (81,) int8 when the file carries one (CSV)
    error: str | None = None  # "<source>:<line>: <problem>"


def read_puzzles(path: str | Path) -> Iterator[PuzzleRecord]:
    """Yield every puzzle record of a file, in file order. Raises PuzzleError if unreadable."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise PuzzleError(f"{path}: cannot read puzzle file: {reason}") from exc
    yield from parse_puzzles(text, source=str(path))


def load_puzzles(path: str | Path) -> list[np.ndarray]:
    """All puzzles of a file as `(81,)` arrays; raises PuzzleError at the first bad record."""
    puzzles = []
    for record in read_puzzles(path):
        if record.error is not None:
            raise PuzzleError(record.error)
        puzzles.append(record.puzzle)
    return puzzles


def parse_puzzles(text: str, source: str = "<text>") -> Iterator[PuzzleRecord]:
    """Records of a whole file's text; the format (CSV, lines, grids, .sdk) is detected."""
    lines = text.splitlines()
    first = next((s.strip() for s in lines if s.strip() and not s.lstrip().startswith("#")), "")
    if "," in first and _csv_columns(first) is not None:
        yield from _parse_csv(lines, source)
    else:
        yield from _parse_text(lines, source)


def write_puzzles(path: str | Path, puzzles, solutions=None) -> None:
    """Write 81-character lines, or a `puzzle,solution` CSV when `solutions` is given."""
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        if solutions is None:
            for puzzle in puzzles:
                out.write(format_grid(puzzle) + "\n")
        else:
            out.write("puzzle,solution\n")
            for puzzle, solution in zip(puzzles, solutions, strict=True):
                out.write(f"{format_grid(puzzle)},{format_grid(solution)}\n")


def _csv_columns(header: str) -> tuple[int, int | None] | None:
    """(puzzle column, solution column or None) of a CSV header line, None if not a header."""
    names = [name.strip().strip('"').lower() for name in header.split(",")]
    puzzle = next((i for i, name in enumerate(names) if name in PUZZLE_COLUMNS), None)
    if puzzle is None:
        return None
    solution = next((i for i, name in enumerate(names) if name in SOLUTION_COLUMNS), None)
    return puzzle, solution


def _parse_csv(lines: list[str], source: str) -> Iterator[PuzzleRecord]:
    columns = None
    for line_no, raw in enumerate(lines, start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if columns is None:
            columns = _csv_columns(stripped)
            continue
        puzzle_col, solution_col = columns
        fields = next(csv.reader(io.StringIO(stripped)))
        record = PuzzleRecord(line=line_no, text=stripped)
        try:
            if puzzle_col >= len(fields):
                raise PuzzleError(f"missing puzzle column {puzzle_col + 1}")
            record.grid = parse_grid(fields[puzzle_col], allow_clashes=True)
            check_givens(record.grid)
            record.puzzle = record.grid
            if solution_col is not None and solution_col < len(fields) and fields[solution_col]:
                record.solution = _parse_solution(fields[solution_col], record.puzzle)
        except PuzzleError as exc:
            record.puzzle = record.solution = None
            record.error = f"{source}:{line_no}: {exc}"
        yield record


def _parse_solution(text: str, puzzle: np.ndarray) -> np.ndarray:
    try:
        solution = parse_grid(text)
    except PuzzleError as exc:
        raise PuzzleError(f"solution: {exc}") from None
    if not is_valid_solution(solution, puzzle):
        raise PuzzleError("solution: not a complete valid grid that keeps the puzzle's givens")
    return solution


def _parse_text(lines: list[str], source: str) -> Iterator[PuzzleRecord]:
    """81-char lines (extra whitespace-separated fields ignored) and 9-line grids, any mix.

    `.sdk` section headers: `[Puzzle]` is skipped; any other `[Section]` (e.g. `[State]`) is
    ignored up to the next `[Puzzle]`.
    """
    rows: list[tuple[int, str]] = []  # pending grid rows: (line number, raw text)
    skipping = False
    for line_no, raw in enumerate(lines, start=1):
        stripped = raw.strip()
        if stripped.startswith("["):
            if rows:
                yield _grid_record(rows, source)
                rows = []
            skipping = stripped.lower() != "[puzzle]"
            continue
        if skipping or stripped.startswith("#"):
            continue
        if not stripped:
            if rows:
                yield _grid_record(rows, source)
                rows = []
            continue
        cleaned = "".join(ch for ch in stripped if ch not in GRID_SEPARATORS)
        if not cleaned:
            continue  # a border line such as ------+-------+------
        if len(cleaned) < _GRID_ROW_MAX:
            rows.append((line_no, stripped))
            if len(rows) == 9:
                yield _grid_record(rows, source)
                rows = []
            continue
        if rows:
            yield _grid_record(rows, source)
            rows = []
        first_field = stripped.split()[0]
        cells = first_field if len(first_field) >= 81 else cleaned
        yield _record(line_no, stripped, cells, source)
    if rows:
        yield _grid_record(rows, source)


def _grid_record(rows: list[tuple[int, str]], source: str) -> PuzzleRecord:
    text = "\n".join(row for _, row in rows)
    if len(rows) != 9:
        line = rows[0][0]
        if len(rows) == 1:
            cells = len("".join(ch for ch in text if ch not in GRID_SEPARATORS))
            problem = f"wrong length: expected 81 cells, got {cells}"
        else:
            problem = f"wrong length: grid has {len(rows)} rows, expected 9"
        return PuzzleRecord(line=line, text=text, error=f"{source}:{line}: {problem}")
    return _record(rows[0][0], text, text + "\n", source)


def _record(line_no: int, text: str, cells: str, source: str) -> PuzzleRecord:
    record = PuzzleRecord(line=line_no, text=text)
    try:
        record.grid = parse_grid(cells, allow_clashes=True)
        check_givens(record.grid)
        record.puzzle = record.grid
    except PuzzleError as exc:
        record.error = f"{source}:{line_no}: {exc}"
    return record
