-- The OpenTelemetry logs table, as the OpenTelemetry Collector's ClickHouse exporter creates it
-- (same columns, types and codecs), so a real otel_logs table and the demo's embedded store
-- answer the same queries. The database and table names are {database:Identifier} and
-- {table:Identifier} server-side parameters.
--
-- Differences for the embedded (chdb) store of `zeta demo`:
-- * partitioned by hour, not by day: history is bounded (24 h by default) by dropping whole
--   hourly partitions (zeta_tui/demo/log_store.py prune), cheap and immediate; there is no TTL
--   clause because the world's clock is not the wall clock in tests and backfills;
-- * ORDER BY Timestamp, not (ServiceName, TimestampTime, Timestamp): the console's question is
--   "the newest N matching records, any service", which reads in key order and stops early
--   (several times faster on a day of demo logs; the figures are in docs/performance.md).
-- The seed's JSON fields (tenant_id, user_id, endpoint, method, status_code, latency_ms,
-- context.user_agent, context.ip_address, context.api_key_id) are LogAttributes (strings);
-- service.name, service.namespace and service.instance.id are ResourceAttributes.
CREATE TABLE IF NOT EXISTS {database:Identifier}.{table:Identifier} (
    Timestamp DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    TimestampTime DateTime DEFAULT toDateTime(Timestamp),
    TraceId String CODEC(ZSTD(1)),
    SpanId String CODEC(ZSTD(1)),
    TraceFlags UInt8,
    SeverityText LowCardinality(String) CODEC(ZSTD(1)),
    SeverityNumber UInt8,
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    Body String CODEC(ZSTD(1)),
    ResourceSchemaUrl LowCardinality(String) CODEC(ZSTD(1)),
    ResourceAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    ScopeSchemaUrl LowCardinality(String) CODEC(ZSTD(1)),
    ScopeName String CODEC(ZSTD(1)),
    ScopeVersion LowCardinality(String) CODEC(ZSTD(1)),
    ScopeAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    LogAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    EventName String CODEC(ZSTD(1)),

    INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_log_attr_key mapKeys(LogAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_log_attr_value mapValues(LogAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_body Body TYPE tokenbf_v1(32768, 3, 0) GRANULARITY 8
) ENGINE = MergeTree
PARTITION BY toStartOfHour(TimestampTime)
ORDER BY Timestamp
SETTINGS index_granularity = 8192
