"""Trace sources: Jaeger (query API v1 and v3), Tempo, ClickHouse (otel_traces)."""
