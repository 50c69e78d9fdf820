"""Outgoing webhooks (seed 001 `webhooks`): a site's subscribers, told of purchases, refunds,
identified visitors, goal completions and changed attribution, signed like Stripe, delivered at
least once through SQS with backoff and a dead-letter queue (docs/webhooks.md).

    sources (ClickHouse, since a watermark) → dispatch (one message per subscriber) → queue
        → deliver (sign, POST, log; retry later, or give up into the dead-letter queue)
"""
