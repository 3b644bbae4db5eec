"""Each tenant's review workflow: levels, rounds, quotas, appraisal, employer confirmation,
validity, complaints, commendation and nomination up to the Tổng Liên đoàn.

Layers: api.py (HTTP) → service.py, appraisal.py, nominations.py, confirmation.py (rules, only
flush) → repository.py (SQL) → models.py (tables). Pure rules with no database live in
validity.py, ranking.py and tokens.py.
"""
