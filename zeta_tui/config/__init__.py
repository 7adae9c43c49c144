"""Configuration: XDG paths, pydantic models, and the TOML loader."""
