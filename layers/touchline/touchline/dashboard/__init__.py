"""The dashboard's built files as HTTP resources (the browser app itself lives in `dashboard/`)."""
