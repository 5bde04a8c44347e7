"""The verdict wording for every way a model-free exact search can end (real search results)."""

import numpy as np

from app import puzzle_library
from app.verdict import GREEN, ORANGE, RED, describe_search_only
from model import verified

SETTINGS = verified.VerifiedSettings(compare_plain=False)


def test_solved_unique():
    puzzle = puzzle_library.load_library()[0].puzzle
    text, colour, grid, source = describe_search_only(
        verified.finish_from_neural(puzzle, None, SETTINGS))
    assert colour == GREEN and "Solved" in text and "exact search alone" in text
    assert grid is not None and source is not None


def test_more_than_one_solution():
    text, colour, grid, _ = describe_search_only(
        verified.finish_from_neural(np.zeros(81, np.int8), None, SETTINGS))
    assert colour == ORANGE and "More than one solution" in text and grid is not None


def test_no_solution():
    # Row 1 holds 1-8; the 9 it needs sits in column 9 below it: no clash, yet no completion.
    puzzle = np.zeros(81, np.int8)
    puzzle[:8] = np.arange(1, 9)
    puzzle[9 + 8] = 9
    text, colour, grid, _ = describe_search_only(
        verified.finish_from_neural(puzzle, None, SETTINGS))
    assert colour == RED and "No solution" in text and grid is None


def test_clashing_givens_are_refused():
    puzzle = np.zeros(81, np.int8)
    puzzle[0] = puzzle[1] = 5
    text, colour, grid, _ = describe_search_only(
        verified.finish_from_neural(puzzle, None, SETTINGS))
    assert colour == RED and "Refused" in text and "r1c1" in text and grid is None
