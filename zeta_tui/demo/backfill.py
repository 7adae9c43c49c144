"""History for Prometheus: the world over a time window, as TSDB blocks made by promtool.

``backfill`` writes OpenMetrics to a file and runs ``promtool tsdb create-blocks-from
openmetrics`` into a staging directory; ``move_blocks`` then renames the finished block
directories into a Prometheus data dir (a running Prometheus picks them up on its next
periodic block reload, about once a minute). ``python -m zeta_tui.demo.backfill`` does both
in a child process, so `zeta demo` can fill older history without slowing the console.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from zeta_tui.demo.openmetrics import merge_times, sample_times, write_openmetrics
from zeta_tui.demo.processes import find_binary
from zeta_tui.demo.world import DEFAULT_SEED, TeamZetaWorld
from zeta_tui.errors import BackendError

# promtool re-reads the whole input once per block window; the largest block it can make
# (2h * 3^4) keeps a 7-day file to one or two passes. The flag is hidden but present in 2.x.
MAX_BLOCK_DURATION = "162h"


@dataclass(frozen=True)
class Segment:
    """Samples every ``step`` seconds in [start, end]."""

    start: float
    end: float
    step: int

    def times(self) -> list[int]:
        return sample_times(self.start, self.end, self.step)

    def __str__(self) -> str:
        return f"{int(self.start)}:{int(self.end)}:{self.step}"

    @classmethod
    def parse(cls, text: str) -> Segment:
        start, end, step = text.split(":")
        return cls(float(start), float(end), int(step))


def history_segments(
    start: float, end: float, fine_step: int = 60, coarse_step: int = 300, fine_span: float = 86400.0
) -> list[Segment]:
    """[start, end] at ``coarse_step``, except its last ``fine_span`` seconds at ``fine_step``.

    Coarse history keeps a 7-day backfill small; the last day, which the console shows most,
    stays fine-grained.
    """
    if end <= start:
        return []
    split = max(start, end - fine_span)
    segments = []
    if split > start:
        segments.append(Segment(start, split - 1, coarse_step))
    segments.append(Segment(split, end, fine_step))
    return segments


def backfill(
    world: TeamZetaWorld,
    segments: list[Segment],
    out_dir: Path,
    *,
    workdir: Path | None = None,
    promtool: str | None = None,
) -> list[Path]:
    """Write the world over ``segments`` into new TSDB blocks under ``out_dir``; return the block dirs."""
    times = merge_times(*(s.times() for s in segments))
    out_dir.mkdir(parents=True, exist_ok=True)
    if not times:
        return []
    promtool = promtool or find_binary("promtool")
    workdir = workdir or out_dir
    workdir.mkdir(parents=True, exist_ok=True)
    before = {p.name for p in out_dir.iterdir()}
    source = workdir / f"world-{times[0]}-{times[-1]}.om"
    try:
        with source.open("w", encoding="utf-8", buffering=1 << 20) as out:
            write_openmetrics(world, out, times)
        argv = [
            promtool,
            "tsdb",
            "create-blocks-from",
            "openmetrics",
            f"--max-block-duration={MAX_BLOCK_DURATION}",
            "--quiet",
            str(source),
            str(out_dir),
        ]
        done = subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-5:])
            raise BackendError(
                f"promtool could not build blocks (exit {done.returncode}): {tail}",
                where=str(source),
                hint="is promtool from Prometheus 2.x?",
            )
    finally:
        source.unlink(missing_ok=True)
    return sorted(p for p in out_dir.iterdir() if p.name not in before and (p / "meta.json").is_file())


def move_blocks(blocks: list[Path], data_dir: Path) -> list[Path]:
    """Rename finished blocks into ``data_dir`` (atomic per block on one filesystem)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    moved = []
    for block in blocks:
        target = data_dir / block.name
        try:
            os.rename(block, target)
        except OSError:  # another filesystem: copy next to the target, then rename into place
            staging = data_dir / f".{block.name}.tmp"
            shutil.copytree(block, staging)
            os.rename(staging, target)
            shutil.rmtree(block, ignore_errors=True)
        moved.append(target)
    return moved


def block_time_range(data_dir: Path) -> tuple[float, float] | None:
    """(oldest, newest) sample time in seconds over the blocks in ``data_dir``, if any."""
    lows, highs = [], []
    if not data_dir.is_dir():
        return None
    for meta in data_dir.glob("*/meta.json"):
        try:
            info = json.loads(meta.read_text())
            lows.append(info["minTime"] / 1000)
            highs.append(info["maxTime"] / 1000)
        except (OSError, ValueError, KeyError):
            continue  # a block being written or a stray directory: not history we can count on
    return (min(lows), max(highs)) if lows else None


def main(argv: list[str] | None = None) -> int:
    """Child-process entry point: backfill segments, then move the blocks into --into."""
    parser = argparse.ArgumentParser(prog="python -m zeta_tui.demo.backfill")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--namespace", default="production")
    parser.add_argument(
        "--incident-shift", type=int, default=0, help="the world's incident shift (the demo's, from its state)"
    )
    parser.add_argument(
        "--segment", action="append", type=Segment.parse, default=[], help="START:END:STEP (unix seconds)"
    )
    parser.add_argument("--staging", type=Path, required=True)
    parser.add_argument("--into", type=Path, help="data dir to move the finished blocks into")
    args = parser.parse_args(argv)
    try:
        os.nice(10)  # history is a background chore; the console and Prometheus come first
    except OSError:
        pass
    began = time.monotonic()
    blocks = backfill(
        TeamZetaWorld(args.seed, args.namespace, incident_shift=args.incident_shift), args.segment, args.staging
    )
    if args.into:
        blocks = move_blocks(blocks, args.into)
    print(f"backfilled {len(blocks)} block(s) in {time.monotonic() - began:.1f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
