"""What the site offers for download besides each quarter's own files, made from those files.

Rendered with the pages (`pages.render_pages`), whenever the published record changes and at every
site build, so they always agree with what is published:

- `<region>/<quarter>/<table>.xlsx` (and the same in every `v<N>/`): each public CSV as an Excel
  workbook with Chinese headers, made from the CSV as published (`formats.xlsx_bytes`);
- `all/<table>.csv` (and `.xlsx`): one table across every region and quarter (the current version
  of each), with `region` and `quarter` first, at an address that never changes, and
  `all/datapackage.json` describing them (Frictionless);
- `index.json`: everything published, machine-readable: regions, quarters, versions, and every
  file with its size, sha256 and address (relative to the index).

None of them is in a quarter's manifest: like the pages, they are renderings of the published
files, never a source of anything.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

from scoring.files import json_bytes
from scoring.inputs.months import Quarter
from scoring.outputs.formats import (
    CONTACT_FILE,
    RECORD_FILE,
    combined_datapackage,
    csv_bytes,
    read_public_csv,
    sha256,
    xlsx_bytes,
)
from scoring.outputs.public import COMBINED_COLUMNS, PUBLIC_TABLES
from scoring.outputs.store import MANIFEST, WITHDRAWN, read_manifest, write_file

COMBINED = "all"  # disclosures/all/<table>.csv
INDEX = "index.json"
COMBINED_PACKAGE = "datapackage.json"
_VERSION = re.compile(r"v\d+")


def write_if_changed(path: Path, data: bytes) -> None:
    """Write `data` unless the file already holds it (an unchanged file stays the hard link it is,
    so a rebuild that changes nothing changes no file)."""
    if path.is_file() and path.stat().st_size == len(data) and path.read_bytes() == data:
        return
    write_file(path, data)


def version_dirs(root: Path, region: str | None = None) -> list[Path]:
    """Every published version's folder (a quarter's current one and its `v<N>/` archives)."""
    out = []
    for region_dir in _region_dirs(root):
        if region is not None and region_dir.name != region:
            continue
        for quarter_dir in _quarter_dirs(region_dir):
            if (quarter_dir / MANIFEST).is_file():
                out.append(quarter_dir)
                out += sorted((d for d in quarter_dir.iterdir() if d.is_dir() and _VERSION.fullmatch(d.name)
                               and (d / MANIFEST).is_file()), key=lambda d: int(d.name[1:]))
    return out


def _region_dirs(root: Path) -> list[Path]:
    return sorted(p for p in Path(root).iterdir() if p.is_dir() and not p.name.startswith((".", "_"))
                  and p.name != COMBINED)


def _quarter_dirs(region_dir: Path) -> list[Path]:
    found = []
    for child in region_dir.iterdir():
        try:
            found.append((Quarter.parse(child.name), child))
        except ValueError:
            continue
    return [path for _, path in sorted(found)]


def write_workbooks(version_dir: Path) -> None:
    """Each public CSV of a published version as .xlsx beside it."""
    for name in PUBLIC_TABLES:
        csv = version_dir / f"{name}.csv"
        if csv.is_file():
            write_if_changed(version_dir / f"{name}.xlsx", xlsx_bytes(read_public_csv(csv), name))


def combined_tables(root: Path) -> dict[str, pd.DataFrame]:
    """Each public table across every region and quarter (current versions), `region` and
    `quarter` first; regions by folder name, quarters in order."""
    parts: dict[str, list[pd.DataFrame]] = {name: [] for name in PUBLIC_TABLES}
    for region_dir in _region_dirs(root):
        for quarter_dir in _quarter_dirs(region_dir):
            if not (quarter_dir / MANIFEST).is_file():
                continue
            for name, spec in PUBLIC_TABLES.items():
                csv = quarter_dir / f"{name}.csv"
                if not csv.is_file():
                    continue  # a version published before the table existed
                table = read_public_csv(csv).reindex(columns=list(spec["columns"]), fill_value="")
                table.insert(0, "quarter", quarter_dir.name)
                table.insert(0, "region", region_dir.name)
                parts[name].append(table)
    columns = list(COMBINED_COLUMNS)
    return {name: (pd.concat(tables, ignore_index=True) if tables else
                   pd.DataFrame(columns=[*columns, *PUBLIC_TABLES[name]["columns"]]))
            for name, tables in parts.items()}


def write_combined(root: Path) -> None:
    """`all/<table>.csv` and `.xlsx`, and `all/datapackage.json`; nothing else stays in `all/`."""
    root = Path(root)
    folder = root / COMBINED
    files: dict[str, bytes] = {}
    thresholds = []
    for quarter_dir in version_dirs(root):
        if not _VERSION.fullmatch(quarter_dir.name):
            thresholds.append(read_manifest(quarter_dir)["rules"]["suppress_below"])
    if thresholds:
        for name, table in combined_tables(root).items():
            files[f"{name}.csv"] = csv_bytes(table)
            files[f"{name}.xlsx"] = xlsx_bytes(table, name)
        files[COMBINED_PACKAGE] = json_bytes(combined_datapackage(files, thresholds))
    if folder.is_dir():
        for stale in folder.iterdir():
            if stale.name not in files:
                stale.unlink()
    for name, data in files.items():
        write_if_changed(folder / name, data)
    if folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()


def _file_entry(root: Path, path: Path) -> dict:
    data = path.read_bytes()
    return {"name": path.name, "url": path.relative_to(root).as_posix(), "bytes": len(data),
            "sha256": sha256(data)}


def _files_of(root: Path, directory: Path) -> list[dict]:
    """The downloadable files of a folder (not its pages, not its sub-folders)."""
    return [_file_entry(root, p) for p in sorted(directory.iterdir())
            if p.is_file() and p.suffix != ".md"]


def publication_index(root: Path) -> dict:
    """Everything published, as data: for each region its quarters, each quarter's versions and
    their files (size, sha256, address relative to the index), the withdrawals, and the
    combined downloads."""
    root = Path(root)
    regions = []
    for region_dir in _region_dirs(root):
        quarters, name, code = [], None, None
        for quarter_dir in _quarter_dirs(region_dir):
            manifest = read_manifest(quarter_dir)
            withdrawn = quarter_dir / WITHDRAWN
            entry: dict = {"quarter": quarter_dir.name, "label": Quarter.parse(quarter_dir.name).label}
            if manifest is not None:
                name, code = manifest["region_name"], manifest["region_code"]
                versions = []
                for version_dir in version_dirs(root, region_dir.name):
                    if version_dir != quarter_dir and version_dir.parent != quarter_dir:
                        continue
                    own = read_manifest(version_dir)
                    versions.append({"version": own["version"], "published_at": own["published_at"],
                                     "current": version_dir == quarter_dir,
                                     "url": version_dir.relative_to(root).as_posix() + "/",
                                     "files": _files_of(root, version_dir)})
                versions.sort(key=lambda v: v["version"])
                entry.update({"version": manifest["version"], "published_at": manifest["published_at"],
                              "rules_fingerprint": manifest["rules_fingerprint"], "versions": versions})
            if withdrawn.is_file():
                record = json.loads(withdrawn.read_text(encoding="utf-8"))
                name, code = name or record["region_name"], code or record["region_code"]
                entry["withdrawals"] = record["withdrawals"]
                entry["withdrawn_notice"] = _file_entry(root, withdrawn)
            if manifest is not None or withdrawn.is_file():
                quarters.append(entry)
        if quarters:
            record, contact = region_dir / RECORD_FILE, region_dir / CONTACT_FILE
            regions.append({"region": region_dir.name, "name": name, "code": code,
                            "url": region_dir.name + "/",
                            **({"record": _file_entry(root, record)} if record.is_file() else {}),
                            **({"contact": _file_entry(root, contact)} if contact.is_file() else {}),
                            "quarters": quarters})
    combined = root / COMBINED
    return {
        "title": "服务类社会救助绩效评价公示:公开文件索引",
        "description": "本站公布的全部区县、季度、版本和文件;url 相对于本文件的地址,sha256 为文件内容的 SHA-256。",
        "tables": {name: spec["title"] for name, spec in PUBLIC_TABLES.items()},
        "regions": regions,
        "combined": {"url": f"{COMBINED}/", "files": _files_of(root, combined) if combined.is_dir() else []},
    }


def write_downloads(root: Path, regions: set[str] | None = None) -> None:
    """The workbooks of the given regions' versions (all when None), the combined downloads and
    the index: in this order, so that the index lists them all."""
    root = Path(root)
    for region_dir in _region_dirs(root):
        if regions is None or region_dir.name in regions:
            for version_dir in version_dirs(root, region_dir.name):
                write_workbooks(version_dir)
    write_combined(root)
    write_if_changed(root / INDEX, json_bytes(publication_index(root)))
