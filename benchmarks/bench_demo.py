"""`scoring demo` end to end, timed from outside, against an earlier revision in the same run.

    python benchmarks/bench_demo.py [--against v0.1.0] [--repeat 1]

Each run happens in a fresh copy of the project's data/, site/ and mkdocs.yml (nothing published
yet), in a new process. `--against REV` checks REV out into a temporary git worktree and runs its
demo the same way (its own code, through PYTHONPATH), so the two figures share the machine's state.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, machine


def project_copy(source: Path, into: Path) -> Path:
    for name in ("data", "site", "overrides"):
        shutil.copytree(source / name, into / name, symlinks=True,
                        ignore=shutil.ignore_patterns("disclosures", ".disclosures*", "plotly.min.js"))
    shutil.copy(source / "mkdocs.yml", into / "mkdocs.yml")
    return into


def timed_demo(source: Path, src_dir: Path) -> float:
    with tempfile.TemporaryDirectory(prefix="bench-demo-") as work:
        project = project_copy(source, Path(work))
        env = {**os.environ, "PYTHONPATH": str(src_dir)}
        started = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", "scoring", "demo"], cwd=project, env=env,
                                capture_output=True, text=True)
        elapsed = time.perf_counter() - started
        if result.returncode != 0:
            raise SystemExit(f"demo failed ({source}):\n{result.stdout[-1500:]}{result.stderr[-1500:]}")
        return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", default="v0.1.0", help="a git revision to compare with ('' for none)")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    ours = min(timed_demo(ROOT, ROOT / "src") for _ in range(args.repeat))
    print(f"scoring demo, this tree: {ours:.1f} s (best of {args.repeat})")
    if not args.against:
        return
    with tempfile.TemporaryDirectory(prefix="bench-demo-rev-") as folder:
        worktree = Path(folder) / "rev"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", str(worktree),
                        args.against], check=True)
        try:
            theirs = min(timed_demo(worktree, worktree / "src") for _ in range(args.repeat))
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(worktree)],
                           check=False)
    print(f"scoring demo, {args.against}: {theirs:.1f} s; this tree is {theirs / ours:.2f}x as fast")


if __name__ == "__main__":
    main()
