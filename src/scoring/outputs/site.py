"""Building the public site: `mkdocs build --strict`, then checks of what was built.

Before the build: the disclosure pages exist (an empty site says nothing is published yet) and the
local copy of plotly.js is in the docs tree (plotly's basic partial bundle, vendored in the
package: no CDN). After it: every
relative link and script resolves inside the built site, nothing refers to another host, and the
privacy scan finds no roster name, ID number or phone number anywhere in the output; any finding
fails the build with its file and line.

The site is built into a fresh folder beside `build/site` and checked there; only a site that
passed every check takes `build/site`'s place (`files.replace_directory`, one atomic swap). A
failed check or a killed build leaves the previous `build/site` as it was, whole.
"""

from __future__ import annotations

import http.server
import json
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from urllib.parse import unquote

import yaml

from scoring.files import written_aside, written_file
from scoring.outputs.pages import render_pages
from scoring.outputs.formats import CONTACT_FILE, read_public_csv
from scoring.outputs.privacy import Finding, Roster, public_phones, roster_from_data, scan_tree
from scoring.outputs.search import write_words
from scoring.outputs.store import Store, StoreBusy
from scoring.refusal import Code, Refusal, written_error

# plotly.js's official "basic" partial bundle (npm plotly.js-basic-dist-min, the plotly.js version
# the Python plotly writes figures for; MIT licence beside it): bar, pie and scatter, the only
# traces the charts draw. 1.2 MB instead of the full bundle's 4.8 MB, on every page with a chart.
# After a plotly upgrade (tests/test_site.py compares the versions): `npm pack
# plotly.js-basic-dist-min@<plotly.js version>`, and copy plotly-basic.min.js and LICENSE here.
PLOTLY_JS = "assets/javascripts/plotly-basic.min.js"
PLOTLY_LICENSE = "assets/javascripts/plotly-basic-LICENSE.txt"
VENDOR_DIR = Path(__file__).parent / "vendor"
FULL_PLOTLY_JS = "assets/javascripts/plotly.min.js"


@dataclass
class BuildReport:
    site_dir: Path
    seconds: float
    pages: int
    findings: list[Finding] = field(default_factory=list)
    heaviest: tuple[str, int] = ("", 0)  # page and its weight in bytes (with what it loads)


def plotly_source() -> Path:
    return VENDOR_DIR / "plotly-basic.min.js"


def prepare(docs_dir: Path) -> None:
    """The disclosure pages (rendered even when nothing is published) and plotly.js."""
    docs_dir = Path(docs_dir)
    store = Store(docs_dir)
    # Pages are a function of the published files and the templates: re-render them, so that a
    # newer version of the templates shows on every published quarter; swap only if they changed.
    # Under the store's lock, like every change to it (a publish may be running).
    try:
        with store.locked():
            current = store.current()
            try:
                with store.transaction() as generation:
                    render_pages(generation)
                    if current is not None and _same_pages(current, generation):
                        raise _Unchanged
            except _Unchanged:
                pass
    except StoreBusy:
        raise Refusal(Code.STORE_BUSY, f"另一个公布正在进行({store.site_dir}),网站暂不能生成。",
                      "请等公布完成后再运行 scoring site。") from None
    write_words(docs_dir)  # the words jieba keeps whole (overrides/hooks/search.py)
    for target, source in ((docs_dir / PLOTLY_JS, plotly_source()),
                           (docs_dir / PLOTLY_LICENSE, VENDOR_DIR / "plotly-basic-LICENSE.txt")):
        if not target.is_file() or target.read_bytes() != source.read_bytes():
            with written_file(target) as aside:  # never a truncated copy (a full disk)
                shutil.copyfile(source, aside)
    (docs_dir / FULL_PLOTLY_JS).unlink(missing_ok=True)  # what earlier versions copied there


class _Unchanged(Exception):
    pass


def _same_pages(old: Path, new: Path) -> bool:
    """Whether a re-rendered generation holds exactly the files of the current one (pages, the
    workbooks, the combined downloads and the index are rendered; the rest is hard-linked)."""
    def files(root: Path) -> dict[str, Path]:
        return {p.relative_to(root).as_posix(): p for p in root.rglob("*") if p.is_file()}

    before, after = files(old), files(new)
    return before.keys() == after.keys() and all(
        before[name].samefile(after[name]) or before[name].read_bytes() == after[name].read_bytes()
        for name in before)


def site_url(config: Path) -> str | None:
    """The address the site is served at (`site_url` in mkdocs.yml), or None when not given; the
    OCDS packages' URIs are made from it."""
    config = Path(config)
    if not config.is_file():
        return None
    settings = yaml.load(config.read_text(encoding="utf-8"), Loader=yaml.BaseLoader) or {}
    return settings.get("site_url") or None


def config_paths(config: Path) -> tuple[Path, Path]:
    """docs_dir and site_dir of an mkdocs.yml, resolved against its folder."""
    config = Path(config)
    text = config.read_text(encoding="utf-8")
    settings = yaml.load(text, Loader=yaml.BaseLoader)  # the file may hold !! tags; only paths matter
    base = config.resolve().parent
    return base / settings.get("docs_dir", "docs"), base / settings.get("site_dir", "site")


def build(config: Path = Path("mkdocs.yml"), data_roots: list[Path] | None = None,
          roster: Roster | None = None) -> BuildReport:
    """`mkdocs build --strict` into a fresh folder, then the link and privacy checks there; the
    built site replaces `build/site` only when all pass. A Refusal (site_build_failed) on any
    problem, with `build/site` as it was."""
    config = Path(config).resolve()
    docs_dir, site_dir = config_paths(config)
    prepare(docs_dir)
    if roster is None:
        roster = roster_from_data(data_roots if data_roots is not None else [config.parent / "data"])
    # the bureaus' own numbers, published on purpose in each region's contact file
    for contact_file in sorted((docs_dir / "disclosures").glob(f"*/{CONTACT_FILE}")):
        roster.allow_phones(public_phones(json.loads(contact_file.read_text(encoding="utf-8"))))
    # and the providers' own numbers, which passed the same scan when their quarter was published
    # (allowed there from providers.csv only; a beneficiary's number is a roster token still)
    for profiles in sorted((docs_dir / "disclosures").glob("*/*/profiles.csv")):
        roster.allow_phones(v for v in read_public_csv(profiles)["telephone"] if v)
    with written_aside(site_dir) as built:  # swapped in only when every check below has passed
        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "mkdocs", "build", "--strict", "--clean", "-f", str(config),
             "--site-dir", str(built)],
            cwd=config.parent, capture_output=True, text=True,
        )
        seconds = time.perf_counter() - started
        if result.returncode != 0:
            output = result.stderr + result.stdout
            if (error := written_error(output)) is not None:
                raise error  # a full disk or a read-only folder, answered as such by the command
            lines = [line for line in output.splitlines()
                     if "WARNING" in line or "ERROR" in line or "Error" in line]
            raise Refusal(Code.SITE_BUILD_FAILED, "mkdocs build --strict 失败:\n" + "\n".join(lines[-30:] or [result.stderr[-3000:]]))
        problems = check_links(built)
        if problems:
            raise Refusal(Code.SITE_BUILD_FAILED, "网站中有无法打开的链接或外部资源:\n" + "\n".join(problems[:30]))
        findings = scan_tree(built, roster) + scan_tree(docs_dir / "disclosures", roster)
        if findings:
            shown = "\n".join(str(f) for f in findings[:30])
            more = f"\n……共 {len(findings)} 处" if len(findings) > 30 else ""
            raise Refusal(
                Code.SITE_BUILD_FAILED,
                f"隐私扫描发现个人信息,网站不能发布(Privacy scan failed):\n{shown}{more}",
                "请找出它从哪个输入进入了公开数据,改正后重新公布(已生成的网站没有改动);已公布的季度误含"
                "个人信息时,用 scoring withdraw <区域目录> --quarter <季度> --reason \"撤回原因\" 撤回它。")
        pages = len(list(built.rglob("*.html")))
        heaviest = heaviest_page(built)
    return BuildReport(site_dir, seconds, pages, findings, heaviest)


REFERENCE = re.compile(r"""(?:href|src)\s*=\s*["']([^"'#?]*)""", re.IGNORECASE)
EXTERNAL_LOAD = re.compile(
    r"""<(?:script|img|iframe|link|source|video|audio)\b[^>]*\b(?:src|href)\s*=\s*["'](?:https?:)?//""",
    re.IGNORECASE)
# The page's own address (mkdocs writes it from site_url): it names the page, it loads nothing.
CANONICAL = re.compile(r"""<link\b[^>]*\brel\s*=\s*["']canonical["']""", re.IGNORECASE)


def check_links(site_dir: Path) -> list[str]:
    """Relative references that do not resolve, and anything loaded from another host."""
    problems = []
    site_dir = Path(site_dir)
    for page in sorted(site_dir.rglob("*.html")):
        if page.name == "404.html" and page.parent == site_dir:
            continue  # served by a web server for any address: its links are absolute on purpose
        text = page.read_text(encoding="utf-8")
        where = page.relative_to(site_dir).as_posix()
        for match in EXTERNAL_LOAD.finditer(text):
            if CANONICAL.match(match.group(0)):
                continue
            problems.append(f"{where}: 外部资源 {match.group(0)[:80]}")
        for target in REFERENCE.findall(text):
            if not target or re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE) or target.startswith("//"):
                continue
            # an address is percent-encoded (mkdocs writes 会宁 县/ as %E4%BC%9A%E5%AE%81%20%E5%8E%BF/);
            # the file it names is not
            resolved = (page.parent / unquote(target)).resolve()
            if target.endswith("/"):
                resolved = resolved / "index.html"
            if not resolved.exists():
                problems.append(f"{where}: 链接 {target} 不存在")
    return problems


def page_weight(site_dir: Path, page: Path) -> int:
    """Bytes of a page and of the local scripts, styles and images it loads."""
    text = page.read_text(encoding="utf-8")
    total = page.stat().st_size
    for target in set(re.findall(r"""<(?:script|img)\b[^>]*\bsrc=["']([^"'#?]+)""", text)) | set(
            re.findall(r"""<link\b[^>]*\bhref=["']([^"'#?]+\.css)""", text)):
        path = (page.parent / target).resolve()
        if path.is_file():
            total += path.stat().st_size
    return total


def heaviest_page(site_dir: Path) -> tuple[str, int]:
    weights = [(page_weight(site_dir, p), p.relative_to(site_dir).as_posix())
               for p in Path(site_dir).rglob("*.html")]
    if not weights:
        return "", 0
    weight, name = max(weights)
    return name, weight


def serve(site_dir: Path, port: int = 8000, host: str = "127.0.0.1") -> None:  # pragma: no cover
    """Serve the built site on localhost until interrupted (a plain static server)."""
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(site_dir))
    with http.server.ThreadingHTTPServer((host, port), handler) as server:
        print(f"http://{host}:{port}/index.html  (Ctrl+C 停止)")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
