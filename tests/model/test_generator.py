"""Generator: unique solutions, givens range, difficulty grades, seeds, minimality, symmetries."""

import numpy as np
import pytest

from model.board import is_valid_solution
from model.generator import augment, generate_puzzle, generate_puzzles, random_solution
from model.search import propagate_only, solve


def test_random_solutions_are_valid_and_differ():
    rng = np.random.default_rng(0)
    grids = [random_solution(rng) for _ in range(5)]
    assert all(g.dtype == np.int8 and is_valid_solution(g) for g in grids)
    assert len({g.tobytes() for g in grids}) == 5


def test_puzzles_are_unique_within_range_and_match_their_solution():
    for g in generate_puzzles(30, givens=(25, 35), seed=1):
        assert 25 <= g.givens <= 35 and g.givens == np.count_nonzero(g.puzzle)
        result = solve(g.puzzle)
        assert result.status == "unique"
        assert (result.solutions[0] == g.solution).all()
        assert g.difficulty in ("singles", "hard")


def test_same_seed_same_puzzles_other_seed_other_puzzles():
    a = generate_puzzles(5, seed=7)
    b = generate_puzzles(5, seed=7)
    c = generate_puzzles(5, seed=8)
    assert all((x.puzzle == y.puzzle).all() and (x.solution == y.solution).all()
               for x, y in zip(a, b, strict=True))
    assert any((x.puzzle != y.puzzle).any() for x, y in zip(a, c, strict=True))


def test_difficulty_singles_and_hard():
    for g in generate_puzzles(10, givens=(22, 30), difficulty="singles", seed=2):
        assert g.difficulty == "singles" and g.guesses == 0 and propagate_only(g.puzzle)
        assert 22 <= g.givens <= 30
    for g in generate_puzzles(10, givens=(20, 30), difficulty="hard", seed=3):
        assert g.difficulty == "hard" and g.guesses > 0 and not propagate_only(g.puzzle)
        assert solve(g.puzzle).status == "unique"


def test_minimal_puzzles_lose_uniqueness_when_any_given_goes():
    for g in generate_puzzles(3, givens=(17, 35), seed=4, minimal=True):
        assert g.givens <= 30
        for cell in np.flatnonzero(g.puzzle):
            fewer = g.puzzle.copy()
            fewer[cell] = 0
            assert solve(fewer).status == "multiple"


def test_augment_keeps_validity_uniqueness_and_givens():
    rng = np.random.default_rng(5)
    g = generate_puzzle(rng)
    puzzle, solution = augment(g.puzzle, g.solution, rng)
    assert is_valid_solution(solution, puzzle)
    assert np.count_nonzero(puzzle) == g.givens
    result = solve(puzzle)
    assert result.status == "unique" and (result.solutions[0] == solution).all()
    assert not (puzzle == g.puzzle).all()


def test_impossible_requests_raise_value_error():
    with pytest.raises(ValueError, match="givens range"):
        generate_puzzle(np.random.default_rng(0), givens=(30, 20))
    with pytest.raises(ValueError, match="difficulty"):
        generate_puzzle(np.random.default_rng(0), difficulty="fiendish")
