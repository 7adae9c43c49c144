"""Config semantics below the CLI: read-only rules, context choice, relative paths, and the
redacted TOML rendering round-tripping through a real TOML parser."""

from __future__ import annotations

import tomllib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zeta_tui.config.loader import env_ref_paths, parse_config
from zeta_tui.config.models import ContextConfig, ZetaConfig
from zeta_tui.config.render import render_toml
from zeta_tui.errors import ConfigError


@pytest.mark.parametrize(
    "production, read_only, expected",
    [
        (True, None, True),
        (True, False, False),
        (True, True, True),
        (False, None, False),
        (False, True, True),
        (False, False, False),
    ],
)
def test_production_implies_read_only_unless_explicitly_false(production, read_only, expected) -> None:
    raw: dict = {"production": production}
    if read_only is not None:
        raw["read_only"] = read_only
    assert ContextConfig.model_validate(raw).is_read_only is expected


def _cfg(raw: dict, **kw) -> ZetaConfig:
    return parse_config(raw, source="test.toml", **kw)


def test_single_context_is_chosen_without_default() -> None:
    config = _cfg({"contexts": {"only": {}}})
    assert config.context(None)[0] == "only"


def test_several_contexts_without_default_need_a_choice() -> None:
    config = _cfg({"contexts": {"a": {}, "b": {}}})
    with pytest.raises(ConfigError) as info:
        config.context(None)
    assert "a, b" in info.value.message and "--context" in info.value.hint


def test_no_contexts_says_how_to_start() -> None:
    with pytest.raises(ConfigError) as info:
        ZetaConfig().context(None)
    assert "zeta config init" in info.value.hint


def test_relative_files_are_read_from_the_config_directory(tmp_path) -> None:
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "ca.pem").write_text("x")
    (tmp_path / "token").write_text("t")
    raw = {
        "contexts": {
            "p": {"prometheus": {"url": "https://h:1", "ca_file": "certs/ca.pem", "bearer_token_file": "token"}}
        }
    }
    prom = _cfg(raw, base_dir=tmp_path).contexts["p"].prometheus
    assert prom is not None
    assert prom.ca_file == str(tmp_path / "certs" / "ca.pem")
    assert prom.bearer_token_file == str(tmp_path / "token")


def test_every_problem_is_reported_at_once() -> None:
    raw = {
        "contexts": {
            "p": {"refresh_seconds": "x", "prometheus": {"url": "ftp://h"}, "alertmanager": {"ulr": "http://h"}}
        }
    }
    with pytest.raises(ConfigError) as info:
        _cfg(raw)
    text = info.value.message
    assert "contexts.p.refresh_seconds" in text
    assert "contexts.p.prometheus.url" in text
    assert "contexts.p.alertmanager.ulr: unknown key 'ulr'; did you mean 'url'?" in text


def test_http_backends_in_order() -> None:
    config = _cfg({"contexts": {"p": {"alertmanager": {"url": "http://a:1"}, "prometheus": {"url": "http://p:1/"}}}})
    backends = config.contexts["p"].http_backends()
    assert list(backends) == ["prometheus", "alertmanager"]
    assert backends["prometheus"].url == "http://p:1"  # trailing slash dropped


def test_env_refs_are_found_where_written() -> None:
    raw = {"a": "${X}", "b": {"c": "plain", "d": ["x", "pre-${Y}"]}}
    assert env_ref_paths(raw) == {("a",): "${X}", ("b", "d", "1"): "pre-${Y}"}


def test_rendered_starter_like_config_reparses_to_the_same_config(monkeypatch) -> None:
    raw = {
        "default_context": "prod",
        "keymap": {"screen.health": "f1"},
        "contexts": {
            "prod": {
                "production": True,
                "refresh_seconds": 15,
                "services": ["api", "db"],
                "prometheus": {
                    "url": "https://p:9090/prefix",
                    "headers": {"X-Scope-OrgID": "zeta"},
                    "timeout_seconds": 2.5,
                },
            },
            "dev": {"read_only": False, "alertmanager": {"url": "http://a:9093", "insecure_skip_verify": True}},
        },
    }
    config = _cfg(raw)
    again = _cfg(tomllib.loads(render_toml(config)))
    # read_only is written out as its effective value, so compare that rather than "unset".
    no_read_only = {"contexts": {"__all__": {"read_only"}}}
    assert again.model_dump(exclude=no_read_only) == config.model_dump(exclude=no_read_only)
    assert {n: c.is_read_only for n, c in again.contexts.items()} == {"prod": True, "dev": False}


text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)


@settings(max_examples=60, deadline=None)
@given(namespace=text, header_value=text, header_name=st.from_regex(r"X-[A-Za-z][A-Za-z0-9-]{0,10}", fullmatch=True))
def test_render_escapes_any_text_as_valid_toml(namespace, header_value, header_name) -> None:
    if (
        "${" in namespace
        or "${" in header_value
        or any(w in header_name.lower() for w in ("key", "token", "secret", "auth", "cookie", "password"))
    ):
        return  # env refs and credential headers are deliberately not reproduced
    raw = {
        "contexts": {
            "c": {"namespace": namespace, "prometheus": {"url": "http://h:1", "headers": {header_name: header_value}}}
        }
    }
    config = _cfg(raw)
    parsed = tomllib.loads(render_toml(config))
    assert parsed["contexts"]["c"]["namespace"] == namespace
    assert parsed["contexts"]["c"]["prometheus"]["headers"] == {header_name: header_value}
