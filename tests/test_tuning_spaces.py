"""Search spaces (trainart.tuning.spaces): the distributions sample what they claim, grids
are evenly spaced in their scale, bad spaces raise errors that name the argument."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tuning_objectives import SPACE

from trainart.tuning import Choice, IntUniform, LogUniform, Uniform, sample_config, sample_configs


def test_log_uniform_is_uniform_in_log_space_not_in_linear_space():
    from scipy import stats  # imported here: n_jobs > 1 workers import this module

    low, high = 1e-4, 1.0
    x = LogUniform(low, high).sample(np.random.default_rng(0), size=2000)
    assert x.min() >= low and x.max() <= high
    log_ks = stats.kstest(np.log(x), stats.uniform(math.log(low), math.log(high / low)).cdf)
    assert log_ks.pvalue > 0.01, log_ks
    lin_ks = stats.kstest(x, stats.uniform(low, high - low).cdf)
    assert lin_ks.pvalue < 1e-10, lin_ks
    # scipy's reciprocal distribution is the same law
    assert stats.kstest(x, stats.loguniform(low, high).cdf).pvalue > 0.01
    # each decade gets a quarter of the samples
    counts = np.histogram(np.log10(x), bins=4, range=(-4, 0))[0]
    assert np.all(np.abs(counts / len(x) - 0.25) < 0.04), counts


def test_uniform_is_uniform_in_linear_space():
    from scipy import stats

    x = Uniform(-1.0, 3.0).sample(np.random.default_rng(1), size=2000)
    assert stats.kstest(x, stats.uniform(-1.0, 4.0).cdf).pvalue > 0.01


def test_int_uniform_covers_all_integers_evenly_and_log_favours_small_ones():
    d = IntUniform(1, 4)
    x = d.sample(np.random.default_rng(0), size=4000)
    counts = np.bincount(x, minlength=5)[1:]
    assert counts.sum() == 4000 and np.all(np.abs(counts / 4000 - 0.25) < 0.03), counts
    xl = IntUniform(1, 1000, log=True).sample(np.random.default_rng(0), size=4000)
    assert xl.min() >= 1 and xl.max() <= 1000
    p10 = math.log(10.5 / 0.5) / math.log(1000.5 / 0.5)  # P(round(e^u) <= 10), ~0.4
    assert abs(np.mean(xl <= 10) - p10) < 0.03  # linear sampling would give 1 %
    assert isinstance(d.sample(0), int) and d.contains(4) and not d.contains(5)


def test_choice_samples_every_option_equally():
    d = Choice(["relu", "tanh", "gelu"])
    draws = d.sample(np.random.default_rng(0), size=3000)
    freq = [draws.count(o) / 3000 for o in d.options]
    assert np.allclose(freq, 1 / 3, atol=0.03), freq
    assert d.grid(1) == ["relu", "tanh", "gelu"]
    assert d.contains("tanh") and not d.contains("elu")


@given(low=st.floats(-1e3, 1e3), width=st.floats(1e-3, 1e3), seed=st.integers(0, 2**32 - 1))
def test_samples_and_grids_stay_inside_their_support(low, width, seed):
    high = low + width
    if not low < high:
        return
    lo_pos = abs(low) + 1e-3
    for d in (Uniform(low, high), LogUniform(lo_pos, lo_pos + width),
              IntUniform(int(low), int(low) + 1 + int(width))):
        xs = d.sample(seed, size=20)
        assert all(d.contains(x) for x in xs.tolist())
        g = d.grid(5)
        assert all(d.contains(v) for v in g) and len(set(g)) == len(g)


def test_grids_are_evenly_spaced_in_their_scale():
    g = LogUniform(1e-4, 1e-1).grid(4)
    assert np.allclose(g, [1e-4, 1e-3, 1e-2, 1e-1])
    assert np.allclose(Uniform(0, 1).grid(3), [0, 0.5, 1])
    assert IntUniform(16, 256, log=True).grid(5) == [16, 32, 64, 128, 256]
    assert IntUniform(1, 3).grid(10) == [1, 2, 3]


@pytest.mark.parametrize("make, err, match", [
    (lambda: Uniform(1, 1), ValueError, r"^Uniform: low must be < high, got 1 >= 1$"),
    (lambda: Uniform(2, 1), ValueError, r"^Uniform: low must be < high"),
    (lambda: Uniform(0, math.inf), ValueError, r"^Uniform: high must be finite"),
    (lambda: Uniform("a", 1), TypeError, r"^Uniform: low must be a number"),
    (lambda: LogUniform(0, 1), ValueError, r"^LogUniform: low must be > 0, got 0$"),
    (lambda: LogUniform(-1e-3, 1), ValueError, r"^LogUniform: low must be > 0"),
    (lambda: LogUniform(1, 0.1), ValueError, r"^LogUniform: low must be < high"),
    (lambda: IntUniform(1.5, 4), TypeError, r"^IntUniform: low must be an integer, got 1.5"),
    (lambda: IntUniform(1, 4.0), TypeError, r"^IntUniform: high must be an integer"),
    (lambda: IntUniform(3, 3), ValueError, r"^IntUniform: low must be < high"),
    (lambda: IntUniform(0, 8, log=True), ValueError, r"^IntUniform: low must be >= 1"),
    (lambda: Choice([]), ValueError, r"^Choice: options must not be empty$"),
    (lambda: Choice("abc"), TypeError, r"^Choice: options must be a list"),
    (lambda: Choice([1, 1]), ValueError, r"^Choice: options must be distinct"),
])
def test_invalid_spaces_raise_named_errors(make, err, match):
    with pytest.raises(err, match=match):
        make()


def test_sample_config_names_the_bad_dimension():
    with pytest.raises(TypeError, match=r"^sample_config: space\['lr'\] must be"):
        sample_config({"lr": (1e-3, 1)}, 0)


def test_integer_arguments_use_the_checks_vocabulary():
    assert IntUniform(np.int64(1), np.int64(4)).grid(np.int64(2)) == [1, 4]
    assert len(sample_configs(SPACE, np.int64(3), 0)) == 3
    with pytest.raises(ValueError, match="^IntUniform.grid: k must be an integer >= 1, got 0"):
        IntUniform(1, 4).grid(0)
    with pytest.raises(ValueError, match="^LogUniform.sample: size must be an integer >= 0"):
        LogUniform(1e-3, 1).sample(0, size=-1)
    with pytest.raises(ValueError, match="^sample_configs: n must be an integer >= 0, got True"):
        sample_configs(SPACE, True, 0)
