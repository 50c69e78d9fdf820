"""Identity: links between identifiers, their resolution to people, and people's traits."""
