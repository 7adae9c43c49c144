"""`zeta silence add|list|expire`: Alertmanager silences from a shell, with the screen's guards.

- ``add MATCHER... --duration 2h --comment TEXT [--author NAME] [--yes]``: at least one matcher,
  a duration in (0, 30 days], an author (``--author``, else $USER, which is then said) and a
  comment; what would be created, and which alerts firing now it would silence, is shown before
  the question. Prints the new silence's id on stdout (nothing else), so scripts can keep it.
- ``list [--json]``: active silences (ending soonest first), pending ones (starting soonest
  first), then those expired in the last day (most recent first).
- ``expire ID [--yes]``: the silence ends now.

Writes are refused in a read-only context (a production context is read-only unless it says
``read_only = false``) with the adapter's own reason, before any question or request. Every
write is confirmed: on a terminal the question is asked (y/N) on stderr and read from stdin;
``--yes`` skips it; with no terminal and no ``--yes`` the write is refused.

Exit status: 0 done (or nothing to do); 1 declined at the question, or Alertmanager refused or
could not be reached (its message on stderr); 2 configuration error, an invalid silence, a
read-only context, or no terminal to confirm on and no ``--yes``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from zeta_tui.errors import ConfigError, SilenceInvalid, ZetaError
from zeta_tui.models.alerts import Matcher, Silence
from zeta_tui.models.timerange import format_age, format_duration, parse_duration

#: expired silences younger than this are listed
EXPIRED_SHOWN_SECONDS = 86400


class NotConfirmed(ZetaError):
    """A write that could not be confirmed (no terminal to ask on, and no --yes)."""

    title = "Refused: not confirmed"
    exit_code = 2


def _stamp(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if seconds else ""


def matchers_text(matchers: Sequence[Matcher]) -> str:
    return ", ".join(str(m) for m in matchers)


def order_silences(silences: Sequence[Silence], now: float) -> list[Silence]:
    """Active (ending soonest first), pending (starting soonest first), then expired within the
    last day (ended most recently first); older expired silences are left out."""
    active = sorted((s for s in silences if s.state == "active"), key=lambda s: (s.ends_at, s.id))
    pending = sorted((s for s in silences if s.state == "pending"), key=lambda s: (s.starts_at, s.id))
    expired = sorted(
        (s for s in silences if s.state == "expired" and s.ends_at >= now - EXPIRED_SHOWN_SECONDS),
        key=lambda s: (-s.ends_at, s.id),
    )
    return active + pending + expired


def when(silence: Silence, now: float) -> str:
    if silence.state == "pending":
        return f"starts in {format_age(silence.starts_at - now)}"
    if silence.state == "expired":
        return f"ended {format_age(now - silence.ends_at)} ago"
    return f"ends in {format_age(silence.ends_at - now)}"


def silence_document(s: Silence) -> dict[str, Any]:
    return {
        "id": s.id,
        "state": s.state,
        "matchers": [str(m) for m in s.matchers],
        "starts_at": _stamp(s.starts_at),
        "ends_at": _stamp(s.ends_at),
        "created_by": s.created_by,
        "comment": s.comment,
    }


def silences_table(silences: Sequence[Silence], now: float) -> str:
    from zeta_tui.headless.table import format_table

    rows = [
        (s.id, s.state, when(s, now), matchers_text(s.matchers), s.created_by or "-", s.comment or "-")
        for s in silences
    ]
    return format_table(("ID", "STATE", "WHEN", "MATCHERS", "CREATED BY", "COMMENT"), rows)


# --- guards -------------------------------------------------------------------------------


def parse_matchers(texts: Sequence[str]) -> list[Matcher]:
    out = []
    for text in texts:
        try:
            out.append(Matcher.parse(text))
        except ValueError as exc:
            raise SilenceInvalid(
                str(exc), hint='e.g. zeta silence add alertname=HighErrorRate service="ml-engine" ...'
            ) from None
    if not out:
        raise SilenceInvalid("a silence needs at least one matcher", hint="e.g. alertname=HighErrorRate")
    return out


def parse_silence_duration(text: str) -> float:
    from zeta_tui.backends.alertmanager import MAX_SILENCE_SECONDS

    try:
        seconds = parse_duration(text)
    except ValueError as exc:
        raise SilenceInvalid(f"--duration: {exc}", hint="e.g. --duration 2h") from None
    if not seconds > 0:
        raise SilenceInvalid(f"--duration must be positive, not {text!r}", hint="e.g. --duration 2h")
    if seconds > MAX_SILENCE_SECONDS:
        raise SilenceInvalid(
            f"--duration {text} is longer than the {MAX_SILENCE_SECONDS // 86400} days allowed",
            hint="silence for less, and fix or remove the alert rule if it should never fire",
        )
    return seconds


def author_of(args: argparse.Namespace) -> tuple[str, str]:
    """(author, where it came from): --author, else $USER or $LOGNAME."""
    given = (args.author or "").strip()
    if args.author is not None:
        if not given:
            raise SilenceInvalid("--author is empty", hint="give your name or e-mail, so others know whom to ask")
        return given, "--author"
    for var in ("USER", "LOGNAME"):
        value = os.environ.get(var, "").strip()
        if value:
            return value, f"${var}"
    raise SilenceInvalid(
        "a silence needs an author", hint="pass --author NAME (your name or e-mail), so others know whom to ask"
    )


def confirm(question: str, yes: bool) -> bool:
    """--yes: True. A terminal: ask on stderr, read stdin, y/yes is True. Else NotConfirmed."""
    if yes:
        return True
    stdin = sys.stdin
    if stdin is None or not stdin.isatty():
        raise NotConfirmed(
            "stdin is not a terminal, so Zeta cannot ask before writing",
            hint="check the command, then pass --yes to write without asking",
        )
    sys.stderr.write(f"{question} [y/N] ")
    sys.stderr.flush()
    try:
        answer = stdin.readline()
    except (EOFError, KeyboardInterrupt):
        answer = ""
    return answer.strip().lower() in ("y", "yes")


# --- the commands ---------------------------------------------------------------------------


def _err(text: str = "") -> None:
    print(text, file=sys.stderr)


async def _add(client: Any, args: argparse.Namespace, context: str, read_only: bool) -> int:
    if read_only:
        # The adapter refuses a read-only context before checking or sending anything.
        await client.create_silence((), 0, "", "", read_only=True, context=context)
    matchers = parse_matchers(args.matchers)
    seconds = parse_silence_duration(args.duration)
    author, source = author_of(args)
    comment = (args.comment or "").strip()
    if not comment:
        raise SilenceInvalid(
            "a silence needs a comment saying why", hint='e.g. --comment "INC-123: rollback under way"'
        )
    now = time.time()
    _err(f"silence in context {context} ({client.where}):")
    _err(f"  matchers: {matchers_text(matchers)}")
    _err(f"  for:      {format_duration(seconds)}, until {_stamp(now + seconds)}")
    _err(f"  author:   {author}" + ("" if source == "--author" else f" (from {source}; pass --author to change)"))
    _err(f"  comment:  {comment}")
    try:
        firing = [a for a in await client.alerts() if all(m.matches(a.labels) for m in matchers)]
    except ZetaError as exc:
        _err(f"  (could not list the alerts it would silence: {exc.message})")
    else:
        names = ", ".join(sorted({f"{a.name or '?'}{'/' + a.service if a.service else ''}" for a in firing}))
        _err(f"  silences {len(firing)} alert(s) firing now" + (f": {names}" if names else ""))
    if not confirm("Create this silence?", args.yes):
        _err("not created")
        return 1
    silence_id = await client.create_silence(matchers, seconds, author, comment, read_only=read_only, context=context)
    print(silence_id)
    _err(f"created silence {silence_id}, until {_stamp(time.time() + seconds)}")
    return 0


async def _list(client: Any, args: argparse.Namespace, context: str) -> int:
    now = time.time()
    shown = order_silences(await client.silences(), now)
    if args.json:
        for s in shown:
            sys.stdout.write(orjson.dumps(silence_document(s)).decode() + "\n")
    elif shown:
        sys.stdout.write(silences_table(shown, now) + "\n")
    else:
        _err(f"no active or pending silences, and none expired in the last day, in context {context}")
    return 0


async def _expire(client: Any, args: argparse.Namespace, context: str, read_only: bool) -> int:
    if read_only:
        await client.expire_silence(args.silence_id, read_only=True, context=context)
    silence = await client.silence(args.silence_id)
    if silence.state == "expired":
        _err(f"silence {silence.id} already expired at {_stamp(silence.ends_at)}; nothing to do")
        return 0
    now = time.time()
    _err(f"silence {silence.id} in context {context} ({client.where}): {silence.state}, {when(silence, now)}")
    _err(f"  matchers: {matchers_text(silence.matchers)}")
    _err(f"  author:   {silence.created_by or '-'}")
    _err(f"  comment:  {silence.comment or '-'}")
    if not confirm("Expire this silence now?", args.yes):
        _err("not expired")
        return 1
    await client.expire_silence(silence.id, read_only=read_only, context=context)
    print(f"expired {silence.id}")
    return 0


def run_silence(args: argparse.Namespace) -> int:
    from zeta_tui.backends.alertmanager import AlertmanagerClient
    from zeta_tui.config.loader import load_context

    loaded = load_context(args.config, args.context)
    cfg = loaded.context.alertmanager
    if cfg is None:
        raise ConfigError(
            f"context {loaded.name!r} has no [alertmanager] section",
            where=str(loaded.path),
            hint=f'add [contexts.{loaded.name}.alertmanager] with url = "http://host:9093", or pass --context',
        )
    client = AlertmanagerClient(cfg)
    read_only = loaded.context.is_read_only

    async def main() -> int:
        try:
            if args.silence_action == "add":
                return await _add(client, args, loaded.name, read_only)
            if args.silence_action == "expire":
                return await _expire(client, args, loaded.name, read_only)
            return await _list(client, args, loaded.name)
        finally:
            await client.aclose()

    try:
        return asyncio.run(main())
    except BrokenPipeError:
        return 0  # `zeta silence list | head`
