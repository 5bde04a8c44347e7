"""The exit codes of every `sudoku-jepa` command and the one shape of its error messages.

Scripts and the app's Training tab tell failures apart by exit code, so every command uses this
one table (shown by `sudoku-jepa --help` and in the README) and prints each error as
`sudoku-jepa <command>: <message>` on stderr. Torch-free: `solve` and `generate` import it.
"""

from __future__ import annotations

import argparse
import sys

EXIT_OK = 0
EXIT_FAILED = 1  # the command ran but could not finish its work
EXIT_USAGE = 2  # argparse exits with 2 on a bad option; our own option checks do the same
EXIT_DIVERGED = 3  # = training.trainer.EXIT_DIVERGED
EXIT_CHECKPOINT_FAILED = 4  # = training.trainer.EXIT_CHECKPOINT_FAILED
EXIT_INPUT = 5
EXIT_MODEL = 6
EXIT_INTERRUPTED = 130  # the shell's code for Ctrl-C

EXIT_CODES: tuple[tuple[int, str], ...] = (
    (EXIT_OK, "success"),
    (EXIT_FAILED, "failure: the command ran but could not finish (e.g. an output file cannot be "
     "written)"),
    (EXIT_USAGE, "usage error: an option or value the command does not accept"),
    (EXIT_DIVERGED, "train: the loss became non-finite; the last good checkpoint is kept"),
    (EXIT_CHECKPOINT_FAILED, "train: a checkpoint could not be written (full disk, ...); the "
     "previous one is kept"),
    (EXIT_INPUT, "unusable input file: a puzzle, dataset or config file is missing, unreadable "
     "or malformed"),
    (EXIT_MODEL, "unusable model: a model or checkpoint file is missing, corrupt or of the "
     "wrong kind"),
    (EXIT_INTERRUPTED, "interrupted (Ctrl-C)"),
)

EPILOG_TITLE = "exit codes:"


def exit_codes_help() -> str:
    """The table as `--help` shows it: one `  CODE  meaning` line per code."""
    return "\n".join([EPILOG_TITLE, *(f"  {code:>3}  {text}" for code, text in EXIT_CODES)])


class HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter, except that the exit-code table keeps its lines (argparse would
    rewrap it into one paragraph)."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.startswith(EPILOG_TITLE):
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


def fail(command: str, message: str, code: int) -> int:
    """Print `sudoku-jepa <command>: <message>` on stderr and return `code` (for `return`)."""
    print(f"sudoku-jepa {command}: {message}", file=sys.stderr)
    return code
