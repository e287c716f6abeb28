"""Identity resolution: which hub customer a record from any system belongs to (DESIGN.md rule 10)."""

from erphub.identity.resolver import Resolution, normalized_keys, resolve

__all__ = ["Resolution", "normalized_keys", "resolve"]
