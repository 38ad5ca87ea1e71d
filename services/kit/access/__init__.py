"""Portfolios as tenants: who may do what on which portfolio, shared by the three services.

The rules are in `rights` (pure); the SQL of the shared `access` schema in `repository`;
the checks every use case starts with, and the management of members, in `service`.
"""
