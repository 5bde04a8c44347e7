"""Property tests: whatever text arrives, parsing either succeeds or raises PuzzleError."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model.board import PuzzleError, format_grid, parse_grid
from model.puzzle_io import parse_puzzles, read_puzzles
from model.search import solve

PUZZLE_CHARS = "0123456789.|-+ \n\r\t#,x[]"
puzzle_like = st.text(alphabet=PUZZLE_CHARS, max_size=200)
any_text = st.text(max_size=200)
grid_cells = st.lists(st.sampled_from(".123456789"), min_size=81, max_size=81).map("".join)
sparse_cells = st.lists(  # mostly blank: many grids without clashes, so the search really runs
    st.sampled_from("." * 30 + "123456789"), min_size=81, max_size=81
).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.one_of(puzzle_like, any_text, grid_cells))
def test_parse_grid_raises_only_puzzle_error(text):
    try:
        grid = parse_grid(text)
    except PuzzleError as exc:
        assert str(exc)
    else:
        assert grid.shape == (81,) and grid.dtype == np.int8
        assert ((grid >= 0) & (grid <= 9)).all()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(puzzle_like, grid_cells, st.just("puzzle,solution")), max_size=12))
def test_parse_puzzles_never_raises_and_every_record_is_decided(lines):
    for record in parse_puzzles("\n".join(lines), source="f.txt"):
        assert (record.puzzle is None) != (record.error is None)
        if record.error is not None:
            assert record.error.startswith(f"f.txt:{record.line}: ")
        else:
            assert record.puzzle.shape == (81,)


@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.binary(max_size=300))
def test_read_puzzles_on_arbitrary_bytes(tmp_path, data):
    path = tmp_path / "random.txt"
    path.write_bytes(data)
    try:
        records = list(read_puzzles(path))
    except PuzzleError as exc:
        assert str(path) in str(exc)
    else:
        assert all((r.puzzle is None) != (r.error is None) for r in records)


@settings(max_examples=100, deadline=None)
@given(st.one_of(grid_cells, sparse_cells))
def test_solver_on_random_grids_is_sound(text):
    try:
        puzzle = parse_grid(text)
    except PuzzleError:
        return
    result = solve(puzzle, limit=2)
    assert result.status in ("unique", "multiple", "no-solution")
    for solution in result.solutions:
        kept = puzzle > 0
        assert (solution[kept] == puzzle[kept]).all()
        assert format_grid(solution).isdigit()
