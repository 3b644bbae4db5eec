"""Payloads that cross a service boundary (Redis streams and keys, Celery task arguments).

Services never import each other; they agree on these models and key names instead. A change
here is a change of protocol: keep old fields readable until every consumer has moved on.
"""
