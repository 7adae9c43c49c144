"""Screens: the only place that runs workers and hands results to widgets."""
