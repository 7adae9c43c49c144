"""The console's screens by name, for the command line (`--screen`) and the app, without
importing Textual (the command line is parsed before the console is loaded)."""

from __future__ import annotations

#: every screen a key switches to, in key order (1-9)
MODES = ("health", "api", "logs", "traces", "alerts", "slo", "tenants", "cost", "sql")

#: the screens whose data come from the embedded analytics store (ClickHouse usage and cost)
ANALYTICS_MODES = ("tenants", "cost", "sql")
