"""Readable terminal summaries (rich) of what a command found."""

from __future__ import annotations

from pathlib import Path

from rich.console import Group
from rich.panel import Panel
from rich.table import Table

from scoring.inputs.problems import Severity, rows_with

SHOWN_PROBLEMS = 15


def validation_summary(validation, out_dir: Path) -> Group:
    """Rows read/used/rejected per file, problems by rule, and the first problems in full."""
    accounting = Table(title="行数核对 Rows accounted for", title_justify="left")
    for column in ("文件 file", "读取 read", "使用 used", "拒绝 rejected"):
        accounting.add_column(column, justify="left" if column.startswith("文件") else "right")
    for row in validation.accounting.itertuples(index=False):
        accounting.add_row(row.file, f"{row.rows_read:,}", f"{row.rows_used:,}",
                           f"[red]{row.rows_rejected:,}[/]" if row.rows_rejected else "0")

    problems = validation.problems
    parts = [accounting]
    if len(problems):
        by_rule = (
            problems.astype({"count": "int64"}).groupby(["severity", "rule", "file"], sort=True)["count"]
            .sum().reset_index(name="count").sort_values(["severity", "count"], ascending=[True, False])
        )
        counts = Table(title="问题汇总 Problems by rule", title_justify="left")
        for column in ("级别 severity", "规则 rule", "文件 file", "数量 count"):
            counts.add_column(column, justify="right" if column.startswith("数量") else "left")
        for row in by_rule.itertuples(index=False):
            style = "red" if row.severity == "error" else "yellow"
            counts.add_row(f"[{style}]{row.severity}[/]", row.rule, row.file, f"{row.count:,}")
        parts.append(counts)

        first = Table(title=f"前 {min(SHOWN_PROBLEMS, len(problems))} 条问题 First problems",
                      title_justify="left", show_lines=False)
        for column in ("文件", "行", "列", "值", "说明", "处理办法"):
            first.add_column(column, overflow="fold")
        ordered = problems.sort_values("severity", kind="stable")  # errors first
        for row in ordered.head(SHOWN_PROBLEMS).itertuples(index=False):
            first.add_row(row.file, str(row.row), row.column, str(row.value)[:40],
                          row.message, row.action)
        parts.append(first)

    n_errors, n_warnings = rows_with(problems, Severity.ERROR), rows_with(problems, Severity.WARNING)
    where = Path(out_dir) / "validation.csv"
    if validation.ok:
        verdict = (f"[green]{validation.region_dir.name} {validation.quarter} 可以评分[/] "
                   f"(0 个错误,{n_warnings} 个警告)。完整清单:{where}")
    else:
        verdict = (f"[red]{validation.region_dir.name} {validation.quarter} 暂不能评分[/]:"
                   f"{n_errors} 个错误,{n_warnings} 个警告。请按 {where} 逐条改正后重新校验。\n"
                   f"Cannot be scored: {n_errors} errors. Fix them as listed in {where}.")
    parts.append(Panel(verdict, title="结论 Verdict", title_align="left"))
    return Group(*parts)
