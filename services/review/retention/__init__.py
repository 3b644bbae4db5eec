"""Retention of personal data per campaign: the date until which a tenant keeps its submitters'
personal data, and the daily job that deletes it afterwards (service.py, job.py)."""
