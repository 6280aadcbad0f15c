"""The distribution distances: Fréchet distance, unbiased kernel MMD² (KID/KVD) and their bootstrap intervals."""
import numpy as np
import pytest
import scipy.linalg
import torch

from mmdiff_lite.metrics import (frechet_distance, frechet_extrapolated, frechet_gaussians, frechet_interval,
                                 gaussian_stats, kernel_distance, kernel_interval, mmd2_unbiased, polynomial_kernel)
from mmdiff_lite.metrics.bootstrap import _off_pairs_mean


def _random_cov(rng, d):
    a = rng.normal(size=(d, d))
    return a @ a.T / d + 0.1 * np.eye(d)


def test_identical_sets_give_zero_frechet():
    x = np.random.default_rng(0).normal(size=(300, 8))
    assert frechet_distance(x, x) == pytest.approx(0.0, abs=1e-9)


def test_frechet_of_gaussians_closed_form_diagonal():
    # Commuting (diagonal) covariances: d² = |Δμ|² + Σ (√a − √b)².
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    a, b = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 1.0])
    expected = 1 + 0 + 4 + (1 - 2) ** 2 + (2 - 1) ** 2 + (3 - 1) ** 2
    assert frechet_gaussians(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(expected, rel=1e-12)


def test_frechet_of_gaussians_matches_matrix_square_root():
    rng = np.random.default_rng(1)
    d = 6
    s1, s2 = _random_cov(rng, d), _random_cov(rng, d)
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    expected = ((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * covmean)
    assert frechet_gaussians(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-9)


def test_sample_frechet_approaches_the_analytic_value():
    rng = np.random.default_rng(2)
    d = 4
    s1, s2 = _random_cov(rng, d), _random_cov(rng, d)
    mu1, mu2 = np.zeros(d), np.full(d, 0.5)
    truth = frechet_gaussians(mu1, s1, mu2, s2)
    x = rng.multivariate_normal(mu1, s1, size=200_000)
    y = rng.multivariate_normal(mu2, s2, size=200_000)
    assert frechet_distance(x, y) == pytest.approx(truth, rel=0.02)


def test_frechet_bias_falls_like_one_over_n_and_extrapolation_removes_it():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(4000, 16)), rng.normal(size=(4000, 16))  # one distribution: the truth is 0
    small = np.mean([frechet_distance(rng.normal(size=(100, 16)), rng.normal(size=(100, 16))) for _ in range(5)])
    big = np.mean([frechet_distance(rng.normal(size=(1000, 16)), rng.normal(size=(1000, 16))) for _ in range(5)])
    assert small > 5 * big > 0  # ten times the samples: about a tenth of the bias
    ext = frechet_extrapolated(x, y, sizes=[250, 500, 1000, 2000, 4000])
    assert abs(ext["at_infinity"]) < 0.5 * ext["values"][-1]
    assert ext["slope"] > 0


def test_torchmetrics_fid_maths_agree():
    fid = pytest.importorskip("torchmetrics.image.fid")
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(500, 10)), rng.normal(0.3, 1.2, size=(400, 10))
    (m1, s1), (m2, s2) = gaussian_stats(x), gaussian_stats(y)
    theirs = fid._compute_fid(*(torch.from_numpy(v) for v in (m1, s1, m2, s2))).item()
    assert frechet_distance(x, y) == pytest.approx(theirs, rel=1e-6)


def test_torchmetrics_kid_maths_agree():
    kid = pytest.importorskip("torchmetrics.image.kid")
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(300, 12)), rng.normal(0.2, 1.0, size=(300, 12))
    theirs = kid.poly_mmd(torch.from_numpy(x), torch.from_numpy(y), degree=3, coef=1.0).item()
    assert mmd2_unbiased(x, y) == pytest.approx(theirs, rel=1e-9)


def test_polynomial_kernel_definition():
    a, b = np.array([[1.0, 2.0]]), np.array([[3.0, -1.0]])
    assert polynomial_kernel(a, b)[0, 0] == pytest.approx((0.5 * (3 - 2) + 1) ** 3)


def test_kernel_distance_of_a_set_with_itself_is_the_left_out_diagonal():
    # MMD²_u(x, x) = (2/n)(mean off-diagonal k − mean diagonal k): O(1/n), not exactly 0.
    x = np.random.default_rng(6).normal(size=(50, 5))
    k = polynomial_kernel(x, x)
    off = (k.sum() - np.trace(k)) / (50 * 49)
    assert mmd2_unbiased(x, x) == pytest.approx(2 / 50 * (off - np.trace(k) / 50), rel=1e-9)


def test_mmd_is_unbiased_over_repeated_draws():
    rng = np.random.default_rng(7)
    draw_x = lambda n: rng.normal(size=(n, 3))  # noqa: E731
    draw_y = lambda n: rng.normal(0.4, 1.0, size=(n, 3))  # noqa: E731
    # The population value, from a large V-statistic (its O(1/n) bias is negligible at this size).
    big_x, big_y = draw_x(6000), draw_y(6000)
    truth = polynomial_kernel(big_x, big_x).mean() + polynomial_kernel(big_y, big_y).mean() \
        - 2 * polynomial_kernel(big_x, big_y).mean()
    est, biased = [], []
    for _ in range(400):
        x, y = draw_x(10), draw_y(10)
        est.append(mmd2_unbiased(x, y))
        biased.append(polynomial_kernel(x, x).mean() + polynomial_kernel(y, y).mean() - 2 * polynomial_kernel(x, y).mean())
    se = np.std(est) / np.sqrt(len(est))
    assert abs(np.mean(est) - truth) < 3 * se + 0.01 * truth
    assert np.mean(biased) - truth > 5 * se  # the V-statistic at n = 10 is visibly biased: the test can fail
    same = [mmd2_unbiased(draw_x(10), draw_x(10)) for _ in range(400)]
    assert min(same) < 0 < max(same)  # negative estimates are normal when the truth is 0
    assert abs(np.mean(same)) < 3 * np.std(same) / np.sqrt(400)


def test_kernel_distance_subsets_have_the_same_mean():
    rng = np.random.default_rng(8)
    x, y = rng.normal(size=(400, 4)), rng.normal(0.5, 1, size=(400, 4))
    full = kernel_distance(x, y)
    sub = kernel_distance(x, y, subsets=50, subset_size=100)
    assert sub == pytest.approx(full, rel=0.15)


def test_bootstrap_kernel_replicates_leave_out_pairs_of_one_clip():
    rng = np.random.default_rng(9)
    x = rng.normal(size=(6, 3))
    k = polynomial_kernel(x, x)
    idx = np.array([0, 0, 2, 3, 3, 3])
    brute = [k[i, j] for a, i in enumerate(idx) for b, j in enumerate(idx) if i != j]
    assert _off_pairs_mean(k, idx) == pytest.approx(np.mean(brute))
    assert _off_pairs_mean(k, np.arange(6)) == pytest.approx((k.sum() - np.trace(k)) / 30)


def test_bootstrap_intervals_contain_the_estimate_and_shrink_with_n():
    rng = np.random.default_rng(10)
    widths = []
    for n in (100, 800):
        x, y = rng.normal(size=(n, 4)), rng.normal(0.3, 1, size=(n, 4))
        f, k = frechet_interval(x, y, n_boot=100), kernel_interval(x, y, n_boot=100)
        assert f["value"] == pytest.approx(frechet_distance(x, y))
        assert k["value"] == pytest.approx(mmd2_unbiased(x, y))
        for ci in (f, k):
            assert ci["low"] <= ci["value"] <= ci["high"] or abs(ci["value"] - ci["low"]) < ci["se"]
        widths.append(f["high"] - f["low"])
    assert widths[1] < 0.6 * widths[0]


def test_bad_features_get_clear_errors():
    with pytest.raises(ValueError, match=r"\(N, d\)"):
        frechet_distance(np.zeros(5), np.zeros(5))
    with pytest.raises(ValueError, match="NaN"):
        frechet_distance(np.full((4, 2), np.nan), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="feature sizes"):
        mmd2_unbiased(np.zeros((4, 2)), np.zeros((4, 3)))
