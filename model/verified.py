"""Verified solving: the neural answer is shown only after a rule check, else exact search finishes.

An energy model that is right 96% of the time still shows a wrong grid 4% of the time. Here the
model's grid is accepted only when it passes the rules; otherwise its probabilities become a
*preference* for the exact solver (which cell to branch on, which digit to try first), never
givens, so search stays complete and the answer is always right. Torch-free.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from model import board, search

if TYPE_CHECKING:
    from model.runtime import DescentSettings, DescentStep, EnergyModel, NeuralResult

STATUSES = ("solved", "no-solution", "multiple", "invalid")
SOURCE_BLANK, SOURCE_GIVEN, SOURCE_NEURAL, SOURCE_SEARCH = 0, 1, 2, 3
SOURCE_NAMES = {SOURCE_BLANK: "blank", SOURCE_GIVEN: "given", SOURCE_NEURAL: "neural",
                SOURCE_SEARCH: "search"}


@dataclass
class VerifiedSettings:
    """How much work verified mode does beyond the answer itself."""

    descent: DescentSettings | None = None  # None = the model's default_settings()
    guided: bool = True  # order the search by the model's probs (False = plain ordering)
    check_unique: bool = True  # prove uniqueness (search limit=2 seeded by the answer)
    compare_plain: bool = True  # also count the nodes plain ordering needs (for reports)
    early_stop: bool = True  # end the descent at the first step whose grid passes the rules


@dataclass
class VerifiedResult:
    status: str  # one of STATUSES
    grid: np.ndarray | None  # (81,) int8 answer (first of two when "multiple"); None otherwise
    by: str  # "neural" | "search" | "none"
    source: np.ndarray  # (81,) int8 SOURCE_* code per cell
    shared_with_neural: int  # empty cells where the answer equals the neural grid
    nodes_guided: int  # search nodes to the first solution, model ordering (0 if by neural)
    nodes_plain: int | None  # same solver, plain ordering (None if not measured)
    nodes_check: int  # nodes of the uniqueness proof (0 if not run)
    solutions: list[np.ndarray] = field(default_factory=list)
    ms: float = 0.0
    neural_ms: float = 0.0
    search_ms: float = 0.0  # everything after the descent: rule check, search, uniqueness proof
    check_ms: float = 0.0  # the uniqueness proof alone (part of search_ms)
    neural: NeuralResult | None = None
    message: str = ""

    def to_json(self) -> dict:
        """Plain-JSON form (grids as 81-char strings) for the CLI and the benchmark."""
        neural = None
        if self.neural is not None:
            neural = {
                "grid": board.format_grid(self.neural.grid),
                "valid": bool(self.neural.valid),
                "energy": float(self.neural.energy),
                "steps": int(self.neural.steps),
                "ms": round(float(self.neural.ms), 3),
            }
        return {
            "status": self.status,
            "grid": None if self.grid is None else board.format_grid(self.grid),
            "by": self.by,
            "source": "".join("gns."[_SOURCE_CHAR_INDEX[int(s)]] for s in self.source),
            "shared_with_neural": self.shared_with_neural,
            "nodes_guided": self.nodes_guided,
            "nodes_plain": self.nodes_plain,
            "nodes_check": self.nodes_check,
            "solutions": [board.format_grid(s) for s in self.solutions],
            "ms": round(self.ms, 3),
            "neural_ms": round(self.neural_ms, 3),
            "search_ms": round(self.search_ms, 3),
            "check_ms": round(self.check_ms, 3),
            "message": self.message,
            "neural": neural,
        }


# source string in JSON: g = given, n = neural, s = search, . = blank
_SOURCE_CHAR_INDEX = {SOURCE_GIVEN: 0, SOURCE_NEURAL: 1, SOURCE_SEARCH: 2, SOURCE_BLANK: 3}


def solve_verified(
    model: EnergyModel | None, puzzle, settings: VerifiedSettings | None = None
) -> VerifiedResult:
    """Neural descent, then a rule check, then energy-guided exact search if needed."""
    settings = settings or VerifiedSettings()
    start = time.perf_counter()
    puzzle = board.as_puzzle(puzzle)
    invalid = _clash_result(puzzle)
    if invalid is not None:
        return invalid
    neural = None
    neural_ms = 0.0
    if model is not None:
        if settings.early_stop:
            steps = []
            for step in model.descend(puzzle, settings.descent):
                steps.append(step)
                if board.is_valid_solution(step.grid, puzzle):
                    break  # any valid grid is a solution; the uniqueness proof follows
            ms = (time.perf_counter() - start) * 1000.0
            neural = neural_result_from_steps(puzzle, steps, ms)
        else:
            neural = model.solve(puzzle, settings.descent)
        neural_ms = (time.perf_counter() - start) * 1000.0
    result = finish_from_neural(puzzle, neural, settings)
    result.neural_ms = neural_ms
    result.ms = neural_ms + result.search_ms
    return result


def finish_from_neural(
    puzzle, neural: NeuralResult | None, settings: VerifiedSettings | None = None
) -> VerifiedResult:
    """Finish a puzzle whose neural descent has already run (the app animates it itself).

    `neural=None` means no model: plain exact search. `ms` counts the neural result's own time
    plus the time spent here, except the plain-ordering comparison (a report figure only).
    """
    settings = settings or VerifiedSettings()
    start = time.perf_counter()
    puzzle = board.as_puzzle(puzzle)
    invalid = _clash_result(puzzle)
    if invalid is not None:
        invalid.neural = neural
        return invalid
    neural_ms = float(neural.ms) if neural is not None else 0.0
    # Rule check by ourselves, not the runtime's `valid` flag.
    neural_ok = neural is not None and board.is_valid_solution(neural.grid, puzzle)
    preference = None
    if neural is not None and settings.guided:
        preference = np.asarray(neural.probs, dtype=np.float32).reshape(81, 9)

    nodes_guided = 0
    if neural_ok:
        answer = np.asarray(neural.grid, dtype=np.int8).copy()
        by = "neural"
    else:
        first = search.solve(puzzle, limit=1, preference=preference)
        nodes_guided = int(first.nodes)
        if not first.solutions:
            return _finish(
                puzzle, neural, settings, start, neural_ms, status="no-solution", answer=None,
                by="none", nodes_guided=nodes_guided, nodes_check=0, second=None,
            )
        answer = _checked(first.solutions[0], puzzle)
        by = "search"

    nodes_check = 0
    second = None
    check_start = time.perf_counter()
    if settings.check_unique:
        # Digits ordered by the answer: the search re-finds it at once, then must prove no other.
        seed = np.asarray(answer[:, None] == np.arange(1, 10)[None, :], dtype=np.float32)  # (81, 9)
        check = search.solve(puzzle, limit=2, preference=seed)
        nodes_check = int(check.nodes)
        for candidate in check.solutions:
            if not np.array_equal(candidate, answer):
                second = _checked(candidate, puzzle)
                break
    check_ms = (time.perf_counter() - check_start) * 1000.0
    status = "multiple" if second is not None else "solved"
    result = _finish(
        puzzle, neural, settings, start, neural_ms, status=status, answer=answer, by=by,
        nodes_guided=nodes_guided, nodes_check=nodes_check, second=second,
    )
    result.check_ms = check_ms
    return result


def neural_result_from_steps(puzzle, steps: list[DescentStep], ms: float) -> NeuralResult:
    """A NeuralResult from a descent's steps (the app collects them from descend()).

    The winner is the first step whose grid passes the rules, else the lowest-energy step (as
    `EnergyModel.solve` picks). Only the best chain is visible in steps, so `any_chain_valid`
    means "some step's best chain was valid".
    """
    from model.runtime import NeuralResult  # lazy: keeps this module importable without the runtime

    if not steps:
        raise ValueError("neural_result_from_steps: no descent steps")
    puzzle = board.as_puzzle(puzzle)
    valid = [board.is_valid_solution(np.asarray(s.grid, dtype=np.int8), puzzle) for s in steps]
    first_valid = valid.index(True) if any(valid) else None
    winner = steps[first_valid] if first_valid is not None else min(steps, key=_energy)
    return NeuralResult(
        grid=np.asarray(winner.grid, dtype=np.int8),
        probs=np.asarray(winner.probs, dtype=np.float32),
        valid=any(valid),
        energy=float(winner.best_energy),
        energy_trace=[float(s.best_energy) for s in steps],
        steps=int(steps[-1].step),
        ms=float(ms),
        any_chain_valid=any(valid),
        initial_valid=valid[0],
    )


def _energy(step: DescentStep) -> float:
    return step.best_energy


def _finish(puzzle, neural, settings, start, neural_ms, *, status, answer, by, nodes_guided,
            nodes_check, second) -> VerifiedResult:
    search_ms = (time.perf_counter() - start) * 1000.0  # the plain comparison below is not counted
    nodes_plain = None
    if settings.compare_plain:
        nodes_plain = nodes_guided if neural is None or not settings.guided else int(
            search.solve(puzzle, limit=1).nodes
        )
    source = np.where(puzzle > 0, SOURCE_GIVEN, SOURCE_BLANK).astype(np.int8)
    shared = 0
    if answer is not None:
        empty = puzzle == 0
        if neural is not None:
            same = empty & (answer == np.asarray(neural.grid, dtype=np.int8))
        else:
            same = np.zeros(81, dtype=bool)
        source[same] = SOURCE_NEURAL
        source[empty & ~same] = SOURCE_SEARCH
        shared = int(same.sum())
    solutions = [] if answer is None else [answer] + ([second] if second is not None else [])
    total = neural_ms + search_ms
    return VerifiedResult(
        status=status, grid=answer, by=by, source=source, shared_with_neural=shared,
        nodes_guided=nodes_guided, nodes_plain=nodes_plain, nodes_check=nodes_check,
        solutions=solutions, ms=total, neural_ms=neural_ms, search_ms=search_ms, neural=neural,
        message=_message(status, by, nodes_guided, nodes_check),
    )


def _message(status: str, by: str, nodes_guided: int, nodes_check: int) -> str:
    if status == "no-solution":
        return f"no solution: the givens admit no completion (proved in {nodes_guided} nodes)"
    if status == "multiple":
        return "several solutions: two shown, the puzzle is not unique"
    if by == "neural":
        return f"solved by the model, verified by the rules (uniqueness proof {nodes_check} nodes)"
    return f"solved by search in {nodes_guided} nodes"


def _clash_result(puzzle: np.ndarray) -> VerifiedResult | None:
    """Givens that repeat a digit in a unit: status "invalid", without running anything."""
    try:
        board.check_givens(puzzle)
    except board.PuzzleError as error:
        source = np.where(puzzle > 0, SOURCE_GIVEN, SOURCE_BLANK).astype(np.int8)
        return VerifiedResult(
            status="invalid", grid=None, by="none", source=source, shared_with_neural=0,
            nodes_guided=0, nodes_plain=None, nodes_check=0, message=str(error),
        )
    return None


def _checked(grid: np.ndarray, puzzle: np.ndarray) -> np.ndarray:
    """The last line of defence: a search answer that breaks the rules is a bug, never shown."""
    grid = np.asarray(grid, dtype=np.int8)
    if not board.is_valid_solution(grid, puzzle):
        text = board.format_grid(grid)
        raise RuntimeError(f"search returned a grid that breaks the rules: {text}")
    return grid
