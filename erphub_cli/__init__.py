"""`erphub ops` / `erphub kpis`: the operator's command line, an HTTP client of the operator API (/ops/v1) of any
erphub stack, local or deployed. It is not part of the local stack: only its local sign-in reads local/."""
