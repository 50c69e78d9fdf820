"""The Docker-free local stack: runs a SAM `template.yaml` in one process (`touchline dev`).

moto stands in for SQS and DynamoDB, a threaded HTTP server for API Gateway (HTTP API, payload
2.0), poller threads for the SQS event source mappings and a scheduler thread for EventBridge
schedules; the handlers are the real `functions/*/app.py`, imported the way Lambda imports them.
It is a generic template runner with no Touchline business logic, and no Lambda handler may import
it. Importing this package is cheap: every submodule imports its heavy dependencies lazily.
"""
