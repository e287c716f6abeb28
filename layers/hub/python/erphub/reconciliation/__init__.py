"""Scheduled and on-demand reconciliation of active contracts: what the hub applied (the contract's terms)
against what billing bills and the ERP books, per legal entity and item (books.py), run in bounded, resumable
steps with one exception per unresolved mismatch (runs.py)."""
