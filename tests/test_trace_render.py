"""Every captured trace (../shared/fixtures/real/{jaeger,tempo}) and every messy fixture of our
own renders: the tree keeps every span, the waterfall widget draws every row at 80x24 and
160x50 in the console, each span's detail renders, and the text waterfall has one line a span."""

from __future__ import annotations

import pytest
from rich.console import Console

from tests.support.servers import real_fixture
from tests.test_traces_formats import HERE, count_spans, parse, real_files
from zeta_tui.config.models import ContextConfig, ZetaConfig
from zeta_tui.headless.traces import text_waterfall
from zeta_tui.launch import build_app
from zeta_tui.models.trace_tree import build_tree
from zeta_tui.screens.trace_view import TraceViewScreen
from zeta_tui.widgets.span_detail import span_detail
from zeta_tui.widgets.waterfall import WaterfallView


def _traces():
    out = []
    for name in real_files():
        raw = real_fixture(name)
        count, fmt = count_spans(raw)
        if count:
            out += [pytest.param(t, id=f"{name}:{t.trace_id[:8]}") for t in parse(raw, fmt)]
    for path in sorted(HERE.glob("*.json")):
        raw = path.read_bytes()
        count, fmt = count_spans(raw)
        if count:
            out += [pytest.param(t, id=f"{path.name}:{t.trace_id[:8]}") for t in parse(raw, fmt)]
    return out


TRACES = _traces()


@pytest.mark.parametrize("trace", TRACES)
def test_tree_text_and_detail(trace) -> None:
    tree = build_tree(trace)
    real = [i for i in range(len(tree.spans)) if not tree.is_placeholder(i)]
    assert len(real) == len(trace.spans) and sorted(tree.order) == list(range(len(tree.spans)))
    lines = text_waterfall(tree, 120)
    assert len([line for line in lines[1:] if not line.startswith("⚠ ")]) == len(tree.spans)
    console = Console(width=60, record=True, color_system=None)
    for i in range(len(tree.spans)):
        console.print(span_detail(tree, i))
    assert console.export_text().count(" · ") >= len(tree.spans)


@pytest.mark.parametrize("size", [(80, 24), (160, 50)])
@pytest.mark.console  # the whole console through Textual's pilot
async def test_waterfall_draws_every_row(size) -> None:
    if not TRACES:
        pytest.skip("no trace fixtures")
    app = build_app(ZetaConfig(default_context="r", contexts={"r": ContextConfig()}), "r", live=False)
    async with app.run_test(size=size) as pilot:
        for param in TRACES:
            trace = param.values[0]
            await app.push_screen(TraceViewScreen(trace.trace_id, trace=trace))
            for _ in range(100):
                if app.screen.laid_out:
                    break
                await pilot.pause(0.02)
            view = app.screen.query_one(WaterfallView)
            assert len(view.rows) == len(view.trace_tree.spans)
            for row in range(len(view.rows)):  # every row drawn, not only those on screen
                assert view.render_row(row).cell_length == view.size.width
            await app.pop_screen()
