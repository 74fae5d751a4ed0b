"""Load the console: signed-in users reading pages while a batch is proposed in the background.

    python benchmarks/bench_web.py                          # build the ledger once, then 60 s
    python benchmarks/bench_web.py --users 50 --seconds 60 --pages /today,/week --propose console
    python benchmarks/bench_web.py --ledger /tmp/year.db --quick   # 10 users, 10 s

The ledger is a year of weekly cycles (`build`): 300 units and 2,000 households arriving over
the year; each week the requests that arrived are imported, the week is proposed (greedy) and
approved, the planned move-ins recorded and the stays whose expected end fell in the week exited
(a tenth of them stay on, past their end). It is kept at ``--ledger`` and reused when it exists.

The console runs as `allocator serve` in its own process on a loopback port; ``--users``
clients, each with its own session (one account per user), read ``--pages`` in turn for
``--seconds`` (asyncio, one process), back to back, or with ``--think S`` reading each page
for S seconds on average as a person would (the same seed every run). Meanwhile a planner proposes the ledger's current week
with the solver (``--time-limit``): from *This week* by default, so the console's own background
job plans it (a process beside the server), or with ``--propose cli`` as `allocator batch
propose` in a third process (``--propose none``: no proposal). Every request is bounded
(30 s), the run stops after ``--seconds``, and only 127.0.0.1 is contacted. Printed: requests,
errors, p50/p95/p99/max latency per page, and the proposal's wall time.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

PASSWORD = "bench-password-123"
PATHWAYS = ["public_housing", "rental_agency", "private", "family", "other"]
DAY = dt.timedelta(days=1)
WEEK = 7 * DAY


def monday(day: dt.date) -> dt.date:
    return day - day.weekday() * DAY


def build(path: Path, households: int, units: int, weeks: int, seed: int) -> None:
    """A ledger with ``weeks`` weekly cycles ending this week (see the module's docstring)."""
    from allocator.errors import InputError
    from allocator.examples import generate
    from allocator.ledger import Ledger

    rng = np.random.default_rng(seed)
    last = monday(dt.date.today())
    first = last - (weeks - 1) * WEEK
    hh, un, _ = generate(households, units, seed=seed, start=first, horizon_weeks=weeks + 8)
    un["available_from"] = None
    hh = hh.sort_values("need_date").reset_index(drop=True)
    with Ledger.open(path, actor="bench-setup") as ledger:
        ledger.import_units(un)
        late_leavers: dict[str, bool] = {}
        refused = 0
        for k in range(weeks):
            week = first + k * WEEK
            started = time.perf_counter()
            arrived = hh[hh.need_date < week + 2 * WEEK]
            ledger.import_requests(arrived)
            proposal = ledger.propose(week, method="greedy")
            ledger.approve(proposal.batch_id)
            stays = ledger.table("stays")
            for st in stays.itertuples():  # exits first: a unit is free once its stay ends
                if pd.isna(st.moved_in) or pd.notna(st.actual_end):
                    continue
                late = dt.timedelta(days=10) if late_leavers.get(st.household_id) else DAY * 0
                leaves = st.expected_end + late
                if leaves < week + WEEK and leaves > st.moved_in:
                    pathway = str(rng.choice(PATHWAYS))
                    try:
                        ledger.exit(st.household_id, leaves, pathway, outcome="bench")
                    except InputError:  # the unit is planned for someone from its expected end
                        ledger.exit(st.household_id, st.expected_end, pathway, outcome="bench")
            for st in ledger.table("stays").itertuples():
                if pd.isna(st.moved_in) and st.start < week + WEEK:
                    late_leavers[st.household_id] = bool(rng.random() < 0.1)
                    try:
                        ledger.move_in(st.household_id, st.start)
                    except InputError:  # its unit is still held by someone past their end
                        refused += 1
            print(
                f"week {k + 1}/{weeks} {week}: {len(arrived)} requests, "
                f"{len(stays)} stays, {refused} move-ins refused, "
                f"{time.perf_counter() - started:.1f} s",
                file=sys.stderr,
            )


def add_accounts(path: Path, users: int) -> list[str]:
    from allocator.ledger import Ledger
    from allocator.web import accounts

    names = [f"bench-{k:03d}" for k in range(users)]
    with Ledger.open(path) as ledger:
        known = {a.user_id for a in accounts.list_accounts(ledger.engine)}
        for k, name in enumerate(names):
            if name not in known:
                role = ("planner", "caseworker", "viewer", "admin")[k % 4]
                accounts.add_account(ledger.engine, "bench-setup", name, role, PASSWORD)
    return names


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(path: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "ALLOCATOR_SECRET_KEY": "bench-" + "k" * 40}
    command = [sys.executable, "-m", "allocator", "serve", "--db", str(path), "--port", str(port)]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return process
        time.sleep(0.2)
    process.kill()
    raise SystemExit("the console did not start within 60 s")


async def signed_in_client(base: str, name: str):
    """A client with its own session, signed in through the form (argon2 and all)."""
    import re

    import httpx2 as httpx

    client = httpx.AsyncClient(base_url=base, timeout=30, follow_redirects=False)
    login = await client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', login.text).group(1)
    data = {"name": name, "password": PASSWORD, "csrf_token": token, "next": "/today"}
    signed = await client.post("/login", data=data)
    if signed.status_code != 303:
        raise SystemExit(f"sign-in of {name} failed: {signed.status_code}")
    return client


async def reader(
    client, pages: list[str], until: float, out: list, think: float = 0.0, seed: int = 0
) -> None:
    """Read ``pages`` in turn until ``until``; with ``think`` > 0 a user reads each page for
    ``think`` seconds on average (uniform from half to one and a half times) before the next."""
    import httpx2 as httpx

    rng = np.random.default_rng(seed)
    k = 0
    while time.monotonic() < until:
        if k and think > 0:
            await asyncio.sleep(think * rng.uniform(0.5, 1.5))
            if time.monotonic() >= until:
                break
        page = pages[k % len(pages)]
        k += 1
        started = time.perf_counter()
        try:
            status = (await client.get(page)).status_code
        except httpx.HTTPError:
            status = -1
        out.append((page, time.perf_counter() - started, status))


async def load(
    base: str, names: list[str], pages: list[str], seconds: float, then=None, think: float = 0.0
) -> list:
    """Sign every user in, four at a time (not timed), call ``then()`` (start the proposal),
    then read ``pages`` for ``seconds``."""
    gate = asyncio.Semaphore(4)

    async def one(name: str):
        async with gate:
            return await signed_in_client(base, name)

    clients = await asyncio.gather(*(one(n) for n in names))
    if then is not None:
        then()
    out: list = []
    until = time.monotonic() + seconds
    try:
        await asyncio.gather(
            *(reader(c, pages, until, out, think, k) for k, c in enumerate(clients))
        )
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))
    return out


def console_propose(base: str, name: str, week: str, time_limit: float):
    """A planner's *Propose* on *This week*: the console plans in its own background job (the
    page's path, not the command line's). Returns the planner's client and the start time."""
    import re

    import httpx2 as httpx

    client = httpx.Client(
        base_url=base, timeout=30, follow_redirects=False, headers={"Accept-Language": "en"}
    )  # English: console_wait reads the fragment's words
    login = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', login.text).group(1)
    data = {"name": name, "password": PASSWORD, "csrf_token": token, "next": "/week"}
    if client.post("/login", data=data).status_code != 303:
        raise SystemExit(f"sign-in of {name} failed")
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/week").text).group(1)
    form = {"csrf_token": token, "week": week, "method": "solver",
            "time_limit": str(int(time_limit))}  # fmt: skip
    started = time.perf_counter()
    answer = client.post("/week/propose", data=form)
    if answer.status_code != 303:
        raise SystemExit(f"the proposal was refused: {answer.status_code}")
    return client, started


def console_wait(client, started: float, timeout: float) -> str:
    """Poll the progress fragment (as the page does) until the job ends, at most ``timeout``."""
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        text = client.get("/week/progress").text
        if "is proposing the week" not in text:
            break
        time.sleep(1.0)
    state = "ready" if "is ready" in text else ("failed" if "failed" in text else "still running")
    return f"{state} after {time.perf_counter() - started:.0f} s"


def proposal_seconds(path: Path) -> str:
    """How long the last proposal took, from its audit rows: the planner's sign-in (just
    before it asked) to the batch stored."""
    from allocator.ledger import Ledger

    with Ledger.open(path) as ledger:
        audit = ledger.table("audit")
    audit = audit[audit.actor == "bench-000"]
    asked = audit[audit.action == "sign_in"]["at"].max()
    stored = audit[audit.action == "propose"]["at"].max()
    if pd.isna(stored) or stored < asked:
        return "no batch stored"
    return f"batch stored {(stored - asked).total_seconds():.0f} s after the planner signed in"


def report(results: list, seconds: float) -> None:
    frame = pd.DataFrame(results, columns=["page", "seconds", "status"])
    print(f"{len(frame)} requests in {seconds:.0f} s, errors: {int((frame.status != 200).sum())}")
    for page, group in frame[frame.status == 200].groupby("page"):
        ms = np.sort(group.seconds.to_numpy() * 1000)
        print(
            f"{page:<12} n={len(ms):>6}  p50={np.percentile(ms, 50):7.0f} ms  "
            f"p95={np.percentile(ms, 95):7.0f} ms  p99={np.percentile(ms, 99):7.0f} ms  "
            f"max={ms.max():7.0f} ms  mean={statistics.fmean(ms):6.0f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ledger", type=Path, default=Path("benchmarks/results/web_year.db"))
    parser.add_argument("--households", type=int, default=2000)
    parser.add_argument("--units", type=int, default=300)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument(
        "--pages", default="/today,/week", help="comma-separated paths to read in turn"
    )
    parser.add_argument(
        "--propose",
        nargs="?",
        const="console",
        default="console",
        choices=("console", "cli", "none"),
        help="propose the week meanwhile: from This week (console, the default), with "
        "`allocator batch propose` (cli), or not at all",
    )
    parser.add_argument("--time-limit", type=float, default=60.0, help="the proposal's limit")
    parser.add_argument(
        "--think",
        type=float,
        default=0.0,
        help="seconds a user reads a page before the next (average; 0: none, a stress test)",
    )
    parser.add_argument("--quick", action="store_true", help="10 users for 10 s")
    args = parser.parse_args()
    if args.quick:
        args.users, args.seconds = 10, 10.0
    args.seconds = min(args.seconds, 600.0)
    args.users = max(1, min(args.users, 200))  # bounded: at most 200 sessions
    if not args.ledger.exists():
        args.ledger.parent.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        build(args.ledger, args.households, args.units, args.weeks, args.seed)
        print(f"built {args.ledger} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    names = add_accounts(args.ledger, args.users)
    port = free_port()
    server = start_server(args.ledger, port)
    base = f"http://127.0.0.1:{port}"  # loopback only
    proposal: list = []

    def propose() -> None:
        week = monday(dt.date.today()).isoformat()
        if args.propose == "console":  # bench-000 is a planner (see add_accounts)
            proposal.extend(console_propose(base, names[0], week, args.time_limit))
            return
        command = [
            sys.executable, "-m", "allocator", "batch", "propose", "--db", str(args.ledger),
            "--week", week, "--method", "solver", "--time-limit", str(args.time_limit),
        ]  # fmt: skip
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        proposal.extend([process, started])

    try:
        pages = [p.strip() for p in args.pages.split(",") if p.strip()]
        then = propose if args.propose != "none" else None
        results = asyncio.run(load(base, names, pages, args.seconds, then, args.think))
        report(results, args.seconds)
        if proposal and args.propose == "console":
            client, started = proposal
            state = console_wait(client, started, args.time_limit * 3 + 120)
            client.close()
            print(f"proposal (console job): {state}; {proposal_seconds(args.ledger)}")
        elif proposal:
            process, started = proposal
            running = process.poll() is None
            code = process.wait(timeout=args.time_limit * 3 + 120)
            print(
                f"proposal: exit {code}, {time.perf_counter() - started:.0f} s"
                f"{' (still running when the reading stopped)' if running else ''}"
            )
    finally:
        if proposal and args.propose == "cli" and proposal[0].poll() is None:
            proposal[0].kill()
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    main()
