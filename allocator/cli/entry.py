"""The `allocator` command's entry point: the signal handlers first, then the app in a thread.

`allocator/__main__.py` (the `allocator` script and ``python -m allocator``) ends the process on
Ctrl-C with one line until this module is loaded; `run` then installs the handlers of
`allocator.cli.interrupts` and runs the Typer app in a worker thread. The main thread only waits,
a tenth of a second at a time, so a signal is handled at once even while the worker is inside a
long solver call (a Python signal handler runs only in the main thread, between bytecodes).

Importing `allocator.cli` (as the tests do, through Typer's `CliRunner`) installs nothing.
"""

from __future__ import annotations

import signal
import sys
import threading

from allocator.cli import interrupts

GROUPS = ("ledger", "units", "requests", "batch", "stay")  # commands named by two words


def run(argv: list[str] | None = None) -> int:
    """Run the app on ``argv`` (default: the process's arguments); return the exit code."""
    args = sys.argv[1:] if argv is None else list(argv)
    interrupts.install(command_name(args))
    code: list[int] = []
    worker = threading.Thread(
        target=_run_app, args=(args, code), name="allocator-command", daemon=True
    )
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.1)
            interrupts.tick()
    except KeyboardInterrupt:  # not raised once the handlers are in place; never a traceback
        interrupts.abort("aborted")
    # the command is done and its outputs complete: a late signal just ends the process
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    return code[0] if code else 1


def command_name(args: list[str]) -> str:
    """The command as the user typed it, for messages: ``plan``, ``ledger export``."""
    words = [a for a in args if not a.startswith("-")][:2]
    if words and words[0] in GROUPS:
        return " ".join(words)
    return words[0] if words else "allocator"


def _run_app(args: list[str], code: list[int]) -> None:
    """The app in this (worker) thread; its exit code into ``code``."""
    try:
        from allocator.cli import app

        app(args, prog_name="allocator")
        code.append(0)
    except SystemExit as exc:
        code.append(_exit_code(exc.code))
    except (KeyboardInterrupt, interrupts.Aborted):
        interrupts.abort("aborted")
    except BaseException:
        # a bug: Typer's hook prints the traceback, as it would in the main thread
        sys.excepthook(*sys.exc_info())
        code.append(1)


def _exit_code(value: object) -> int:
    """`sys.exit`'s argument as a process exit code (a message is printed, and means 1)."""
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    print(value, file=sys.stderr)
    return 1
