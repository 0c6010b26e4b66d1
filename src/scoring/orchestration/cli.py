"""The one entry point, `scoring`: every command a clerk runs, with sentences instead of tracebacks."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from scoring import __version__
from scoring.inputs.layer import read_validated
from scoring.inputs.months import FIRST_YEAR, LAST_YEAR, Quarter
from scoring.orchestration import province as provinces
from scoring.orchestration.report import validation_summary
from scoring.orchestration.run import QuarterJob, run_jobs, run_notebook
from scoring.orchestration.stages import (
    Workspace,
    payments_stage,
    publish_stage,
    validate_stage,
)
from scoring.outputs import site as site_builder
from scoring.outputs.privacy import Roster, roster_from_data
from scoring.outputs.publish import publish_province, withdraw as withdraw_quarter
from scoring.refusal import Code, Refusal, cannot_write, written_error

app = typer.Typer(
    name="scoring",
    help="服务类社会救助绩效评价:校验、评分、拨付与信息公开。 Scoring, payment release and disclosure.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err = Console(stderr=True)

BUILD = Path("build")
DATA = Path("data")
SITE = Path("site")
MKDOCS = Path("mkdocs.yml")  # the site's configuration: its address (site_url) names the OCDS files
WORKSPACE = Workspace(BUILD)


def fail(message: str, code: int = 2) -> None:
    err.print(f"[bold red]错误[/]: {message}")
    raise typer.Exit(code)


def show_refusal(refusal: Refusal) -> None:
    err.print(f"[bold red]不能继续[/] [dim]({refusal.code})[/]:{refusal.message}")
    if refusal.hint:
        err.print(refusal.hint)


def refusals_exit(command):
    """A command whose Refusal is printed as sentences (message, what to do, code); exit 1. The
    one place where a write that failed because of the machine (a read-only folder, a full disk:
    `refusal.cannot_write`) becomes a refusal too; any other OSError is a bug and keeps its
    traceback. Every stage writes aside and renames in, so what was there before is untouched."""
    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except Refusal as refusal:
            show_refusal(refusal)
            raise typer.Exit(1)
        except OSError as error:
            refusal = cannot_write(error)
            if refusal is None:
                raise
            show_refusal(refusal)
            raise typer.Exit(1)
    return wrapper


def parse_quarter(text: str) -> Quarter:
    try:
        return Quarter.parse(text)
    except ValueError:
        fail(f"季度 {text!r} 的写法不对,应写成 2026Q2 这样的形式,年份在 {FIRST_YEAR}–{LAST_YEAR} 之间 "
             f"(quarter must look like 2026Q2, a year {FIRST_YEAR}-{LAST_YEAR})")
        raise  # unreachable: fail() exits


def region_quarters(region_dir: Path) -> list[Quarter]:
    """The quarters present in a region directory, oldest first."""
    found = []
    for child in sorted(region_dir.iterdir()) if region_dir.is_dir() else []:
        if child.is_dir():
            try:
                found.append(Quarter.parse(child.name))
            except ValueError:
                continue
    return sorted(found)


def sample_regions(data_dir: Path = DATA) -> list[Path]:
    return sorted(p.parent for p in data_dir.glob("*/region.yaml"))


def require_region(data_dir: Path) -> None:
    if not data_dir.is_dir():
        fail(f"找不到数据目录 {data_dir} (data directory not found)。请检查路径。")


@app.command()
def version() -> None:
    """显示版本 Show the version."""
    console.print(f"scoring {__version__}")


@app.command()
@refusals_exit
def generate(
    profile: Annotated[str, typer.Argument(help="xiajiang、huining 或 province")],
    out: Annotated[Path, typer.Option("--out", help="输出目录 (region directory, or province root)")],
    seed: Annotated[Optional[int], typer.Option(help="随机种子;同一种子生成完全相同的文件")] = None,
    messy: Annotated[bool, typer.Option("--messy", help="植入已知缺陷并写出 defects.csv")] = False,
    counties: Annotated[int, typer.Option(help="province:县的数量")] = 73,
    records: Annotated[int, typer.Option(help="province:每季度服务记录总数")] = 1_000_000,
    quarters: Annotated[Optional[str], typer.Option(help="province:季度,逗号分隔,如 2026Q2,2026Q3")] = None,
    beneficiaries: Annotated[Optional[int], typer.Option(help="province:每县平均服务对象数(默认约 822)")] = None,
) -> None:
    """生成合成样例区域(从不含真实人员) Write a synthetic sample region."""
    # The generator is a tool beside the product (scoring_synthetic), never part of a quarter's
    # run: only this command loads it.
    from scoring_synthetic.generate import PROFILES
    from scoring_synthetic.generate import generate as run_generate

    if profile not in PROFILES:
        fail(f"没有名为 {profile!r} 的样例配置;可选:{', '.join(PROFILES)}")
    wanted = [str(parse_quarter(q)) for q in quarters.split(",")] if quarters else None
    with console.status(f"正在生成 {profile} …"):
        written = run_generate(
            profile, out, seed, messy=messy, counties=counties,
            records_per_quarter=records, quarters=wanted, beneficiaries=beneficiaries,
        )
    console.print(f"已生成 {len(written)} 个区域 → {out}")


def progress_bar() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console, transient=False)


@app.command()
@refusals_exit
def validate(
    data_dir: Annotated[Path, typer.Argument(help="区域目录,如 data/xiajiang")],
    quarter: Annotated[str, typer.Option("--quarter", "-q", help="季度,如 2026Q2")],
) -> None:
    """校验一个季度的全部输入,写出校验层与问题清单 Validate every input of one quarter."""
    require_region(data_dir)
    q = parse_quarter(quarter)
    where = WORKSPACE.validated(data_dir.name, q)
    layer = validate_stage(data_dir, q, where, reuse=False)  # asked for: always validate afresh
    console.print(validation_summary(layer, where))
    if not layer.ok:
        raise typer.Exit(1)


def run_quarters(quarters: list[tuple[Path, Quarter]], rules: dict | None = None,
                 workers: int | None = None) -> bool:
    """Execute the notebook suite of each (region, quarter), side by side on this machine's cores,
    with a progress bar; True if all succeeded. The first notebook validates (or reuses the
    validated layer of exactly these inputs)."""
    jobs = [QuarterJob(region_dir, str(q), WORKSPACE.validated(region_dir.name, q),
                       WORKSPACE.results(region_dir.name, q), WORKSPACE.notebooks(region_dir.name, q),
                       rules) for region_dir, q in quarters]
    all_ok = True
    with progress_bar() as progress:
        task = progress.add_task("校验、评分、拨付(执行笔记本)", total=len(jobs))
        for job, outcome in run_jobs(jobs, workers):
            progress.advance(task)
            if outcome.ok:
                continue
            all_ok = False
            # a notebook that could not write its layer (read-only folder, full disk) says so
            written = written_error(outcome.error)
            refusal = (cannot_write(written) if written is not None
                       else _refusal_of(job.region_dir, Quarter.parse(job.quarter)))
            if refusal is not None:
                show_refusal(refusal)
            else:
                err.print(f"[bold red]笔记本运行失败[/] {outcome.failed}:{outcome.error}\n"
                          "已执行的笔记本保留在该位置,打开可见出错的单元格。")
    return all_ok


def _refusal_of(region_dir: Path, q: Quarter) -> Refusal | None:
    """Why a quarter's notebooks stopped, when the validated layer says why (errors in inputs)."""
    try:
        read_validated(WORKSPACE.validated(region_dir.name, q), region_dir)
    except Refusal as refusal:
        return refusal
    return None


def run_province_quarter(province_dir: Path, q: Quarter, workers: int | None, scheduler: str | None,
                         force: bool = False, out: str | None = None, notebooks: bool = True) -> bool:
    """Every county of a province, in parallel, with one progress bar (done now, kept from an
    earlier complete run, with errors, remaining); then the province notebook."""
    root = provinces.output_root(out or BUILD)
    workspace = Workspace(root)
    where = f"Dask {scheduler}" if scheduler else f"本机 {workers or 'all'} 进程"
    counts = {"done": 0, "kept": 0, "errors": 0, "remaining": 0}
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("本次完成 {task.fields[done]} · 沿用 {task.fields[kept]} · "
                             "有错误 {task.fields[errors]} · 剩余 {task.fields[remaining]}"),
                  TimeElapsedColumn(), console=console, transient=False) as progress:
        task = progress.add_task(f"{province_dir.name} {q} 各县({where})", total=None, **counts)

        def started(total: int, kept: int) -> None:
            counts["remaining"] = total
            progress.update(task, total=total, **counts)

        def finished(outcome: provinces.CountyOutcome) -> None:
            counts["kept" if outcome.resumed else "done"] += 1
            counts["errors"] += not outcome.ok
            counts["remaining"] -= 1
            progress.update(task, advance=1, **counts)

        try:
            result = provinces.run_province(province_dir, q, root, workers=workers, scheduler=scheduler,
                                            force=force, notebooks=notebooks, on_start=started, on_county=finished)
        except KeyboardInterrupt:
            progress.stop()
            err.print(f"[yellow]已中断[/]:{counts['done'] + counts['kept']} 个县已完整保存。"
                      "再次运行同一命令,只运行未完成的县(加 --force 全部重新运行)。")
            raise typer.Exit(130)
    summary_dir = workspace.results(province_dir.name, q)
    record = run_notebook(
        "province.ipynb", workspace.notebooks(province_dir.name, q) / "province.ipynb",
        {"province_dir": str(province_dir.resolve()), "quarter": str(q), "build_dir": str(root)})
    console.print(f"已评分 {len(result.scored)} 个县(本次运行 {len(result.ran)} 个,"
                  f"沿用上次完整结果 {len(provinces.counties(province_dir)) - len(result.ran)} 个);"
                  f"全省汇总:{summary_dir / 'province_summary.csv'};运行记录笔记本:{record}")
    if len(result.skipped):
        table = Table(title="未通过校验、未评分的县 Counties skipped")
        for column in ("县 county", "错误 errors", "第一个问题 first problem", "清单 report"):
            table.add_column(column, overflow="fold")
        for row in result.skipped.itertuples(index=False):
            table.add_row(row.county, str(row.errors), row.first_problem, str(row.validation_csv))
        err.print(table)
    return len(result.skipped) == 0


@app.command()
@refusals_exit
def run(
    data_dir: Annotated[Path, typer.Argument(help="区域目录,如 data/xiajiang")],
    quarter: Annotated[Optional[str], typer.Option("--quarter", "-q", help="季度,如 2026Q2")] = None,
    all_quarters: Annotated[bool, typer.Option("--all-quarters", help="处理该区域的全部季度")] = False,
    workers: Annotated[Optional[int], typer.Option(help="本机并行进程数(默认全部核心):各季度或各县同时运行")] = None,
    scheduler: Annotated[Optional[str], typer.Option(help="全省:Dask 集群地址,如 tcp://10.0.0.5:8786")] = None,
    force: Annotated[bool, typer.Option("--force", help="全省:重新运行每个县,包括上次已完整运行且输入未变的县")] = False,
    out: Annotated[Optional[str], typer.Option("--out", help="全省:输出根目录(各工作机可达的共享目录或 file:// 地址;默认 build)")] = None,
    notebooks: Annotated[bool, typer.Option("--notebooks/--no-notebooks", help="全省:执行并保留各县的笔记本(默认);--no-notebooks 直接运行各阶段,结果层相同,用于全国规模演练")] = True,
) -> None:
    """用 papermill 执行笔记本评分,保留执行过的笔记本 Score a quarter by running the notebooks.

    DATA_DIR may be a province: a directory of county directories, scored in parallel."""
    require_region(data_dir)
    if all_quarters == (quarter is not None):
        fail("请给出 --quarter 2026Q2,或 --all-quarters(二者选一)")
    if (force or out or not notebooks) and not provinces.is_province(data_dir):
        fail("--force、--out 与 --no-notebooks 只用于全省运行(省目录下各县一个目录)")
    if provinces.is_province(data_dir):
        if all_quarters:
            fail("全省运行请逐季度给出 --quarter")
        if not run_province_quarter(data_dir, parse_quarter(quarter), workers, scheduler, force, out, notebooks):
            raise typer.Exit(1)
        return
    quarters = region_quarters(data_dir) if all_quarters else [parse_quarter(quarter)]
    if not quarters:
        fail(f"{data_dir} 中没有季度目录(如 2026Q2/)")
    ok = run_quarters([(data_dir, q) for q in quarters], workers=workers)
    console.print(f"结果表:{BUILD / 'results' / data_dir.name};执行过的笔记本:{BUILD / 'notebooks' / data_dir.name}")
    if not ok:
        raise typer.Exit(1)


@app.command()
@refusals_exit
def payments(
    data_dir: Annotated[Path, typer.Argument(help="区域目录,如 data/xiajiang")],
    quarter: Annotated[str, typer.Option("--quarter", "-q", help="季度,如 2026Q2")],
) -> None:
    """生成财务拨付计划(xlsx + csv) Write the finance payment-release schedule."""
    require_region(data_dir)
    q = parse_quarter(quarter)
    folder = WORKSPACE.payments(data_dir.name, q)
    there = set(folder.iterdir()) if folder.is_dir() else set()
    for path in write_payments(data_dir, q):
        # a published version is never rewritten: the file already there is the one finance has
        kept = path in there and path.stem.endswith("_已公布")
        console.print(f"已公布的版本保持不变 {path}" if kept else f"已写出 {path}")


def write_payments(region_dir: Path, q: Quarter) -> list[Path]:
    region = region_dir.name
    return payments_stage(region_dir, WORKSPACE.validated(region, q), WORKSPACE.results(region, q),
                          WORKSPACE.payments(region, q), SITE)


@app.command()
@refusals_exit
def publish(
    data_dir: Annotated[Path, typer.Argument(help="区域目录,如 data/xiajiang")],
    quarter: Annotated[str, typer.Option("--quarter", "-q", help="季度,如 2026Q2")],
    revise: Annotated[bool, typer.Option("--revise", help="更正已公布的季度(原版本保留)")] = False,
    reason: Annotated[Optional[str], typer.Option("--reason", help="更正原因,将公示在更正公告中")] = None,
    out: Annotated[Optional[str], typer.Option("--out", help="全省:各县结果所在的输出根目录(与 scoring run --out 相同;默认 build)")] = None,
) -> None:
    """公布一个季度的结果到 site/disclosures/ Publish a quarter's disclosure."""
    require_region(data_dir)
    q = parse_quarter(quarter)
    if provinces.is_province(data_dir):
        _publish_province(data_dir, q, revise, reason, Workspace(provinces.output_root(out or BUILD)))
        return
    if out:
        fail("--out 只用于全省公布(省目录下各县一个目录);单个区域的结果在 build/ 中")
    outcome = _publish(data_dir, q, revise, reason)
    if outcome.status == "unchanged":
        console.print(f"{data_dir.name} {q} 的结果与已公布的第 {outcome.version} 版相同,未作改动。")
    elif outcome.status == "revised":
        console.print(f"已更正 {data_dir.name} {q}:第 {outcome.version} 版 → {outcome.path}"
                      f"(原版本保留在 {outcome.path / f'v{outcome.version - 1}'})")
    else:
        console.print(f"已公布 {data_dir.name} {q} → {outcome.path}")
    console.print("运行 scoring site 生成网站。")


def _publish_province(province_dir: Path, q: Quarter, revise: bool, reason: str | None,
                      workspace: Workspace) -> None:
    """Every county's layers from the output root its run wrote to (`scoring run --out`)."""
    layers = [(region, workspace.validated(region.name, q), workspace.results(region.name, q),
               workspace.public(region.name, q)) for region in provinces.counties(province_dir)]
    with console.status(f"正在公布 {province_dir.name} {q} 各区县 …"):
        outcomes, skipped = publish_province(province_dir, q, layers, SITE, revise=revise, reason=reason,
                                             site_url=site_builder.site_url(MKDOCS))
    changed = sum(o.status != "unchanged" for o in outcomes)
    console.print(f"已公布 {len(outcomes)} 个区县({changed} 个有变化)及全省汇总页 "
                  f"{SITE / 'disclosures' / 'provinces' / province_dir.name / f'{q}.md'}")
    for line in skipped:
        err.print(f"[yellow]未公布[/] {line}")
    console.print("运行 scoring site --data <省目录> 生成网站(名单扫描读取各县的输入)。")
    if skipped:
        raise typer.Exit(1)


def _publish(region_dir: Path, q: Quarter, revise: bool = False, reason: str | None = None):
    region = region_dir.name
    return publish_stage(region_dir, WORKSPACE.validated(region, q), WORKSPACE.results(region, q),
                         WORKSPACE.public(region, q), SITE, revise=revise, reason=reason,
                         site_url=site_builder.site_url(MKDOCS))


@app.command()
@refusals_exit
def withdraw(
    data_dir: Annotated[Path, typer.Argument(help="区域目录,如 data/xiajiang:其文件夹名即公布的区域名")],
    quarter: Annotated[str, typer.Option("--quarter", "-q", help="季度,如 2026Q2")],
    reason: Annotated[str, typer.Option("--reason", help="撤回原因(必填,公示在撤回公告中;不得含个人信息)")],
) -> None:
    """撤回一个已公布的季度(整季,全部版本),留下撤回公告 Withdraw a published quarter.

    整季撤回,不能只撤回其中一个版本:该季度的全部版本(含 v1/ 等旧版本)、OCDS 发布与记录包中的发布、数据包说明都从 site/disclosures/ 中删除,原地址留下注明日期(北京时间)和原因的撤回公告(区域页面、更正公告页面和 withdrawn.json)。改正输入后可以重新公布。之后运行 scoring site。

    The whole quarter is withdrawn, every version of it (v1/ archives included), never one version alone; a dated notice with the reason takes its place. Then run scoring site."""
    q = parse_quarter(quarter)
    # the reason is published: it must hold no personal value of the region's inputs
    roster = roster_from_data([data_dir]) if (data_dir / "region.yaml").is_file() else Roster()
    done = withdraw_quarter(SITE, data_dir.name, str(q), reason, roster,
                            site_url=site_builder.site_url(MKDOCS))
    versions = "、".join(f"第 {v} 版" for v in done.versions)
    console.print(f"已撤回 {done.region} {done.quarter}({versions}),撤回公告:{done.path}")
    console.print("运行 scoring site 重新生成网站:撤回的内容在那之前仍在 build/site/ 中。")


@app.command()
@refusals_exit
def site(
    serve: Annotated[bool, typer.Option("--serve", help="生成后在本机提供网站(127.0.0.1)")] = False,
    port: Annotated[int, typer.Option(help="--serve 的端口")] = 8000,
    config: Annotated[Path, typer.Option(help="MkDocs 配置文件")] = Path("mkdocs.yml"),
    data: Annotated[Optional[list[Path]], typer.Option(
        "--data", help="隐私扫描的名单来源(含 region.yaml 的目录的上级),可重复;默认 data/")] = None,
) -> None:
    """生成公示网站(mkdocs build --strict)并做隐私扫描 Build the public site."""
    build_site(config, data or [DATA], serve, port)


def build_site(config: Path, data_roots: list[Path], serve: bool, port: int) -> None:
    if not config.is_file():
        raise Refusal(Code.SITE_CONFIG_MISSING, f"找不到 {config}。", "请在项目根目录运行 scoring site。")
    with console.status("正在生成网站(mkdocs build --strict)并扫描个人信息 …"):
        report = site_builder.build(config, data_roots)
    index = report.site_dir / "index.html"
    console.print(f"网站已生成:{report.pages} 个页面,用时 {report.seconds:.1f} 秒;隐私扫描未发现个人信息。")
    console.print(f"打开 {index}(可直接用浏览器打开,或运行 scoring site --serve)")
    if serve:
        site_builder.serve(report.site_dir, port)


@app.command()
@refusals_exit
def demo(
    data_dir: Annotated[Path, typer.Option(help="样例数据根目录")] = DATA,
    serve: Annotated[bool, typer.Option("--serve", help="完成后在本机提供网站(127.0.0.1)")] = False,
    port: Annotated[int, typer.Option(help="--serve 的端口")] = 8000,
) -> None:
    """新手的一条命令:校验、评分、公布 data/ 中每个样例区域的每个季度,并生成网站 The newcomer's one command."""
    regions = sample_regions(data_dir)
    if not regions:
        fail(f"{data_dir} 中没有样例区域(找不到 */region.yaml)。可用 scoring generate xiajiang --out data/xiajiang 生成。")
    summary = Table(title="样例区域 Sample regions")
    for column in ("区域 region", "季度 quarter", "错误 errors", "警告 warnings", "结果 outcome"):
        summary.add_column(column)
    all_ok = True
    # every quarter's notebooks side by side (the first notebook validates each quarter, once);
    # then payments and publication, one quarter after the other
    run_quarters([(region_dir, q) for region_dir in regions for q in region_quarters(region_dir)])
    for region_dir in regions:
        for q in region_quarters(region_dir):
            errors = warnings = "—"
            try:
                layer = read_validated(WORKSPACE.validated(region_dir.name, q), region_dir, scorable=False)
                errors, warnings = layer.record["errors"], layer.record["warnings"]
                published = _publish(region_dir, q, revise=True, reason="重新运行样例数据(scoring demo)")
                write_payments(region_dir, q)
                outcome = {"published": "已公布", "unchanged": "已公布(无变化)",
                           "revised": f"已更正(第 {published.version} 版)"}[published.status]
            except Refusal as refusal:
                outcome = f"[red]未评分 not scored[/] ({refusal.code})"
                all_ok = False
            summary.add_row(region_dir.name, str(q), str(errors), str(warnings), outcome)
    console.print(summary)
    console.print(f"结果表:{BUILD / 'results'};拨付计划:{BUILD / 'payments'};执行过的笔记本:{BUILD / 'notebooks'}")
    build_site(MKDOCS, [data_dir], serve, port)
    if not all_ok:
        raise typer.Exit(1)


def main() -> None:  # pragma: no cover - console script entry
    app()
