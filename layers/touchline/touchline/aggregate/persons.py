"""Whose a session is: the person of the user signed in during it, else its browser's person.

A browser one person used is that person's whatever was signed in. A browser two users shared is
a person of its own (docs/identity.md, rule 3), so its sessions are credited per session, to the
user signed in at the time (`sessions.user_id`); its anonymous sessions stay the browser's.
Conversions on a shared browser follow the session they happened in (`session_at`).
"""

from __future__ import annotations

# identity_map's rows for the ids events carry as `visitor_id` and `user_id`; `{site:String}` bound.
VISITOR_MAP = (
    "SELECT id_value AS visitor_id, person_id FROM identity_map FINAL "
    "WHERE site_id = {site:String} AND id_type = 'visitor'"
)
USER_MAP = (
    "SELECT id_value AS user_id, person_id FROM identity_map FINAL "
    "WHERE site_id = {site:String} AND id_type = 'user'"
)


def session_person(session: str = "s", visitors: str = "m", users: str = "u") -> str:
    """The person of a session row joined (LEFT) to VISITOR_MAP as `visitors` and to USER_MAP on
    its user_id as `users`. An unmapped user id (no link ever named it) falls back to the browser."""
    return (
        f"multiIf({users}.person_id != '', {users}.person_id, {visitors}.person_id != '', "
        f"{visitors}.person_id, concat('visitor:', {session}.visitor_id))"
    )


def session_at(visitor: str, at: str, alias: str = "su") -> str:
    """An ASOF join giving each row (by its `visitor` and time `at` columns) the user signed in
    during that browser's session in progress then (`{alias}.user_id`, '' for none) and that
    user's person (`{alias}.person_id`, '' for none): a browser's sessions never overlap, so the
    latest one starting at or before the time is the one it happened in. Only browsers that were
    ever signed in are read (any version: a superset)."""
    return f"""ASOF LEFT JOIN (
        SELECT s.visitor_id AS visitor_id, s.session_start AS session_start, s.user_id AS user_id,
               u.person_id AS person_id
        FROM (SELECT visitor_id, session_start, user_id FROM sessions FINAL
              WHERE site_id = {{site:String}} AND visitor_id IN (
                  SELECT visitor_id FROM sessions WHERE site_id = {{site:String}} AND user_id != '')) AS s
        LEFT JOIN ({USER_MAP}) AS u ON u.user_id = s.user_id
    ) AS {alias} ON {alias}.visitor_id = {visitor} AND {at} >= {alias}.session_start"""
