"""`python -m allocator` and the `allocator` script: the command line, safe to stop at any time.

Until the command line is loaded, Ctrl-C or SIGTERM ends the process at once with one line and
exit code 130: nothing has been read or written yet. `allocator.cli.entry` then installs the
handlers that stop a search or abort a command (docs/cli.md, "Stopping a run").
"""

from __future__ import annotations

import os
import signal
import sys


def main() -> int:
    """Run the `allocator` command on the process's arguments; return its exit code."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _abort_at_start)
    from allocator.cli.entry import run

    return run()


def _abort_at_start(signum: int, frame: object) -> None:
    os.write(2, b"aborted: nothing written\n")
    os._exit(130)


if __name__ == "__main__":
    sys.exit(main())
