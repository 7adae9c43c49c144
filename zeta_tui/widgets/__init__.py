"""Widgets render models. They never import backends or do I/O."""
