"""The helpers check cells use: one PASS/FAIL line, prints swallowed, no expected values shown."""

import numpy as np
import pytest

from trainart.grading.checks import check, quadratic_bowl


def run(capsys, body):
    with check("the thing") as c:
        body(c)
    return capsys.readouterr().out


def test_pass_prints_one_line_and_swallows_student_prints(capsys):
    def body(c):
        print("PASS: the thing")  # a student's fake line
        c.close(np.ones(3), np.ones(3))
    assert run(capsys, body) == "PASS: the thing\n"


def test_fail_says_what_differs_without_the_expected_values(capsys):
    out = run(capsys, lambda c: c.close([1.0, 2.5], [1.0, 2.0], name="params"))
    assert out.startswith("FAIL: the thing: params: relative error 2.5e-01 at index (1,)")
    assert "2.0" not in out.replace("2.5e-01", "") and out.count("\n") == 1


@pytest.mark.parametrize("actual,message", [
    (np.ones(2), "shape (2,), expected shape (3,)"),
    ([np.nan, 1, 1], "contains NaN or inf"),
    ("abc", "expected numbers"),
])
def test_close_explains_bad_values(capsys, actual, message):
    assert message in run(capsys, lambda c: c.close(actual, np.ones(3)))


def test_student_exceptions_become_fail_lines(capsys):
    def not_done(c):
        raise NotImplementedError("adam_step: not implemented yet")
    assert run(capsys, not_done) == "FAIL: the thing: not implemented yet\n"

    def broken(c):
        return {}["missing"]
    assert run(capsys, broken) == "FAIL: the thing: your code raised KeyError: 'missing'\n"


def test_interrupts_are_not_swallowed(capsys):
    with pytest.raises(KeyboardInterrupt):
        with check("slow"):
            raise KeyboardInterrupt


def test_returns_and_within(capsys):
    out = run(capsys, lambda c: c.returns([1, 2], "f", ("a", "b")))
    assert "f must return a tuple (a, b), got list" in out
    assert "outside the accepted range [0.4, 0.6]" in run(capsys, lambda c: c.within(0.7, 0.4, 0.6))


def test_quadratic_bowl_is_seeded_and_has_the_asked_condition_number():
    g1, g2 = quadratic_bowl(3, 5, kappa=20.0), quadratic_bowl(3, 5, kappa=20.0)
    x = np.arange(5.0)
    np.testing.assert_array_equal(g1(x), g2(x))
    A = np.array([g1(e) - g1(np.zeros(5)) for e in np.eye(5)])
    assert np.linalg.cond(A) == pytest.approx(20.0)
