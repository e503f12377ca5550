"""AWS adapters of the core's ports (DynamoDB store, SQS/SNS, End User Messaging SMS, S3).

The only place in the core that imports boto3; each adapter is imported lazily by handlers.
"""
