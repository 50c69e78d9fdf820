"""The built-in vocabulary: importing this package registers every table, dimension and metric."""

from touchline.query.builtin import attribution, commerce, money, tables, traffic  # noqa: F401
