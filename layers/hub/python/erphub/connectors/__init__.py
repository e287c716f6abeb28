"""Outbound clients, one per vendor API, behind one interface per kind of system (interfaces.py).

Construct a connector from the environment (`NetSuiteErp()`), or pass a ConnectorConfig and credentials.
"""
