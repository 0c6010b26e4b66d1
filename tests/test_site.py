"""The real site: published sample regions built with `mkdocs build --strict` (tests/sitebuild.py)."""

from __future__ import annotations

import json
import re
import shutil
from decimal import Decimal
from pathlib import Path

import helpers
import pandas as pd
import pytest
import sitebuild
from typer.testing import CliRunner

from scoring import files
from scoring.orchestration.cli import app
from scoring.outputs.pages import md_escape, render_pages
from scoring.outputs import search as search_module
from scoring.outputs import site as site_module
from scoring.outputs.site import build, check_links
from scoring.refusal import Code

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site():
    return sitebuild.sample_site()


def test_every_page_type_is_built(site):
    built = site.built
    for page in ("index.html", "about.html", "accessibility.html", "disclosures/index.html",
                 "disclosures/corrections.html", "disclosures/downloads.html",
                 "disclosures/xiajiang/index.html", "disclosures/xiajiang/2026Q2/index.html",
                 "disclosures/xiajiang/method.html", "disclosures/xiajiang/services.html",
                 "disclosures/xiajiang/providers/P360823-01.html",
                 "disclosures/escaping/2026Q2/v1/index.html"):
        assert (built / page).is_file(), page
    assert site.report.pages >= 30
    assert (built / "assets/javascripts/plotly-basic.min.js").stat().st_size > 1_000_000
    assert not (built / "assets/javascripts/plotly.min.js").exists()  # the full 4.8 MB bundle


def test_the_plotly_bundle_is_the_version_plotly_py_writes_figures_for():
    import plotly

    def version(path: Path) -> str:
        return re.search(r"plotly\.js (?:\(basic - minified\) )?v(\S+)", path.read_text(encoding="utf-8")[:300]).group(1)

    full = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    assert version(site_module.plotly_source()) == version(full)


def test_nothing_is_loaded_from_another_host_and_every_link_resolves(site):
    assert check_links(site.built) == []
    for page in site.built.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert not re.search(r"fonts\.googleapis|fonts\.gstatic|unpkg\.com|cdn\.", text), page


def test_home_shows_the_latest_quarter_of_every_region_and_what_changed(site):
    home = (site.built / "index.html").read_text(encoding="utf-8")
    for title in ("峡江县 · 2026年第三季度", "会宁县 · 2026年第三季度"):
        assert title in home
    assert "与上季度相比" in home and "回访满意率" in home and "人均年化支出" in home


def test_quarter_page_has_every_section_with_tables_beside_charts(site):
    page = (site.built / "disclosures/xiajiang/2026Q2/index.html").read_text(encoding="utf-8")
    for heading in ("综合得分与等级", "满意度", "投诉受理与办结", "人均支出与标准", "资金拨付", "数据下载"):
        assert heading in page
    assert page.count('class="chart"') == 5 and page.count("<caption>") >= 6
    assert "95% 置信区间" in page and "Wilson" in page
    assert "接近等级分界线" in page  # a Xiajiang provider's interval crosses a band edge in 2026Q2


def test_method_page_is_generated_from_the_rules_used(site):
    xiajiang = (site.built / "disclosures/xiajiang/method.html").read_text(encoding="utf-8")
    huining = (site.built / "disclosures/huining/method.html").read_text(encoding="utf-8")
    assert "<strong>峡江县设定</strong>" not in xiajiang and "住院陪护补贴(每人每天)" not in xiajiang
    assert "住院陪护补贴标准(元/人·天)" in xiajiang and "按医院级别" in xiajiang  # every rule, named and explained
    # Huining overrides escort and care-tier rates: its page shows its own values, named as the county
    assert "<strong>会宁县设定</strong>" in huining and "县级医院 150.00 元" in huining and "半护理 150.00 元" in huining
    assert "县级医院 150 元/人·天" in huining  # the rules table: the value in words
    # the revised quarter of `escaping` used other payout ratios: its own method page
    escaping = (site.built / "disclosures/escaping/method.html").read_text(encoding="utf-8")
    assert "良好 90%" in escaping and "<strong>测试县设定</strong>" in escaping


def test_service_list_and_downloads(site):
    services = (site.built / "disclosures/xiajiang/services.html").read_text(encoding="utf-8")
    for category in ("生活照料", "健康护理", "心理疏导", "资源链接", "助农助急"):
        assert category in services
    downloads = (site.built / "disclosures/downloads.html").read_text(encoding="utf-8")
    assert "ocds.json" in downloads and "datapackage.json" in downloads
    assert (site.built / "disclosures/huining/2026Q3/payments.csv").is_file()


def test_provider_names_are_escaped_everywhere(site):
    evil = sitebuild.EVIL_NAME
    for page in site.built.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "<script>alert(1)" not in text, page
    provider = (site.built / "disclosures/escaping/providers/P360823-01.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in provider
    assert "<em>强调</em>" not in provider  # Markdown in a name is not interpreted either
    assert str(md_escape(evil)).count("&#42;") == 2


def test_revision_notice_and_old_version(site):
    quarter = (site.built / "disclosures/escaping/2026Q2/index.html").read_text(encoding="utf-8")
    assert "更正公告" in quarter and sitebuild.REVISION_REASON in quarter
    old = (site.built / "disclosures/escaping/2026Q2/v1/index.html").read_text(encoding="utf-8")
    assert "旧版本" in old
    corrections = (site.built / "disclosures/corrections.html").read_text(encoding="utf-8")
    assert sitebuild.REVISION_REASON in corrections


def test_search_index_segments_chinese(site):
    index = json.loads((site.built / "search/search_index.json").read_text(encoding="utf-8"))
    assert index["config"]["lang"] == ["zh"]
    texts = " ".join(doc["text"] + doc["title"] for doc in index["docs"])
    assert "\u200b良好\u200b" in texts  # jieba's words, separated by zero-width spaces
    assert (site.built / "search/search_index.js").is_file()  # offline search from file://


def test_pages_render_the_same_bytes_twice(site, tmp_path):
    import shutil

    copy = tmp_path / "disclosures"
    shutil.copytree(site.disclosures.resolve(), copy)
    before = {p: p.read_bytes() for p in copy.rglob("*.md")}
    render_pages(copy)
    assert {p: p.read_bytes() for p in copy.rglob("*.md")} == before


def test_a_plan_is_never_called_a_payment(site):
    # 2026Q3 has no paid.csv: every amount is a plan. huining 2026Q1 records a payment 130 yuan
    # short of its plan: the page says so, contract by contract.
    latest = (site.built / "disclosures/huining/2026Q3/index.html").read_text(encoding="utf-8")
    assert "财务尚未登记实际拨付" in latest and "已拨付" not in latest
    paid = (site.built / "disclosures/huining/2026Q1/index.html").read_text(encoding="utf-8")
    assert "计划拨付与实际拨付" in paid and "部分拨付" in paid and "尚差 130.00 元" in paid
    assert "财务已登记实际拨付" in paid


# builds of their own: a small region (tests/helpers.py) in a fresh project ---------------------

PLANTED_ID = helpers.id_number("360823", "19450317", 27)  # a made-up person
PLANTED_PHONE = "13907961234"
PLANTED_NAME = "吴霞春"


def built_files(project: Path) -> dict[str, bytes]:
    root = project / "build" / "site"
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def beside_the_site(project: Path) -> list[str]:
    """Whatever a build left in build/ besides build/site (its temporary folders)."""
    return sorted(p.name for p in (project / "build").iterdir() if p.name != "site")


def small_project(tmp_path: Path, tables=None, folder: str = "county", region_yaml: str = helpers.REGION_YAML):
    project = sitebuild.new_project(tmp_path)
    region = helpers.write_region(tmp_path / "data" / folder, tables, region_yaml=region_yaml)
    sitebuild.score_and_publish(region, helpers.QUARTER, project, tmp_path / "layers")
    return project, region


def test_a_site_that_fails_its_checks_leaves_the_previous_build_whole(tmp_path):
    project, _ = small_project(tmp_path)
    build(project / "mkdocs.yml", [tmp_path / "data"])
    before = built_files(project)
    (project / "site" / "leak.md").write_text(f"# 泄露\n\n身份证号 {PLANTED_ID}\n", encoding="utf-8")
    with helpers.refused(Code.SITE_BUILD_FAILED):
        build(project / "mkdocs.yml", [tmp_path / "data"])
    assert built_files(project) == before  # byte for byte: no leak.html, no new search index
    assert beside_the_site(project) == []  # the temporary build is gone
    (project / "site" / "leak.md").unlink()
    (project / "site" / "extra.md").write_text("# 新页面\n", encoding="utf-8")
    build(project / "mkdocs.yml", [tmp_path / "data"])
    assert "extra.html" in built_files(project) and beside_the_site(project) == []


def test_a_build_killed_before_its_swap_leaves_the_previous_site(tmp_path, monkeypatch):
    project, _ = small_project(tmp_path)
    build(project / "mkdocs.yml", [tmp_path / "data"])
    before = built_files(project)
    (project / "site" / "extra.md").write_text("# 新页面\n", encoding="utf-8")

    def killed(new, target):
        raise KeyboardInterrupt  # the process dies with the new site complete beside the old

    monkeypatch.setattr(files, "replace_directory", killed)
    with pytest.raises(KeyboardInterrupt):
        build(project / "mkdocs.yml", [tmp_path / "data"])
    assert built_files(project) == before and beside_the_site(project) == []


def test_personal_data_published_by_mistake_is_withdrawn_and_the_site_builds_again(tmp_path, monkeypatch):
    # The reviewer's case: a provider's name held a person's name, phone and ID number; it was
    # published, then revised, so it stayed in v1/, and every build failed, for every region.
    tables = helpers.sample_tables()
    tables["beneficiaries"].loc[0, "name"] = PLANTED_NAME
    project, region = small_project(tmp_path, tables)
    other = helpers.write_region(tmp_path / "data" / "other", region_yaml=helpers.REGION_YAML.replace("测试县", "另一县").replace("360823", "360824"))
    sitebuild.score_and_publish(other, helpers.QUARTER, project, tmp_path / "layers")
    with open(region / "region.yaml", "a", encoding="utf-8") as handle:
        handle.write(sitebuild.REVISED_RULES)
    sitebuild.score_and_publish(region, helpers.QUARTER, project, tmp_path / "layers", revise=True, reason="调整拨付比例")
    # the published-by-mistake state (the publish-time scan now refuses it): the personal data
    # written into the stored files of both versions, as an older release would have published it
    quarter = project / "site" / "disclosures" / "county" / helpers.QUARTER
    leaked = f"峡江县阳光社工服务中心 联系人 {PLANTED_NAME} {PLANTED_PHONE} {PLANTED_ID}"
    for path in (quarter / "scores.csv", quarter / "v1" / "scores.csv"):
        files.write_bytes(path, path.read_bytes().replace("峡江县阳光社工服务中心".encode(), leaked.encode()))
    monkeypatch.chdir(project)
    data = ["--data", str(tmp_path / "data")]
    failed = CliRunner().invoke(app, ["site", *data])
    assert failed.exit_code == 1 and f"({Code.SITE_BUILD_FAILED})" in failed.output
    assert "scoring withdraw" in failed.output

    withdrawn = CliRunner().invoke(app, ["withdraw", str(region), "--quarter", helpers.QUARTER,
                                         "--reason", "机构名称中误含个人信息"])
    assert withdrawn.exit_code == 0, withdrawn.output
    rebuilt = CliRunner().invoke(app, ["site", *data])
    assert rebuilt.exit_code == 0, rebuilt.output

    built = project / "build" / "site"
    for path in built.rglob("*"):
        if path.is_file() and path.suffix in (".html", ".json", ".js", ".csv", ".xml"):
            text = path.read_text(encoding="utf-8", errors="replace")
            for value in (PLANTED_ID, PLANTED_PHONE, PLANTED_NAME):
                assert value not in text, (path, value)
    assert (built / "search" / "search_index.json").is_file()
    notice = (built / "disclosures" / "county" / helpers.QUARTER / "index.html").read_text(encoding="utf-8")
    assert "撤回公告" in notice and "机构名称中误含个人信息" in notice
    for page in ("disclosures/county/index.html", "disclosures/corrections.html"):
        assert "机构名称中误含个人信息" in (built / page).read_text(encoding="utf-8"), page
    assert (built / "disclosures" / "county" / helpers.QUARTER / "withdrawn.json").is_file()
    assert not (built / "disclosures" / "county" / helpers.QUARTER / "v1").exists()
    # the other region is still published, whole
    assert (built / "disclosures" / "other" / helpers.QUARTER / "scores.csv").is_file()
    assert "另一县" in (built / "index.html").read_text(encoding="utf-8")


def test_a_region_folder_in_chinese_with_a_space_is_published_and_linked(tmp_path):
    # the folder name is the region's address: 会宁 县/ is written %E4%BC%9A%E5%AE%81%20%E5%8E%BF/
    project = sitebuild.new_project(tmp_path)
    region = tmp_path / "data" / "会宁 县"
    shutil.copytree(sitebuild.DATA / "huining", region,
                    ignore=lambda folder, names: [n for n in names if n[:4].isdigit() and n != "2026Q2"])
    sitebuild.score_and_publish(region, "2026Q2", project, tmp_path / "layers")
    report = build(project / "mkdocs.yml", [tmp_path / "data"])
    built = report.site_dir
    assert check_links(built) == []
    assert (built / "disclosures" / "会宁 县" / "2026Q2" / "index.html").is_file()
    home = (built / "disclosures" / "index.html").read_text(encoding="utf-8")
    assert 'href="%E4%BC%9A%E5%AE%81%20%E5%8E%BF/index.html"' in home
    package = json.loads((built / "disclosures" / "会宁 县" / "2026Q2" / "ocds.json").read_text(encoding="utf-8"))
    assert package["uri"].endswith("/disclosures/%E4%BC%9A%E5%AE%81%20%E5%8E%BF/2026Q2/ocds.json")
    record = json.loads((built / "disclosures" / "会宁 县" / "ocds-record.json").read_text(encoding="utf-8"))
    assert record["packages"] == [package["uri"]]


def test_a_link_check_reads_percent_encoded_addresses(tmp_path):
    (tmp_path / "会宁 县").mkdir()
    (tmp_path / "会宁 县" / "index.html").write_text("<p>ok</p>", encoding="utf-8")
    (tmp_path / "index.html").write_text(
        '<a href="%E4%BC%9A%E5%AE%81%20%E5%8E%BF/index.html">会宁</a>'
        '<a href="%E4%BC%9A%E5%AE%81%20%E5%8E%BF/missing.html">x</a>', encoding="utf-8")
    assert check_links(tmp_path) == ["index.html: 链接 %E4%BC%9A%E5%AE%81%20%E5%8E%BF/missing.html 不存在"]


SCRIPT_NAME = "阳光</script><script>alert(5)</script>服务社"


def test_a_name_holding_a_closing_script_tag_is_shown_as_text(tmp_path):
    tables = helpers.sample_tables()
    tables["providers"].loc[0, "name"] = SCRIPT_NAME
    project, _ = small_project(tmp_path, tables, region_yaml=helpers.REGION_YAML.replace("name: 测试县", "name: '测试</script>县'"))
    built = build(project / "mkdocs.yml", [tmp_path / "data"]).site_dir
    shown = "阳光&lt;/script&gt;&lt;script&gt;alert(5)&lt;/script&gt;服务社"
    for page in built.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "<script>alert(5)" not in text and "</script>县" not in text, page
        # every script element is whole: what opens closes once, nothing is smuggled in between
        assert text.count("<script") == text.count("</script>"), page
    quarter = (built / "disclosures" / "county" / helpers.QUARTER / "index.html").read_text(encoding="utf-8")
    assert shown in quarter and "测试&lt;/script&gt;县" in quarter
    charts = re.findall(r'<script type="application/json" class="chart-data"[^>]*>(.*?)</script>', quarter, re.S)
    assert len(charts) == 5
    for chart in charts:
        assert "</" not in chart  # written \u003c/ inside the script element
    names = json.dumps([json.loads(chart) for chart in charts], ensure_ascii=False)
    assert SCRIPT_NAME in names  # the charts' data keeps the name as written
    provider = (built / "disclosures" / "county" / "providers" / "P001.html").read_text(encoding="utf-8")
    assert shown in provider


def test_the_money_on_each_quarter_page_reconciles_with_payments_csv(site):
    """The overview's 计划拨付, the payment table's 合计 row and the spending section's 本季度支出
    are one figure: the sum of payments.csv's total_to_pay, to the cent."""
    from decimal import Decimal

    import pandas as pd

    checked = 0
    for page in sorted(site.disclosures.glob("*/20*/index.md")):
        csv = page.parent / "payments.csv"
        if not csv.is_file():
            continue
        payments = pd.read_csv(csv, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        total = sum((Decimal(v) for v in payments["total_to_pay"]), Decimal(0))
        shown = f"{total:,.2f}"
        text = page.read_text(encoding="utf-8")
        assert f"本季度计划拨付 {shown} 元" in text, page
        row = re.search(r'<tr class="total">(.*)</tr>', text).group(1)
        cells = re.findall(r"<td>([^<]*)</td>", row)
        assert cells[-2] == shown, page  # 合计应付
        parts = [Decimal(c.replace(",", "")) for c in (cells[5], cells[7], cells[8])]  # 拨付 + 两项补贴
        assert sum(parts) == total, page
        assert f"本季度支出 {shown} 元" in text, page
        checked += 1
    assert checked >= 8


def test_home_region_and_quarter_pages_give_one_figure_for_the_plan(site):
    """计划拨付 means one figure on every page that says it: the quarter's total to pay (grade
    releases and both subsidies), never the grade releases alone."""
    home = prose(site.built / "index.html")
    for region in ("xiajiang", "huining"):
        latest = sorted(p.parent.name for p in (site.built / "disclosures" / region).glob("20*/payments.csv"))[-1]
        quarter = prose(site.built / "disclosures" / region / latest / "index.html")
        planned = re.search(r"本季度计划拨付 ([\d,]+\.\d{2}) 元", quarter).group(1)
        release = re.search(r"按等级拨付机构 ([\d,]+\.\d{2}) 元", quarter).group(1)
        assert (planned != release) == (region == "huining")  # Huining pays subsidies, Xiajiang none
        region_page = prose(site.built / "disclosures" / region / "index.html")
        assert f"本季度计划拨付 {planned} 元:按等级拨付机构 {release} 元" in region_page
        assert f"计划拨付资金 {planned} 元(按等级拨付机构 {release} 元" in home


def test_every_page_tells_the_reader_how_to_complain_and_object(site):
    pages = [p for p in site.built.rglob("*.html") if "assets" not in p.parts]
    for page in pages:
        assert "监督与投诉" in page.read_text(encoding="utf-8"), page
    supervision = (site.built / "disclosures/supervision.html").read_text(encoding="utf-8")
    assert "峡江县民政局" in supervision and "会宁县民政局" in supervision and "12345" in supervision
    assert "公示期截止" in supervision
    quarter = (site.built / "disclosures/xiajiang/2026Q2/index.html").read_text(encoding="utf-8")
    assert "公示期" in quarter and "YY2026Q2-01" in quarter and "不成立" in quarter
    for page in pages:  # the sample objector's name is kept for the bureau's reply, never shown
        assert "申诉人甲乙" not in page.read_text(encoding="utf-8"), page


def test_the_404_page_is_in_chinese_with_links_home(site):
    page = (site.built / "404.html").read_text(encoding="utf-8")
    assert "没有找到这个页面" in page and "404 - Not found" not in page
    assert 'href="/gongkai/index.html">回到首页</a>' in page  # absolute: served at any address


def test_search_keeps_the_grades_whole_and_the_worker_tries_the_whole_query(site):
    index = json.loads((site.built / "search/search_index.json").read_text(encoding="utf-8"))
    texts = " ".join(doc["text"] + doc["title"] for doc in index["docs"])
    assert "\u200b不合格\u200b" in texts and "\u200b不\u200b合格" not in texts
    worker = next((site.built / "assets/javascripts/workers").glob("search.*.min.js")).read_text(encoding="utf-8")
    assert search_module.SEGMENTER_FIXED in worker
    raw = (site.built / "search/search_index.json").read_bytes()
    assert "峡江县".encode() in raw and b"\\u5ce1" not in raw  # UTF-8, not \\u escapes (half the bytes)


# plain Chinese for the public (issue 13) ---------------------------------------------------------

from html.parser import HTMLParser  # noqa: E402

from scoring.inputs.rules import Rules  # noqa: E402
from scoring.outputs import formats  # noqa: E402
from scoring.outputs.public import PUBLIC_TABLES, column_title  # noqa: E402


class _Prose(HTMLParser):
    """The text a reader sees on a page: no tags or attributes, nothing inside <code>, <pre>,
    <script> or <style>."""

    SKIPPED = {"code", "pre", "script", "style"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.depth, self.parts = 0, []

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIPPED:
            self.depth += 1

    def handle_endtag(self, tag):
        if tag in self.SKIPPED and self.depth:
            self.depth -= 1

    def handle_data(self, data):
        if not self.depth:
            self.parts.append(data)


def prose(page: Path) -> str:
    parser = _Prose()
    html = page.read_text(encoding="utf-8")
    parser.feed(html[html.find("<article"):html.find("</article>")] if "<article" in html else html)
    return " ".join(parser.parts)


def public_pages(site) -> list[Path]:
    return [site.built / "index.html", *sorted((site.built / "disclosures").rglob("*.html"))]


RAW_VALUES = re.compile(r"\b(?:True|False|published|held|planned|part_paid|overpaid)\b"
                        r"|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}"  # an ISO timestamp
                        r"|\b20\d\dQ[1-4]\b"  # a quarter's code: pages say 2026年第二季度
                        r"|\b(?:" + "|".join(Rules.model_fields) + r")\b")
BARE_AMOUNT = re.compile(r"(?<![\d,.])\d{4,}\.\d{2}(?!\d)")  # 16759.58: no thousands separator


def test_public_pages_speak_plain_chinese(site):
    pages = public_pages(site)
    assert len(pages) >= 30
    for page in pages:
        text = prose(page)
        assert not RAW_VALUES.findall(text), (page, RAW_VALUES.findall(text)[:5])
        assert not BARE_AMOUNT.findall(text), (page, BARE_AMOUNT.findall(text)[:5])


CHART_DATA = re.compile(r'<script type="application/json" class="chart-data"[^>]*>(.*?)</script>', re.S)


def test_charts_name_quarters_as_the_tables_do(site):
    # what a chart draws (ticks, hover, legends) is data inside its script, out of prose()'s sight
    drawn = 0
    for page in public_pages(site):
        for figure in CHART_DATA.findall(page.read_text(encoding="utf-8")):
            strings = re.findall(r'"((?:[^"\\]|\\.)*)"', json.dumps(json.loads(figure), ensure_ascii=False))
            codes = [s for s in strings if re.search(r"\b20\d\dQ[1-4]\b", s)]
            assert not codes, (page, codes[:3])
            drawn += 1
    history = (site.built / "disclosures/xiajiang/providers/P360823-01.html").read_text(encoding="utf-8")
    assert "2025年<br>第四季度" in json.loads(CHART_DATA.search(history).group(1))["data"][0]["x"]
    assert drawn >= 20


def test_money_times_and_ratios_read_as_people_write_them(site):
    home = prose(site.built / "index.html")
    assert re.search(r"计划拨付资金 [\d,]+\.\d{2} 元", home)
    assert re.search(r"(?:多|少) \d{1,3}(?:,\d{3})*\.\d{2} 元|持平", home)  # against the last quarter
    assert re.search(r"为标准的 \d+\.\d{2} 倍", home) and not re.search(r"\d\.\d{3,}", home)
    quarter = prose(site.built / "disclosures/xiajiang/2026Q2/index.html")
    assert re.search(r"公布时间 20\d\d年\d{1,2}月\d{1,2}日 \d\d:\d\d\(北京时间\)", quarter)
    assert re.search(r"本季度计划拨付 \d{1,3}(?:,\d{3})*\.\d{2} 元", quarter)
    assert re.search(r"回访满意率 \d+(?:\.\d)?%", quarter)
    region = prose(site.built / "disclosures/xiajiang/index.html")
    assert "由峡江县实际使用的规则生成" in region and "本县" not in region


def test_method_page_lists_every_rule_in_words_with_its_explanation(site):
    from scoring.inputs.methodology import rule_texts

    page = site.built / "disclosures/huining/method.html"
    html = page.read_text(encoding="utf-8")
    rows = re.findall(r'<tr><th scope="row" title="([a-z&#;0-9_]+)">(.*?)</th><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>',
                      html)
    rows = [(name.replace("&#95;", "_"), *rest) for name, *rest in rows]
    assert [r[0] for r in rows] == list(Rules.model_fields)
    for name, title, value, default, explanation in rows:
        assert title == rule_texts()[name].title
        assert explanation.startswith(rule_texts()[name].explanation[:6])  # the document's 说明
        assert value and default and "{" not in value and "None" not in value
    words = {r[0]: r[2] for r in rows}
    assert words["quality_weights"] == "满意度 60%、抽查 25%、投诉办结 15%"
    assert words["complaint_response_hours"] == "72 小时"
    assert words["per_capita_standard"] == "2,000 元/人·年" and words["bootstrap_resamples"] == "2,000 次"
    assert "每月" in words["visits_per_month"] and "次" in words["visits_per_month"]
    assert "会宁县取值" in html and "本县" not in prose(page)


def test_combined_downloads_are_the_concatenation_of_every_quarter(site):
    root = site.disclosures
    for name in PUBLIC_TABLES:
        combined = (root / "all" / f"{name}.csv").read_text(encoding="utf-8-sig").splitlines()
        header, rows = combined[0], combined[1:]
        assert header == "region,quarter," + ",".join(PUBLIC_TABLES[name]["columns"])
        expected = []
        for region in sorted(p for p in root.iterdir() if (p / "ocds-record.json").is_file()):
            for quarter in sitebuild.quarters_of(region):
                path = region / quarter / f"{name}.csv"
                if (region / quarter / "manifest.json").is_file() and path.is_file():
                    lines = path.read_text(encoding="utf-8-sig").splitlines()
                    assert lines[0] == ",".join(PUBLIC_TABLES[name]["columns"])
                    expected += [f"{region.name},{quarter},{line}" for line in lines[1:]]
        assert rows == expected, name
    assert (site.built / "disclosures/all/scores.csv").is_file()


def test_the_index_lists_every_published_file_with_its_sha256(site):
    import hashlib

    root = site.disclosures
    index = json.loads((root / "index.json").read_text(encoding="utf-8"))
    listed = {}
    for region in index["regions"]:
        for key in ("record", "contact"):
            if key in region:
                listed[region[key]["url"]] = region[key]
        for quarter in region["quarters"]:
            for version in quarter.get("versions", []):
                for entry in version["files"]:
                    listed[entry["url"]] = entry
            if "withdrawn_notice" in quarter:
                listed[quarter["withdrawn_notice"]["url"]] = quarter["withdrawn_notice"]
    for entry in index["combined"]["files"]:
        listed[entry["url"]] = entry
    on_disk = {p.relative_to(root).as_posix() for p in root.rglob("*")
               if p.is_file() and p.suffix != ".md" and p.name != "index.json"
               and not p.relative_to(root).as_posix().startswith("_provinces/")}
    assert set(listed) == on_disk
    for url, entry in listed.items():
        data = (root / url).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest() and entry["bytes"] == len(data), url
        assert (site.built / "disclosures" / url).is_file(), url  # the address works on the site
    escaping = next(r for r in index["regions"] if r["region"] == "escaping")
    assert [v["version"] for v in escaping["quarters"][0]["versions"]] == [1, 2]
    assert {r["region"] for r in index["regions"]} >= {"xiajiang", "huining", "escaping"}


def test_every_public_table_is_also_an_xlsx_with_chinese_headers_and_the_same_values(site):
    root = site.disclosures
    csvs = sorted(root.glob("*/*/*.csv")) + sorted(root.glob("*/*/v*/*.csv")) + sorted(root.glob("all/*.csv"))
    assert len(csvs) > 60
    for csv in csvs:
        name = csv.stem
        workbook = csv.with_suffix(".xlsx")
        assert workbook.is_file(), workbook
        header, rows = formats.read_xlsx_table(workbook.read_bytes())
        table = formats.read_public_csv(csv)
        assert header == [column_title(name, c) for c in table.columns]
        assert all(re.search(r"[\u4e00-\u9fff]", h) for h in header), header
        assert rows == table.values.tolist(), csv


def test_the_data_dictionary_lists_every_table_and_column(site):
    page = site.built / "disclosures/dictionary.html"
    html = page.read_text(encoding="utf-8")
    for name, spec in PUBLIC_TABLES.items():
        assert f'id="{name}"' in html and spec["title"] in html
        for column, (title, _, _) in spec["columns"].items():
            assert f"<code>{column}</code></th><td>{title}</td>" in html.replace("&#95;", "_"), (name, column)
    downloads = (site.built / "disclosures/downloads.html").read_text(encoding="utf-8")
    assert 'href="dictionary.html' in downloads and 'href="all/scores.csv"' in downloads
    assert 'href="index.json"' in downloads and "all/datapackage.json" in downloads
    # the 内容 column is short: a summary, not the list of every field
    cells = re.findall(r"</th><td>[^<]*</td><td>([^<]*)(?:<|\()", downloads)  # each quarter's tables
    combined = re.findall(r"xlsx</a></td><td>([^<]*)</td></tr>", downloads)  # the combined files
    assert cells and combined and max(len(c) for c in cells + combined) <= 30
    # a phone shows the combined files' links beside the fixed first column, without scrolling
    for spec in PUBLIC_TABLES.values():
        assert re.search(rf'<th scope="row">{spec["title"]}</th><td><a href="all/', downloads), spec["title"]


def test_a_rebuild_with_nothing_new_changes_no_file(site, tmp_path):
    from scoring.outputs.site import prepare

    before = {p.relative_to(site.disclosures.resolve()).as_posix(): p.stat().st_ino
              for p in site.disclosures.resolve().rglob("*") if p.is_file()}
    prepare(site.project / "site")
    after = {p.relative_to(site.disclosures.resolve()).as_posix(): p.stat().st_ino
             for p in site.disclosures.resolve().rglob("*") if p.is_file()}
    assert after == before


def _text(html: str) -> str:
    """A page's words without its tags (a sentence may carry <strong> around a number)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))


def test_provider_pages_give_the_profile_and_the_findings_from_the_published_record(site):
    """Each provider page says, for the latest quarter published, the address, telephone,
    townships served, contract, services with guide prices and the findings in words, each number
    as the published tables (profiles, offered, findings, contracts) have it."""
    from scoring.outputs.pages import published_regions

    seen = {"falsified_or_poor": 0, "unanswered": 0, "not_inspected": 0, "missed": 0, "points": 0}
    for region in published_regions(site.disclosures):
        latest = region.latest
        profiles, findings = latest.table("profiles"), latest.table("findings").set_index("provider_id")
        offered, payments = latest.table("offered"), latest.table("payments").set_index("provider_id")
        complaints = latest.table("complaints").set_index("provider_id")
        scores = latest.table("scores").set_index("provider_id")
        people = pd.read_csv(site.data / region.name / "beneficiaries.csv", dtype=str) if (
            site.data / region.name).is_dir() else None
        for row in profiles.itertuples(index=False):
            html = (site.built / f"disclosures/{region.name}/providers/{row.provider_id}.html").read_text(encoding="utf-8")
            words = _text(html)
            assert f"地址:{row.address}" in words and f'href="tel:{row.telephone}"' in html
            assert row.telephone and row.address  # the samples fill both
            assert f"服务乡镇({latest.label}):{row.townships}" in words
            if people is not None:  # townships only, each one a beneficiary's township
                townships = set(people.iloc[:, 4])
                assert set(row.townships.split("、")) <= townships
                assert not set(people.iloc[:, 5]) & set(re.findall(r"[\u4e00-\u9fff]+", words))
            for item in offered[offered["provider_id"] == row.provider_id].itertuples(index=False):
                assert f"{item.item_name} {Decimal(item.guide_price):,.2f} 元/{item.unit}" in words
            found = findings.loc[row.provider_id]
            # the findings agree with the other published tables
            assert Decimal(found["inspection_deduction"]) == Decimal(payments.at[row.provider_id, "monetary_deduction"])
            assert found["complaints"] == complaints.at[row.provider_id, "received"]
            assert found["complaints_in_time"] == complaints.at[row.provider_id, "responded_in_time"]
            inspections = int(found["inspections"])
            if inspections == 0:
                assert "本季度未抽查该机构的服务记录" in words
                seen["not_inspected"] += 1
            else:
                assert f"抽查该机构服务记录 {inspections:,} 次:合格 {int(found['inspections_pass']):,} 次" in words
                for column, label in (("inspections_poor", "服务较差"), ("inspections_falsified", "弄虚作假")):
                    if int(found[column]):
                        assert f"{label} {int(found[column]):,} 次" in words
                        seen["falsified_or_poor"] += 1
            if int(found["complaints"]):
                assert f"热线受理关于该机构的投诉 {int(found['complaints']):,} 件" in words
                assert f"规定 {found['response_limit_hours']} 小时内反馈" in words
                if int(found["complaints_unanswered"]):
                    assert f"季度末仍未反馈 {int(found['complaints_unanswered']):,} 件" in words
                    seen["unanswered"] += 1
            else:
                assert "本季度热线没有收到关于该机构的投诉" in words
            deduction = Decimal(scores.at[row.provider_id, "point_deduction"] or "0")
            if deduction:
                assert f"综合得分扣 {deduction.normalize():f} 分" in words
                seen["points"] += 1
            else:
                assert "综合得分扣" not in words
            required, missed = int(found["required_visits"]), int(found["missed_visits"])
            assert required == int(found["visits_counted"]) + missed
            if missed:
                assert f"按规定应走访 {required:,} 次,已走访 {int(found['visits_counted']):,} 次,少走访 {missed:,} 次" in words
                seen["missed"] += 1
    assert all(seen.values()), seen  # every kind of sentence was checked on the sample


def test_a_revised_quarter_is_marked_in_the_provider_history(site):
    html = (site.built / "disclosures/escaping/providers/P360823-02.html").read_text(encoding="utf-8")
    assert "已更正,现为第 2 版" in _text(html)
    assert 'href="../2026Q2/v1/index.html"' in html and (site.built / "disclosures/escaping/2026Q2/v1/index.html").is_file()
    unrevised = (site.built / "disclosures/huining/providers/P620422-01.html").read_text(encoding="utf-8")
    assert "已更正" not in unrevised
