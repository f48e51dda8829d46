#!/usr/bin/env python3
"""Where each thread of a process spent its time, from a py-spy raw (collapsed) profile.

    .venv/bin/python scripts/profile_summary.py FILE [FILE ...] [--top 8] [--product]

py-spy's `record --format raw --threads` writes one line per distinct stack:
`thread (TID): NAME;outer (file:line);...;inner (file:line) COUNT`. Threads of one pool
(outbox_0 … outbox_7) are counted together. For each thread: its samples (with `--idle`, samples
are wall time: 100 a second at --rate 100), and the innermost frames that hold most of them, as
the leaf of the stack and (with --product) as the innermost frame in the product's own code.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = ("core/", "registry/", "devices/", "gateway/", "dispatcher/", "web/", "jinqiao/")
LINE = re.compile(r"^thread \((?P<tid>[^)]*)\): (?P<stack>.*) (?P<count>\d+)$")
FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


def thread_group(name: str) -> str:
    """outbox_3 -> outbox_*, ThreadPoolExecutor-0_1 -> ThreadPoolExecutor-*_*, Thread-7 (worker) -> Thread-*."""
    return re.sub(r"\d+", "*", name)


def short(frame: str) -> str:
    m = FRAME.match(frame)
    if not m:
        return frame
    path = m["file"]
    for marker in ("site-packages/", "/lib/python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    else:
        try:
            path = str(Path(path).resolve().relative_to(ROOT))
        except ValueError:
            path = Path(path).name
    return f"{m['func']} ({path}{':' + m['line'] if m['line'] else ''})"


def is_product(frame: str) -> bool:
    m = FRAME.match(frame)
    if not m or "site-packages" in m["file"]:
        return False
    try:
        rel = str(Path(m["file"]).resolve().relative_to(ROOT))
    except ValueError:
        return False
    return rel.startswith(PRODUCT)


def parse(path: Path) -> list[tuple[str, list[str], int]]:
    stacks = []
    for raw in path.read_text(errors="replace").splitlines():
        m = LINE.match(raw.strip())
        if not m:
            continue
        name, *frames = m["stack"].split(";")
        stacks.append((name, frames, int(m["count"])))
    return stacks


def summarize(path: Path, top: int = 6, product: bool = True) -> list[str]:
    stacks = parse(path)
    if not stacks:
        return [f"(no samples in {path})"]
    by_thread: Counter[str] = Counter()
    leaves: dict[str, Counter[str]] = {}
    ours: dict[str, Counter[str]] = {}
    for name, frames, count in stacks:
        group = thread_group(name)
        by_thread[group] += count
        leaves.setdefault(group, Counter())[short(frames[-1]) if frames else "?"] += count
        mine = [f for f in frames if is_product(f)]
        ours.setdefault(group, Counter())[short(mine[-1]) if mine else "(no product frame)"] += count
    total = sum(by_thread.values())
    lines = [f"{total} samples in {len(by_thread)} thread groups"]
    for group, n in by_thread.most_common():
        lines.append(f"{group}: {n} samples ({100 * n / total:.0f}%)")
        for frame, k in leaves[group].most_common(top):
            lines.append(f"    {100 * k / n:5.1f}%  {frame}")
        if product:
            lines.append("    innermost product frame:")
            for frame, k in ours[group].most_common(top):
                lines.append(f"    {100 * k / n:5.1f}%  {frame}")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="+", type=Path)
    ap.add_argument("--top", type=int, default=8)
    ap.add_argument("--no-product", action="store_true", help="leave out the innermost product frames")
    args = ap.parse_args(argv)
    for f in args.files:
        print(f"== {f}")
        for line in summarize(f, args.top, not args.no_product):
            print("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
