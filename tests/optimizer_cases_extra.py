"""Parity/contract cases for Lamb, Ftrl, Adafactor, Muon and ScheduleFreeAdamW."""

from __future__ import annotations

from typing import Any

#: Optimizer class name -> list of Keras keyword-argument dicts.
EXTRA_CASES: dict[str, list[dict[str, Any]]] = {}
