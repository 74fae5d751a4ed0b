"""Replications on a `dask.distributed` cluster: connecting, keyed tasks, results in order.

A replication is a pure function of its job (scenario, replication index, seed, policies, time
limit), so each task is keyed by a hash of the job: a task the scheduler reruns (its worker died)
or that another client already computed gives the same result, and results are put back in job
order, never in the order they finish. Only this module and `runner` import `dask`, and only
when a cluster is used.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from allocator.errors import AllocatorError, InputError

if TYPE_CHECKING:
    from distributed import Client

log = logging.getLogger("allocator")

# seconds to wait for a scheduler before saying it cannot be reached
CONNECT_TIMEOUT = 10.0
# a task that raised is tried once more: a replication is deterministic, so only a worker's
# trouble (memory, a full disk) can make a second try succeed; a lost worker's tasks are rerun by
# the scheduler itself (its `allowed-failures` setting), not counted here
RETRIES = 1

# seconds to wait for a first worker before a run: a scheduler without workers would otherwise
# hold the tasks, and the run, forever
WORKER_TIMEOUT = 60.0

# a job: the arguments of `runner.run_replication`
Job = tuple[Any, ...]


class ClusterError(AllocatorError):
    """The cluster failed the run (scheduler lost, workers dying on a task): one line to show."""


def connect(address: str, *, timeout: float = CONNECT_TIMEOUT, source: str | None = None) -> Client:
    """A client of the scheduler at ``address``, or an `InputError` saying it cannot be reached.

    The scheduler is probed first, so an unreachable one fails within ``timeout`` seconds with
    one line (``source`` names where the address came from, e.g. ``--scheduler ADDRESS``), not
    with a client half made. A version mismatch between this process, the scheduler and the
    workers is logged as one line rather than distributed's table.
    """
    from distributed import Client
    from distributed.versions import VersionMismatchWarning

    where = source if source is not None else address
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout < 1e6:
        raise InputError(f"expected seconds > 0, got {timeout!r}", field="timeout")
    reason = _probe(address, timeout)
    if reason is not None:
        raise InputError(f"cannot reach the Dask scheduler ({reason})", source=where)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", VersionMismatchWarning)
        try:
            client = Client(address, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError(
                f"cannot reach the Dask scheduler ({_one_line(exc)})", source=where
            ) from None
    for w in caught:
        if issubclass(w.category, VersionMismatchWarning):
            _log_mismatch(client)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return client


def _probe(address: str, timeout: float) -> str | None:
    """Why the scheduler at ``address`` cannot be reached, or None when it answers.

    Run in its own thread and event loop: the caller may be inside one (a notebook).
    """
    from distributed.comm import connect as comm_connect

    async def probe() -> None:
        comm = await comm_connect(address, timeout=timeout)
        await comm.close()

    reason: list[str] = []

    def run() -> None:
        try:
            asyncio.run(probe())
        except Exception as exc:
            reason.append(_one_line(exc))

    thread = threading.Thread(target=run, name="allocator-dask-probe", daemon=True)
    thread.start()
    thread.join(timeout + 5)
    if thread.is_alive():
        return f"no answer within {timeout:g} s"
    return reason[0] if reason else None


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def _log_mismatch(client: Client) -> None:
    """Name the packages whose versions differ across the cluster, in one log line."""
    try:
        versions: Any = client.get_versions(check=False)  # a dict: the client is synchronous
    except Exception:  # the warning itself said enough; never fail a run over it
        log.warning("the Dask cluster runs other package versions than this process")
        return
    here = versions["client"]["packages"]
    others = [versions["scheduler"], *versions["workers"].values()]
    others = [o.get("packages") for o in others if isinstance(o, dict)]
    differ = sorted(
        name
        for name in here
        if any(isinstance(o, dict) and o.get(name) != here[name] for o in others)
    )
    log.warning(
        "the Dask cluster runs other versions of %s than this process; results may differ",
        ", ".join(differ) or "some packages",
    )


def workers_of(client: Client) -> int:
    """The number of workers the scheduler knows now."""
    return len(client.scheduler_info(n_workers=-1)["workers"])


def job_key(job: Job) -> str:
    """A task key that only the job's content sets: the same job, the same key and result."""
    import allocator

    scenario, replication, seed, policies, time_limit, engine = job
    text = "|".join(
        [
            allocator.__version__,
            scenario.model_dump_json(),
            repr(seed.entropy),
            repr(seed.spawn_key),
            ",".join(policies),
            repr(float(time_limit)),
            "" if engine is None else engine.model_dump_json(),
        ]
    )
    digest = hashlib.sha256(text.encode()).hexdigest()[:20]
    return f"allocator-replication-{digest}-{replication}"


def run_jobs(
    client: Client,
    function: Callable[..., Any],
    jobs: Sequence[Job],
    *,
    progress: Callable[[int], None] | None = None,
    retries: int = RETRIES,
    worker_timeout: float = WORKER_TIMEOUT,
) -> list[Any]:
    """``function(*job)`` for every job on the cluster; the results in job order.

    ``progress`` is called with the number of jobs finished so far, as they finish. Waits up to
    ``worker_timeout`` seconds for a first worker before submitting anything. Any failure of the
    cluster or of a task is one `ClusterError` (an `AllocatorError` a task raised comes out as
    it is); on any failure or interrupt, the tasks not finished are cancelled.
    """
    from distributed import as_completed

    _wait_for_a_worker(client, worker_timeout)
    keys = [job_key(job) for job in jobs]
    index = {key: k for k, key in enumerate(keys)}
    results: dict[int, Any] = {}
    pending: dict[str, Any] = {}
    try:
        for job, key in zip(jobs, keys, strict=True):
            pending[key] = client.submit(function, *job, key=key, pure=True, retries=retries)
        for future in as_completed(list(pending.values()), loop=client.loop):
            results[index[future.key]] = _result(future, client)
            # the worker may drop the result now: losing that worker then reruns nothing
            del pending[future.key]
            future.release()
            if progress:
                progress(len(results))
    except AllocatorError:
        raise
    except Exception as exc:  # the scheduler's connection lost while submitting or waiting
        raise ClusterError(
            f"lost the Dask scheduler at {_address(client)} during the run ({_one_line(exc)})"
        ) from None
    finally:
        if pending:
            try:
                client.cancel(list(pending.values()))
            except Exception:  # the scheduler is gone: nothing left to cancel there
                log.warning("could not cancel %d unfinished Dask tasks", len(pending))
    return [results[k] for k in range(len(jobs))]


def _address(client: Client) -> str:
    return str(getattr(client.scheduler, "address", None) or "the scheduler")


def _wait_for_a_worker(client: Client, timeout: float) -> None:
    """Return once the scheduler has a worker; a `ClusterError` after ``timeout`` seconds."""
    try:
        client.wait_for_workers(1, timeout=timeout)
    except TimeoutError:
        raise ClusterError(
            f"no Dask worker joined the scheduler at {_address(client)} within {timeout:g} s; "
            "start workers with `dask worker ADDRESS`"
        ) from None
    except Exception as exc:  # the scheduler went away
        raise ClusterError(
            f"cannot ask the Dask scheduler at {_address(client)} for workers ({_one_line(exc)})"
        ) from None


def _result(future: Any, client: Client) -> Any:
    """A finished task's result; a cluster or task failure becomes a one-line `ClusterError`."""
    from concurrent.futures import CancelledError

    from distributed import KilledWorker

    try:
        return future.result()
    except KilledWorker as exc:
        raise ClusterError(
            f"Dask workers kept dying while running {future.key} ({_one_line(exc)}); "
            "are they out of memory?"
        ) from None
    except CancelledError as exc:
        raise ClusterError(
            f"the Dask scheduler at {_address(client)} dropped the run ({_one_line(exc)})"
        ) from None
    except AllocatorError:
        raise
    except Exception as exc:  # the task itself raised, on its worker
        raise ClusterError(
            f"task {future.key} failed on the Dask cluster "
            f"({type(exc).__name__}: {_one_line(exc)[:300]})"
        ) from None


class LoopbackCluster:
    """A scheduler and workers on 127.0.0.1 as separate processes, started the way an analyst
    starts a cluster (``dask scheduler``, ``dask worker``): for the tests and the benchmarks.

    Each process runs in its own process group, so a worker's nanny and its worker process end
    together; `stop` (or leaving the ``with`` block) ends every one, whatever happened. Logs go
    to files in ``folder``.
    """

    def __init__(self, folder: str | os.PathLike[str], *, start_timeout: float = 60.0) -> None:
        self.folder = Path(folder)
        self.start_timeout = start_timeout
        self.processes: list[subprocess.Popen] = []
        self.workers: dict[str, subprocess.Popen] = {}
        self.address = ""

    def __enter__(self) -> LoopbackCluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _start(self, name: str, *args: str) -> subprocess.Popen:
        with open(self.folder / f"{name}.log", "wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "dask", *args],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.folder,
                start_new_session=True,
            )
        self.processes.append(proc)
        return proc

    def start_scheduler(self) -> str:
        """Start ``dask scheduler`` on a free loopback port; its address, read from its log."""
        proc = self._start(
            "scheduler", "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard"
        )
        log = self.folder / "scheduler.log"
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline and proc.poll() is None:
            found = re.search(r"Scheduler at:\s+(tcp://127\.0\.0\.1:\d+)", log.read_text())
            if found:
                self.address = found.group(1)
                return self.address
            time.sleep(0.1)
        raise RuntimeError(f"the Dask scheduler did not start; its log:\n{log.read_text()}")

    def start_worker(self, name: str) -> None:
        """Start a one-thread ``dask worker`` called ``name`` (``--nworkers 1``)."""
        self.workers[name] = self._start(
            name,
            "worker",
            self.address,
            "--name",
            name,
            "--nthreads",
            "1",
            "--nworkers",
            "1",
            "--no-dashboard",
            "--local-directory",
            str(self.folder),
        )

    def kill_worker(self, name: str) -> None:
        """SIGKILL a worker's process group: it leaves without a word to the scheduler."""
        os.killpg(self.workers[name].pid, signal.SIGKILL)
        self.workers[name].wait()

    def stop(self) -> None:
        """End every process started (SIGTERM, then SIGKILL after 10 s)."""
        for proc in reversed(self.processes):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.processes:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


@contextmanager
def loopback_cluster(workers: int, folder: str | os.PathLike[str]) -> Iterator[Client]:
    """A client of a fresh `LoopbackCluster` with ``workers`` workers, all ended afterwards."""
    with LoopbackCluster(folder) as cluster:
        address = cluster.start_scheduler()
        for k in range(workers):
            cluster.start_worker(f"w{k}")
        with connect(address, timeout=cluster.start_timeout) as client:
            client.wait_for_workers(workers, timeout=cluster.start_timeout)
            yield client
