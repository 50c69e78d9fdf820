"""ClickHouse: the client from a URL, the schema migrations, the queries."""
