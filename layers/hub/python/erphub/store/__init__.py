"""The only modules that touch DynamoDB (and the S3 claim check); they turn ClientError into domain errors."""
