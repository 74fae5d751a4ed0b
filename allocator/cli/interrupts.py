"""Ctrl-C and SIGTERM for the `allocator` command: stop a search, or abort without a trace.

The rules (docs/cli.md, "Stopping a run"):

- a first Ctrl-C while a search runs from a plan it already has (`allocator plan`) stops the
  search; the best plan so far is written with status ``interrupted``, and stderr says so;
- a second Ctrl-C, SIGTERM, or a first Ctrl-C where there is no plan to keep (before the search
  starts, or in a command that keeps no partial result) aborts: one line on stderr, exit code
  130, nothing written. Staged outputs are discarded, worker processes ended, and a ledger
  transaction is never committed (the process ends first; the database drops what it did not
  commit);
- an abort that arrives while outputs are written waits for the writing to end: before the
  targets are replaced the temporaries are discarded and nothing is written; once the
  replacement has begun it is finished, so no run leaves half its files replaced.

Only `install`, which the entry point (`allocator.cli.entry`) calls in the main thread, installs
the handlers; the command then runs in a worker thread, so that the main thread is free to take a
signal at once (a Python handler runs only between bytecodes of the main thread, never during a
long call into the solver). Without `install` (the app run in-process, as the tests do) every
function here changes nothing: the search is never stopped, writes are not deferred.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from types import FrameType

S = TypeVar("S")

EXIT_ABORTED = 130  # 128 + SIGINT, what a shell reports for a command ended by Ctrl-C
KEEPS_PLAN = ("plan",)  # the commands whose first Ctrl-C keeps a plan, once there is one
HINT_AFTER = 1.0  # seconds a search runs before the console says how to stop it
STOPPING = (
    "interrupted: keeping the best plan found so far; press Ctrl-C again to abort without writing"
)


class Aborted(BaseException):
    """Raised in the command's thread where an abort waited for it (`writing`), so that the
    staged files are discarded on the way out; the handler ends the process after that."""


class Search:
    """A search the first Ctrl-C stops rather than aborts, once it has a plan to keep.

    Pass ``stop`` to the engine and `started` as the engine's ``on_search_start``: from that call
    on a plan exists, and Ctrl-C sets ``stop`` instead of aborting.
    """

    def __init__(self, hint: str | None = None) -> None:
        self.stop = threading.Event()
        self.hint = hint  # printed once the search has run HINT_AFTER seconds (None: never)
        self.started_at: float | None = None

    def started(self) -> None:
        """The engine has a plan and starts searching for a better one."""
        self.started_at = time.monotonic()


class _Controller:
    """The process's signal state: the command's search, deferred aborts, cleanups."""

    def __init__(self, command: str) -> None:
        self.command = command
        self.pid = os.getpid()
        self.lock = threading.RLock()  # RLock: a second signal may run inside the handler
        self.search: Search | None = None
        self.deferred = 0  # writes in progress that an abort waits for
        self.pending: str | None = None  # the message of an abort waiting for them
        self.cleanups: list[Callable[[], None]] = []
        self.hinted = False
        # what an abort says once the command's outputs are written (or its ledger work is done)
        self.done: str | None = None

    def on_signal(self, signum: int, frame: FrameType | None) -> None:
        if os.getpid() != self.pid:  # a forked worker process: see `_in_forked_child`
            _in_forked_child()
            if signum != signal.SIGINT:
                os.kill(os.getpid(), signum)
            return
        with self.lock:
            search = self.search
            has_plan = search is not None and search.started_at is not None
            if signum == signal.SIGINT and has_plan and search and not search.stop.is_set():
                search.stop.set()
                _say(STOPPING)
                return
            if self.done:
                message = self.done
            elif signum == signal.SIGINT and has_plan:
                message = "aborted: nothing written"
            elif signum == signal.SIGINT and self.command in KEEPS_PLAN:
                message = "aborted: no plan yet; nothing written"
            elif signum == signal.SIGINT:
                message = f"aborted: {self.command} keeps no partial result; nothing written"
            else:
                message = f"aborted ({signal.Signals(signum).name}): nothing written"
            if self.deferred:
                self.pending = message
                return
        self.abort(message)

    def abort(self, message: str) -> None:
        """Clean up, say ``message`` and end the process with code 130, whatever thread runs."""
        for cleanup in reversed(self.cleanups):
            try:
                cleanup()
            except Exception:  # an abort must end whatever a cleanup does
                pass
        _end_worker_processes()
        _say(message)
        os._exit(EXIT_ABORTED)

    def tick(self) -> None:
        """Called by the waiting main thread: the hint once a search has run a while."""
        search = self.search
        if (
            not self.hinted
            and search is not None
            and search.hint
            and search.started_at is not None
            and not search.stop.is_set()
            and time.monotonic() - search.started_at >= HINT_AFTER
        ):
            self.hinted = True
            _say(search.hint)


_controller: _Controller | None = None


def install(command: str) -> None:
    """Take over SIGINT and SIGTERM for this process (main thread only); ``command`` names the
    command in messages ("plan", "ledger export")."""
    global _controller
    _controller = _Controller(command)
    signal.signal(signal.SIGINT, _controller.on_signal)
    signal.signal(signal.SIGTERM, _controller.on_signal)
    if hasattr(os, "register_at_fork"):  # POSIX
        os.register_at_fork(after_in_child=_in_forked_child)


def _in_forked_child() -> None:
    """A worker process forked from the command (a process pool's): Ctrl-C is the parent's to
    handle (the terminal sends it to the whole process group), SIGTERM ends it at once (the
    parent's abort terminates its workers)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def tick() -> None:
    """For the entry's waiting loop: print what is due (the stop hint)."""
    if _controller is not None:
        _controller.tick()


def abort(message: str = "aborted") -> None:
    """End the process now as an abort would (code 130, cleanups run); for the entry point."""
    if _controller is not None:
        _controller.abort(message)
    _say(message)
    os._exit(EXIT_ABORTED)


def search(hint: str | None = None) -> Search:
    """The command's search, which a first Ctrl-C stops (see `Search`); ``hint`` is printed on
    stderr once it has run a second, so that a long solve says how to stop it."""
    found = Search(hint)
    if _controller is not None:
        _controller.search = found
    return found


def done(message: str = "aborted after the command's outputs were written") -> None:
    """The command's effects are complete (outputs written, ledger committed): an abort from
    now on says ``message`` instead of "nothing written"."""
    if _controller is not None:
        _controller.done = message


@contextmanager
def on_abort(cleanup: Callable[[], None]) -> Iterator[None]:
    """Run ``cleanup`` if the command is aborted inside the block (in the thread that aborts:
    keep it short and safe to run beside the command, such as removing a file it created)."""
    if _controller is None:
        yield
        return
    with _controller.lock:
        _controller.cleanups.append(cleanup)
    try:
        yield
    finally:
        with _controller.lock:
            _controller.cleanups.remove(cleanup)


@contextmanager
def deferred() -> Iterator[None]:
    """An abort during the block waits for its end (for writes that must not stop half-way)."""
    c = _controller
    if c is None:
        yield
        return
    with c.lock:
        c.deferred += 1
    try:
        yield
    finally:
        with c.lock:
            c.deferred -= 1
            message = c.pending if c.deferred == 0 else None
        if message is not None:
            c.abort(message)


def checkpoint() -> None:
    """Raise `Aborted` if an abort is waiting (inside `deferred`)."""
    if _controller is not None and _controller.pending is not None:
        raise Aborted


@contextmanager
def writing(staging: AbstractContextManager[S]) -> Iterator[S]:
    """Enter ``staging`` (an `allocator.io.Staging`) so that an abort never leaves it half done.

    An abort while the files are staged waits until they are, then discards them: nothing is
    written. One during the replacement of the targets waits for it to finish, then ends the
    process: every target is then the new file.

    >>> with writing(outputs.staging()) as staged:  # doctest: +SKIP
    ...     staged.table(plan, "plan.csv")
    """
    with final_write():
        with staging as staged:
            yield staged
            checkpoint()  # raised inside the staging block: its temporaries are discarded


@contextmanager
def final_write() -> Iterator[None]:
    """Around a command's last write through a library function (its own `Staging` inside): an
    abort meanwhile waits for the write's end, and from then on says the outputs were written.
    Use `writing` around a `Staging` of the command's own: it can still write nothing when the
    abort comes before the targets are replaced."""
    with deferred():
        yield
        done()
        c = _controller
        if c is not None and c.pending is not None and c.done:  # it came during the write
            c.pending = c.done


def _end_worker_processes() -> None:
    """Terminate the processes this one started with `multiprocessing` (pools, Dask workers)."""
    multiprocessing = sys.modules.get("multiprocessing")
    if multiprocessing is None:
        return
    try:
        children = multiprocessing.active_children()
    except Exception:  # the pool's thread may be changing the list
        return
    for child in children:
        try:
            child.terminate()
        except Exception:  # already gone
            pass


def _say(message: str) -> None:
    """One line on stderr, written at once (no buffer: the process may end right after); on a
    terminal it starts on a line of its own and shows the cursor a progress bar hid."""
    tty = False
    try:
        tty = os.isatty(2)
    except OSError:
        pass
    text = f"\n{message}\n\x1b[?25h" if tty else f"{message}\n"
    try:
        os.write(2, text.encode("utf-8", "replace"))
    except OSError:
        pass
