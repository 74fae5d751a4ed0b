"""Running the real command line on fuzzed files, and the promise every run must keep.

The promise (issue #23): a run ends with exit code 0 and a valid result, or with exit code 2,
exactly one line ``error: ...`` on stderr and nothing written: the folder holding the inputs and
the outputs has exactly the files it had, byte for byte. Never a traceback, never exit code 1 or
any other code. What a case must refuse (a duplicate id, say) it refuses.

The app runs in-process through Typer's `CliRunner`, which keeps stdout and stderr apart.

Environment:

* ``ALLOCATOR_TEST_SCALE=N`` multiplies every test's number of examples (as in the other
  property tests);
* ``ALLOCATOR_FUZZ_SURVEY=path.jsonl`` records every broken promise as a line of JSON and goes
  on, instead of failing at the first: a long run then lists every class of failure at once
  (hypothesis does not shrink then);
* ``ALLOCATOR_FUZZ_TRACE=path.jsonl`` records every run (exit code, first error, mutations), to
  see what a budget covers;
* ``ALLOCATOR_FUZZ_HANG`` (seconds, default 300): a run still going after that long is reported
  as a failure rather than left to block the suite. The examples are tiny (a few dozen rows,
  four simulated weeks) and answer in well under a second; this only turns a hang into a
  report naming its input.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
import signal
import tempfile
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from typer.testing import CliRunner

from allocator.cli import app

START = dt.date(2026, 12, 7)  # the demo's plan start

SCALE = max(1, int(os.environ.get("ALLOCATOR_TEST_SCALE", "1")))
HANG_SECONDS = float(os.environ.get("ALLOCATOR_FUZZ_HANG", "300"))
SURVEY = os.environ.get("ALLOCATOR_FUZZ_SURVEY")
TRACE = os.environ.get("ALLOCATOR_FUZZ_TRACE")

runner = CliRunner()


def budget(examples: int) -> settings:
    """Settings for one fuzz test: ``examples`` at the CI budget, times ALLOCATOR_TEST_SCALE."""
    return settings(
        max_examples=examples * SCALE,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
            HealthCheck.large_base_example,
        ],
    )


class Hang(BaseException):
    """Raised in the main thread when a run outlives ALLOCATOR_FUZZ_HANG."""


@dataclass
class Run:
    """One command and how it ended."""

    args: list[str]
    exit_code: int | None
    stdout: str = ""
    stderr: str = ""
    exception: BaseException | None = None
    trace: str = ""

    @property
    def hung(self) -> bool:
        return isinstance(self.exception, Hang)


def invoke(args: list[str]) -> Run:
    """Run ``allocator ARGS`` in-process; a run past ALLOCATOR_FUZZ_HANG ends as a `Hang`."""

    def on_alarm(signum, frame):
        raise Hang

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, HANG_SECONDS)
    try:
        res = runner.invoke(app, args)
    except Hang as exc:
        return Run(args, None, exception=exc, trace=traceback.format_exc())
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    exc = res.exception if not isinstance(res.exception, SystemExit) else None
    trace = "".join(traceback.format_exception(*res.exc_info)) if exc is not None else ""
    return Run(args, res.exit_code, res.stdout, res.stderr, exc, trace)


# --- the folder before and after -------------------------------------------------------------


def snapshot(folder: Path) -> dict[str, Any]:
    """Every entry under ``folder``: a file's bytes, a link's target, a folder's mark."""
    state: dict[str, Any] = {}
    for path in sorted(folder.rglob("*")):
        rel = str(path.relative_to(folder))
        if path.is_symlink():
            state[rel] = ("link", os.readlink(path))
        elif path.is_dir():
            state[rel] = ("dir",)
        else:
            state[rel] = path.read_bytes()
    return state


def changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """What differs, in words: files added, removed or changed."""
    out = []
    for name in sorted(set(before) | set(after)):
        if name not in after:
            out.append(f"{name} removed")
        elif name not in before:
            out.append(f"{name} created")
        elif before[name] != after[name]:
            out.append(f"{name} changed")
    return out


# --- the promise -----------------------------------------------------------------------------


@dataclass
class Case:
    """What a test ran: its name, the labels of the mutations, and the files it wrote."""

    test: str
    labels: list[str]
    folder: Path
    must_reject: list[str] = field(default_factory=list)
    inputs: dict[str, Path] = field(default_factory=dict)
    outputs: set[str] = field(default_factory=set)  # names under `folder` a good run may write


def check(
    case: Case,
    run: Run,
    before: dict[str, Any],
    on_success: Callable[[], list[str]] | None = None,
) -> None:
    """Check that ``run`` kept the promise; raise (or, in a survey, record) what it broke."""
    problems: list[tuple[str, str]] = []
    out = run.stdout + run.stderr
    if TRACE:
        _log(TRACE, {"test": case.test, "exit_code": run.exit_code, "labels": case.labels,
                     "stderr": run.stderr[:300]})  # fmt: skip
    if run.hung:
        problems.append((f"no answer within {HANG_SECONDS:g} s", ""))
    elif run.exit_code == 0:
        for reason in case.must_reject:
            problems.append((f"accepted {reason}", ""))
        others = [
            c for c in changes(before, snapshot(case.folder)) if c.split(" ")[0] not in case.outputs
        ]
        if others:
            problems.append(
                (
                    "a good run changed other files: " + _written_kind(case, others),
                    ", ".join(others),
                )
            )
        if on_success is not None:
            try:
                found = on_success()
            except Exception as exc:  # the checker itself could not read what was accepted
                found = [f"checking the result raised {type(exc).__name__}: {exc}"]
            problems += [(_shape(p), p) for p in found[:1]]
    elif run.exit_code == 2:
        lines = [line for line in run.stderr.splitlines() if line.strip()]
        if lines and lines[0].startswith("Usage:"):
            problems.append(("a usage error is a multi-line panel, not one line", run.stderr))
        elif len(lines) != 1 or not lines[0].startswith("error: "):
            problems.append(
                (f"stderr has {len(lines)} lines, expected one 'error: ...'", run.stderr)
            )
        elif SURVEY and not _names_where(lines[0], case):
            _note(case, run, "the error names no file, option or field")
        written = changes(before, snapshot(case.folder))
        if written:
            problems.append(
                (
                    "wrote or changed files on failure: " + _written_kind(case, written),
                    ", ".join(written),
                )
            )
    elif run.exit_code is not None and run.exit_code < 0:  # a process of its own, killed
        name = signal.Signals(-run.exit_code).name
        problems.append((f"killed by {name}", run.stderr[-3000:]))
    else:
        problems.append((f"exit code {run.exit_code}: {_where(run)}", run.trace[-3000:]))
    if "Traceback (most recent call last)" in out:
        problems.append(("a traceback printed", out[-2000:]))
    if problems:
        _report(case, run, problems)


def _names_where(line: str, case: Case) -> bool:
    """Whether an error line says where: a file of the run, an option, a field or a row."""
    names = [p.name for p in case.inputs.values()] + sorted(case.outputs) + [case.folder.name]
    return any(n in line for n in names) or any(k in line for k in ("--", "field '", "row "))


def _note(case: Case, run: Run, what: str) -> None:
    """In a survey, a weakness worth a look that breaks no promise (an error's wording)."""
    _log(SURVEY, {"test": case.test, "classes": [f"note: {what}"], "labels": case.labels,
                  "args": run.args[:12], "exit_code": run.exit_code, "stderr": run.stderr[-500:]})  # fmt: skip


def _written_kind(case: Case, written: list[str]) -> str:
    names = {p.name for p in case.inputs.values()}
    if any(w.split(" ")[0] in names for w in written):
        return "an input"
    if any(w.endswith("created") for w in written):
        return "a new file"
    return "an earlier output"


def _where(run: Run) -> str:
    """The exception's type and the innermost frame in allocator (else the innermost)."""
    exc = run.exception
    if exc is None:
        return "no exception"
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "/allocator/" in f.filename]
    f = (ours or frames or [None])[-1]
    place = f"{Path(f.filename).parent.name}/{Path(f.filename).name}:{f.name}" if f else "?"
    return f"{type(exc).__name__} at {place}"


def _shape(problem: str) -> str:
    """A problem's class: ids, numbers, dates and quoted values blanked out."""
    text = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", problem)
    text = re.sub(r"\b[HUS]\d{5}(-r\d)?\b|\d{4}-\d{2}-\d{2}|\b\d+(\.\d+)?\b", "#", text)
    return text[:160]


def _report(case: Case, run: Run, problems: list[tuple[str, str]]) -> None:
    record = {
        "test": case.test,
        "classes": [key for key, _ in problems],
        "details": [detail[-1500:] for _, detail in problems],
        "labels": case.labels,
        "args": [a if len(a) < 200 else a[:200] + "…" for a in run.args],
        "exit_code": run.exit_code,
        "stderr": run.stderr[-1500:],
        "stdout": run.stdout[-500:],
    }
    if SURVEY:
        _log(SURVEY, record)
        return
    raise AssertionError(
        "the run broke the promise:\n"
        + "\n".join(f"- {key}" for key, _ in problems)
        + f"\nmutations: {case.labels}\nargs: {record['args']}\nexit code: {run.exit_code}"
        + f"\nstderr: {run.stderr[-1500:]!r}\n"
        + "\n".join(detail[-3000:] for _, detail in problems if detail)
    )


def _log(path: str, record: dict[str, Any]) -> None:
    with open(path, "a", encoding="utf-8") as log:
        log.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")


# --- checking a plan that was written --------------------------------------------------------


def read_plan(path: Path):
    import pandas as pd

    if path.suffix.lower() == ".xlsx":
        return pd.read_excel(path, dtype=object)
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def plan_problems(
    out: Path,
    summary: Path | None,
    inputs: dict[str, Path],
    start: str,
    policy_file: Path | None = None,
    horizon_weeks: str | None = None,
    pins: dict[str, str] | None = None,
    forbids: list[tuple[str, str]] | None = None,
    greedy_check: bool = False,
    dayfirst: bool = False,
) -> list[str]:
    """What is wrong with the plan the command wrote, by `allocator.testing`'s checker, with the
    inputs read and validated as the command reads them; and, with ``greedy_check``, whether a
    plan called optimal is beaten by greedy's."""
    from allocator.engine import planning
    from allocator.io import read_table
    from allocator.policy import Policy
    from allocator.tables import validate_tables
    from allocator.testing import check_plan, objective_of

    if not out.is_file():
        return [f"exit 0 but no plan at {out.name}"]
    frames, sources = {"stays": None}, {}
    for kind, path in inputs.items():
        frames[kind], sources[kind] = read_table(path, kind, dayfirst=dayfirst)
    tables = validate_tables(
        frames["households"], frames["units"], frames["stays"], sources=sources
    )
    policy = Policy.from_file(policy_file) if policy_file is not None else Policy()
    if horizon_weeks is not None:
        policy = policy.model_copy(update={"horizon_weeks": int(horizon_weeks)})
    day = planning._as_date(start)
    plan = read_plan(out)
    args = (tables.households, tables.units, tables.stays, day, policy)
    problems = check_plan(plan, *args, pins=pins, forbids=forbids)
    if problems:
        return [f"invalid plan: {problems[0]}"]
    if summary is not None:
        facts = json.loads(summary.read_text(encoding="utf-8"))
        if facts.get("plan_start") != day.isoformat():
            return [f"the summary's plan_start {facts.get('plan_start')} is not {day}"]
        if greedy_check and facts.get("status") == "optimal":
            greedy = planning.plan(
                tables.households, tables.units, tables.stays, start=day, policy=policy,
                method="greedy", pins=pins, forbids=forbids,
            )  # fmt: skip
            ours = objective_of(plan, tables.households, tables.units, day, policy, pins=pins)
            theirs = objective_of(greedy, tables.households, tables.units, day, policy, pins=pins)
            if math.isfinite(ours) and math.isfinite(theirs):
                if ours > theirs + 1e-6 * max(1.0, abs(theirs)):
                    return [
                        f"called optimal, but greedy's plan costs less ({theirs:.6g} < {ours:.6g})"
                    ]
    return []


def plan_case(
    test: str,
    files: dict[str, tuple[bytes, str]],
    *,
    labels: list[str],
    must_reject: list[str],
    method: str = "greedy",
    policy: bytes | None = None,
    previous: bool = False,
    quiet: bool = True,
    greedy_check: bool = False,
    start: str = START.isoformat(),
    extra: tuple[str, ...] = (),
    dayfirst: bool = False,
) -> None:
    """Write the tables (kind -> (bytes, suffix)) and the policy in a fresh folder, run
    ``allocator plan`` on them (``extra``: more options) and check the promise, the plan
    included."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        inputs = {}
        for kind, (data, suffix) in files.items():
            inputs[kind] = folder / f"{kind}{suffix}"
            inputs[kind].write_bytes(data)
        out, summary = folder / "plan.csv", folder / "summary.json"
        if previous:  # an earlier run's outputs, which a failed run must leave as they are
            out.write_text("previous plan\n")
            summary.write_text('{"previous": true}\n')
        args = ["plan", "--households", str(inputs["households"]), "--units", str(inputs["units"])]
        if "stays" in inputs:
            args += ["--stays", str(inputs["stays"])]
        args += ["--start", start, "--out", str(out), "--summary", str(summary)]
        args += ["--method", method, "--time-limit", "5"] + (["--quiet"] if quiet else [])
        args += list(extra) + (["--dayfirst"] if dayfirst else [])
        policy_path = None
        if policy is not None:
            policy_path = folder / "policy.toml"
            policy_path.write_bytes(policy)
            args += ["--policy", str(policy_path)]
        before = snapshot(folder)
        run = invoke(args)
        named = dict(inputs, **({"policy": policy_path} if policy_path else {}))
        case = Case(test, labels, folder, must_reject, named, {out.name, summary.name})
        check(
            case,
            run,
            before,
            lambda: plan_problems(
                out,
                summary,
                inputs,
                start,
                policy_path,
                greedy_check=greedy_check,
                dayfirst=dayfirst,
            ),
        )
