"""The template's IAM roles, enforced locally: every function runs with its own role's credentials.

`roles` expands each function's role from template.yaml with the SAM translator (policy templates
become statements, managed policies their documents), `moto_iam` creates the roles in moto and
makes moto check every request against the caller's policies, resources and conditions included
(`policy` evaluates them, `requests` says what a request touches), and `identity` signs each
function's AWS calls with its role's credentials. See docs/local-stack.md ("IAM").
"""
