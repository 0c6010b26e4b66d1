"""The public site: publish and build time for the sample regions and for a province (73 counties,
four quarters), and the weight of the heaviest page (the page plus the scripts, styles and images
it loads, plotly.min.js included).

    python benchmarks/bench_site.py [--counties 73] [--records 200000] [--skip-province]

Scoring uses the library stages (validate + engine), not the notebooks: the notebooks' cost is
bench_province's. Each case works in its own folder under build/bench/site/ with a copy of
mkdocs.yml, the hand-written pages and the theme override; the figures go to
build/benchmarks/site.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

from common import ROOT, machine

sys.path.insert(0, str(ROOT / "tests"))

from scoring.orchestration import stages  # noqa: E402
from scoring.outputs.publish import candidate_from_public, publish_many  # noqa: E402
from scoring.outputs.site import build  # noqa: E402

WORK = ROOT / "build" / "bench" / "site"
OUT = ROOT / "build" / "benchmarks"
QUARTERS = ["2025Q4", "2026Q1", "2026Q2", "2026Q3"]


def project(name: str) -> Path:
    """A fresh project folder (mkdocs.yml, overrides, hand-written pages) made as the tests make it."""
    import sitebuild

    folder = WORK / name
    shutil.rmtree(folder, ignore_errors=True)
    return sitebuild.new_project(folder)


def case(name: str, regions: list[Path], data_roots: list[Path]) -> dict:
    folder = project(name)
    started = time.perf_counter()
    candidates = []
    for region in regions:
        for quarter in sorted(q.name for q in region.iterdir() if q.is_dir()):
            ws = stages.Workspace(folder / "build")
            validated, results = ws.validated(region.name, quarter), ws.results(region.name, quarter)
            stages.validate_stage(region, quarter, validated)
            stages.score_stage(region, quarter, validated, results)
            public = stages.public_stage(region, validated, results, ws.public(region.name, quarter))
            candidates.append(candidate_from_public(public))
    scored = time.perf_counter() - started
    started = time.perf_counter()
    publish_many(folder / "site", candidates)
    published = time.perf_counter() - started
    started = time.perf_counter()
    report = build(folder / "mkdocs.yml", data_roots)
    built = time.perf_counter() - started
    page, weight = report.heaviest
    html = sum(p.stat().st_size for p in report.site_dir.rglob("*.html"))
    figures = {
        "regions": len(regions), "quarters": len(candidates), "pages": report.pages,
        "score_seconds": round(scored, 1), "publish_seconds": round(published, 1),
        "mkdocs_build_seconds": round(report.seconds, 1),
        "build_and_scan_seconds": round(built, 1),
        "heaviest_page": page, "heaviest_page_bytes": weight,
        "heaviest_page_without_plotly_bytes": weight - (report.site_dir / "assets/javascripts/plotly.min.js").stat().st_size,
        "html_bytes": html,
    }
    print(name, json.dumps(figures, ensure_ascii=False))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--counties", type=int, default=73)
    parser.add_argument("--records", type=int, default=200_000, help="service records per quarter, province")
    parser.add_argument("--skip-province", action="store_true")
    args = parser.parse_args()
    figures = {"machine": machine()}
    data = ROOT / "data"
    figures["samples"] = case("samples", [data / "xiajiang", data / "huining"], [data])
    if not args.skip_province:
        from scoring_synthetic.generate import generate

        province = ROOT / "build" / "bench" / f"province-site-{args.counties}-{args.records}"
        marker = province / ".complete"
        if not marker.exists():
            started = time.perf_counter()
            generate("province", province, counties=args.counties,
                     records_per_quarter=args.records, quarters=QUARTERS)
            marker.write_text("")
            print(f"generated in {time.perf_counter() - started:.0f} s")
        regions = sorted(p.parent for p in province.glob("*/region.yaml"))
        figures["province"] = case("province", regions, [province])
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "site.json").write_text(json.dumps(figures, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
