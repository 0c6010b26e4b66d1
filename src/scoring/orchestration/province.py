"""A province: one region directory per county, validated and scored county by county in parallel.

Each county is one task (`county_task`): the same notebook suite as a single region (validate,
score, payments), executed with papermill in the worker, writing the county's own layers and
executed notebooks straight to the output root (a directory every worker reaches at the same
path). So the audit record is the same however the quarter was run, and a local process pool and
a Dask cluster produce the same layers, byte for byte. A worker keeps one kernel for all the
counties it runs (`run.WorkerKernel`), its namespace emptied before each county: a kernel start
and its imports cost more than a small county's whole work.

Workers write, the client coordinates. A task returns only a small `CountyOutcome` (counts,
fingerprints, timings); the client never holds a county's tables or trace. It builds the
province's files at the end by streaming each county's few summary rows and its accounting from
disk, one county at a time, so its memory does not grow with the number of counties.

Each county's run is committed by its record, `runs/<province>/<quarter>/<county>.json`, written
last (aside, then renamed): a county whose record is missing was not finished (a killed worker, a
stopped client) and is run again; its layers are each written aside and renamed, so a kill leaves
either the old layer or the new one, never half of one. A county whose record still matches its
raw inputs (sha256 of every file, region.yaml and so its rules included), this program's version
and the layers on disk (layer.json's and run.json's fingerprints) is complete: a later run skips
it unless forced. Counties whose inputs fail validation are reported and skipped, never silently,
and never stop the others.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import socket
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from itertools import chain, islice
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import unquote, urlparse

import pandas as pd

from scoring import __version__
from scoring.files import digest, file_sha256, write_json, written_file
from scoring.inputs.layer import LAYER_FILE, inputs_fingerprint, read_validated
from scoring.inputs.months import Quarter
from scoring.orchestration.run import RunOutcome, WorkerKernel, run_quarter
from scoring.orchestration.stages import Workspace, score_stage, validate_stage
from scoring.outputs.results import RUN_FILE, ResultsLayer, read_results, write_csv
from scoring.refusal import Code, Refusal

SUMMARY_COLUMNS = [
    "county", "county_name", "county_code", "provider_id", "provider_name", "score", "grade",
    "gradable", "reason", "near_band_edge", "amount_due", "release", "withheld",
    "per_capita_annual", "per_capita_standard", "ratio_to_standard",
]
SKIPPED_COLUMNS = ["county", "errors", "warnings", "first_problem", "validation_csv"]
ACCOUNTING_COLUMNS = ["county", "file", "rows_read", "rows_used", "rows_rejected"]
RUNS = "runs"  # build/runs/<province>/<quarter>/: each county's record of its run
CONNECT_TIMEOUT = "20s"  # how long to try reaching a Dask scheduler
# counties submitted to a cluster at once: enough that no worker waits for the client
IN_FLIGHT_PER_THREAD, MIN_IN_FLIGHT = 4, 16


@dataclass
class CountyOutcome:
    """What a county task sends back (and its record on disk holds): small, whatever the county's
    size. `resumed`: not run now, its complete earlier run kept."""

    county: str
    errors: int
    warnings: int
    first_problem: str  # the first error, "" when the county was scored
    scored: bool = False
    rows: dict = field(default_factory=dict)  # per input file: rows read, used, rejected
    providers: int = 0  # rows of the province summary
    inputs_fingerprint: str = ""
    validated_fingerprint: str = ""
    results_fingerprint: str = ""  # sha256 of run.json
    code_version: str = __version__
    seconds: float = 0.0
    worker: str = ""  # host:pid that ran it
    notebooks: bool = True  # its notebooks were executed and kept
    resumed: bool = False

    @property
    def ok(self) -> bool:
        return self.scored


def is_province(path: Path) -> bool:
    """A directory of region directories (and no region.yaml of its own)."""
    path = Path(path)
    return not (path / "region.yaml").exists() and any(path.glob("*/region.yaml"))


def counties(province_dir: Path) -> list[Path]:
    return sorted(p.parent for p in Path(province_dir).glob("*/region.yaml"))


def output_root(where: str | Path) -> Path:
    """The output root as a local path: a path, or a `file://` URL (an fsspec URL of the local
    file system, which a shared or network directory mounted on every worker is). Other URLs are
    refused: every layer is written aside and renamed into place, which an object store cannot do
    atomically."""
    text = str(where)
    url = urlparse(text)
    if url.scheme == "file":
        return Path(unquote(url.path)).resolve()
    if url.scheme and len(url.scheme) > 1:  # "C:" is a drive, not a scheme
        raise Refusal(Code.OUTPUT_NOT_REACHABLE,
                      f"输出位置 {text} 不是本机路径或 file:// 地址,无法在其中原子地写入各县的结果。",
                      "请把共享目录(NFS、SMB)挂载到每台工作机的同一路径,再给出该目录或 file:// 地址。")
    return Path(text).resolve()


def runs_dir(build: Path, province: str, quarter: Quarter | str) -> Path:
    return Path(build) / RUNS / province / str(quarter)


def county_task(region_dir: str, quarter: str, build: str, runs: str,
                notebooks: bool = True) -> CountyOutcome:
    """Run one county's notebook suite, writing its layers and notebooks under `build` and its
    record into `runs`, last. Runs in a worker: takes and returns plain, picklable values.
    Without `notebooks` the stages the notebooks call run directly (the same layers, no executed
    notebooks: about a third of the time of a small county, for national-scale rehearsals)."""
    started = time.perf_counter()
    region_dir, workspace, runs = Path(region_dir), Workspace(Path(build)), Path(runs)
    county = region_dir.name
    record_file = runs / f"{county}.json"
    record_file.unlink(missing_ok=True)  # from now on the county is not complete until rewritten
    _started(runs, county)
    validated_dir, results_dir = workspace.validated(county, quarter), workspace.results(county, quarter)
    for layer_dir in (validated_dir, results_dir):  # what a killed run left aside
        for left in layer_dir.parent.glob(f".{layer_dir.name}.*"):
            shutil.rmtree(left, ignore_errors=True)
    if notebooks:
        run = run_quarter(region_dir, quarter, validated_dir, results_dir,
                          workspace.notebooks(county, quarter), kernel="worker")
    else:
        run = _stages(region_dir, quarter, validated_dir, results_dir)
    outcome = _outcome(region_dir, county, run, validated_dir, results_dir, runs)
    outcome.notebooks = notebooks
    outcome.seconds = round(time.perf_counter() - started, 3)
    outcome.worker = f"{socket.gethostname()}:{os.getpid()}"
    with written_file(record_file) as aside:  # the commit: the county is complete
        write_json(aside, asdict(outcome))
    return outcome


def _stages(region_dir: Path, quarter: str, validated_dir: Path, results_dir: Path) -> RunOutcome:
    """What the notebooks do, without them: validate, then score if the inputs allow."""
    try:
        if validate_stage(region_dir, quarter, validated_dir).ok:
            score_stage(region_dir, quarter, validated_dir, results_dir)
    except Exception as error:  # reported as a failed notebook would be, with the county
        return RunOutcome(region_dir.name, quarter, [], Path("stages"), f"{type(error).__name__}: {error}")
    return RunOutcome(region_dir.name, quarter, [])


def _started(runs: Path, county: str) -> None:
    """A note that this worker began the county (who, which kernel): for an operator looking for
    a stuck county, and for the tests that kill the worker running one."""
    runs.mkdir(parents=True, exist_ok=True)
    kernel = WorkerKernel._manager
    pid = getattr(getattr(kernel, "provisioner", None), "pid", None) if kernel else None
    write_json(runs / f"{county}.started.json",
               {"county": county, "host": socket.gethostname(), "pid": os.getpid(), "kernel_pid": pid})


def _outcome(region_dir: Path, county: str, run, validated_dir: Path, results_dir: Path,
             runs: Path) -> CountyOutcome:
    try:
        layer = read_validated(validated_dir, region_dir, scorable=False)
    except Refusal as refusal:  # the validation notebook itself failed
        return CountyOutcome(county, 0, 0, f"{refusal.code}:{run.error or refusal.message}")
    record = layer.record
    accounting = layer.accounting.set_index("file")[["rows_read", "rows_used", "rows_rejected"]]
    common = dict(rows={file: {k: int(v) for k, v in row.items()} for file, row in accounting.iterrows()},
                  inputs_fingerprint=record["inputs_fingerprint"], validated_fingerprint=layer.fingerprint)
    if not layer.ok:
        problems = layer.problems
        first = problems[problems["severity"] == "error"].iloc[0]
        return CountyOutcome(county, record["errors"], record["warnings"],
                             f"{first['file']} 第{first['row']}行 {first['column']}:{first['message']}",
                             **common)
    if not run.ok:
        return CountyOutcome(county, 0, record["warnings"],
                             f"笔记本 {run.failed.name} 运行失败:{run.error}", **common)
    results = read_results(results_dir, layer)
    rows = summary_rows(results)
    with written_file(runs / f"{county}.summary.csv") as aside:
        write_csv(rows, aside)
    return CountyOutcome(county, 0, record["warnings"], "", scored=True, providers=len(rows),
                         results_fingerprint=file_sha256(results_dir / RUN_FILE), **common)


def complete(region: Path, quarter: str, build: Path, runs: Path,
             notebooks: bool = True) -> CountyOutcome | None:
    """The county's earlier run, if it is complete and still current: its record exists, was
    written by this version, from the same raw inputs (region.yaml and its rules included), and
    the layers it names are the ones on disk. None: the county must be run."""
    try:
        record = json.loads((runs / f"{region.name}.json").read_text(encoding="utf-8"))
        outcome = CountyOutcome(**record)
    except (OSError, ValueError, TypeError):
        return None
    workspace = Workspace(build)
    if (outcome.code_version != __version__ or (notebooks and not outcome.notebooks)
            or outcome.inputs_fingerprint != digest(inputs_fingerprint(region, Quarter.parse(quarter)))
            or _fingerprint(workspace.validated(region.name, quarter) / LAYER_FILE) != outcome.validated_fingerprint):
        return None
    if outcome.scored and (
            not (runs / f"{region.name}.summary.csv").is_file()
            or not (workspace.results(region.name, quarter) / RUN_FILE).is_file()
            or file_sha256(workspace.results(region.name, quarter) / RUN_FILE) != outcome.results_fingerprint):
        return None
    outcome.resumed = True
    return outcome


def _fingerprint(layer_file: Path) -> str:
    try:
        return json.loads(layer_file.read_text(encoding="utf-8"))["fingerprint"]
    except (OSError, ValueError, KeyError):
        return ""


def local_outcomes(regions: list[Path], quarter: str, build: Path, runs: Path,
                   workers: int | None, notebooks: bool = True) -> Iterator[CountyOutcome]:
    """Counties on this machine's cores, as they finish."""
    workers = workers or os.cpu_count() or 1
    if workers == 1 or len(regions) <= 1:
        for region in regions:
            yield county_task(str(region), quarter, str(build), str(runs), notebooks)
        return
    # spawned, not forked: each worker starts notebook kernels, and a forked copy of a process that
    # already talks ZeroMQ can deadlock
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
    try:
        futures = {pool.submit(county_task, str(region), quarter, str(build), str(runs), notebooks): region.name
                   for region in regions}
        for future in as_completed(futures):
            yield _result(future, futures[future])
    except BaseException:  # stopped (Ctrl-C): counties not started are dropped, running ones finish
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()


def dask_outcomes(regions: list[Path], quarter: str, build: Path, runs: Path,
                  scheduler: str, notebooks: bool = True) -> Iterator[CountyOutcome]:
    """Counties as tasks on an existing Dask cluster, one task per county. The workers write to
    `build`, which they must reach at the same path (a shared directory). A worker that dies
    takes no county with it: the scheduler gives its tasks to another worker, which runs them
    from the start (layers are replaced whole, the record is written last)."""
    # distributed is the `scale` extra and takes a second to import: only a Dask run pays for it
    from dask.distributed import Client
    from dask.distributed import as_completed as dask_completed

    try:
        client = Client(scheduler, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, ValueError) as error:
        raise Refusal(Code.CLUSTER_UNREACHABLE, f"无法连接 Dask 调度器 {scheduler}({error})。",
                      "请确认调度器已启动(dask scheduler)、地址和端口正确,且本机能访问该地址。") from error
    with client:
        def submit(region: Path):
            future = client.submit(county_task, str(region), quarter, str(build), str(runs), notebooks,
                                   key=f"county-{region.name}-{quarter}", pure=False)
            in_flight[future] = region.name
            return future

        # a window of counties in flight, refilled as each finishes: the client holds a few
        # futures per worker, not one per county, so its memory does not grow with the counties
        window = max(MIN_IN_FLIGHT, IN_FLIGHT_PER_THREAD * sum(client.nthreads().values()))
        waiting, in_flight = iter(regions), {}
        finished = dask_completed([submit(region) for region in islice(waiting, window)])
        for future in finished:
            yield _result(future, in_flight.pop(future))
            future.release()  # the client keeps nothing of a finished county
            following = next(waiting, None)
            if following is not None:
                finished.add(submit(following))


def _result(future, county: str) -> CountyOutcome:
    """The county's outcome; a task that died (its worker killed too often, a local worker lost)
    is a county not run, reported with the reason and run again by the next run (no record)."""
    try:
        return future.result()
    except Exception as error:
        return CountyOutcome(county, 0, 0, f"未完成 ({type(error).__name__}): {error};再次运行同一命令即可续跑")


@dataclass
class ProvinceRun:
    quarter: Quarter
    scored: list[str] = field(default_factory=list)
    skipped: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=SKIPPED_COLUMNS))
    ran: list[str] = field(default_factory=list)  # counties run now (the others were complete)
    summary_csv: Path | None = None
    providers: int = 0  # rows of the province summary

    @property
    def summary(self) -> pd.DataFrame:
        return pd.read_csv(self.summary_csv, dtype=str, keep_default_na=False)


def summary_rows(results: ResultsLayer) -> pd.DataFrame:
    """The province summary's rows for one county: its providers, grades and money and spending."""
    table = results.table("scores")[["provider_id", "provider_name", "score", "grade", "gradable",
                                     "reason", "near_band_edge"]].merge(
        results.table("payments")[["provider_id", "amount_due", "release", "withheld"]], on="provider_id")
    spending = results.table("spending").iloc[0]
    run = results.record
    table.insert(0, "county_code", run["region_code"])
    table.insert(0, "county_name", run["region_name"])
    table.insert(0, "county", run["region"])
    for column in ("per_capita_annual", "per_capita_standard", "ratio_to_standard"):
        table[column] = spending[column]
    return table[SUMMARY_COLUMNS].sort_values("provider_id", kind="stable")


def run_province(
    province_dir: Path, quarter: Quarter, build: Path | str, *, workers: int | None = None,
    scheduler: str | None = None, force: bool = False, notebooks: bool = True,
    on_start: Callable[[int, int], None] | None = None,
    on_county: Callable[[CountyOutcome], None] | None = None,
) -> ProvinceRun:
    """Validate and score every county into its layers under `build` (a path or file:// URL);
    write the province summary, its row accounting and the skipped counties into
    `build/results/<province>/<quarter>/`. Counties whose earlier run is complete and current are
    kept (`force`: run them all; `notebooks=False`: the stages without notebooks, see
    county_task). `on_start(total, kept)` is called once before any county runs, `on_county` for
    every county as it finishes, kept ones first."""
    regions = counties(province_dir)
    build = output_root(build)
    province = Path(province_dir).name
    runs = runs_dir(build, province, quarter)
    runs.mkdir(parents=True, exist_ok=True)
    kept, todo = [], []
    for region in regions:
        earlier = None if force else complete(region, str(quarter), build, runs, notebooks)
        (kept if earlier else todo).append(earlier or region)
    if on_start:
        on_start(len(regions), len(kept))
    outcomes = (dask_outcomes(todo, str(quarter), build, runs, scheduler, notebooks) if scheduler and todo
                else local_outcomes(todo, str(quarter), build, runs, workers, notebooks))
    run = ProvinceRun(quarter)
    skipped = []
    workspace = Workspace(build)
    for outcome in chain(kept, outcomes):  # as they finish: the progress bar moves with them
        if not outcome.resumed:
            run.ran.append(outcome.county)
        if outcome.ok:
            run.scored.append(outcome.county)
            run.providers += outcome.providers
        else:
            skipped.append({
                "county": outcome.county, "errors": outcome.errors, "warnings": outcome.warnings,
                "first_problem": outcome.first_problem,
                "validation_csv": str(workspace.validated(outcome.county, quarter) / "validation.csv"),
            })
        if on_county:
            on_county(outcome)
    run.scored.sort()
    run.ran.sort()
    if skipped:
        run.skipped = pd.DataFrame(skipped, columns=SKIPPED_COLUMNS).sort_values("county").reset_index(drop=True)
    province_out = workspace.results(province, quarter)
    run.summary_csv = province_out / "province_summary.csv"
    _concatenate([runs / f"{county}.summary.csv" for county in run.scored], SUMMARY_COLUMNS,
                 run.summary_csv)
    _write_accounting([c.name for c in regions], workspace, quarter, province_out / "province_accounting.csv")
    write_csv(run.skipped.assign(validation_csv=[
        Path(p).relative_to(build).as_posix() for p in run.skipped["validation_csv"]]),
        province_out / "counties_skipped.csv")
    return run


def _concatenate(parts: list[Path], columns: list[str], target: Path) -> None:
    """One CSV from the counties' CSVs (each with the same header), streamed: one part in memory
    at a time; written aside and renamed."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with written_file(target) as aside, open(aside, "wb") as out:
        out.write((",".join(columns) + "\n").encode("utf-8"))
        for part in parts:
            with open(part, "rb") as handle:
                handle.readline()  # its header
                shutil.copyfileobj(handle, out)


def _write_accounting(names: list[str], workspace: Workspace, quarter: Quarter, target: Path) -> None:
    """Every county's row accounting (rows read, used, rejected per input file), county by
    county: the province's totals are their sums, so no row is lost or counted twice."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with written_file(target) as aside, open(aside, "w", encoding="utf-8", newline="") as out:
        out.write(",".join(ACCOUNTING_COLUMNS) + "\n")
        for county in names:
            path = workspace.validated(county, quarter) / "accounting.csv"
            if not path.is_file():
                continue
            table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
            table.insert(0, "county", county)
            table[ACCOUNTING_COLUMNS].to_csv(out, index=False, header=False, lineterminator="\n")


@dataclass
class RunRecord:
    """What the province notebook shows: each county's run, the summary, the skipped counties."""

    counties: pd.DataFrame
    summary: pd.DataFrame
    skipped: pd.DataFrame


def run_record(province_dir: str | Path, quarter: str, build: str | Path) -> RunRecord:
    """Read back a province run: per county whether it was scored and its fingerprints."""
    build = output_root(build)
    workspace = Workspace(build)
    province_out = workspace.results(Path(province_dir).name, quarter)
    rows = []
    for region in counties(Path(province_dir)):
        run_file = workspace.results(region.name, quarter) / "run.json"
        run = json.loads(run_file.read_text(encoding="utf-8")) if run_file.is_file() else {}
        rows.append({
            "county": region.name, "county_name": run.get("region_name", ""),
            "scored": bool(run), "rules_fingerprint": run.get("rules_fingerprint", "")[:16],
            "inputs_fingerprint": run.get("inputs_fingerprint", "")[:16],
        })
    return RunRecord(pd.DataFrame(rows), _read(province_out / "province_summary.csv"),
                     _read(province_out / "counties_skipped.csv"))


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)
