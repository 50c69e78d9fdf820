"""The loader: SQS records → validated rows → one insert per table per batch."""
