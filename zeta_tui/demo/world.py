"""The Team Zeta world: a seeded, deterministic multi-tenant recommendation API platform.

``TeamZetaWorld(seed)`` knows every metric series the console reads (see series_catalog.py
for how each one is built) and its value at any unix time. Values are pure functions of
(seed, incident shift, absolute time): the backfill, the live exporter and the tests all
agree, and a demo started tomorrow continues today's counters. The incident shift (0 unless
given) moves the scripted incidents only (incidents.py); every process writing one store must
build its world with the same shift.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator

from zeta_tui.demo.incidents import (
    DATA_KINDS,
    ML_SPIKE_DOWN_INDEX,
    POD_RESTART,
    Incident,
    IncidentSchedule,
    shifted_kinds,
)
from zeta_tui.demo.series import Family, WorldSeries
from zeta_tui.demo.series_catalog import build_families
from zeta_tui.demo.topology import Topology, build_topology
from zeta_tui.demo.traffic import Basis, Wiggle

DEFAULT_SEED = 42


class TeamZetaWorld:
    """The whole platform for one seed and namespace: topology, incidents and metric series.

    ``incident_shift`` moves every scripted incident that many seconds later (each kind modulo
    its period); 0 is the fixed schedule of incidents.py.
    """

    def __init__(self, seed: int = DEFAULT_SEED, namespace: str = "production", *, incident_shift: int = 0) -> None:
        self.seed = seed
        self.namespace = namespace
        self.incident_shift = int(incident_shift)
        self.topology: Topology = build_topology(seed, namespace)
        ml = self.topology.service("ml-engine").instances[ML_SPIKE_DOWN_INDEX]
        # Restarts rotate over the pods, alternating services so consecutive ones differ.
        rotation = tuple(
            (s.name, s.instances[i].instance, s.instances[i].pod) for i in range(2) for s in self.topology.services
        )
        self.schedule = IncidentSchedule(
            rotation,
            ml.instance,
            shifted_kinds(self.incident_shift),
            shifted_kinds(self.incident_shift, DATA_KINDS),
        )
        rng = random.Random(f"wiggles-{seed}")
        wiggles = {e.key: Wiggle(rng.randrange(660, 2220, 60), rng.uniform(0, 6.283)) for e in self.topology.endpoints}
        # Pod restarts change no rate, only gauges and a step counter: keep them out of the basis.
        self.basis = Basis(wiggles, tuple(k for k in self.schedule.kinds if k.name != POD_RESTART))
        self.families: tuple[Family, ...] = tuple(build_families(self))
        self.series: tuple[WorldSeries, ...] = tuple(s for f in self.families for s in f.series)
        self._by_name: dict[str, list[WorldSeries]] = {}
        for s in self.series:
            self._by_name.setdefault(s.name, []).append(s)

    # --- incidents ---------------------------------------------------------------------

    def incidents(self, start: float, end: float) -> list[Incident]:
        """Every scripted incident overlapping [start, end), ordered by start."""
        return self.schedule.between(start, end)

    def active_incidents(self, t: float) -> list[Incident]:
        """The incidents in progress at ``t``."""
        return self.schedule.active(t)

    # --- series and values -------------------------------------------------------------

    def find(self, name: str, **labels: str) -> list[WorldSeries]:
        """The series called ``name`` whose labels include ``labels``."""
        return [s for s in self._by_name.get(name, ()) if all(s.label(k) == v for k, v in labels.items())]

    def one(self, name: str, **labels: str) -> WorldSeries:
        found = self.find(name, **labels)
        if len(found) != 1:
            raise KeyError(f"{len(found)} series match {name} {labels}")
        return found[0]

    def value(self, series: WorldSeries, t: float) -> float:
        """The value of ``series`` at unix time ``t``."""
        return series.value(self.basis.at(t), t)

    def values(self, series: WorldSeries, times: Iterable[float]) -> list[float]:
        """The values of ``series`` at each of ``times``."""
        return [series.value(self.basis.at(t), t) for t in times]

    def values_at(self, t: float) -> list[float]:
        """Every series' value at ``t``, in the order of ``self.series``."""
        basis = self.basis.at(t)
        return [s.value(basis, t) for s in self.series]

    def columns(self, times: list[float]) -> Iterator[tuple[Family, WorldSeries, list[float]]]:
        """For each series in family order, its values at ``times`` (the basis is computed once per time)."""
        bases = [self.basis.at(t) for t in times]
        for family in self.families:
            for s in family.series:
                if s.mode == "computed":
                    assert s.compute is not None
                    yield family, s, [s.compute(t) for t in times]
                else:
                    yield family, s, [s.value(b, t) for b, t in zip(bases, times)]
