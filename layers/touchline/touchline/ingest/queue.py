"""Where producers put envelopes: the `EventQueue` protocol, and an in-memory one for tests.

SQS is behind it in `touchline.aws.sqs`."""

from __future__ import annotations

from typing import Protocol


class EnqueueError(RuntimeError):
    """The queue refused messages; the caller must not answer 202."""


class EventQueue(Protocol):
    def send(self, bodies: list[str]) -> None:
        """Enqueue every body or raise `EnqueueError`."""
        ...


class ListQueue:
    """An in-memory queue for tests and benchmarks."""

    def __init__(self) -> None:
        self.bodies: list[str] = []

    def send(self, bodies: list[str]) -> None:
        self.bodies.extend(bodies)
