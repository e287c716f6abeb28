"""Build and verification tools that are not the local stack: the artifact builder and check, the IAM audit,
the ASL and schema generators, the smoke test against a deployed stack."""
