"""Run the notebook suite with papermill: the executed notebooks are the quarter's audit record.

Notebooks run in name order from the package's `notebooks/` (shipped as package data, so a
plain `pip install .` runs them as well as an editable install; the repository's top-level
`notebooks/` is a link to them). Each gets the parameters it declares among data_dir, quarter,
validated_dir, out_dir and rules. A failed notebook is kept, with papermill's error banner, for
the evaluator.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import papermill
from jupyter_client.manager import KernelManager
from papermill.exceptions import PapermillExecutionError
from traitlets import Unicode

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


class EncryptedKernelManager(KernelManager):
    """A kernel manager with CurveZMQ transport encryption: the kernel and papermill talk over
    loopback TCP, and ipykernel >= 7.3 warns on every start when that is unencrypted."""

    transport_encryption = Unicode("required")


def kernel_manager_class():
    return EncryptedKernelManager


@dataclass
class RunOutcome:
    region: str
    quarter: str
    notebooks: list[Path]
    failed: Path | None = None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.failed is None


def suite(notebook_dir: Path = NOTEBOOKS) -> list[Path]:
    notebooks = sorted(notebook_dir.glob("[0-9][0-9]_*.ipynb"))
    if not notebooks:
        raise FileNotFoundError(f"no notebooks in {notebook_dir}")
    return notebooks


class WorkerKernel:
    """One kernel kept by a worker process for every quarter it runs (a province's counties):
    a kernel start and the imports of pandas, plotly and scoring cost about 3 s, more than a
    county's whole work. Before each quarter the kernel's namespace is emptied (`%reset -f`), so
    every quarter's notebooks start from nothing but their own cells, as in a fresh kernel;
    imported modules stay loaded, which is all that is saved."""

    _manager: EncryptedKernelManager | None = None

    @classmethod
    def fresh_namespace(cls, cwd: Path) -> EncryptedKernelManager:
        manager = cls._manager
        if manager is None or not manager.is_alive():
            manager = cls._manager = EncryptedKernelManager(kernel_name="python3")
            manager.start_kernel(cwd=str(cwd))
            atexit.register(manager.shutdown_kernel, now=True)
        client = manager.client()
        client.start_channels()
        try:
            client.wait_for_ready(timeout=60)
            client.execute_interactive("%reset -f", timeout=60, output_hook=lambda _: None)
        finally:
            client.stop_channels()
        return manager


def run_quarter(
    region_dir: Path,
    quarter: str,
    validated_dir: Path,
    results_dir: Path,
    notebooks_dir: Path,
    rules: dict | None = None,
    on_notebook: Callable[[Path], None] | None = None,
    notebook_dir: Path = NOTEBOOKS,
    kernel: str = "quarter",
) -> RunOutcome:
    """Execute every notebook of the suite for one quarter, in order; stop at the first failure.

    `kernel` says which kernel runs the suite:
    - "quarter" (the default): one fresh kernel for the quarter's notebooks, one after the other,
      as an evaluator running them in order in Jupyter would. Every notebook imports and takes
      its parameters itself, so nothing carries over that its record does not show; a quarter
      pays one kernel start (about 1.5 s), not three.
    - "worker": the worker process's `WorkerKernel`, emptied before the quarter (province runs).
    - "notebook": a fresh kernel for each notebook."""
    region_dir, validated_dir, results_dir, notebooks_dir = (
        Path(p).resolve() for p in (region_dir, validated_dir, results_dir, notebooks_dir))
    notebooks_dir.mkdir(parents=True, exist_ok=True)
    parameters = {"data_dir": str(region_dir), "quarter": quarter,
                  "validated_dir": str(validated_dir), "out_dir": str(results_dir)}
    manager = None
    if kernel == "worker":
        manager = WorkerKernel.fresh_namespace(notebook_dir)
    elif kernel == "quarter":
        manager = EncryptedKernelManager(kernel_name="python3")
        manager.start_kernel(cwd=str(notebook_dir))
    done = []
    try:
        for notebook in suite(notebook_dir):
            output = notebooks_dir / notebook.name
            known = papermill.inspect_notebook(str(notebook))
            given = {k: v for k, v in parameters.items() if k in known}
            if "rules" in known:
                given["rules"] = rules or {}
            try:
                papermill.execute_notebook(
                    str(notebook), str(output), parameters=given, kernel_name="python3",
                    progress_bar=False, cwd=str(notebook.parent),
                    **({"km": manager} if manager is not None else
                       {"kernel_manager_class": EncryptedKernelManager}),
                )
            except PapermillExecutionError as exc:
                return RunOutcome(region_dir.name, quarter, done + [output], output,
                                  f"{exc.ename}: {exc.evalue}")
            done.append(output)
            if on_notebook:
                on_notebook(output)
    finally:
        if kernel == "quarter" and manager is not None:
            manager.shutdown_kernel(now=True)
    return RunOutcome(region_dir.name, quarter, done)


def run_notebook(name: str, output: Path, parameters: dict, notebook_dir: Path = NOTEBOOKS) -> Path:
    """Execute one notebook of `notebooks/` (e.g. the province record) and keep it at `output`."""
    output = Path(output).resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    papermill.execute_notebook(str(notebook_dir / name), str(output), parameters=parameters,
                               kernel_name="python3", progress_bar=False, cwd=str(notebook_dir),
                               kernel_manager_class=kernel_manager_class())
    return output


@dataclass(frozen=True)
class QuarterJob:
    """One quarter's notebook suite to run: where its inputs are and where each layer goes."""

    region_dir: Path
    quarter: str
    validated_dir: Path
    results_dir: Path
    notebooks_dir: Path
    rules: dict | None = None


def run_job(job: QuarterJob) -> RunOutcome:
    return run_quarter(job.region_dir, job.quarter, job.validated_dir, job.results_dir,
                       job.notebooks_dir, rules=job.rules)


def run_jobs(jobs: list[QuarterJob], workers: int | None = None) -> Iterator[tuple[QuarterJob, RunOutcome]]:
    """Run quarters side by side on this machine's cores (each writes only its own layers), as
    they finish. Workers are spawned, not forked: a forked copy of a process that already talks
    ZeroMQ to a kernel can deadlock."""
    workers = min(workers or os.cpu_count() or 1, len(jobs))
    if workers <= 1:
        for job in jobs:
            yield job, run_job(job)
        return
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {pool.submit(run_job, job): job for job in jobs}
        for future in as_completed(futures):
            yield futures[future], future.result()
