"""The shipped PromQL catalog is valid, overridable, and reports defects by name."""

from __future__ import annotations

import re
from pathlib import Path

import promql_parser
import pytest

from zeta_tui.errors import ConfigError
from zeta_tui.querying.promql_catalog import KNOWN_PARAMS, PromCatalog, parse_query_file
from zeta_tui.resources import shipped_dir

SHIPPED = shipped_dir("queries") / "promql"


def test_shipped_catalog_has_no_problems_and_every_query_parses() -> None:
    catalog = PromCatalog.load(SHIPPED)
    assert catalog.problems() == []
    names = {q.name for q in catalog}
    assert {"service_up", "service_cpu", "latency_quantile", "endpoint_error_ratio"} <= names
    for q in catalog:
        expr = catalog.render(q.name, **{p: KNOWN_PARAMS[p] for p in q.params})
        promql_parser.parse(expr)  # raises on bad syntax
        assert not re.search(r"\$[a-z_]", expr), q.name  # "$1" in label_replace is PromQL's own
        assert "{{" not in expr, q.name


def test_header_is_parsed(tmp_path: Path) -> None:
    f = tmp_path / "demo.promql"
    f.write_text('# What it does.\n# params: services, window\n\nrate(x{job=~"$services"}[$window])\n')
    q = parse_query_file(f)
    assert (q.name, q.description, q.params) == ("demo", "What it does.", ("services", "window"))
    assert q.render({"services": "a|b", "window": "5m"}) == 'rate(x{job=~"a|b"}[5m])'


def test_values_cannot_break_out_of_a_label_string(tmp_path: Path) -> None:
    f = tmp_path / "q.promql"
    f.write_text('# params: service\nup{job="$service"}\n')
    expr = parse_query_file(f).render({"service": 'x"} or vector(1) #'})
    assert expr == 'up{job="x\\"} or vector(1) #"}'
    promql_parser.parse(expr)


def test_user_file_overrides_shipped_one(tmp_path: Path) -> None:
    (tmp_path / "service_up.promql").write_text('# mine\n# params: services\nmin by (job) (up{job=~"$services"})\n')
    catalog = PromCatalog.load(SHIPPED, tmp_path)
    assert catalog.get("service_up").template.startswith("min by (job)")
    assert catalog.get("service_up").path == tmp_path / "service_up.promql"
    assert "service_cpu" in catalog  # the rest still comes from the shipped folder


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('# params: services\nup{job=~"$services"}[$window]\n', "uses $window but does not declare it"),
        ("# params: nonsense\nup\n", "unknown parameter 'nonsense'"),
        ("# params: services\nsum by (job (up)\n", "bad PromQL"),
        ("# only a comment\n", "empty expression"),
    ],
)
def test_defects_are_reported_by_name_and_file(tmp_path: Path, body: str, expected: str) -> None:
    (tmp_path / "broken.promql").write_text(body)
    catalog = PromCatalog.load(SHIPPED, tmp_path)
    problems = catalog.problems()
    assert len(problems) == 1
    assert problems[0].startswith(f"broken ({tmp_path / 'broken.promql'})")
    assert expected in problems[0]
    with pytest.raises(ConfigError) as info:
        catalog.validate()
    assert "broken" in info.value.message and expected in info.value.message


def test_rendering_without_a_parameter_names_it() -> None:
    with pytest.raises(ConfigError, match=r"needs parameter.*window"):
        PromCatalog.load(SHIPPED).render("service_cpu", namespace="p", services="x")
