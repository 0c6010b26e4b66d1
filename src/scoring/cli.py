"""The one entry point, `scoring`: every command a clerk runs, with sentences instead of tracebacks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from . import __version__
from .months import Quarter

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


def fail(message: str, code: int = 2) -> None:
    err.print(f"[bold red]错误[/]: {message}")
    raise typer.Exit(code)


def parse_quarter(text: str) -> Quarter:
    try:
        return Quarter.parse(text)
    except ValueError:
        fail(f"季度 {text!r} 的写法不对,应写成 2026Q2 这样的形式 (quarter must look like 2026Q2)")
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
def generate(
    profile: Annotated[str, typer.Argument(help="xiajiang、huining 或 province")],
    out: Annotated[Path, typer.Option("--out", help="输出目录 (region directory, or province root)")],
    seed: Annotated[Optional[int], typer.Option(help="随机种子;同一种子生成完全相同的文件")] = None,
    messy: Annotated[bool, typer.Option("--messy", help="植入已知缺陷并写出 defects.csv")] = False,
    counties: Annotated[int, typer.Option(help="province:县的数量")] = 73,
    records: Annotated[int, typer.Option(help="province:每季度服务记录总数")] = 1_000_000,
    quarters: Annotated[Optional[str], typer.Option(help="province:季度,逗号分隔,如 2026Q2,2026Q3")] = None,
) -> None:
    """生成合成样例区域(从不含真实人员) Write a synthetic sample region."""
    from .generate import PROFILES
    from .generate import generate as run_generate

    if profile not in PROFILES:
        fail(f"没有名为 {profile!r} 的样例配置;可选:{', '.join(PROFILES)}")
    wanted = [str(parse_quarter(q)) for q in quarters.split(",")] if quarters else None
    with console.status(f"正在生成 {profile} …"):
        written = run_generate(
            profile, out, seed, messy=messy, counties=counties,
            records_per_quarter=records, quarters=wanted,
        )
    console.print(f"已生成 {len(written)} 个区域 → {out}")


def _print_validation(validation, out_dir: Path) -> None:
    from .report import validation_summary

    console.print(validation_summary(validation, out_dir))


@app.command()
def validate(
    data_dir: Annotated[Path, typer.Argument(help="区域目录,如 data/xiajiang")],
    quarter: Annotated[str, typer.Option("--quarter", "-q", help="季度,如 2026Q2")],
    out: Annotated[Path, typer.Option(help="结果根目录")] = BUILD / "results",
) -> None:
    """校验一个季度的全部输入,写出问题清单 Validate every input of one quarter."""
    from .validate import validate_quarter

    require_region(data_dir)
    q = parse_quarter(quarter)
    validation = validate_quarter(data_dir, q)
    out_dir = out / data_dir.name / str(q)
    validation.write(out_dir)
    _print_validation(validation, out_dir)
    if not validation.ok:
        raise typer.Exit(1)


def _refuse_unless_valid(region_dir: Path, q: Quarter, out_dir: Path) -> bool:
    """Validate first: a quarter with errors is never scored. True when it may be scored."""
    from .validate import validate_quarter

    validation = validate_quarter(region_dir, q)
    validation.write(out_dir)
    if validation.ok:
        return True
    n_errors = int((validation.problems["severity"] == "error").sum())
    err.print(
        f"[bold red]不评分[/]:{region_dir.name} {q} 的输入有 {n_errors} 个错误。"
        f"请按 {out_dir / 'validation.csv'} 逐条改正后重新运行(或先运行 scoring validate 查看摘要)。\n"
        f"Not scored: {n_errors} input errors; see {out_dir / 'validation.csv'}."
    )
    return False


def run_quarters(region_dir: Path, quarters: list[Quarter], rules: dict | None = None) -> bool:
    """Execute the notebook suite for each quarter with a progress bar; True if all succeeded."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from .run import run_quarter, suite

    notebooks = suite()
    all_ok = True
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, transient=False) as progress:
        task = progress.add_task("notebooks", total=len(notebooks) * len(quarters))
        for q in quarters:
            results_dir = BUILD / "results" / region_dir.name / str(q)
            progress.update(task, description=f"{region_dir.name} {q} 校验")
            if not _refuse_unless_valid(region_dir, q, results_dir):
                progress.advance(task, len(notebooks))
                all_ok = False
                continue
            progress.update(task, description=f"{region_dir.name} {q} 运行笔记本")
            outcome = run_quarter(
                region_dir, str(q), results_dir, BUILD / "notebooks" / region_dir.name / str(q),
                rules=rules, on_notebook=lambda _: progress.advance(task),
            )
            if not outcome.ok:
                all_ok = False
                err.print(f"[bold red]笔记本运行失败[/] {outcome.failed}:{outcome.error}\n"
                          "已执行的笔记本保留在该位置,打开可见出错的单元格。")
    return all_ok


@app.command()
def run(
    data_dir: Annotated[Path, typer.Argument(help="区域目录,如 data/xiajiang")],
    quarter: Annotated[Optional[str], typer.Option("--quarter", "-q", help="季度,如 2026Q2")] = None,
    all_quarters: Annotated[bool, typer.Option("--all-quarters", help="处理该区域的全部季度")] = False,
) -> None:
    """用 papermill 执行笔记本评分,保留执行过的笔记本 Score a quarter by running the notebooks."""
    require_region(data_dir)
    if all_quarters == (quarter is not None):
        fail("请给出 --quarter 2026Q2,或 --all-quarters(二者选一)")
    quarters = region_quarters(data_dir) if all_quarters else [parse_quarter(quarter)]
    if not quarters:
        fail(f"{data_dir} 中没有季度目录(如 2026Q2/)")
    ok = run_quarters(data_dir, quarters)
    console.print(f"结果表:{BUILD / 'results' / data_dir.name};执行过的笔记本:{BUILD / 'notebooks' / data_dir.name}")
    if not ok:
        raise typer.Exit(1)


@app.command()
def payments(
    data_dir: Annotated[Path, typer.Argument(help="区域目录,如 data/xiajiang")],
    quarter: Annotated[str, typer.Option("--quarter", "-q", help="季度,如 2026Q2")],
) -> None:
    """生成财务拨付计划(xlsx + csv) Write the finance payment-release schedule."""
    require_region(data_dir)
    for path in write_payments(data_dir, parse_quarter(quarter)):
        console.print(f"已写出 {path}")


def write_payments(region_dir: Path, q: Quarter) -> list[Path]:
    from .workbook import ScheduleRefused, build_schedule

    try:
        return build_schedule(region_dir, q, BUILD / "results" / region_dir.name / str(q),
                              BUILD / "payments" / region_dir.name / str(q), SITE)
    except ScheduleRefused as refusal:
        fail(str(refusal), code=1)
        raise


@app.command()
def demo(
    data_dir: Annotated[Path, typer.Option(help="样例数据根目录")] = DATA,
    out: Annotated[Path, typer.Option(help="结果根目录")] = BUILD / "results",
) -> None:
    """新手的一条命令:处理 data/ 中每个样例区域的每个季度 The newcomer's one command."""
    from .validate import validate_quarter

    regions = sample_regions(data_dir)
    if not regions:
        fail(f"{data_dir} 中没有样例区域(找不到 */region.yaml)")
    summary = Table(title="样例区域校验结果 Validation of the sample regions")
    for column in ("区域 region", "季度 quarter", "错误 errors", "警告 warnings", "可评分 scorable"):
        summary.add_column(column)
    all_ok = True
    for region_dir in regions:
        for q in region_quarters(region_dir):
            validation = validate_quarter(region_dir, q)
            validation.write(out / region_dir.name / str(q))
            severities = validation.problems["severity"].value_counts()
            summary.add_row(
                region_dir.name, str(q), str(severities.get("error", 0)),
                str(severities.get("warning", 0)), "是 yes" if validation.ok else "[red]否 no[/]",
            )
            all_ok &= validation.ok
    console.print(summary)
    console.print(f"问题清单已写入 {out}/<区域>/<季度>/validation.csv")
    if not all_ok:
        raise typer.Exit(1)


def main() -> None:  # pragma: no cover - console script entry
    app()
