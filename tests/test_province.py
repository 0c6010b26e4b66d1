"""A small generated province, scored locally and on a real Dask cluster (`dask scheduler` and two
`dask worker` programs): the same bytes, a killed worker loses nothing, a stopped run resumes."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from scoring.inputs.months import Quarter
from scoring.orchestration import province as provinces
from scoring.orchestration.province import is_province, run_province
from scoring.refusal import Code, Refusal
from scoring_synthetic.generate import generate

Q = Quarter(2026, 3)
COUNTIES = 8
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def province(tmp_path_factory) -> Path:
    """Eight small counties (about 350 service records each); the third has a service row with an
    impossible status."""
    root = tmp_path_factory.mktemp("province") / "yunnan"
    generate("province", root, counties=COUNTIES, records_per_quarter=COUNTIES * 300, quarters=[str(Q)],
             beneficiaries=60)
    services = broken_county(root) / str(Q) / "services.csv"
    lines = services.read_text(encoding="utf-8").splitlines()
    lines[5] = lines[5].replace("completed", "finished", 1).replace("cancelled", "finished", 1)
    services.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def broken_county(root: Path) -> Path:
    return sorted(p.parent for p in root.glob("*/region.yaml"))[2]


@pytest.fixture(scope="module")
def local(province, tmp_path_factory):
    """The province run once on this machine's processes: the reference every other run matches."""
    build = tmp_path_factory.mktemp("local") / "build"
    complete_when_told = []  # how many counties were complete each time one was reported
    run = run_province(province, Q, build, workers=2,
                       on_county=lambda _: complete_when_told.append(len(records(build))))
    run.complete_when_told = complete_when_told
    return run, build


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A scheduler and two workers, each its own program, shared by the cluster tests."""
    from daskcluster import dask_cluster

    with dask_cluster(2, tmp_path_factory.mktemp("cluster")) as cluster:
        yield cluster


def layers(root: Path) -> dict[str, bytes]:
    """Every file of a build but the executed notebooks (they record when they ran) and the run
    records (times, workers)."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and p.relative_to(root).parts[0] not in ("notebooks", "runs")}


def scoring_run(province: Path, out: Path | str, *options: str) -> subprocess.Popen:
    """`scoring run PROVINCE --quarter Q --out OUT …` as its own program (wide lines: one per message)."""
    return subprocess.Popen([sys.executable, "-m", "scoring", "run", str(province), "--quarter", str(Q),
                             "--out", str(out), *options], cwd=province.parent, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "COLUMNS": "300"})


def finished(process: subprocess.Popen, timeout: float = 300) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out, err


def records(build: Path) -> dict[str, bytes]:
    """Each county's record of its run (written last: the county is complete)."""
    return {p.name.removesuffix(".json"): p.read_bytes()
            for p in (build / "runs/yunnan" / str(Q)).glob("*.json") if not p.name.endswith(".started.json")}


def test_a_province_is_recognised(province):
    assert is_province(province)
    assert not is_province(next(province.iterdir()))


def test_a_province_keeps_every_countys_executed_notebooks(province, local):
    run, build = local
    broken = broken_county(province).name
    for county in [*run.scored, broken]:
        kept = sorted(p.name for p in (build / "notebooks" / county / str(Q)).glob("*.ipynb"))
        assert kept == (["01_validate.ipynb"] if county == broken else
                        ["01_validate.ipynb", "02_scores.ipynb", "03_payments.ipynb"]), county
    notebook = json.loads((build / "notebooks" / run.scored[0] / str(Q) / "02_scores.ipynb").read_text(encoding="utf-8"))
    assert all(c["execution_count"] for c in notebook["cells"] if c["cell_type"] == "code")


def test_each_county_is_reported_as_it_finishes(local):
    """The progress bar moves with the counties, not all at once at the end."""
    told = local[0].complete_when_told
    assert len(told) == COUNTIES and told[0] < COUNTIES


def test_a_county_with_errors_is_reported_and_does_not_stop_the_others(province, local):
    run, build = local
    broken = broken_county(province).name
    assert list(run.skipped["county"]) == [broken] and len(run.scored) == COUNTIES - 1
    assert run.skipped.loc[0, "errors"] >= 1
    summary = pd.read_csv(build / "results/yunnan" / str(Q) / "province_summary.csv", dtype=str)
    assert set(summary["county"]) == set(run.scored)
    assert (build / "validated" / broken / str(Q) / "validation.csv").is_file()
    assert not (build / "results" / broken / str(Q) / "scores.csv").exists()
    assert json.loads(records(build)[broken])["scored"] is False


def test_the_same_county_scores_the_same_alone_or_in_a_province(province, local, tmp_path):
    import helpers

    county = sorted(p.parent for p in province.glob("*/region.yaml"))[0]
    alone = helpers.score(county, tmp_path / "alone", str(Q))
    for name in ("scores", "satisfaction", "payments", "spending"):
        assert (local[1] / "results" / county.name / str(Q) / f"{name}.csv").read_bytes() == \
            (alone / f"{name}.csv").read_bytes()


def test_every_row_is_accounted_for_once_per_county(province, local):
    """The province's row accounting is its counties' sums: nothing lost, nothing counted twice."""
    run, build = local
    accounting = pd.read_csv(build / "results/yunnan" / str(Q) / "province_accounting.csv", dtype={"county": str})
    assert sorted(accounting["county"].unique()) == sorted(p.parent.name for p in province.glob("*/region.yaml"))
    services = accounting[accounting["file"] == f"{Q}/services.csv"].set_index("county")
    for county in services.index:
        lines = (province / county / str(Q) / "services.csv").read_text(encoding="utf-8").splitlines()
        assert services.loc[county, "rows_read"] == len(lines) - 1
    assert (accounting["rows_used"] + accounting["rows_rejected"] == accounting["rows_read"]).all()
    summary = run.summary
    for county in run.scored:
        scores = pd.read_csv(build / "results" / county / str(Q) / "scores.csv")
        assert (summary["county"] == county).sum() == len(scores)


def test_the_output_root_is_a_path_or_a_file_url(tmp_path):
    assert provinces.output_root(f"file://{tmp_path}/out") == tmp_path / "out"
    assert provinces.output_root(tmp_path / "out") == tmp_path / "out"
    with pytest.raises(Refusal) as refused:
        provinces.output_root("s3://bucket/build")
    assert refused.value.code == Code.OUTPUT_NOT_REACHABLE


def test_no_scheduler_at_the_address_is_a_refusal(province, tmp_path, monkeypatch):
    from daskcluster import free_port

    monkeypatch.setattr(provinces, "CONNECT_TIMEOUT", "2s")
    with pytest.raises(Refusal) as refused:
        run_province(province, Q, tmp_path / "b", scheduler=f"tcp://127.0.0.1:{free_port()}")
    assert refused.value.code == Code.CLUSTER_UNREACHABLE


def test_a_county_task_that_died_is_reported_not_run_and_resumable():
    """A task the cluster gave up on (KilledWorker) or a lost local pool: the county is listed as
    not complete, with the reason, and has no record, so the next run runs it."""
    from concurrent.futures import Future
    from concurrent.futures.process import BrokenProcessPool

    future = Future()
    future.set_exception(BrokenProcessPool("a child process terminated abruptly"))
    outcome = provinces._result(future, "530102")
    assert not outcome.ok and not outcome.resumed and outcome.county == "530102"
    assert "BrokenProcessPool" in outcome.first_problem


def test_a_cluster_run_is_byte_identical_to_a_local_one(province, local, cluster, tmp_path):
    """`scoring run --scheduler` on a real scheduler and worker programs, into a file:// root."""
    code, out, err = finished(scoring_run(province, f"file://{tmp_path / 'dask'}", "--scheduler", cluster.address))
    assert code == 1, err  # one county was skipped
    assert "未评分的县" in err and "Traceback" not in err
    a, b = layers(local[1]), layers(tmp_path / "dask")
    assert any(k.startswith("validated/") for k in a) and any(k.startswith("results/") for k in a)
    assert a.keys() == b.keys()
    assert [k for k in a if a[k] != b[k]] == []
    workers = {json.loads(r)["worker"] for r in records(tmp_path / "dask").values()}
    assert len(workers) == 2, "both workers ran counties"
    assert (tmp_path / "dask/notebooks/yunnan" / str(Q) / "province.ipynb").is_file()
    # published from the same root the workers wrote to
    published = subprocess.run([sys.executable, "-m", "scoring", "publish", str(province), "--quarter", str(Q),
                                "--out", f"file://{tmp_path / 'dask'}"], cwd=tmp_path, capture_output=True,
                               text=True, env={**os.environ, "COLUMNS": "300"}, timeout=300)
    assert published.returncode == 1 and "Traceback" not in published.stderr  # the county with errors
    assert (tmp_path / "site/disclosures/provinces/yunnan" / f"{Q}.md").is_file()
    assert sorted(p.parent.parent.name for p in (tmp_path / "dask/public").glob(f"*/{Q}/public.json")) == sorted(
        json.loads(r)["county"] for r in records(tmp_path / "dask").values() if json.loads(r)["scored"])


def test_a_cluster_run_keeps_a_window_of_counties_in_flight(province, local, cluster, tmp_path, monkeypatch):
    """The client submits a few counties per worker and one more as each finishes (its memory must
    not grow with the counties): every county still runs once, with the local run's bytes."""
    from distributed import Client

    from scoring.orchestration import province as provinces

    monkeypatch.setattr(provinces, "MIN_IN_FLIGHT", 1)
    monkeypatch.setattr(provinces, "IN_FLIGHT_PER_THREAD", 1)  # two workers of one thread: 2 at once
    submitted, submit = [], Client.submit
    monkeypatch.setattr(Client, "submit", lambda self, *a, **k: (submitted.append(k["key"]), submit(self, *a, **k))[1])
    regions, build = provinces.counties(province), tmp_path / "build"
    outcomes = provinces.dask_outcomes(regions, str(Q), build, provinces.runs_dir(build, "yunnan", Q),
                                       cluster.address, notebooks=False)
    first = next(outcomes)
    assert len(submitted) == 2  # the window, not all eight
    finished = [first, *outcomes]
    assert sorted(o.county for o in finished) == sorted(r.name for r in regions) == sorted(
        key.removeprefix("county-").removesuffix(f"-{Q}") for key in submitted)
    names = {r.name for r in regions}

    def counties_layers(root: Path) -> dict[str, bytes]:  # validated/<county>/…, results/<county>/…
        return {k: v for k, v in layers(root).items()
                if k.split("/")[0] in ("validated", "results") and k.split("/")[1] in names}

    mine, theirs = counties_layers(build), counties_layers(local[1])
    assert mine and mine.keys() == theirs.keys() and all(mine[k] == theirs[k] for k in mine)


def test_a_killed_worker_loses_no_county(province, local, cluster, tmp_path):
    """SIGKILL the worker (and its notebook kernel) in the middle of a county: the scheduler gives
    the county to another worker and the run ends with the same bytes, each county once."""
    from daskcluster import kill, wait_for

    build = tmp_path / "build"
    client = scoring_run(province, build, "--scheduler", cluster.address)
    runs = build / "runs/yunnan" / str(Q)

    def a_county_in_progress():
        # a worker's second county, so its kernel is running too
        for note in sorted(runs.glob("*.started.json")):
            started = json.loads(note.read_text(encoding="utf-8"))
            if started["kernel_pid"] and started["county"] not in records(build):
                return started
        return None

    try:
        victim = wait_for(a_county_in_progress, timeout=180, what="a worker's second county")
        kill(victim["pid"])
        kill(victim["kernel_pid"])
        code, out, err = finished(client)
    finally:
        client.kill()
    assert code == 1 and "Traceback" not in err, err
    assert len(records(build)) == COUNTIES
    assert json.loads(records(build)[victim["county"]])["worker"].split(":")[1] != str(victim["pid"])
    a, b = layers(local[1]), layers(build)
    assert a.keys() == b.keys() and [k for k in a if a[k] != b[k]] == []
    assert not [p for p in build.rglob(".*") if p.name != ".gitignore"], "nothing left aside"
    cluster.wait_for_workers(2)  # the nanny restarted it


def test_a_stopped_run_resumes_with_the_counties_not_complete(province, local, cluster, tmp_path):
    """SIGKILL the client half way; the rerun runs only the counties without a record, and
    changing one county's input reruns that county alone; --force reruns all. (Without notebooks,
    to keep it quick: the same layers.)"""
    from daskcluster import wait_for
    from dask.distributed import Client

    build = tmp_path / "build"
    client = scoring_run(province, build, "--scheduler", cluster.address, "--no-notebooks")
    try:
        wait_for(lambda: len(records(build)) >= 3, timeout=180, what="three counties complete")
    finally:
        client.send_signal(signal.SIGKILL)
        client.communicate(timeout=30)
    with Client(cluster.address, timeout=30) as c:  # the counties the workers were running finish
        wait_for(lambda: not any(c.run(lambda dask_worker: dask_worker.state.executing_count).values()),
                 timeout=120, every=0.5, what="idle workers")
    kept = records(build)
    assert 3 <= len(kept) < COUNTIES

    code, out, err = finished(scoring_run(province, build, "--scheduler", cluster.address, "--no-notebooks"))
    assert code == 1 and "Traceback" not in err, err
    after = records(build)
    assert {c: after[c] for c in kept} == kept, "complete counties were not run again"
    assert len(after) == COUNTIES
    assert f"本次运行 {COUNTIES - len(kept)} 个" in out
    a, b = layers(local[1]), layers(build)
    assert a.keys() == b.keys() and [k for k in a if a[k] != b[k]] == []

    changed = province.parent / "changed"
    shutil.copytree(province, changed / "yunnan", symlinks=True)
    county = sorted(after)[-1]
    services = changed / "yunnan" / county / str(Q) / "services.csv"
    services.write_text("".join(services.read_text(encoding="utf-8").splitlines(keepends=True)[:-1]),
                        encoding="utf-8")
    again = run_province(changed / "yunnan", Q, build, workers=1, notebooks=False)
    assert again.ran == [county]
    forced = run_province(changed / "yunnan", Q, build, workers=2, force=True, notebooks=False)
    assert len(forced.ran) == COUNTIES


def test_ctrl_c_stops_a_local_run_without_a_traceback(province, tmp_path):
    from daskcluster import wait_for

    build = tmp_path / "build"
    client = scoring_run(province, build, "--workers", "1")
    try:
        wait_for(lambda: len(records(build)) >= 1, timeout=180, what="one county complete")
        client.send_signal(signal.SIGINT)
        code, out, err = finished(client, timeout=120)
    finally:
        client.kill()
    assert code == 130 and "Traceback" not in err, err
    assert "已中断" in err
    done = records(build)
    assert 1 <= len(done) < COUNTIES
    rerun = run_province(province, Q, build, workers=2, notebooks=False)  # the rest, quickly
    assert sorted(set(rerun.ran) | set(done)) == sorted(p.parent.name for p in province.glob("*/region.yaml"))
    assert not set(rerun.ran) & set(done)


def test_a_province_publishes_from_its_layers_without_any_trace(province, local, tmp_path):
    """The province and site overview pages come from the public layers: the counties' traces
    (most of their bytes) are never read."""
    import helpers
    import sitebuild

    from scoring.outputs.publish import publish_province
    from scoring.outputs.site import build

    run, root = local
    copy = tmp_path / "build"
    shutil.copytree(root, copy)
    for trace in copy.glob(f"results/*/{Q}/trace"):
        shutil.rmtree(trace)
    ws = helpers.workspace(copy)
    layers = [(c, ws.validated(c.name, Q), ws.results(c.name, Q), ws.public(c.name, Q))
              for c in sorted(p.parent for p in province.glob("*/region.yaml"))]
    project = sitebuild.new_project(tmp_path)
    outcomes, skipped = publish_province(province, Q, layers, project / "site")
    assert sorted(o.region for o in outcomes) == run.scored
    assert len(skipped) == 1 and f"({Code.INPUTS_HAVE_ERRORS})" in skipped[0]
    page = (project / "site/disclosures/provinces/yunnan" / f"{Q}.md").read_text(encoding="utf-8")
    summary = run.summary
    for county, name in summary[["county", "county_name"]].drop_duplicates().itertuples(index=False):
        assert f'<a href="../../{county}/{Q}/index.html">{name}</a>' in page
    assert "provinces/yunnan" in (project / "site/disclosures/index.md").read_text(encoding="utf-8")
    again, _ = publish_province(province, Q, layers, project / "site")
    assert {o.status for o in again} == {"unchanged"}
    report = build(project / "mkdocs.yml", [province])
    html = (report.site_dir / "disclosures/provinces/yunnan" / f"{Q}.html").read_text(encoding="utf-8")
    assert "各区县汇总" in html and html.count("/index.html\">") >= COUNTIES - 1
