"""`make bench`: intake's and the ingester's throughput against baselines measured in the same run.

Not a test and not part of the system: a load generator (wrk, Lua scripts in ``bench/wrk``), the
baseline apps it is compared with (``bench/apps.py``) and the driver (``python -m bench``), on a
database and a Redis db of its own. See docs/benchmarks.md.
"""
