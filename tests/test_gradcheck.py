import numpy as np
import pytest

from trainart.gradcheck import numerical_gradient, relative_error


def test_numerical_gradient_of_a_scalar_function():
    x = np.array([[0.3, -1.2], [2.0, 0.5]])
    before = x.copy()
    g = numerical_gradient(lambda: np.sum(np.sin(x) * x), x)
    np.testing.assert_allclose(g, np.cos(before) * before + np.sin(before), rtol=1e-8)
    np.testing.assert_array_equal(x, before)  # restored


def test_numerical_gradient_of_a_vector_function_is_the_jacobian():
    x = np.array([1.0, 2.0, 3.0])
    A = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(numerical_gradient(lambda: A @ x, x), A, atol=1e-8)


def test_numerical_gradient_needs_float64():
    with pytest.raises(TypeError, match="float64"):
        numerical_gradient(lambda: 0.0, np.zeros(2, dtype=np.float32))


def test_relative_error():
    assert relative_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert relative_error([1.0], [3.0]) == pytest.approx(0.5)
    assert relative_error([0.0], [0.0]) == 0.0
