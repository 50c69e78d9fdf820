"""The DynamoDB config/state table: sites, keys, integrations, cursors (one table, pk/sk)."""
