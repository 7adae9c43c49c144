"""Logs of a shop that is not the demo world, as the OpenTelemetry collector's ClickHouse exporter
writes them from Kubernetes: the exporter's own otel_logs table (../shared/fixtures/real/
clickhouse/logs_table-e3bd2d1d.sql, only its placeholders filled in), the pod in ``k8s.pod.name``
(with an SDK's random ``service.instance.id`` beside it), the route in ``http.route``, the status
in ``http.response.status_code``, the method in ``http.request.method``.

The newest record is an ml model server running out of memory, with a message and a URL longer
than any screen is wide (the record detail must wrap them).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

from tests.support.servers import real_fixture

T_END = 1_736_245_800  # 2025-01-07T10:30:00Z
SECONDS = 300
COUNT = 240
TABLE = "k8s_logs"
PODS = {
    "checkout-api": ("checkout-api-6b7d9c8f4-2xk9p", "checkout-api-6b7d9c8f4-q7w2m"),
    "recommendation-ranker": ("recommendation-ranker-7c9f6d5b8-x2k4p", "recommendation-ranker-7c9f6d5b8-m4n8z"),
}
ROUTES = {
    "checkout-api": ("/v2/carts/{cart_id}/checkout", "/v2/orders/{order_id}"),
    "recommendation-ranker": ("/v2/tenants/{tenant}/recommendations",),
}
NODES = {pod: f"gke-shop-pool-1-node-{i % 2}" for i, pod in enumerate(p for pods in PODS.values() for p in pods)}
TENANTS = ("acme-retail-eu", "globex-us", "initech-apac")
OOM_MESSAGE = (
    "model server OOMKilled (exit 137) while loading ranking model ndcg-ranker-v42 (3.2 GiB) into GPU 1; "
    "requests to /v2/tenants/acme-retail-eu/recommendations fail with 503 until the pod restarts"
)
OOM_URL = "https://shop.example.com/v2/tenants/acme-retail-eu/recommendations?" + "&".join(
    f"candidate={i:04d}" for i in range(24)
)


@dataclass(frozen=True)
class ShopRecord:
    ns: int
    level: str
    service: str
    pod: str
    route: str
    tenant: str
    method: str
    status: int
    message: str
    trace_id: str
    url: str = ""


def shop_records() -> list[ShopRecord]:
    out = []
    services = list(PODS)
    for i in range(COUNT):
        ns = (T_END - SECONDS) * 10**9 + i * (SECONDS * 10**9 // COUNT) + i * 7
        service = services[i % 2]
        route = ROUTES[service][i % len(ROUTES[service])]
        status = 503 if i % 13 == 5 else 200
        method = "GET" if route.startswith("/v2/orders") else "POST"
        out.append(
            ShopRecord(
                ns,
                "ERROR" if status >= 500 else "INFO",
                service,
                PODS[service][(i // 2) % 2],
                route,
                TENANTS[i % 3],
                method,
                status,
                f"{method} {route} {status}" + (": upstream reset" if status >= 500 else ""),
                f"{0x5AF92F3577B34DA6A3CE929D0E0E4736 + i:032x}",
            )
        )
    last = out[-1]
    out[-1] = ShopRecord(
        last.ns,
        "ERROR",
        "recommendation-ranker",
        PODS["recommendation-ranker"][0],
        ROUTES["recommendation-ranker"][0],
        "acme-retail-eu",
        "POST",
        503,
        OOM_MESSAGE,
        last.trace_id,
        OOM_URL,
    )
    return out


def exporter_ddl(table: str = TABLE) -> str:
    text = real_fixture("clickhouse/logs_table-e3bd2d1d.sql").decode()
    text = text.replace("%q.%q %s", f"`default`.`{table}`", 1)
    text = text.replace("ENGINE = %s", "ENGINE = MergeTree()", 1).replace("\n%s\n", "\n", 1)
    assert "%s" not in text and "%q" not in text, "the template has placeholders this helper does not know"
    return text


def exporter_row(r: ShopRecord) -> dict:
    sec, frac = divmod(r.ns, 10**9)
    attributes = {
        "http.route": r.route,
        "http.request.method": r.method,
        "http.response.status_code": str(r.status),
        "tenant_id": r.tenant,
    }
    if r.url:
        attributes["url.full"] = r.url
    return {
        "Timestamp": f"{sec}.{frac:09d}",
        "SeverityText": r.level,
        "ServiceName": r.service,
        "Body": r.message,
        "TraceId": r.trace_id,
        "LogAttributes": attributes,
        "ResourceAttributes": {
            "service.name": r.service,
            "service.instance.id": str(uuid.UUID(int=r.ns)),  # an SDK's default: not the pod
            "k8s.pod.name": r.pod,
            "k8s.namespace.name": "shop-prod",
            "host.name": NODES[r.pod],  # the node the collector's DaemonSet runs on
        },
    }


def write_shop_logs(path: str, table: str = TABLE) -> list[ShopRecord]:
    """The shop's records in ``default.<table>`` of the store at ``path`` (the process's session on it)."""
    from zeta_tui.backends.chdb_store import embedded_session

    records = shop_records()
    session = embedded_session(path, create=True)
    session.query(exporter_ddl(table))
    rows = "\n".join(json.dumps(exporter_row(r)) for r in records)
    session.query(f"INSERT INTO default.{table} FORMAT JSONEachRow\n{rows}")
    return records
