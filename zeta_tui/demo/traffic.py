"""Traffic over time in closed form, so any counter is known at any instant.

Every request rate in the world is a linear combination of a few shared shapes: the diurnal
load curve, a small per-endpoint wiggle, and "the load curve while incident K is on" or
"1 while incident K is on". Their integrals from WORLD_EPOCH have closed forms (sums of
cosines; the sum over all past incidents is a geometric series), so a counter is
``floor(coefficients . basis(t))`` for any t: the backfill and the live scrape compute the
same number, and a later start continues the same series without summing from the epoch.
"""

from __future__ import annotations

import cmath
import math
from dataclasses import dataclass

from zeta_tui.demo.incidents import WORLD_EPOCH, IncidentKind

TAU = 2 * math.pi

# (period seconds, amplitude, phase) of the diurnal load curve around 1.0. The daily term
# peaks at 15:00 UTC; the weekly term dips at the weekend; the short terms keep graphs alive.
# Amplitudes sum to < 0.8, so the load never falls below 0.2.
LOAD_TERMS: tuple[tuple[int, float, float], ...] = (
    (86_400, 0.50, -0.75 * math.pi),
    (43_200, 0.10, 0.3),
    (604_800, 0.08, 0.9),
    (5_400, 0.04, 1.1),
    (1_260, 0.025, 2.0),
)


def _angle(x: float, period: int, phase: float) -> float:
    # Reduce x modulo the period first: keeps sin/cos arguments small and exact over years.
    return TAU * ((x % period) / period) + phase


def load(t: float) -> float:
    """The diurnal load factor at unix time ``t`` (about 0.3 at night, 1.6 at peak)."""
    x = t - WORLD_EPOCH
    return 1.0 + sum(a * math.sin(_angle(x, p, ph)) for p, a, ph in LOAD_TERMS)


def _load_integral_x(x: float) -> float:
    return x + sum(a * p / TAU * (math.cos(ph) - math.cos(_angle(x, p, ph))) for p, a, ph in LOAD_TERMS)


def load_integral(t: float) -> float:
    """Integral of ``load`` from WORLD_EPOCH to ``t`` (seconds at load 1)."""
    return _load_integral_x(t - WORLD_EPOCH)


@dataclass(frozen=True)
class Wiggle:
    """A small extra component ``1 + sin`` of one endpoint's traffic, so endpoints do not move in lockstep.

    It is never negative, so it can be added to any regime without making a rate negative.
    """

    period_s: int
    phase: float

    def integral_x(self, x: float) -> float:
        return x + self.period_s / TAU * (math.cos(self.phase) - math.cos(_angle(x, self.period_s, self.phase)))

    def value(self, t: float) -> float:
        return 1.0 + math.sin(_angle(t - WORLD_EPOCH, self.period_s, self.phase))


class _IncidentIntegrals:
    """Integrals of load (and of 1) over all occurrences of one incident kind up to x."""

    def __init__(self, kind: IncidentKind) -> None:
        self.kind = kind
        o, d, period = kind.offset_s, kind.duration_s, kind.period_s
        self.terms = []
        for p, a, ph in LOAD_TERMS:
            # Load integral over [s, s+d) = d + A*(cos(w s + ph) - cos(w (s+d) + ph)), with
            # s = o + n*period; summing over n is a geometric series in exp(i*w*period).
            beta = TAU * ((period % p) / p)
            z = (a * p / TAU) * (cmath.exp(1j * _angle(o, p, ph)) - cmath.exp(1j * _angle(o + d, p, ph)))
            step = cmath.exp(1j * beta)
            periodic = abs(1 - step) < 1e-12  # the period is a multiple of the term's period
            self.terms.append((beta, z, step, periodic))

    def completed_sum(self, n: int) -> float:
        """Load integral over occurrences 0..n-1."""
        total = n * float(self.kind.duration_s)
        for beta, z, step, periodic in self.terms:
            geometric = n if periodic else (1 - cmath.exp(1j * n * beta)) / (1 - step)
            total += (geometric * z).real
        return total

    def at(self, x: float) -> tuple[float, float]:
        """(load integral, time) spent inside this kind of incident between the epoch and x."""
        k = self.kind
        since_first = x - k.offset_s
        if since_first <= 0:
            return 0.0, 0.0
        started = int(since_first // k.period_s) + 1
        last_start = k.offset_s + (started - 1) * k.period_s
        if x < last_start + k.duration_s:  # inside occurrence started-1
            partial = _load_integral_x(x) - _load_integral_x(last_start)
            return self.completed_sum(started - 1) + partial, (started - 1) * k.duration_s + (x - last_start)
        return self.completed_sum(started), started * float(k.duration_s)


class Basis:
    """The shared shapes, integrated: a series' value is ``sum(c * basis[i])`` over its terms.

    Names: ``time`` (seconds since the epoch), ``load`` (load integral), ``wiggle:<key>``,
    ``load_in:<incident kind>`` and ``time_in:<incident kind>``.
    """

    def __init__(self, wiggles: dict[str, Wiggle], kinds: tuple[IncidentKind, ...]) -> None:
        self.wiggles = tuple(wiggles.items())
        self.incidents = tuple(_IncidentIntegrals(k) for k in kinds)
        names = ["time", "load", *(f"wiggle:{key}" for key, _ in self.wiggles)]
        for k in kinds:
            names += [f"load_in:{k.name}", f"time_in:{k.name}"]
        self.names = tuple(names)
        self.index = {name: i for i, name in enumerate(self.names)}

    def at(self, t: float) -> list[float]:
        x = t - WORLD_EPOCH
        values = [x, _load_integral_x(x)]
        values += [w.integral_x(x) for _, w in self.wiggles]
        for integrals in self.incidents:
            values += integrals.at(x)
        return values
