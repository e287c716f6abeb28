"""The customer-to-cash KPIs, kept exact by a projection of the hub's own records (docs/kpis.md).

projection.py turns the inbox's and the workflow table's stream records into tracked items and facts;
store.py is the projection table; report.py computes every KPI from it for /ops/v1/kpis and `erphub kpis`.
"""
