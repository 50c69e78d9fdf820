"""Small boto3 adapters; clients are created lazily so importing a handler stays cheap."""
