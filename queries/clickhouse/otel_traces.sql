-- The OpenTelemetry traces table, as the OpenTelemetry Collector's ClickHouse exporter creates it
-- (same columns, types, codecs, ALIAS columns and skip indexes), with its trace-id lookup table
-- and the materialized view that fills it, so a real otel_traces table and the demo's embedded
-- store answer the same queries. Names are server-side parameters: {database:Identifier},
-- {table:Identifier}, {lookup:Identifier} (<table>_trace_id_ts) and {lookup_mv:Identifier}
-- (<table>_trace_id_ts_mv). Statements are separated by a line holding only ";".
--
-- chdb (ClickHouse 26.x in process) takes all of it, so nothing is dropped. Differences for the
-- embedded store of `zeta demo`:
-- * partitioned by hour (both tables), not by day or week: history is bounded (24 h by default)
--   by dropping whole hourly partitions (zeta_tui/demo/trace_store.py prune), cheap and
--   immediate; there is no TTL clause because the world's clock is not the wall clock in tests
--   and backfills, and no ttl_only_drop_parts setting, which only matters with a TTL;
-- * the optional full-text (`text`) indexes of the exporter's HasFullTextSearch variant are left
--   out: the bloom-filter variant below is the exporter's default.
-- Span attributes (tenant_id, user_id, endpoint, http.route, http.method, http.status_code,
-- db.system, db.operation) are SpanAttributes (strings); service.name, service.namespace and
-- service.instance.id are ResourceAttributes. SpanKind and StatusCode are spelled as current
-- exporters write them ('Server', 'Error'); older exporters wrote 'SPAN_KIND_SERVER' and
-- 'STATUS_CODE_ERROR', which the trace source reads too.
CREATE TABLE IF NOT EXISTS {database:Identifier}.{table:Identifier} (
    Timestamp DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    TraceId String CODEC(ZSTD(1)),
    SpanId String CODEC(ZSTD(1)),
    ParentSpanId String CODEC(ZSTD(1)),
    TraceState String CODEC(ZSTD(1)),
    SpanName LowCardinality(String) CODEC(ZSTD(1)),
    SpanKind LowCardinality(String) CODEC(ZSTD(1)),
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    ResourceAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    ScopeName String CODEC(ZSTD(1)),
    ScopeVersion String CODEC(ZSTD(1)),
    SpanAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    Duration UInt64 CODEC(T64, ZSTD(1)),
    StatusCode LowCardinality(String) CODEC(ZSTD(1)),
    StatusMessage String CODEC(ZSTD(1)),
    Events Nested (
        Timestamp DateTime64(9),
        Name LowCardinality(String),
        Attributes Map(LowCardinality(String), String)
    ) CODEC(ZSTD(1)),
    Links Nested (
        TraceId String,
        SpanId String,
        TraceState String,
        Attributes Map(LowCardinality(String), String)
    ) CODEC(ZSTD(1)),
    ResourceAttributeItems Array(String) ALIAS arrayMap(kv -> concat(kv.1, '=', kv.2), CAST(ResourceAttributes, 'Array(Tuple(String, String))')),
    SpanAttributeItems Array(String) ALIAS arrayMap(kv -> concat(kv.1, '=', kv.2), CAST(SpanAttributes, 'Array(Tuple(String, String))')),
    INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_res_attr_value mapValues(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_span_attr_key mapKeys(SpanAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_span_attr_value mapValues(SpanAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_duration Duration TYPE minmax GRANULARITY 1,
    INDEX idx_lower_span_name lower(SpanName) TYPE tokenbf_v1(32768, 3, 0) GRANULARITY 8
) ENGINE = MergeTree
PARTITION BY toStartOfHour(toDateTime(Timestamp))
PRIMARY KEY (ServiceName, SpanName, toDateTime(Timestamp))
ORDER BY (ServiceName, SpanName, toDateTime(Timestamp), Timestamp)
SETTINGS index_granularity = 8192
;
CREATE TABLE IF NOT EXISTS {database:Identifier}.{lookup:Identifier} (
    TraceId String CODEC(ZSTD(1)),
    Start SimpleAggregateFunction(min, DateTime) CODEC(ZSTD(1)),
    End SimpleAggregateFunction(max, DateTime) CODEC(ZSTD(1))
) ENGINE = AggregatingMergeTree
PARTITION BY toStartOfHour(Start)
ORDER BY (TraceId)
SETTINGS index_granularity = 8192
;
CREATE MATERIALIZED VIEW IF NOT EXISTS {database:Identifier}.{lookup_mv:Identifier}
TO {database:Identifier}.{lookup:Identifier}
AS SELECT
    TraceId,
    min(Timestamp) AS Start,
    max(Timestamp) AS End
FROM {database:Identifier}.{table:Identifier}
WHERE TraceId != ''
GROUP BY TraceId
