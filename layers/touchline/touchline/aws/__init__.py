"""Small boto3 adapters; clients are created lazily so importing a handler stays cheap.

Importing this package defers Powertools' event-handler `__init__` (`powertools_import`): the
collector's cold import skips the resolvers it never uses."""

from touchline.aws.powertools_import import defer_event_handler_init

defer_event_handler_init()
