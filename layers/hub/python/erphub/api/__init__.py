"""The synchronous API (/api/v1): answers a person waits for, from the hub's identity cross-reference and records
and, where needed, the vendors through the connectors. models.py is the v1 contract; each other module answers
one kind of question (accounts, pricing, quotes, tax, status) and raises only typed errors (errors.py)."""
