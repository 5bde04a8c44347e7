"""Exact Sudoku solver: naked + hidden singles propagation and depth-first search (numba).

Candidates are 9-bit masks per cell (bit `d-1` = digit `d`). The search branches on the cell with
the fewest candidates and counts solutions up to a limit, so it can tell `unique` from `multiple`
from `no-solution`. A caller may pass a per-cell digit preference `(81, 9)` (e.g. model
probabilities): cell ties go to the highest preference, digits are tried in descending preference.
Compiled functions are cached on disk (`cache=True`) so only the first run ever pays the JIT cost.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numba import njit

from model.board import PEERS, UNITS, as_puzzle, check_givens

__all__ = ["SearchResult", "solve", "solve_many", "propagate_only"]

ALL_DIGITS = 0x1FF
_PEERS = PEERS.astype(np.int32)  # (81, 20)
_UNITS = UNITS.astype(np.int32)  # (27, 9)
_POPCOUNT = np.array([bin(m).count("1") for m in range(512)], dtype=np.int32)  # (512,)
_LOWBIT_DIGIT = np.array(  # (512,) index of the lowest set bit, -1 for 0
    [(m & -m).bit_length() - 1 if m else -1 for m in range(512)], dtype=np.int32
)
_NO_PREFERENCE = np.zeros((81, 9), dtype=np.float64)


@dataclass
class SearchResult:
    """Outcome of an exact search; `solutions` holds at most `limit` grids `(81,)` int8."""

    status: str  # "unique" | "multiple" | "no-solution"  ("unique" = found one with limit=1)
    solutions: list[np.ndarray] = field(default_factory=list)
    nodes: int = 0  # propagation states visited (root included)
    guesses: int = 0  # digits tried at branching cells; 0 = solved by singles alone


@njit(cache=True, nogil=True)
def _eliminate(cands, cell, peers, queue, qtail):
    """Remove the single digit of `cell` from its peers, queue new singles; -1 = contradiction."""
    bit = cands[cell]
    for k in range(20):
        p = peers[cell, k]
        c = cands[p]
        if c & bit:
            c &= ~bit
            if c == 0:
                return -1
            cands[p] = c
            if c & (c - 1) == 0:
                queue[qtail] = p
                qtail += 1
    return qtail


@njit(cache=True, nogil=True)
def _propagate(cands, queue, qtail, peers, units):
    """Naked singles (queue) and hidden singles until a fixed point; False on contradiction."""
    qhead = 0
    while True:
        while qhead < qtail:
            cell = queue[qhead]
            qhead += 1
            qtail = _eliminate(cands, cell, peers, queue, qtail)
            if qtail < 0:
                return False
        changed = False
        for u in range(27):
            once = 0
            twice = 0
            for k in range(9):
                c = cands[units[u, k]]
                twice |= once & c
                once |= c
            if once != ALL_DIGITS:
                return False
            exactly = once & ~twice
            if exactly == 0:
                continue
            for k in range(9):
                cell = units[u, k]
                c = cands[cell]
                m = c & exactly
                if m:
                    if m & (m - 1):
                        return False
                    if c != m:
                        cands[cell] = m
                        queue[qtail] = cell
                        qtail += 1
                        changed = True
        if not changed:
            return True


@njit(cache=True, nogil=True)
def _initial_candidates(puzzle, cands, queue, peers, units):
    """Fill `cands` from the givens and propagate; False when the puzzle is contradictory."""
    qtail = 0
    for i in range(81):
        d = puzzle[i]
        if d > 0:
            cands[i] = 1 << (d - 1)
            queue[qtail] = i
            qtail += 1
        else:
            cands[i] = ALL_DIGITS
    return _propagate(cands, queue, qtail, peers, units)


@njit(cache=True, nogil=True)
def _pick_digit(rem, cell, preference, use_pref, lowbit):
    """Bit of the next digit to try at `cell` among `rem`: highest preference, else lowest digit."""
    if not use_pref:
        return rem & -rem
    best_bit = rem & -rem  # fallback when no score compares (NaN, -inf): progress is guaranteed
    best = -np.inf
    for d in range(9):
        b = 1 << d
        if rem & b and preference[cell, d] > best:
            best = preference[cell, d]
            best_bit = b
    return best_bit


@njit(cache=True, nogil=True)
def _search(puzzle, limit, preference, use_pref, cands0, excluded_cell, excluded_bit,
            solutions, counters, peers, units, popcount, lowbit):
    """Count solutions up to `limit`, writing them to `solutions` `(limit, 81)`.

    `excluded_cell >= 0` removes `excluded_bit` from that cell's candidates before search (the
    generator's cheap uniqueness test). `counters` `(2,)` receives nodes and guesses.
    Returns the number of solutions found (<= limit).
    """
    stack = np.empty((82, 81), dtype=np.int32)  # candidate masks per depth
    branch_cell = np.empty(82, dtype=np.int32)
    branch_rem = np.empty(82, dtype=np.int32)  # digits still to try at that depth
    queue = np.empty(200, dtype=np.int32)
    nodes = 1
    guesses = 0
    found = 0
    cands = stack[0]
    if cands0.shape[0] == 81:
        cands[:] = cands0
        qtail = 0
        ok = True
    else:
        ok = _initial_candidates(puzzle, cands, queue, peers, units)
        qtail = 0
    if ok and excluded_cell >= 0:
        c = cands[excluded_cell] & ~excluded_bit
        if c == 0:
            ok = False
        else:
            cands[excluded_cell] = c
            if c & (c - 1) == 0:
                queue[0] = excluded_cell
                qtail = 1
            ok = _propagate(cands, queue, qtail, peers, units)
    if not ok:
        counters[0] = nodes
        counters[1] = guesses
        return 0
    depth = 0
    descend = True  # True: choose a branching cell at `depth`; False: try the next digit there
    while True:
        if descend:
            cands = stack[depth]
            best_cell = -1
            best_count = 10
            best_pref = -1e300
            for i in range(81):
                n = popcount[cands[i]]
                if n > 1 and n <= best_count:
                    if n < best_count:
                        best_count = n
                        best_cell = i
                        if use_pref:
                            best_pref = -1e300
                            for d in range(9):
                                if cands[i] & (1 << d) and preference[i, d] > best_pref:
                                    best_pref = preference[i, d]
                        elif n == 2:
                            break
                    elif use_pref:
                        p = -1e300
                        for d in range(9):
                            if cands[i] & (1 << d) and preference[i, d] > p:
                                p = preference[i, d]
                        if p > best_pref:
                            best_pref = p
                            best_cell = i
            if best_cell < 0:  # every cell single: a solution
                for i in range(81):
                    solutions[found, i] = lowbit[cands[i]] + 1
                found += 1
                if found >= limit:
                    break
                depth -= 1
                descend = False
                if depth < 0:
                    break
                continue
            branch_cell[depth] = best_cell
            branch_rem[depth] = cands[best_cell]
            descend = False
        # try the next digit at `depth`
        rem = branch_rem[depth]
        if rem == 0:
            depth -= 1
            if depth < 0:
                break
            continue
        cell = branch_cell[depth]
        bit = _pick_digit(rem, cell, preference, use_pref, lowbit)
        branch_rem[depth] = rem & ~bit
        child = stack[depth + 1]
        child[:] = stack[depth]
        child[cell] = bit
        queue[0] = cell
        guesses += 1
        nodes += 1
        if _propagate(child, queue, 1, peers, units):
            depth += 1
            descend = True
    counters[0] = nodes
    counters[1] = guesses
    return found


@njit(cache=True, nogil=True)
def _solve_batch(puzzles, out, nodes, peers, units, popcount, lowbit):
    """Solve each row of `puzzles` `(N, 81)` (first solution) into `out`; returns count solved."""
    solved = 0
    solutions = np.zeros((1, 81), dtype=np.int8)
    counters = np.zeros(2, dtype=np.int64)
    pref = np.zeros((81, 9), dtype=np.float64)
    empty = np.empty(0, dtype=np.int32)
    for n in range(puzzles.shape[0]):
        found = _search(puzzles[n], 1, pref, False, empty, -1, 0, solutions, counters,
                        peers, units, popcount, lowbit)
        nodes[n] = counters[0]
        if found:
            out[n] = solutions[0]
            solved += 1
        else:
            out[n] = 0
    return solved


@njit(cache=True, nogil=True)
def _singles_only(puzzle, peers, units):
    """True when naked + hidden singles alone fill the whole grid."""
    cands = np.empty(81, dtype=np.int32)
    queue = np.empty(200, dtype=np.int32)
    if not _initial_candidates(puzzle, cands, queue, peers, units):
        return False
    for i in range(81):  # noqa: SIM110 (numba: no generator expressions)
        if cands[i] & (cands[i] - 1):
            return False
    return True


@njit(cache=True, nogil=True)
def _dig(solution, order, target, floor, mode, peers, units, popcount, lowbit):
    """The generator's inner loop: remove cells of `solution` in `order` while it stays unique.

    Lives here, next to `_search`, because numba's disk cache only notices edits to the file of
    the function it caches.

    Stops at `target` givens (mode 0/1), or for mode 2 ("hard") past `target` until singles no
    longer suffice, never below `floor`. Mode 1 ("singles") keeps only removals that leave the
    puzzle solvable by singles alone.
    """
    puzzle = solution.copy()
    givens = 81
    solutions = np.zeros((1, 81), dtype=np.int8)
    counters = np.zeros(2, dtype=np.int64)
    pref = np.zeros((81, 9), dtype=np.float64)
    empty = np.empty(0, dtype=np.int32)
    for k in range(81):
        if givens <= floor:
            break
        if givens <= target:
            if mode != 2:
                break
            if not _singles_only(puzzle, peers, units):
                break
        cell = order[k]
        digit = puzzle[cell]
        puzzle[cell] = 0
        used = 0  # digits among the cell's peers: all eight others -> forced, trivially unique
        for j in range(20):
            v = puzzle[peers[cell, j]]
            if v > 0:
                used |= 1 << (v - 1)
        if used | (1 << (digit - 1)) == ALL_DIGITS:
            givens -= 1
            continue
        other = _search(puzzle, 1, pref, False, empty, cell, 1 << (digit - 1), solutions,
                        counters, peers, units, popcount, lowbit)
        keep = other == 0
        if keep and mode == 1 and not _singles_only(puzzle, peers, units):
            keep = False
        if keep:
            givens -= 1
        else:
            puzzle[cell] = digit
    return puzzle


def solve(puzzle: np.ndarray, limit: int = 2, preference: np.ndarray | None = None) -> SearchResult:
    """Find up to `limit` solutions of `puzzle` `(81,)`.

    `limit=2` (default) proves uniqueness; `limit=1` stops at the first solution (status "unique"
    then only means "found one"). `preference` `(81, 9)`: higher = try earlier. Raises PuzzleError
    for malformed input or two equal givens in a unit.
    """
    if limit < 1:
        raise ValueError(f"limit must be >= 1, got {limit}")
    grid = as_puzzle(puzzle)
    check_givens(grid)
    if preference is None:
        pref, use_pref = _NO_PREFERENCE, False
    else:
        pref = np.asarray(preference, dtype=np.float64)
        if pref.shape != (81, 9):
            raise ValueError(f"preference must have shape (81, 9), got {pref.shape}")
        pref, use_pref = np.ascontiguousarray(pref), True
    solutions = np.zeros((limit, 81), dtype=np.int8)
    counters = np.zeros(2, dtype=np.int64)
    found = _search(grid, limit, pref, use_pref, np.empty(0, dtype=np.int32), -1, 0, solutions,
                    counters, _PEERS, _UNITS, _POPCOUNT, _LOWBIT_DIGIT)
    if found == 0:
        status = "no-solution"
    elif found == 1:
        status = "unique"
    else:
        status = "multiple"
    return SearchResult(
        status=status,
        solutions=[solutions[k].copy() for k in range(found)],
        nodes=int(counters[0]),
        guesses=int(counters[1]),
    )


def solve_many(puzzles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Batch fast path: first solution of each `(N, 81)` puzzle, no uniqueness proof.

    Returns `(solutions (N, 81) int8, all zeros where none exists, nodes (N,) int64)`.
    Givens are not checked for clashes (a clash simply yields no solution).
    """
    array = np.ascontiguousarray(np.asarray(puzzles, dtype=np.int8).reshape(-1, 81))
    out = np.zeros_like(array)
    nodes = np.zeros(array.shape[0], dtype=np.int64)
    _solve_batch(array, out, nodes, _PEERS, _UNITS, _POPCOUNT, _LOWBIT_DIGIT)
    return out, nodes


def propagate_only(puzzle: np.ndarray) -> bool:
    """True when naked + hidden singles alone solve `puzzle` (no guessing needed)."""
    return bool(_singles_only(as_puzzle(puzzle), _PEERS, _UNITS))
