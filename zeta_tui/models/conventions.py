"""How a context's metrics name things: the label of a service, an endpoint and a status code,
the request counter and the latency histogram with its unit.

Prometheus client libraries, kube-prometheus and OpenTelemetry name the same things
differently (job/handler/code, service/pod, http_route/http_response_status_code, a histogram
in seconds or milliseconds). The shipped PromQL files take these names as parameters, so one
catalog serves them all; ``params()`` is what they are given.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Spellings of the endpoint label, most specific first: OpenTelemetry's ``http_route``, ``route``,
#: the Prometheus client libraries' ``handler``, Micrometer's ``uri``, then ``endpoint``, which
#: kube-prometheus also uses for the scrape port's name, so a route label wins where both exist.
ENDPOINT_LABELS = ("http_route", "route", "handler", "uri", "endpoint", "path", "url_path", "http_target")
#: Spellings of the HTTP status code label.
STATUS_LABELS = ("status", "code", "status_code", "http_response_status_code", "http_status_code")

SECONDS_PER_UNIT = {"seconds": 1.0, "milliseconds": 0.001}

#: The SLO's latency threshold: "99 % of requests under 100 ms".
FAST_SECONDS = 0.1


def unit_from_name(histogram: str) -> str | None:
    """``seconds`` or ``milliseconds`` from a histogram's name suffix; None when it names neither."""
    if histogram.endswith("_seconds"):
        return "seconds"
    if histogram.endswith(("_milliseconds", "_ms")):
        return "milliseconds"
    return None


def bucket_bound_pattern(value: float) -> str:
    """An RE2 regex matching a histogram's ``le`` label for ``value`` however a client wrote it
    (``0.1``; ``100``, ``100.0`` or ``1e+02``)."""
    spellings = {repr(float(value)), f"{value:g}"}
    if float(value).is_integer():
        spellings |= {str(int(value)), f"{int(value)}.0"}
    return "|".join(sorted(s.replace(".", "\\.").replace("+", "\\+") for s in spellings))


@dataclass(frozen=True, slots=True)
class MetricConventions:
    """The names one context's metrics use (resolved: configured or detected)."""

    service: str = "job"
    endpoint: str = "endpoint"
    status: str = "status"
    requests: str = "http_requests_total"
    latency: str = "http_request_duration_seconds"
    latency_unit: str = "seconds"

    @property
    def seconds_per_unit(self) -> float:
        return SECONDS_PER_UNIT[self.latency_unit]

    def params(self) -> dict[str, str]:
        """The catalog parameters that carry these names."""
        return {
            "service_label": self.service,
            "endpoint_label": self.endpoint,
            "status_label": self.status,
            "requests_metric": self.requests,
            "latency_buckets": f"{self.latency}_bucket",
            "latency_scale": f"{self.seconds_per_unit:g}",
            "fast_le": bucket_bound_pattern(round(FAST_SECONDS / self.seconds_per_unit, 9)),
        }

    def describe(self) -> str:
        """One line for notes and `zeta services`."""
        return (
            f"service={self.service} endpoint={self.endpoint} status={self.status} "
            f"requests={self.requests} latency={self.latency} ({self.latency_unit})"
        )
