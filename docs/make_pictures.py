"""Make the PNG pictures of docs/ from the snapshot tests' SVGs.

    python3 docs/make_pictures.py          # needs rsvg-convert (Debian: librsvg2-bin)

The snapshot SVGs (tests/__snapshots__/) are what the code draws, but they ask for the Fira Code
web font and place each run of text by its first cell only. A viewer without that font (a code
host shows an SVG as an image, with no web fonts) draws the charts' braille (U+2800-28FF) in a
fallback font whose glyphs are wider than a cell, so chart lines run past their frames and the
frames' right edges stand apart as stray bars. This script writes a copy of each SVG in which
every glyph sits in its own cell, in DejaVu Sans Mono (braille from DejaVu Sans, the fallback
fontconfig picks: Debian's fonts-dejavu-core has both), with each run of full blocks drawn as one
rectangle (bars without seams), and converts that copy to PNG. Look at the PNGs before committing.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import sys
import tempfile
import unicodedata
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SNAPSHOTS = REPO / "tests" / "__snapshots__"
IMAGES = REPO / "docs" / "images"

# picture name -> snapshot it is made from (keep the set small: each PNG is committed)
PICTURES = {
    "health-160x50.png": "test_snapshots/test_health_with_data[160x50].svg",
    "health-80x24.png": "test_snapshots/test_health_with_data[80x24].svg",
    "waterfall-160x50.png": "test_snapshots_traces/test_waterfall_with_a_span_selected[160x50].svg",
    "alert-evidence-160x50.png": "test_alert_evidence/test_the_evidence_screen_after_the_walkthrough[160x50].svg",
    "ml-engine-160x50.png": "test_ml_screen/test_ml_snapshot[160x50].svg",
    "product-160x50.png": "test_product_screen/test_product_snapshot[160x50].svg",
}

# PNG pixels per SVG unit: 160 columns (an SVG ~1970 wide) become 1280 pixels; 80 columns, ~650.
SCALE = 0.65

_TEXT = re.compile(
    r'<text class="(?P<cls>terminal-r\d+)" x="(?P<x>[\d.]+)" y="(?P<y>[\d.]+)" '
    r'textLength="(?P<len>[\d.]+)" clip-path="(?P<clip>[^"]+)">(?P<body>[^<]*)</text>'
)
_VIEWBOX = re.compile(r'viewBox="0 0 (?P<w>[\d.]+) ')
_LINE = re.compile(r'<clipPath id="(?P<id>terminal-line-\d+)">\s*<rect x="0" y="(?P<y>[\d.]+)" width="[\d.]+" height="(?P<h>[\d.]+)"/>')
FULL_BLOCK = "\u2588"
_RUNS = re.compile(f"{FULL_BLOCK}+|[^{FULL_BLOCK}]+")
_FONT = re.compile(r"(\.terminal-matrix \{\s*font-family:)[^;]*;(\s*font-size:)\s*20px;")
# DejaVu Sans Mono's advance is 0.602 em; at this size it is the SVG's cell of 12.2 px, so block
# and box characters meet their neighbours without seams.
_FONT_SIZE = "20.27px"


def _cells(ch: str) -> int:
    return 2 if unicodedata.east_asian_width(ch) in "WF" else 1


def _line_boxes(svg: str) -> dict[str, tuple[str, str]]:
    """clip-path id of each terminal line -> the line's top and height."""
    return {m["id"]: (m["y"], m["h"]) for m in _LINE.finditer(svg)}


def _placed(match: re.Match[str], lines: dict[str, tuple[str, str]]) -> str:
    """One <text> per glyph at its cell; a run of full blocks becomes one rectangle (no seams)."""
    text = html.unescape(match["body"])
    width = sum(_cells(ch) for ch in text)
    if not width:
        return match[0]
    cell = float(match["len"]) / width
    cls, clip = match["cls"], match["clip"]
    x = float(match["x"])
    out = []
    for run in _RUNS.finditer(text):
        chunk = run[0]
        if chunk[0] == FULL_BLOCK:
            top, height = lines[clip.removeprefix("url(#").removesuffix(")")]
            out.append(f'<rect class="{cls}" x="{x:.2f}" y="{top}" width="{cell * len(chunk):.2f}" height="{height}"/>')
            x += cell * len(chunk)
            continue
        for ch in chunk:
            if not ch.isspace():
                out.append(f'<text class="{cls}" x="{x:.2f}" y="{match["y"]}" clip-path="{clip}">{html.escape(ch)}</text>')
            x += cell * _cells(ch)
    return "".join(out)


def placed_svg(svg: str) -> str:
    """The same picture with every glyph in its own cell and a local font that has braille."""
    svg, found = _FONT.subn(rf'\1 "DejaVu Sans Mono", "DejaVu Sans", monospace;\2 {_FONT_SIZE};', svg, count=1)
    if not found:
        raise ValueError("no .terminal-matrix font in the SVG: has Rich's SVG export changed?")
    lines = _line_boxes(svg)
    return _TEXT.sub(lambda m: _placed(m, lines), svg)


def main() -> int:
    if not shutil.which("rsvg-convert"):
        print("rsvg-convert is missing: apt-get install librsvg2-bin", file=sys.stderr)
        return 1
    IMAGES.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name, source in PICTURES.items():
            svg = (SNAPSHOTS / source).read_text(encoding="utf-8")
            placed = Path(tmp) / "placed.svg"
            placed.write_text(placed_svg(svg), encoding="utf-8")
            width = round(float(_VIEWBOX.search(svg)["w"]) * SCALE)
            subprocess.run(["rsvg-convert", "--width", str(width), "-o", str(IMAGES / name), str(placed)], check=True)
            print(f"{IMAGES / name} <- {source}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
