"""The benchmark suite: ``python -m bench.run`` (``make bench``); see :mod:`bench.run`."""
