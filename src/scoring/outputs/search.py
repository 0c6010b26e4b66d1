"""The site's Chinese search: the words jieba must keep whole, and a smaller index.

Material's search plugin segments every page with jieba at build time (words joined by U+200B);
in the browser the query is split greedily on the words already in the index. A word jieba does
not know is cut into pieces: 不合格 became 不 + 合格, so its top hits were pages about 合格.
`write_words` lists the words that must stay whole: the grades, a fixed domain vocabulary and the
published service categories; the mkdocs hook `overrides/hooks/search.py` gives them to jieba
(`jieba.add_word`) in the mkdocs process, before any page is indexed, and afterwards rewrites the
index as UTF-8 (Material writes it ASCII-escaped: six bytes for every Chinese character).

Providers' full names are not made words: as one term, 峡江县仁爱社会工作服务中心 could no longer
be found by 仁爱 or by 同心养老 (tried: no result at all). Split by jieba into 峡江县 仁爱 社会工作
服务中心, the full name still brings its own page first once the query is split right (below).

In the browser, Material's search worker splits a Chinese query on the words of the index, but
its loop never tries the whole query (`j < query.length`): a query that is exactly one word of
the index (不合格, a provider's full name) was cut to its first known prefix (不, 峡江县) and the
rest dropped. `patch_segmenter` lets the loop reach the end of the query (`<=`), in the built
copy of the worker; if Material's code changes, the build warns (and fails under --strict).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from scoring.inputs.schema import GRADES
from scoring.outputs.formats import read_public_csv

WORDS_FILE = ".search-words.txt"  # in docs_dir; a dot file, so mkdocs does not publish it
DOMAIN_WORDS = (
    "满意度", "满意率", "回访满意率", "拨付", "计划拨付", "实际拨付", "暂缓拨付", "暂扣", "公示期",
    "综合得分", "置信区间", "等级分界线", "样本不足", "暂不评级", "服务机构", "服务时长",
    "服务数量", "服务质量", "抽查扣款", "陪护补贴", "护理补贴", "人均年化支出", "更正公告",
    "撤回公告", "异议", "社会救助", "政府购买服务",
)
# jieba's frequency for a word of ours: high enough to win over any split of it
FREQUENCY = 100_000


def published_words(disclosures: Path) -> set[str]:
    """Published words that are words: regions' names and the service categories."""
    words: set[str] = set()
    disclosures = Path(disclosures)
    if not disclosures.is_dir():
        return words
    for manifest in disclosures.glob("*/*/manifest.json"):
        region_name = json.loads(manifest.read_text(encoding="utf-8")).get("region_name")
        if region_name:
            words.add(region_name)
        quarter = manifest.parent
        for table, columns in (("catalog", ("category",)),):
            path = quarter / f"{table}.csv"
            if path.is_file():
                frame = read_public_csv(path)
                for column in columns:
                    if column in frame:
                        words.update(str(v) for v in frame[column] if v)
    return words


def search_words(disclosures: Path) -> list[str]:
    """Every word to keep whole, sorted; none with a space or a line break (jieba's format)."""
    words = published_words(disclosures) | set(GRADES) | set(DOMAIN_WORDS)
    return sorted(w.strip() for w in words if w.strip() and not any(c.isspace() for c in w.strip()))


def write_words(docs_dir: Path) -> Path:
    """`docs_dir/.search-words.txt`, one word a line, rewritten only when it changed."""
    path = Path(docs_dir) / WORDS_FILE
    text = "".join(f"{word}\n" for word in search_words(Path(docs_dir) / "disclosures"))
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    return path


def add_words(path: Path) -> int:
    """Give the words to jieba (the search plugin's segmenter) in this process."""
    import jieba  # only in the mkdocs process (the hook); loading it costs a second elsewhere

    count = 0
    if Path(path).is_file():
        for word in Path(path).read_text(encoding="utf-8").splitlines():
            if word:
                jieba.add_word(word, freq=FREQUENCY)
                count += 1
    return count


def compact_index(site_dir: Path) -> None:
    """search/search_index.json written as UTF-8 without escapes: the same JSON, half the bytes."""
    path = Path(site_dir) / "search" / "search_index.json"
    if path.is_file():
        index = json.loads(path.read_text(encoding="utf-8"))
        path.write_text(json.dumps(index, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")


SEGMENTER_LOOP = "for(let o=s+1;o<t.length;o++)t.slice(s,o)in e"
SEGMENTER_FIXED = "for(let o=s+1;o<=t.length;o++)t.slice(s,o)in e"


def patch_segmenter(site_dir: Path) -> None:
    """The built search worker's query segmenter tries the whole query as a word too."""
    workers = sorted((Path(site_dir) / "assets" / "javascripts" / "workers").glob("search.*.min.js"))
    for worker in workers:
        text = worker.read_text(encoding="utf-8")
        if SEGMENTER_LOOP in text:
            worker.write_text(text.replace(SEGMENTER_LOOP, SEGMENTER_FIXED, 1), encoding="utf-8")
        elif SEGMENTER_FIXED not in text:
            logging.getLogger("mkdocs").warning(
                f"search: the query segmenter of {worker.name} is not the one patched "
                "(scoring.outputs.search.SEGMENTER_LOOP): a Chinese query may be cut short")
    if not workers:
        logging.getLogger("mkdocs").warning("search: no search worker found to patch")
