"""AWS adapters of the core's ports (DynamoDB persistence ports, SQS/SNS, End User Messaging SMS, S3).

The only place in the core that talks to AWS (botocore); handlers import what they use.
"""
