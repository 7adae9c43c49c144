"""Log sources: one contract (LogSource), several backends."""
