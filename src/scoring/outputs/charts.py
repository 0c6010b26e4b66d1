"""Plotly figures of the result tables, for the evaluator's notebooks and the public site.

Each function takes a result table (as written to CSV: strings for decimals) and returns a
figure; none of them reads files or carries personal data.
"""

from __future__ import annotations

import base64
import io
import json
import re
import warnings

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from scoring.inputs.months import Quarter
from scoring.inputs.rules import Rules
from scoring.inputs.schema import GRADES

GRADE_COLOURS = {"优秀": "#1b7837", "良好": "#5aae61", "合格": "#d9a21b", "不合格": "#c2392b", "": "#8c8c8c"}
ANSWER_COLOURS = ["#c2392b", "#e67e22", "#bdbdbd", "#74add1", "#2166ac"]
FONT = dict(family="system-ui, 'Noto Sans CJK SC', 'Microsoft YaHei', sans-serif", size=13)


def _number(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series.replace("", None), errors="coerce")


def _layout(fig: go.Figure, title: str, height: int = 360) -> go.Figure:
    # Read on 390 px phones as much as on desktops: the legend is one horizontal row (or two)
    # below the plot, left-aligned, in the margin it pushes out for itself, so it never covers
    # the plot or the title; axes push their margins for whole tick labels and titles; the
    # figure takes its container's width (autosize; charts.js draws it with responsive: true).
    fig.update_layout(title=dict(text=title, x=0, xanchor="left", y=1, yref="container", yanchor="top",
                                 pad=dict(t=8), automargin=True),
                      font=FONT, height=height, autosize=True,
                      margin=dict(l=8, r=16, t=40, b=8), plot_bgcolor="white",
                      legend=dict(orientation="h", x=0, xanchor="left", y=0, yanchor="bottom",
                                  yref="container", traceorder="normal"))
    fig.update_xaxes(automargin=True, title_standoff=6)
    fig.update_yaxes(automargin=True, title_standoff=6)
    return fig


def _wrapped(names, width: int = 7) -> list[str]:
    """Axis labels of long names broken into lines of `width` characters (the data keeps the
    names whole): on a phone a 13-character name took half the chart's width."""
    return ["<br>".join(str(n)[i:i + width] for i in range(0, len(str(n)), width)) or str(n)
            for n in names]


def _name_axis(fig: go.Figure, names, axis: str = "y") -> None:
    names = list(dict.fromkeys(names))
    settings = dict(tickmode="array", tickvals=names, ticktext=_wrapped(names))
    (fig.update_yaxes if axis == "y" else fig.update_xaxes)(**settings)


def score_chart(scores: pd.DataFrame, rules: Rules) -> go.Figure:
    """Each provider's score with its 95% interval, coloured by grade, against the band edges."""
    table = scores.assign(score_value=_number(scores["score"]), low=_number(scores["score_ci_low"]),
                          high=_number(scores["score_ci_high"]))
    fig = go.Figure()
    for grade in (*GRADES, ""):
        part = table[table["grade"].fillna("") == grade]
        if part.empty or part["score_value"].isna().all():
            continue
        fig.add_bar(
            y=part["provider_name"], x=part["score_value"], orientation="h",
            name=grade or "暂不评级", marker_color=GRADE_COLOURS[grade],
            error_x=dict(type="data", symmetric=False,
                         array=part["high"] - part["score_value"],
                         arrayminus=part["score_value"] - part["low"], color="#333"),
            hovertemplate="%{y}: %{x:.2f} 分<extra>" + (grade or "暂不评级") + "</extra>",
        )
    _band_edges(fig, rules, "x")
    _name_axis(fig, table["provider_name"])
    fig.update_xaxes(range=[0, 100], title="综合得分(95% 置信区间)")
    fig.update_yaxes(autorange="reversed")  # the first provider on top, as in the table
    return _layout(fig, "综合得分与等级", height=170 + 60 * max(1, len(table)))


def _band_edges(fig: go.Figure, rules: Rules, axis: str) -> None:
    """The grade bands' lower edges as dotted lines, labelled outside the plot: on the top edge,
    in two alternating rows, for a vertical line (edges 10 points apart are 25 px apart on a
    phone: side by side, their labels piled on each other); at the right end for a horizontal one."""
    for i, (grade, edge) in enumerate(sorted(rules.grade_bands.items(), key=lambda item: item[1])):
        if axis == "x":
            fig.add_vline(x=edge, line_dash="dot", line_color="#555")
            fig.add_annotation(x=edge, xref="x", y=1, yref="paper", yanchor="bottom", yshift=2 + 16 * (i % 2),
                               text=f"{grade} {edge:g}", showarrow=False, font=dict(size=11, color="#333"))
        else:
            fig.add_hline(y=edge, line_dash="dot", line_color="#555")
            fig.add_annotation(y=edge, yref="y", x=1, xref="paper", xanchor="left", xshift=4,
                               text=f"{grade} {edge:g}", showarrow=False, font=dict(size=11, color="#333"))


def component_chart(scores: pd.DataFrame) -> go.Figure:
    """Hours, volume and quality scores side by side for each provider."""
    fig = go.Figure()
    for column, label, colour in (("hours_score", "服务时长", "#4575b4"),
                                  ("volume_score", "服务数量", "#91bfdb"),
                                  ("quality_score", "服务质量", "#fc8d59")):
        fig.add_bar(y=scores["provider_name"], x=_number(scores[column]), name=label,
                    marker_color=colour, orientation="h",
                    hovertemplate="%{y}: %{x:.2f} 分<extra>" + label + "</extra>")
    _name_axis(fig, scores["provider_name"])
    fig.update_xaxes(range=[0, 100], title="分项得分")
    fig.update_yaxes(autorange="reversed")  # the first provider on top, as in the table
    fig.update_layout(barmode="group")
    return _layout(fig, "分项得分:时长、数量、质量", height=150 + 75 * max(1, len(scores)))


def satisfaction_chart(satisfaction: pd.DataFrame, names: dict[str, str]) -> go.Figure:
    """The 1-5 answers of each provider and the region, as shares of its surveys."""
    table = satisfaction[satisfaction["surveys"] > 0]
    labels = [names.get(p, "全县合计" if p == "ALL" else p) for p in table["provider_id"]]
    fig = go.Figure()
    for answer in range(1, 6):
        share = 100 * table[f"n{answer}"] / table["surveys"]
        fig.add_bar(y=labels, x=share, orientation="h", name=f"{answer} 分",
                    marker_color=ANSWER_COLOURS[answer - 1],
                    hovertemplate="%{y}: %{x:.1f}%<extra>" + f"{answer} 分</extra>")
    fig.update_layout(barmode="stack")
    _name_axis(fig, labels)
    fig.update_xaxes(range=[0, 100], title="占回访数的百分比(5 = 非常满意)")
    return _layout(fig, "满意度测评分布", height=120 + 50 * max(1, len(table)))


def spending_chart(spending: pd.DataFrame) -> go.Figure:
    """Annualised per-capita spending against the standard."""
    row = spending.iloc[0]
    fig = go.Figure()
    fig.add_bar(x=["人均年化支出", "人均标准"],
                y=[float(row["per_capita_annual"] or 0), float(row["per_capita_standard"])],
                marker_color=["#4575b4", "#bdbdbd"], text=[row["per_capita_annual"], row["per_capita_standard"]],
                textposition="outside", cliponaxis=False)
    fig.update_yaxes(title="元/人·年", rangemode="tozero")
    return _layout(fig, "人均支出与标准")


def payment_chart(payments: pd.DataFrame) -> go.Figure:
    """Released and withheld money by provider."""
    fig = go.Figure()
    for column, label, colour in (("release", "拨付", "#1b7837"), ("withheld", "暂扣/扣减", "#c2392b")):
        fig.add_bar(y=payments["provider_name"], x=_number(payments[column]), name=label,
                    marker_color=colour, orientation="h",
                    hovertemplate="%{y}: %{x:,.2f} 元<extra>" + label + "</extra>")
    _name_axis(fig, payments["provider_name"])
    fig.update_layout(barmode="stack")
    fig.update_xaxes(title="元", rangemode="tozero", tickformat=",d")
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, "拨付与暂扣", height=150 + 50 * max(1, len(payments)))


def satisfaction_rate_chart(satisfaction: pd.DataFrame) -> go.Figure:
    """Each provider's satisfaction rate with its Wilson 95% interval (public tables: rates only,
    withheld rates left out)."""
    table = satisfaction[satisfaction["rate"] != ""]
    rate, low, high = _number(table["rate"]), _number(table["ci_low"]), _number(table["ci_high"])
    fig = go.Figure()
    fig.add_bar(y=table["provider_name"], x=rate, orientation="h", name="满意率",
                marker_color="#4575b4",
                error_x=dict(type="data", symmetric=False, array=high - rate, arrayminus=rate - low,
                             color="#333"),
                hovertemplate="%{y}: %{x:.2f}%<extra></extra>")
    _name_axis(fig, table["provider_name"])
    fig.update_xaxes(range=[0, 100], title="满意率 %(Wilson 95% 区间)")
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, "满意率", height=120 + 50 * max(1, len(table)))


def score_history_chart(history: pd.DataFrame, rules: Rules) -> go.Figure:
    """One provider's score over the published quarters, with its 95% intervals and the band edges
    of the latest rules. `history`: quarter, score, score_ci_low, score_ci_high, grade."""
    table = history[history["score"] != ""]
    score = _number(table["score"])
    fig = go.Figure()
    # the quarter named as the tables name it (2026年第二季度), its year on a line of its own so
    # four quarters fit a phone's width without turning sideways
    quarters = [Quarter.parse(q).label.replace("年", "年<br>", 1) for q in table["quarter"]]
    fig.add_scatter(x=quarters, y=score, mode="lines+markers", name="综合得分",
                    line_color="#4575b4",
                    marker=dict(size=10, color=[GRADE_COLOURS.get(g, "#8c8c8c") for g in table["grade"]]),
                    error_y=dict(type="data", symmetric=False,
                                 array=_number(table["score_ci_high"]) - score,
                                 arrayminus=score - _number(table["score_ci_low"]), color="#333"),
                    text=table["grade"], hovertemplate="%{x}: %{y:.2f} 分 %{text}<extra></extra>")
    _band_edges(fig, rules, "y")
    fig.update_yaxes(range=[0, 100], title="综合得分(95% 置信区间)")
    fig.update_xaxes(type="category", title="季度")
    _layout(fig, "历季综合得分")
    fig.update_layout(margin_r=60)  # room for the band labels right of the plot (annotations push no margin)
    return fig


def province_grade_chart(summary: pd.DataFrame) -> go.Figure:
    """How many providers got each grade, county by county (province summary table)."""
    grades = summary.assign(grade=summary["grade"].replace("", "暂不评级"))
    counts = grades.groupby(["county_name", "grade"]).size().unstack(fill_value=0)
    fig = go.Figure()
    for grade in (*GRADES, "暂不评级"):
        if grade in counts:
            fig.add_bar(x=counts.index, y=counts[grade], name=grade,
                        marker_color=GRADE_COLOURS.get(grade, GRADE_COLOURS[""]))
    fig.update_layout(barmode="stack")
    fig.update_yaxes(title="机构数")
    return _layout(fig, "各县机构等级分布", height=420)


# Static copies for the executed notebooks --------------------------------------------------------
#
# A notebook exported to HTML (`jupyter nbconvert --to html`) shows no plotly figure: it needs
# plotly.js to draw. So each figure is also drawn as an SVG, from the same figure's data, by
# matplotlib: no browser is needed (plotly's own static export, kaleido, drives a Chromium, which a
# fresh machine has not got), and with svg.fonttype "none" the text stays text, drawn by whoever
# views the file in their own fonts, so Chinese shows even where the machine that ran the notebook
# has no CJK font. `show` puts both in one output: Jupyter draws the interactive figure, nbconvert's
# HTML (which does not know plotly's type) the SVG.

PLOTLY_MIME = "application/vnd.plotly.v1+json"
SVG_MIME = "image/svg+xml"


def _values(values) -> list:
    if values is None:
        return []
    if isinstance(values, dict) and "bdata" in values:  # plotly's typed array (base64)
        return list(np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"]))
    return list(values)


def _plain_text(text) -> str:
    return re.sub(r"<br\s*/?>", "\n", str(text or ""))


def static_svg(fig: go.Figure) -> str:
    """The figure drawn as an SVG by matplotlib (bars, markers and lines with their error bars,
    grade-band lines, axis titles and ranges, legend), text kept as text."""
    # matplotlib for the static copy only: the site and the scoring never load it; a Figure
    # without pyplot (no global state, no GUI backend) writes its SVG itself
    from matplotlib import rc_context
    from matplotlib.figure import Figure  # as above: only the static copy needs it

    figure = json.loads(fig.to_json())
    layout = figure.get("layout", {})
    traces = figure.get("data", [])
    horizontal = any(t.get("orientation") == "h" for t in traces)
    height = float(layout.get("height") or 360) / 96
    with warnings.catch_warnings(), rc_context({"svg.fonttype": "none", "svg.hashsalt": "scoring", "font.family": "sans-serif",
                         "font.sans-serif": ["Noto Sans CJK SC", "Microsoft YaHei", "DejaVu Sans"],
                         "font.size": 9, "axes.spines.top": False, "axes.spines.right": False}):
        # a machine without a CJK font (a fresh Debian) measures Chinese with a fallback font and
        # warns once per character; the SVG keeps the text, which the viewer draws in its own fonts
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from font")
        canvas = Figure(figsize=(7.5, max(2.5, height)))
        ax = canvas.add_subplot()
        categories: list = []
        for trace in traces:
            for value in _values(trace.get("y") if horizontal else trace.get("x")):
                if isinstance(value, str) and value not in categories:
                    categories.append(value)
        position = {c: i for i, c in enumerate(categories)}
        bars = [t for t in traces if t.get("type") == "bar"]
        mode = layout.get("barmode", "group")
        # grouped bars side by side within a category: only the traces that have a bar there
        sharing: dict = {}
        for number, trace in enumerate(bars):
            for c in _values(trace.get("y") if horizontal else trace.get("x")):
                sharing.setdefault(position.get(c, c), []).append(number)
        stacked = [0.0] * len(categories)
        for index, trace in enumerate(traces):
            across = _values(trace.get("y") if horizontal else trace.get("x"))
            along = [float("nan") if v is None else float(v)
                     for v in _values(trace.get("x") if horizontal else trace.get("y"))]
            spots = [position.get(c, i) for i, c in enumerate(across)]
            colour = (trace.get("marker") or {}).get("color") or "#4575b4"
            error = trace.get("error_x" if horizontal else "error_y") or {}
            errors = None
            if error.get("array") is not None:
                errors = [_values(error.get("arrayminus")), _values(error.get("array"))]
            if trace.get("type") == "bar":
                number, group = bars.index(trace), mode == "group"
                width = [0.8 / (len(sharing[s]) if group else 1) for s in spots]
                where = [s + ((sharing[s].index(number) - (len(sharing[s]) - 1) / 2) * w if group else 0)
                         for s, w in zip(spots, width)]
                base = [stacked[s] if mode == "stack" else 0 for s in spots]
                draw = ax.barh if horizontal else ax.bar
                drawn = draw(where, along, [w * 0.95 for w in width], base, color=colour, label=trace.get("name"),
                             **({"xerr" if horizontal else "yerr": errors, "ecolor": "#333", "capsize": 3}
                                if errors else {}))
                if mode == "stack":
                    for s, v in zip(spots, along):
                        stacked[s] += 0 if v != v else v
                for label, bar in zip(trace.get("text") or [], drawn):
                    x, y = (bar.get_width(), bar.get_y() + bar.get_height() / 2) if horizontal else \
                        (bar.get_x() + bar.get_width() / 2, bar.get_height())
                    ax.annotate(str(label), (x, y), ha="center", va="bottom", fontsize=8)
            else:
                ax.errorbar(spots, along, yerr=errors, color=(trace.get("line") or {}).get("color", "#4575b4"),
                            ecolor="#333", capsize=3, marker=None, label=trace.get("name"))
                ax.scatter(spots, along, c=colour if isinstance(colour, list) else [colour], s=40, zorder=3)
        for shape in layout.get("shapes", []):
            if shape.get("xref") == "x":
                ax.axvline(shape["x0"], color="#555", linestyle=":", linewidth=1)
            elif shape.get("yref") == "y":
                ax.axhline(shape["y0"], color="#555", linestyle=":", linewidth=1)
        for note in layout.get("annotations", []):
            if note.get("xref") == "x":
                ax.annotate(_plain_text(note["text"]), (note["x"], 1), xycoords=("data", "axes fraction"),
                            ha="center", va="bottom", fontsize=8, color="#333")
            elif note.get("yref") == "y":
                ax.annotate(_plain_text(note["text"]), (1, note["y"]), xycoords=("axes fraction", "data"),
                            ha="left", va="center", fontsize=8, color="#333")
        names_axis, value_axis = (layout.get("yaxis", {}), layout.get("xaxis", {})) if horizontal else \
            (layout.get("xaxis", {}), layout.get("yaxis", {}))
        labels = dict(zip(names_axis.get("tickvals") or [], names_axis.get("ticktext") or []))
        ticks = (ax.set_yticks if horizontal else ax.set_xticks)
        ticks(range(len(categories)), [_plain_text(labels.get(c, c)) for c in categories])
        if value_axis.get("tickformat") == ",d":  # money: 100,000 as the page writes it
            (ax.xaxis if horizontal else ax.yaxis).set_major_formatter("{x:,.0f}")
        if value_axis.get("range"):
            (ax.set_xlim if horizontal else ax.set_ylim)(*value_axis["range"])
        if names_axis.get("autorange") == "reversed":
            (ax.invert_yaxis if horizontal else ax.invert_xaxis)()
        for axis, setter in (("xaxis", ax.set_xlabel), ("yaxis", ax.set_ylabel)):
            setter(_plain_text((layout.get(axis, {}).get("title") or {}).get("text", "")))
        ax.set_title(_plain_text((layout.get("title") or {}).get("text", "")), loc="left", pad=18)
        if len(traces) > 1:
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=min(5, len(traces)), frameon=False)
        canvas.tight_layout()
        out = io.StringIO()
        canvas.savefig(out, format="svg", metadata={"Date": None})
    return out.getvalue()


def figure_bundle(fig: go.Figure) -> dict:
    """The figure as one notebook output: plotly's JSON (interactive in Jupyter) and its SVG copy
    (shown by nbconvert's HTML and any viewer without plotly.js)."""
    title = _plain_text((fig.layout.title.text if fig.layout.title else "") or "图表")
    return {PLOTLY_MIME: json.loads(fig.to_json()), SVG_MIME: static_svg(fig), "text/plain": title}


def show(fig: go.Figure) -> None:
    """Display a figure in a notebook with its static copy beside it (`figure_bundle`)."""
    from IPython.display import display  # a notebook's display: only a running kernel calls this

    display(figure_bundle(fig), raw=True)
