"""A real Dask cluster on loopback: the same numbers as local processes, a lost worker changes
nothing, and the command line reaches the cluster through --scheduler."""

from __future__ import annotations

import socket
import time

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from allocator.analysis.capacity import capacity
from allocator.simulation import simulate, validate_scenario
from allocator.simulation.examples import small

distributed = pytest.importorskip("distributed")

from allocator.engine.params import EngineParams  # noqa: E402
from allocator.simulation.cluster import (  # noqa: E402
    LoopbackCluster,
    connect,
    job_key,
    workers_of,
)
from allocator.simulation.runner import replication_jobs  # noqa: E402

SCN = validate_scenario(small())
POLICIES = ["solver", "greedy", "fcfs_fast", "hotel"]
START_TIMEOUT = 60.0  # a loaded CI machine starts Python processes slowly


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A scheduler and two one-thread workers, ended when the module's tests are done."""
    with LoopbackCluster(tmp_path_factory.mktemp("dask"), start_timeout=START_TIMEOUT) as lc:
        lc.start_scheduler()
        lc.start_worker("w0")
        lc.start_worker("w1")
        yield lc


@pytest.fixture(scope="module")
def client(cluster):
    with connect(cluster.address, timeout=START_TIMEOUT) as c:
        c.wait_for_workers(2, timeout=START_TIMEOUT)
        yield c


@pytest.fixture(scope="module")
def local():
    """The reference: the same sweep in two local processes."""
    return simulate(SCN, replications=4, seed=7, policies=POLICIES, workers=2)


def _same(a, b):
    pd.testing.assert_frame_equal(
        a.replications.drop(columns="seconds"), b.replications.drop(columns="seconds")
    )
    pd.testing.assert_frame_equal(a.weekly, b.weekly)
    pd.testing.assert_frame_equal(a.summary, b.summary)


def test_cluster_gives_the_processes_tables(client, local):
    """The sweep on the loopback cluster equals the processes backend's, table for table."""
    res = simulate(SCN, replications=4, seed=7, policies=POLICIES, client=client)
    assert res.backend == "dask" and res.workers == 2
    _same(local, res)


def test_task_keys_depend_on_the_job_only():
    """Equal jobs get equal keys (a rerun reuses the result); another seed, policy or solver
    setting does not."""
    jobs = replication_jobs(SCN, 3, 7, ["greedy", "hotel"], 10.0)
    again = replication_jobs(SCN, 3, 7, ["greedy", "hotel"], 10.0)
    assert [job_key(j) for j in jobs] == [job_key(j) for j in again]
    assert len({job_key(j) for j in jobs}) == 3
    other_seed = replication_jobs(SCN, 3, 8, ["greedy", "hotel"], 10.0)
    other_policy = replication_jobs(SCN, 3, 7, ["fcfs_fast", "hotel"], 10.0)
    assert not {job_key(j) for j in jobs} & {job_key(j) for j in other_seed + other_policy}
    settings = EngineParams(lean_mips=True)
    other_engine = replication_jobs(SCN, 3, 7, ["greedy", "hotel"], 10.0, settings)
    assert not {job_key(j) for j in jobs} & {job_key(j) for j in other_engine}
    same_engine = replication_jobs(SCN, 3, 7, ["greedy", "hotel"], 10.0, settings.model_copy())
    assert [job_key(j) for j in other_engine] == [job_key(j) for j in same_engine]


def test_capacity_sweep_on_the_cluster_equals_processes(client):
    """Every (mix, replication) as a task gives the processes sweep's curve and answer."""
    kwargs = dict(rooms=[3, 6], flats=0, target_wait_p90=20, replications=3, seed=2)
    here = capacity(SCN, workers=2, **kwargs)
    seen: list[float] = []
    there = capacity(SCN, client=client, progress=seen.append, **kwargs)
    pd.testing.assert_frame_equal(here.curve, there.curve)
    pd.testing.assert_frame_equal(here.replications, there.replications)
    assert here.chosen == there.chosen and there.details["backend"] == "dask"
    assert seen[0] == 0 and seen[-1] == 2 and len(seen) == 1 + 2 * 3  # per replication


def test_simulate_command_with_the_scheduler_from_the_environment(cluster, client, tmp_path):
    """`ALLOCATOR_DASK_SCHEDULER` sends `allocator simulate` to the cluster: same Parquet."""
    from allocator.cli import app

    scn = tmp_path / "small.yaml"
    scn.write_text(yaml.safe_dump(small()))
    common = ["simulate", str(scn), "--replications", "3", "--seed", "4",
              "--policies", "fcfs_fast", "--no-clock-sensitivity"]  # fmt: skip
    runner = CliRunner()
    env = {"ALLOCATOR_DASK_SCHEDULER": cluster.address}
    there = runner.invoke(app, [*common, "--out", str(tmp_path / "a")], env=env)
    here = runner.invoke(app, [*common, "--workers", "1", "--out", str(tmp_path / "b")])
    assert there.exit_code == 0 and here.exit_code == 0, there.output + here.output
    for name in ("replications", "weekly", "summary"):
        a = pd.read_parquet(tmp_path / "a" / f"{name}.parquet")
        b = pd.read_parquet(tmp_path / "b" / f"{name}.parquet")
        pd.testing.assert_frame_equal(a.drop(columns="seconds", errors="ignore"),
                                      b.drop(columns="seconds", errors="ignore"))  # fmt: skip


def test_a_worker_killed_mid_run_changes_nothing(cluster, client, local):
    """SIGKILL a busy worker after a result: its tasks rerun, the tables are equal."""
    killed: list[str] = []
    in_flight: list[str] = []
    names = {
        addr: info["name"] for addr, info in client.scheduler_info(n_workers=-1)["workers"].items()
    }

    def progress(done: int) -> None:
        busy = {addr: keys for addr, keys in client.processing().items() if keys}
        if killed or not busy:  # none busy as this result came in: try at the next one
            return
        addr = next(iter(busy))
        cluster.kill_worker(names[addr])
        killed.append(names[addr])
        in_flight.extend(busy[addr])

    # fresh keys (another time limit, which no weekly solve of this tiny scenario reaches):
    # nothing computed before is reused
    res = simulate(
        SCN, replications=4, seed=7, policies=POLICIES, client=client, time_limit=9.5,
        progress=progress,
    )  # fmt: skip
    assert killed and in_flight  # a task was running on the worker killed
    _same(local, res)
    deadline = time.monotonic() + START_TIMEOUT
    while workers_of(client) != 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert workers_of(client) == 1  # the run really lost a worker
    cluster.start_worker(killed[0])  # back to two for any test after this one
    client.wait_for_workers(2, timeout=START_TIMEOUT)


def test_unreachable_scheduler_is_an_input_error():
    """A closed port: `connect` raises one `InputError` naming the address, within the timeout."""
    from allocator.errors import InputError

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(InputError, match=r"cannot reach the Dask scheduler") as info:
        connect(f"tcp://127.0.0.1:{port}", timeout=1.0)
    assert f"127.0.0.1:{port}" in str(info.value) and "\n" not in str(info.value)


class _Versions:
    """A stand-in client whose cluster runs another numpy on one worker."""

    def get_versions(self, check=False):
        here = {"numpy": "2.1", "pandas": "2.2"}
        return {
            "client": {"packages": here},
            "scheduler": {"packages": here},
            "workers": {"w0": {"packages": here}, "w1": {"packages": {**here, "numpy": "2.0"}}},
        }


def test_version_mismatch_is_one_log_line(caplog):
    """A mismatch is logged once, naming the package, not distributed's table."""
    from allocator.simulation.cluster import _log_mismatch

    with caplog.at_level("WARNING", logger="allocator"):
        _log_mismatch(_Versions())
    assert [r.getMessage() for r in caplog.records] == [
        "the Dask cluster runs other versions of numpy than this process; results may differ"
    ]


def test_report_on_the_cluster(client, tmp_path):
    """`build_report(client=...)`: the main comparison equals local processes' and the page says
    where it ran."""
    from allocator.analysis.report import build_report

    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(small()))
    report = build_report(
        path, replications=3, seed=3, policies=["fcfs_fast"], sensitivity_replications=0,
        client=client,
    )  # fmt: skip
    here = simulate(SCN, replications=3, seed=3, policies=["fcfs_fast", "hotel"], workers=1)
    _same(here, report.result)
    assert report.settings["workers"] == "2 on a Dask cluster"


def test_a_task_that_raises_is_one_cluster_error(client):
    """A task's own exception (not a lost worker) comes out as one `ClusterError` line."""
    from allocator.simulation.cluster import ClusterError, run_jobs

    jobs = replication_jobs(SCN, 1, 5, ["fcfs_fast"], 1.0)
    with pytest.raises(ClusterError, match=r"failed on the Dask cluster \(TypeError") as info:
        run_jobs(client, divmod, jobs, retries=0)  # divmod(*job): five arguments, not two
    assert "\n" not in str(info.value)


def test_a_scheduler_without_workers_is_one_cluster_error(tmp_path):
    """No worker ever joins: `run_jobs` gives up after its timeout, naming the scheduler,
    instead of waiting for ever."""
    from allocator.simulation.cluster import ClusterError, run_jobs

    with LoopbackCluster(tmp_path, start_timeout=START_TIMEOUT) as lc:
        address = lc.start_scheduler()
        with connect(address, timeout=START_TIMEOUT) as c:
            jobs = replication_jobs(SCN, 1, 5, ["fcfs_fast"], 1.0)
            with pytest.raises(ClusterError, match="no Dask worker joined") as info:
                run_jobs(c, divmod, jobs, worker_timeout=0.5)
    assert address in str(info.value) and "\n" not in str(info.value)
