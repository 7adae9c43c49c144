"""Alertmanager API v2: status, alerts, alert groups and silences (list, create, expire).

Writes (creating and expiring silences) take ``read_only`` from the caller's context and refuse
when it is set, here in the adapter, so that no screen or command can forget the guard. A
silence is checked (matchers, author, comment, duration) before anything is sent.

Errors are Alertmanager's own words: its v2 errors are a bare JSON string ("silence not found")
or ``{"code": .., "message": ..}``. A request Alertmanager refuses (4xx, or a silence it cannot
find) is a QueryError; an answer that is not the JSON the API documents is BackendUnavailable.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
import orjson

from zeta_tui.backends.http import HttpBackend
from zeta_tui.config.models import AlertmanagerConfig
from zeta_tui.errors import BackendUnavailable, QueryError, SilenceInvalid, WriteRefused, ZetaError
from zeta_tui.models.alerts import Alert, AlertGroup, Matcher, Silence
from zeta_tui.models.metrics_meta import BuildInfo
from zeta_tui.models.rfc3339 import rfc3339_seconds

T = TypeVar("T")

#: the longest silence Zeta will create; a longer one is almost always a typo
MAX_SILENCE_SECONDS = 30 * 24 * 3600


class AlertmanagerClient(HttpBackend):
    """Talks to an Alertmanager (API v2). Every method raises only ZetaError subclasses."""

    kind = "alertmanager"

    def __init__(self, cfg: AlertmanagerConfig) -> None:
        super().__init__(cfg)

    # --- plumbing ----------------------------------------------------------------------

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        json: Any = None,
        body: bool = True,
    ) -> Any:
        """One request to /api/v2/<path>: the decoded JSON body, or None when ``body`` is False."""
        resp = await self._response(method, path, params=params, json=json)
        return await self.read(resp, _same) if body else None

    async def _get(self, path: str, params: Any = None) -> Any:
        return await self._call("GET", path, params=params)

    async def _get_built(self, path: str, params: Any, build: Callable[[Any], T]) -> T:
        """GET /api/v2/<path> as ``build`` makes it of the JSON body, decoded and built off the
        event loop when large (HttpBackend.read): 100,000 alerts are tens of MB. An answer of the
        wrong shape is said as such (``_garbage``)."""
        resp = await self._response("GET", path, params=params)
        return await self.read(resp, self._built(path, build))

    async def _response(self, method: str, path: str, *, params: Any = None, json: Any = None) -> httpx.Response:
        """One request to /api/v2/<path>; HTTP errors become ZetaErrors quoting the server."""
        kwargs: dict[str, Any] = {}
        if params:
            kwargs["params"] = params
        if json is not None:
            kwargs["content"] = orjson.dumps(json)
            kwargs["headers"] = {"Content-Type": "application/json"}
        resp = await self.request(method, f"/api/v2/{path}", **kwargs)
        self.raise_for_auth(resp)
        if resp.status_code >= 400:
            raise self._http_error(resp, f"{method} /api/v2/{path}")
        return resp

    def _built(self, path: str, build: Callable[[Any], T]) -> Callable[[Any], T]:
        """``build``, with an answer of the wrong shape said as such (``_garbage``)."""

        def checked(body: Any) -> T:
            try:
                return build(body)
            except (TypeError, ValueError, AttributeError, KeyError) as exc:
                raise self._garbage(path, exc) from None

        return checked

    def _http_error(self, resp: httpx.Response, what: str) -> ZetaError:
        message = _error_message(resp)
        status = resp.status_code
        if status < 500 or "not found" in message.lower():
            # Alertmanager 0.25 answers a DELETE of an unknown silence with 500 "silence not found".
            hint = (
                "list the silences to find its id; expired silences are dropped after the retention"
                if "silence" in what
                else ""
            )
            text = message if message == f"HTTP {status}" else f"{message} (HTTP {status})"
            return QueryError(text, where=self.where, hint=hint or "Alertmanager refused the request as sent")
        return BackendUnavailable(
            f"HTTP {status}: {message}", where=self.where, hint="check the URL and the Alertmanager's logs"
        )

    def _garbage(self, path: str, exc: Exception | None = None) -> BackendUnavailable:
        detail = f" ({type(exc).__name__}: {exc})" if exc is not None else ""
        return BackendUnavailable(
            f"the answer to /api/v2/{path} is not what Alertmanager API v2 sends{detail}",
            where=self.where,
            hint="is this URL an Alertmanager (API v2), not a proxy or another server?",
        )

    # --- status ------------------------------------------------------------------------

    async def status(self) -> dict[str, Any]:
        """The raw /api/v2/status object (cluster, versionInfo, config, uptime)."""
        body = await self._get("status")
        if not isinstance(body, dict) or "versionInfo" not in body:
            raise BackendUnavailable(
                "the answer to /api/v2/status has no versionInfo",
                where=self.where,
                hint="is this URL an Alertmanager (API v2)?",
            )
        return body

    async def build_info(self) -> BuildInfo:
        """Version and revision from /api/v2/status."""
        info = (await self.status()).get("versionInfo") or {}
        return BuildInfo(
            version=str(info.get("version") or "unknown"),
            revision=str(info.get("revision", "")),
            flavour="alertmanager",
        )

    async def check(self) -> tuple[BuildInfo, float]:
        """Health probe: build info and round-trip seconds."""
        _ = self.client  # build the client (TLS context, proxies) outside the timed exchange
        t0 = time.perf_counter()
        info = await self.build_info()
        return info, time.perf_counter() - t0

    # --- alerts ------------------------------------------------------------------------

    async def alerts(
        self,
        filters: Iterable[Matcher | str] = (),
        *,
        receiver: str | None = None,
        active: bool = True,
        silenced: bool = True,
        inhibited: bool = True,
        unprocessed: bool = True,
    ) -> list[Alert]:
        """GET /api/v2/alerts: alerts matching every filter (Matcher or ``name=~"re"`` text),
        routed to a receiver matching the ``receiver`` regex, with the states asked for."""
        params = self._filter_params(filters, receiver)
        params += [
            ("active", _flag(active)),
            ("silenced", _flag(silenced)),
            ("inhibited", _flag(inhibited)),
            ("unprocessed", _flag(unprocessed)),
        ]
        return await self._get_built("alerts", params, alerts_from_answer)

    async def groups(
        self,
        filters: Iterable[Matcher | str] = (),
        *,
        receiver: str | None = None,
        active: bool = True,
        silenced: bool = True,
        inhibited: bool = True,
    ) -> list[AlertGroup]:
        """GET /api/v2/alerts/groups: alerts as Alertmanager groups them for their receivers."""
        params = self._filter_params(filters, receiver)
        params += [("active", _flag(active)), ("silenced", _flag(silenced)), ("inhibited", _flag(inhibited))]
        return await self._get_built("alerts/groups", params, groups_from_answer)

    def _filter_params(self, filters: Iterable[Matcher | str], receiver: str | None) -> list[tuple[str, str]]:
        params: list[tuple[str, str]] = []
        for f in filters:
            if isinstance(f, str):
                try:
                    f = Matcher.parse(f)
                except ValueError as exc:
                    raise QueryError(
                        str(exc), where=self.where, hint='filter with matchers such as severity="critical"'
                    ) from None
            params.append(("filter", str(f)))
        if receiver:
            params.append(("receiver", receiver))
        return params

    # --- silences ----------------------------------------------------------------------

    async def silences(self, filters: Iterable[Matcher | str] = ()) -> list[Silence]:
        """GET /api/v2/silences: every silence (active, pending and expired), in the server's order."""
        return await self._get_built("silences", self._filter_params(filters, None), silences_from_answer)

    async def silence(self, silence_id: str) -> Silence:
        """GET /api/v2/silence/<id>; QueryError when Alertmanager has no such silence."""
        silence_id = _checked_id(silence_id, self.where)
        try:
            body = await self._get(f"silence/{silence_id}")
        except QueryError as exc:
            if exc.message == "HTTP 404":
                # Alertmanager answers an unknown id with 404 and an empty body.
                raise QueryError(
                    f"no silence with id {silence_id} (HTTP 404)", where=self.where, hint=exc.hint
                ) from None
            raise
        try:
            return _silence(body)
        except (TypeError, ValueError, AttributeError, KeyError) as exc:
            raise self._garbage(f"silence/{silence_id}", exc) from None

    async def create_silence(
        self,
        matchers: Sequence[Matcher],
        duration_seconds: float,
        created_by: str,
        comment: str,
        *,
        read_only: bool,
        starts_at: float | None = None,
        context: str = "",
    ) -> str:
        """POST /api/v2/silences: a silence from ``starts_at`` (default now) for
        ``duration_seconds``; returns its id. Refused (WriteRefused) when ``read_only``;
        SilenceInvalid, before any request, when a matcher, the author or the comment is
        missing or the duration is not in (0, 30 days]."""
        _refuse_if_read_only(read_only, "create a silence", context, self.where)
        matchers = tuple(matchers)
        if not matchers:
            raise SilenceInvalid(
                "a silence needs at least one matcher",
                where=self.where,
                hint='add a matcher such as alertname="HighErrorRate"',
            )
        if not all(isinstance(m, Matcher) for m in matchers):
            raise SilenceInvalid("matchers must be Matcher objects (use Matcher.parse for text)", where=self.where)
        if not created_by or not created_by.strip():
            raise SilenceInvalid(
                "a silence needs an author (created by)",
                where=self.where,
                hint="give your name or e-mail, so others know whom to ask",
            )
        if not comment or not comment.strip():
            raise SilenceInvalid(
                "a silence needs a comment saying why",
                where=self.where,
                hint="say why the alert is silenced, e.g. the incident or ticket",
            )
        if not duration_seconds > 0:
            raise SilenceInvalid(
                f"the duration must be positive, not {duration_seconds:g} s", where=self.where, hint="e.g. 2h"
            )
        if duration_seconds > MAX_SILENCE_SECONDS:
            raise SilenceInvalid(
                f"the duration {duration_seconds / 86400:.1f} days is longer than the "
                f"{MAX_SILENCE_SECONDS // 86400} days allowed",
                where=self.where,
                hint="silence for less, and fix or remove the alert rule if it should never fire",
            )
        start = time.time() if starts_at is None else starts_at
        payload = {
            "matchers": [
                {"name": m.name, "value": m.value, "isRegex": m.is_regex, "isEqual": m.is_equal} for m in matchers
            ],
            "startsAt": rfc3339(start),
            "endsAt": rfc3339(start + duration_seconds),
            "createdBy": created_by.strip(),
            "comment": comment.strip(),
        }
        body = await self._call("POST", "silences", json=payload)
        silence_id = body.get("silenceID") if isinstance(body, dict) else None
        if not isinstance(silence_id, str) or not silence_id:
            raise self._garbage("silences (POST)")
        return silence_id

    async def expire_silence(self, silence_id: str, *, read_only: bool, context: str = "") -> None:
        """DELETE /api/v2/silence/<id>: the silence ends now (Alertmanager keeps it as expired).
        Refused (WriteRefused) when ``read_only``; the server's words for an unknown id."""
        _refuse_if_read_only(read_only, "expire a silence", context, self.where)
        silence_id = _checked_id(silence_id, self.where)
        await self._call("DELETE", f"silence/{silence_id}", body=False)


# --- helpers ------------------------------------------------------------------------------


def _same(value: Any) -> Any:
    return value


def _list(body: Any) -> list[Any]:
    if not isinstance(body, list):
        raise TypeError(f"expected a list, got {type(body).__name__}")
    return body


def alerts_from_answer(body: Any) -> list[Alert]:
    """A decoded /api/v2/alerts answer as Alerts (TypeError and co. for another shape)."""
    return [_alert(item) for item in _list(body)]


def groups_from_answer(body: Any) -> list[AlertGroup]:
    """A decoded /api/v2/alerts/groups answer as AlertGroups."""
    return [
        AlertGroup(
            labels=_labels(g.get("labels")),
            receiver=str(_obj(g.get("receiver")).get("name", "")),
            alerts=tuple(_alert(a) for a in g.get("alerts") or ()),
        )
        for g in _list(body)
    ]


def silences_from_answer(body: Any) -> list[Silence]:
    """A decoded /api/v2/silences answer as Silences."""
    return [_silence(item) for item in _list(body)]


def _refuse_if_read_only(read_only: bool, action: str, context: str, where: str) -> None:
    if read_only:
        name = f"context {context!r}" if context else "this context"
        raise WriteRefused(
            f"{name} is read-only: Zeta will not {action} here",
            where=where,
            hint=(
                "to allow writes, set read_only = false in the context's section of the config "
                "(a production context is read-only unless it says so)"
            ),
        )


def _checked_id(silence_id: str, where: str) -> str:
    text = (silence_id or "").strip()
    if not text or "/" in text or "?" in text or "#" in text:
        raise QueryError(
            f"{silence_id!r} is not a silence id",
            where=where,
            hint="silence ids look like 810ccf7f-c957-474a-b383-7e76d66a4d3b",
        )
    return text


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _error_message(resp: httpx.Response) -> str:
    """Alertmanager's words: a JSON string, {code, message}, or plain text; else the status."""
    text = resp.text.strip()
    try:
        data = orjson.loads(resp.content) if text else None
    except orjson.JSONDecodeError:
        data = None
    if isinstance(data, str):
        text = data
    elif isinstance(data, dict):
        text = str(data.get("message") or data.get("error") or text)
    text = text.strip()
    if len(text) > 1000:
        text = text[:1000] + "…"
    return text or f"HTTP {resp.status_code}"


def rfc3339(seconds: float) -> str:
    """Unix seconds as RFC 3339 UTC with milliseconds, as Alertmanager writes them."""
    return datetime.fromtimestamp(seconds, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _obj(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TypeError(f"expected an object, got {type(value).__name__}")
    return value


def _labels(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in _obj(value).items()}


def _strings(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise TypeError(f"expected a list, got {type(value).__name__}")
    return tuple(str(v) for v in value)


def _alert(item: Any) -> Alert:
    item = _obj(item)
    status = _obj(item.get("status"))
    if not isinstance(item.get("labels"), dict):
        raise TypeError("an alert without labels")
    return Alert(
        labels=_labels(item["labels"]),
        annotations=_labels(item.get("annotations")),
        state=str(status.get("state") or "unprocessed"),
        starts_at=rfc3339_seconds(item.get("startsAt")),
        ends_at=rfc3339_seconds(item.get("endsAt")),
        updated_at=rfc3339_seconds(item.get("updatedAt")),
        fingerprint=str(item.get("fingerprint") or ""),
        receivers=tuple(str(_obj(r).get("name", "")) for r in item.get("receivers") or ()),
        silenced_by=_strings(status.get("silencedBy")),
        inhibited_by=_strings(status.get("inhibitedBy")),
        muted_by=_strings(status.get("mutedBy")),
        generator_url=str(item.get("generatorURL") or ""),
    )


def _matcher(item: Any) -> Matcher:
    item = _obj(item)
    return Matcher(
        name=str(item["name"]),
        value=str(item["value"]),
        is_regex=bool(item.get("isRegex", False)),
        is_equal=bool(item.get("isEqual", True)),
    )


def _silence(item: Any) -> Silence:
    item = _obj(item)
    if not isinstance(item.get("id"), str) or not isinstance(item.get("matchers"), list):
        raise TypeError("a silence without id or matchers")
    return Silence(
        id=item["id"],
        matchers=tuple(_matcher(m) for m in item["matchers"]),
        starts_at=rfc3339_seconds(item.get("startsAt")),
        ends_at=rfc3339_seconds(item.get("endsAt")),
        created_by=str(item.get("createdBy") or ""),
        comment=str(item.get("comment") or ""),
        state=str(_obj(item.get("status")).get("state") or ""),
        updated_at=rfc3339_seconds(item.get("updatedAt")),
    )
