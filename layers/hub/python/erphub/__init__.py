"""erphub: the library every Lambda function of the hub shares (canonical models, sources, connectors, store)."""
