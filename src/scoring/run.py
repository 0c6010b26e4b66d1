"""Run the notebook suite with papermill: the executed notebooks are the quarter's audit record.

Notebooks run in name order from `notebooks/`; each gets data_dir, quarter and out_dir as
parameters. A failed notebook is kept, with papermill's error banner, for the evaluator.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def kernel_manager_class():
    """A kernel manager with CurveZMQ transport encryption: the kernel and papermill talk over
    loopback TCP, and ipykernel >= 7.3 warns on every start when that is unencrypted."""
    from jupyter_client.manager import KernelManager
    from traitlets import Unicode

    class EncryptedKernelManager(KernelManager):
        transport_encryption = Unicode("required")

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


def run_quarter(
    region_dir: Path,
    quarter: str,
    results_dir: Path,
    notebooks_dir: Path,
    rules: dict | None = None,
    on_notebook: Callable[[Path], None] | None = None,
    notebook_dir: Path = NOTEBOOKS,
) -> RunOutcome:
    """Execute every notebook of the suite for one quarter, in order; stop at the first failure."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    region_dir, results_dir, notebooks_dir = (Path(p).resolve() for p in (region_dir, results_dir, notebooks_dir))
    notebooks_dir.mkdir(parents=True, exist_ok=True)
    parameters = {"data_dir": str(region_dir), "quarter": quarter, "out_dir": str(results_dir)}
    done = []
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
                kernel_manager_class=kernel_manager_class(),
            )
        except PapermillExecutionError as exc:
            return RunOutcome(region_dir.name, quarter, done + [output], output,
                              f"{exc.ename}: {exc.evalue}")
        done.append(output)
        if on_notebook:
            on_notebook(output)
    return RunOutcome(region_dir.name, quarter, done)


def run_notebook(name: str, output: Path, parameters: dict, notebook_dir: Path = NOTEBOOKS) -> Path:
    """Execute one notebook of `notebooks/` (e.g. the province record) and keep it at `output`."""
    import papermill

    output = Path(output).resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    papermill.execute_notebook(str(notebook_dir / name), str(output), parameters=parameters,
                               kernel_name="python3", progress_bar=False, cwd=str(notebook_dir),
                               kernel_manager_class=kernel_manager_class())
    return output
