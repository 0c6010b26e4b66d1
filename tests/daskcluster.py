"""A real Dask cluster on this machine: `dask scheduler` and `dask worker` started as separate
programs (the command line that ships with distributed), as an operator would start them on
several machines. Used by tests/test_province.py and benchmarks/bench_national.py.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Cluster:
    address: str
    scheduler: subprocess.Popen
    workers: list[subprocess.Popen] = field(default_factory=list)
    log_dir: Path | None = None

    def worker_count(self, timeout: float = 60) -> int:
        from dask.distributed import Client

        with Client(self.address, timeout=timeout) as client:
            return len(client.scheduler_info(n_workers=-1)["workers"])

    def wait_for_workers(self, n: int, timeout: float = 90) -> None:
        from dask.distributed import Client

        with Client(self.address, timeout=timeout) as client:
            client.wait_for_workers(n, timeout=timeout)


def _start(args: list[str], log: Path) -> subprocess.Popen:
    # its own session: the teardown ends the program and everything it started (nanny, worker)
    with open(log, "ab") as out:
        return subprocess.Popen([sys.executable, "-m", *args], stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})


@contextmanager
def dask_cluster(workers: int, log_dir: Path, cwd: Path | None = None,
                 timeout: float = 90) -> Iterator[Cluster]:
    """A scheduler and `workers` worker programs (one process, one thread each, behind a nanny
    that restarts a killed worker) on 127.0.0.1, free ports, no dashboards. Everything they
    started is ended on the way out, whatever happened."""
    log_dir = Path(log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    scheduler = _start(["distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", str(port),
                        "--no-dashboard"], log_dir / "scheduler.log")
    cluster = Cluster(address, scheduler, log_dir=log_dir)
    try:
        for i in range(workers):
            cluster.workers.append(_start(
                ["distributed.cli.dask_worker", address, "--nworkers", "1", "--nthreads", "1",
                 "--no-dashboard", "--host", "127.0.0.1", "--name", f"w{i}",
                 "--local-directory", str(log_dir / f"w{i}")], log_dir / f"worker-{i}.log"))
        cluster.wait_for_workers(workers, timeout)
        yield cluster
    finally:
        for process in [*cluster.workers, scheduler]:
            _end(process)


def _end(process: subprocess.Popen, grace: float = 10) -> None:
    """SIGTERM to the program's whole session, then SIGKILL to what is left."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(grace)


def kill(pid: int | None) -> None:
    """SIGKILL one process (a worker, or the kernel it runs notebooks in), if it is alive."""
    if pid:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def wait_for(predicate, timeout: float, every: float = 0.05, what: str = "condition"):
    """Poll `predicate` until it returns something true; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
