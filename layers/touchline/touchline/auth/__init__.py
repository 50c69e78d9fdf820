"""Who may read what: principals, API keys, the authorisation step and rate limits.

The seam for accounts (issue 15): an authenticator turns a request's credentials into a
`Principal` (`api_keys.ApiKeyAuthenticator` for `Bearer tlk_…`; a JWT authenticator for signed-in
people next), and every read route calls `principal.authorize` once. See docs/query-api.md,
"Authentication and the auth seam".
"""
