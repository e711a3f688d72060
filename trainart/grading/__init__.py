"""Exercises graded through nbval: authored sources, student and grading notebooks, the grader.

- :mod:`~trainart.grading.source`: the authored exercise format (one ``.py`` file each);
- :mod:`~trainart.grading.build`: the student notebook and the canonical grading notebook;
- :mod:`~trainart.grading.checks`: helpers that check cells use to compare *values*;
- :mod:`~trainart.grading.assemble`: a submission's solution cells put into the canonical
  notebook, and the scan that flags tampering;
- :mod:`~trainart.grading.plugin`: the pytest plugin that records what nbval saw per cell;
- :mod:`~trainart.grading.grade`: batches, scores and reports;
- :mod:`~trainart.grading.cli`: the ``trainart`` command (grade, check, build-exercises).
"""
