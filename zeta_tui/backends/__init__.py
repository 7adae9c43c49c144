"""Textual-free adapters. They return models and raise only ZetaError subclasses."""
