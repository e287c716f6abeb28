"""The committed business configuration (prices are not compared), as the functions read it."""

from __future__ import annotations

from pathlib import Path

import pytest

from erphub import business_config

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True)
def committed(monkeypatch):
    config = business_config.parse((ROOT / "config" / "business.json").read_text())
    monkeypatch.setattr(business_config, "current", lambda: config)
    return config
