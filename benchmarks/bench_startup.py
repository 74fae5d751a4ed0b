"""Time the command line's start-up and show what `allocator --version` imports.

    python benchmarks/bench_startup.py              # 10 runs of each command
    python benchmarks/bench_startup.py --repeats 30 --top 20

Each command runs in a fresh process (`allocator --version`, `allocator --help`,
`allocator plan --help`) `--repeats` times, one after the other; the table gives the median and
the fastest wall time of each. Then `python -X importtime -m allocator --version` runs once and
the modules with the largest cumulative import time are listed (a package's figure includes what
it imports). The console script next to this interpreter is used when there is one, else
`python -m allocator`, which imports the same modules.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

COMMANDS = [["--version"], ["--help"], ["plan", "--help"]]


def allocator_command() -> list[str]:
    """The installed `allocator` script of this interpreter's environment, else `-m allocator`."""
    script = Path(sys.executable).parent / "allocator"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "allocator"]


def wall_seconds(command: list[str], repeats: int) -> list[float]:
    """Wall time of each of `repeats` runs; a run that fails stops the benchmark."""
    env = {**os.environ, "COLUMNS": "100"}  # help is laid out the same on any terminal
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=env)
        times.append(time.perf_counter() - start)
    return times


def import_times(args: list[str]) -> list[tuple[int, int, str]]:
    """(cumulative microseconds, nesting depth, module) of each import of `-m allocator ARGS`."""
    command = [sys.executable, "-X", "importtime", "-m", "allocator", *args]
    done = subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    rows = []
    for line in done.stderr.decode().splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        _, cumulative, name = line.removeprefix("import time:").split("|")
        depth = (len(name) - len(name.lstrip()) - 1) // 2  # two spaces a level
        rows.append((int(cumulative), depth, name.strip()))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10, help="runs of each command")
    parser.add_argument("--top", type=int, default=10, help="modules listed by import time")
    options = parser.parse_args()

    base = allocator_command()
    print(f"{' '.join(base)}: wall time of {options.repeats} runs each")
    print(f"{'command':<28}{'median [s]':>12}{'min [s]':>10}")
    for args in COMMANDS:
        times = wall_seconds([*base, *args], options.repeats)
        label = " ".join(["allocator", *args])
        print(f"{label:<28}{statistics.median(times):>12.3f}{min(times):>10.3f}")

    rows = import_times(["--version"])
    total = sum(c for c, depth, _ in rows if depth == 0)  # the outermost imports hold the rest
    print(f"\n`allocator --version` imports {len(rows)} modules, {total / 1e6:.3f} s in all;")
    print(f"the {options.top} largest by cumulative import time:")
    for cumulative, _, name in sorted(rows, reverse=True)[: options.top]:
        print(f"{cumulative / 1e6:>10.3f} s  {name}")


if __name__ == "__main__":
    main()
