"""Right and wrong against the solution: the count, the verdict, the board, the plot, steps."""

import types

import numpy as np

from app import puzzle_library
from app.board_model import BoardState
from app.board_view import BoardView
from app.energy_plot import EnergyPlot
from app.solution_check import known_solution, wrong_cells, wrong_count
from app.solver_panel import SolverPanel, position_for_steps, steps_for_position
from app.verdict import describe_outcome
from model import board


def puzzle_and_solution():
    puzzle = puzzle_library.puzzles_of(puzzle_library.load_library(), "hard")[0].puzzle
    return puzzle, known_solution(puzzle)


def spoiled(puzzle, solution, count: int) -> np.ndarray:
    """The solution with `count` blank cells given another digit."""
    grid = solution.copy()
    for cell in np.flatnonzero(puzzle == 0)[:count]:
        grid[cell] = grid[cell] % 9 + 1
    return grid


def test_known_solution_only_for_proper_puzzles():
    puzzle, solution = puzzle_and_solution()
    assert board.is_valid_solution(solution, puzzle)
    assert known_solution(np.zeros(81, np.int8)) is None  # too few givens
    assert known_solution(np.where(np.arange(81) < 20, 1, 0).astype(np.int8)) is None


def test_wrong_cells_skip_givens_and_blanks():
    puzzle, solution = puzzle_and_solution()
    grid = spoiled(puzzle, solution, 5)
    grid[np.flatnonzero(puzzle == 0)[-1]] = 0  # an undecided cell is not wrong
    assert wrong_cells(grid, solution, puzzle).sum() == 5
    assert wrong_count(grid, None, puzzle) is None


def test_verdict_counts_wrong_cells_as_well_as_conflicts():
    puzzle, solution = puzzle_and_solution()
    grid = spoiled(puzzle, solution, 28)
    neural = types.SimpleNamespace(grid=grid, probs=None, energy=0.5)
    outcome = types.SimpleNamespace(last=None, neural=neural, steps=7, compute_ms=12.0,
                                    stopped=False, verified=None)
    conflicts = int(board.conflicts(grid).sum())
    text, *_ = describe_outcome(outcome, puzzle, solution)
    assert f"Not solved</b>: {conflicts} conflicting cells, 28 wrong cells" in text
    text, *_ = describe_outcome(outcome, puzzle)  # no solution known: conflicts only
    assert "wrong" not in text


def test_board_marks_wrong_cells_only_when_asked(qtbot):
    puzzle, solution = puzzle_and_solution()
    state = BoardState()
    state.load(puzzle)
    view = BoardView(state)
    qtbot.add_widget(view)
    grid = spoiled(puzzle, solution, 3)
    state.show_step(grid, None, np.zeros(81, bool))
    assert not any(c.wrong for c in view.cell_contents())
    view.set_check_solution(True)
    marked = [i for i, c in enumerate(view.cell_contents()) if c.wrong]
    assert marked == list(np.flatnonzero(puzzle == 0)[:3])
    view.grab()  # paints the marks without error


def test_plot_draws_the_wrong_series_when_shown(qtbot):
    plot = EnergyPlot()
    qtbot.add_widget(plot)
    plot.reset(3)
    for step, wrong in enumerate((30, 12, 0)):
        plot.add_step(step, np.array([1.0 - step]), 1.0 - step, 2, wrong=wrong)
    assert plot.wrong_counts() == [30, 12, 0]
    assert not plot.wrong_curve.isVisible()
    plot.set_wrong_visible(True)
    assert plot.wrong_curve.isVisible() and "wrong&nbsp;cells" in plot.legend.text()
    assert plot.violation_plot.viewRange()[1][1] >= 30


def test_steps_slider_is_log_scale_1_to_1024(qtbot):
    panel = SolverPanel()
    qtbot.add_widget(panel)
    assert [steps_for_position(p) for p in (0, 1, 5, 10)] == [1, 2, 32, 1024]
    assert position_for_steps(6) == 3 and position_for_steps(1000) == 10
    panel.steps_slider.setValue(10)
    assert panel.steps.value() == 1024
    panel.steps.setValue(6)  # an exact number stays exact
    assert panel.steps.value() == 6 and panel.steps_slider.value() == 3
