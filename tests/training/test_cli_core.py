"""`sudoku-jepa solve` / `generate`: the JSONL contract end to end, errors, help, no torch."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from model.board import is_valid_solution, parse_grid
from model.puzzle_io import read_puzzles
from model.search import solve
from training import cli
from training.cli import build_parser, main
from training.exit_codes import EXIT_FAILED, EXIT_INPUT, EXIT_MODEL, EXIT_USAGE

PUZZLE = "53..7....6..195....98....6.8...6...34..8.3..17...2...6.6....28....419..5....8..79"
HARD = "4...3.......6..8..........1....5..9..8....6...7.2........1.27..5.3....4.9........"
NO_SOLUTION = "." + "12345678" + "." * 27 + "9" + "." * 44
EMPTY = "." * 81


@pytest.fixture
def puzzle_file(tmp_path):
    path = tmp_path / "in.txt"
    path.write_text(
        f"# mixed file\n{PUZZLE}\n{PUZZLE[:80]}\n{HARD}\n{'11' + PUZZLE[2:]}\n"
        f"{NO_SOLUTION}\n{EMPTY}\n"
    )
    return path


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_solve_exact_writes_one_json_object_per_puzzle_in_order(puzzle_file, tmp_path):
    out = tmp_path / "out.jsonl"
    assert main(["solve", str(puzzle_file), "--jsonl", str(out)]) == 0
    rows = read_jsonl(out)
    assert [r["status"] for r in rows] == [
        "solved", "invalid", "solved", "invalid", "no-solution", "multiple",
    ]
    assert [r["line"] for r in rows] == [2, 3, 4, 5, 6, 7]
    for row in rows:
        assert {"puzzle", "solution", "status", "ms"} <= row.keys()
        assert isinstance(row["ms"], float)
    for row in (rows[0], rows[2]):
        assert len(row["puzzle"]) == 81 and len(row["solution"]) == 81
        assert is_valid_solution(parse_grid(row["solution"]), parse_grid(row["puzzle"]))
        assert row["nodes"] >= 1
    assert rows[0]["puzzle"] == PUZZLE and rows[0]["guesses"] == 0
    assert "wrong length" in rows[1]["error"] and ":3:" in rows[1]["error"]
    assert rows[1]["solution"] is None
    assert "r1c1 and r1c2 both hold 1 in row 1" in rows[3]["error"]
    assert rows[4]["solution"] is None and rows[5]["solution"] is None
    assert len(rows[5]["solutions"]) == 2


def test_solve_to_stdout_with_limit_one(puzzle_file, capsys):
    assert main(["solve", str(puzzle_file), "--limit", "1"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert rows[-1]["status"] == "solved"  # the empty grid: first solution, no uniqueness proof


def test_solve_unreadable_file(tmp_path, capsys):
    assert main(["solve", str(tmp_path / "missing.txt")]) == EXIT_INPUT
    assert "cannot read puzzle file" in capsys.readouterr().err


def test_a_mode_without_a_usable_model_exits_with_a_message(puzzle_file, capsys, monkeypatch):
    def unavailable(args):
        raise cli.ModelUnavailableError("no model file")

    monkeypatch.setitem(cli._SOLVER_FACTORIES, "neural", unavailable)
    assert main(["solve", str(puzzle_file), "--mode", "neural"]) == EXIT_MODEL
    assert "--mode neural is not available: no model file" in capsys.readouterr().err


def test_generate_writes_unique_puzzles_reproducibly(tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    args = ["generate", "--count", "12", "--givens", "24-30", "--seed", "5"]
    assert main([*args, "--out", str(a)]) == 0
    assert main([*args, "--out", str(b)]) == 0
    assert a.read_text() == b.read_text()
    records = list(read_puzzles(a))
    assert len(records) == 12
    for record in records:
        assert 24 <= (record.puzzle > 0).sum() <= 30
        assert solve(record.puzzle).status == "unique"


def test_generate_with_solutions_and_difficulty(tmp_path):
    out = tmp_path / "p.csv"
    code = main(["generate", "--count", "5", "--difficulty", "hard", "--givens", "22-30",
                 "--solutions", "--out", str(out)])
    assert code == 0
    assert out.read_text().startswith("puzzle,solution\n")
    records = list(read_puzzles(out))
    assert len(records) == 5
    assert all(is_valid_solution(r.solution, r.puzzle) for r in records)
    assert all(solve(r.puzzle).guesses > 0 for r in records)


def test_unwritable_outputs_are_reported(tmp_path, puzzle_file, capsys):
    missing = tmp_path / "no" / "such" / "dir"
    assert main(["solve", str(puzzle_file), "--jsonl", str(missing / "o.jsonl")]) == 1
    assert "cannot write" in capsys.readouterr().err
    assert main(["generate", "--count", "1", "--out", str(missing / "p.txt")]) == 1
    assert "cannot write" in capsys.readouterr().err


def test_generate_rejects_a_bad_givens_range(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["generate", "--count", "1", "--givens", "30-20", "--out", str(tmp_path / "x")])
    assert "LO <= HI" in capsys.readouterr().err


# What each option's help must say: the thing it sets or does, in the words a user looks for.
HELP_SAYS = {
    "solve": {"file": "puzzle file", "mode": "exact search guided by the model",
              "model": "ONNX model file", "jsonl": "write the JSON lines",
              "limit": "stops after N solutions", "progress": "progress bar",
              "steps": "more steps, more accuracy", "chains": "lowest final energy wins",
              "step_size": "step size", "noise": "noise added to each chain",
              "seed": "noise seed", "trace": "one entry per descent step",
              "reject_rises": "energy shown never rises"},
    "generate": {"count": "number of puzzles", "givens": "number of givens",
                 "minimal": "remove givens", "difficulty": "singles",
                 "seed": "same seed gives the same puzzles", "solutions": "puzzle,solution",
                 "out": "output file", "progress": "progress bar"},
    "train": {"preset": "base recipe", "config": "JSON file of config overrides",
              "set": "override one config key", "device": "device to train on",
              "resume": "continue the run", "out": "run folder is created in",
              "name": "run folder name", "steps": "train exactly N steps",
              "minutes": "wall-clock budget", "quiet": "no progress bar"},
    "eval": {"checkpoint": "checkpoint to score", "files": "puzzle files",
             "limit": "first N puzzles", "steps": "test-time step counts to score",
             "chains": "lowest energy wins", "step_size": "step size", "noise": "chain noise",
             "reject_rises": "raises a chain's energy",
             "device": "device to evaluate on", "json": "JSON object per file"},
    "bench": {"model": "ONNX model file", "sets": "puzzle files", "generated": "generated set",
              "seed": "seed of the generated sets", "limit": "at most N puzzles",
              "out": "Markdown report", "provider": "onnxruntime provider",
              "steps": "descent steps per chain", "chains": "chains",
              "steps_table": "think longer",
              "no_unique_check": "uniqueness proof", "no_early_stop": "full descent",
              "progress": "progress bar"},
    "export": {"checkpoint": "training checkpoint", "out": "ONNX file to write",
               "run_name": "run name stored", "steps": "default descent steps",
               "chains": "default chains", "step_size": "default step size",
               "noise": "default noise"},
}


def test_help_says_what_every_option_does():
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.choices and "solve" in a.choices)
    assert set(subparsers.choices) == set(HELP_SAYS)
    for name, sub in subparsers.choices.items():
        for action in sub._actions:
            if action.dest == "help":
                continue
            assert action.help and len(action.help) > 10, (name, action.dest)
            if action.dest in HELP_SAYS[name]:  # options added later get the generic check
                assert HELP_SAYS[name][action.dest] in action.help, (name, action.dest)
        documented = {a.dest for a in sub._actions}
        assert set(HELP_SAYS[name]) <= documented, (name, set(HELP_SAYS[name]) - documented)


def test_console_script_solves_without_importing_torch(puzzle_file):
    code = (
        "import sys; from training.cli import main; "
        f"rc = main(['solve', {str(puzzle_file)!r}, '--jsonl', {str(puzzle_file)!r} + '.out']); "
        "assert 'torch' not in sys.modules, 'torch imported'; sys.exit(rc)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "6 puzzles:" in done.stderr


def test_every_command_shows_the_exit_code_table_and_the_readme_has_it():
    from training.exit_codes import EXIT_CODES

    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.choices and "solve" in a.choices)
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for help_text in [parser.format_help(), *(p.format_help() for p in
                                               subparsers.choices.values())]:
        for code, meaning in EXIT_CODES:
            assert f"{code:>3}  {meaning}" in help_text
    for code, meaning in EXIT_CODES:
        assert f"| {code} | {meaning} |" in readme


def test_the_trainer_exits_with_the_table_codes():
    from training import exit_codes, trainer

    assert trainer.EXIT_DIVERGED == exit_codes.EXIT_DIVERGED
    assert trainer.EXIT_CHECKPOINT_FAILED == exit_codes.EXIT_CHECKPOINT_FAILED


@pytest.mark.parametrize(("argv", "code"), [
    (["solve", "{tmp}/missing.txt"], EXIT_INPUT),
    (["solve", "{puzzles}", "--limit", "0"], EXIT_USAGE),
    (["solve", "{puzzles}", "--mode", "verified", "--model", "{tmp}/none.onnx"], EXIT_MODEL),
    (["solve", "{puzzles}", "--jsonl", "{tmp}/no/dir/o.jsonl"], EXIT_FAILED),
    (["generate", "--count", "-1", "--out", "{tmp}/p.txt"], EXIT_USAGE),
    (["bench", "--model", "{tmp}/none.onnx"], EXIT_MODEL),
    (["export", "--checkpoint", "{tmp}/none.pt", "--out", "{tmp}/m.onnx"], EXIT_MODEL),
    (["eval", "--checkpoint", "{tmp}/none.pt", "{puzzles}"], EXIT_MODEL),
    (["train", "--config", "{tmp}/none.json", "--out", "{tmp}"], EXIT_INPUT),
    (["train", "--resume", "{tmp}/none", "--quiet"], EXIT_MODEL),
])
def test_errors_have_the_command_prefix_and_the_table_code(argv, code, tmp_path, puzzle_file,
                                                           capsys):
    argv = [a.format(tmp=tmp_path, puzzles=puzzle_file) for a in argv]
    assert main(argv) == code
    lines = capsys.readouterr().err.splitlines()
    assert lines and all(line.startswith(f"sudoku-jepa {argv[0]}: ") for line in lines), lines
