"""Usage aggregation, the hub's batch-tolerant flow (docs/usage.md): usage records from the product's `POST /usage`
and from billing webhooks are counted once each into a total per subscription, meter and billing period
(`ingest`); after the period's cut-off a schedule reports each total to billing and books its overage in the ERP,
once (`report`)."""
