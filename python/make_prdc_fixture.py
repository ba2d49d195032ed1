#!/usr/bin/python3
"""Writes tests/LatentDiffusion.Tests/Fixtures/numpy-prdc, for ManifoldMetricsTests and MemorisationTests.

Random float64 feature sets (seed 0) and what the reference code computes on them:

  real.f64      (300, 32) float64, little-endian: the "training" features, N(0, I)
  fake.f64      (250, 32): the "generated" features: 230 drawn from N(0.25, 1.1^2 I), then 20 copies of real rows
                plus N(0, 0.01^2) noise (so the memorisation check has something to find)
  held_out.f64  (200, 32): a second draw of the real distribution (the "test set")
  real_radii_k3.f64, real_radii_k5.f64  (300,): the k-NN radii of the real set (distance to the k-th neighbour, the
                point itself not counted), as compute_nearest_neighbour_distances returns them
  fake_nearest.i64, fake_nearest_distance.f64  (250,): each fake row's nearest real row and the distance to it
  manifest.json precision and recall (k = 3), density and coverage (k = 5), the memorisation threshold (the 1st
                percentile of the held-out rows' nearest-real distances, numpy's linear interpolation) and
                memorised_fraction (fake rows nearer to a real row than the threshold)

The formulas are compute_prdc of clovaai/generative-evaluation-prdc (prdc/prdc.py, MIT licence, Copyright (c)
2020-present NAVER Corp.), copied below unchanged but for the print; precision and recall come from a call with
nearest_k = 3 (Kynkaanniemi et al. 2019), density and coverage from a call with nearest_k = 5 (Naeem et al. 2020).

    /usr/bin/python3 python/make_prdc_fixture.py      (Debian: apt-get install python3-numpy python3-sklearn)
"""
import json
import os

import numpy as np
import sklearn
import sklearn.metrics

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, "..", "tests", "LatentDiffusion.Tests", "Fixtures", "numpy-prdc")


# --- clovaai/generative-evaluation-prdc, prdc/prdc.py -------------------------------------------------------------
def compute_pairwise_distance(data_x, data_y=None):
    if data_y is None:
        data_y = data_x
    dists = sklearn.metrics.pairwise_distances(data_x, data_y, metric='euclidean', n_jobs=8)
    return dists


def get_kth_value(unsorted, k, axis=-1):
    indices = np.argpartition(unsorted, k, axis=axis)[..., :k]
    k_smallests = np.take_along_axis(unsorted, indices, axis=axis)
    kth_values = k_smallests.max(axis=axis)
    return kth_values


def compute_nearest_neighbour_distances(input_features, nearest_k):
    distances = compute_pairwise_distance(input_features)
    radii = get_kth_value(distances, k=nearest_k + 1, axis=-1)
    return radii


def compute_prdc(real_features, fake_features, nearest_k):
    real_nearest_neighbour_distances = compute_nearest_neighbour_distances(real_features, nearest_k)
    fake_nearest_neighbour_distances = compute_nearest_neighbour_distances(fake_features, nearest_k)
    distance_real_fake = compute_pairwise_distance(real_features, fake_features)
    precision = (distance_real_fake < np.expand_dims(real_nearest_neighbour_distances, axis=1)).any(axis=0).mean()
    recall = (distance_real_fake < np.expand_dims(fake_nearest_neighbour_distances, axis=0)).any(axis=1).mean()
    density = (1. / float(nearest_k)) * (
        distance_real_fake < np.expand_dims(real_nearest_neighbour_distances, axis=1)).sum(axis=0).mean()
    coverage = (distance_real_fake.min(axis=1) < real_nearest_neighbour_distances).mean()
    return dict(precision=precision, recall=recall, density=density, coverage=coverage)
# ----------------------------------------------------------------------------------------------------------------


def write(name, array, dtype):
    array = np.ascontiguousarray(array, dtype=dtype)
    array.tofile(os.path.join(FIXTURE, name))
    return {"file": name, "dtype": np.dtype(dtype).name, "shape": list(array.shape)}


def main():
    os.makedirs(FIXTURE, exist_ok=True)
    rng = np.random.default_rng(0)
    dim = 32
    real = rng.normal(size=(300, dim))
    fake = np.concatenate([0.25 + 1.1 * rng.normal(size=(230, dim)),
                           real[rng.choice(300, size=20, replace=False)] + 0.01 * rng.normal(size=(20, dim))])
    held_out = rng.normal(size=(200, dim))

    pr = compute_prdc(real, fake, nearest_k=3)
    dc = compute_prdc(real, fake, nearest_k=5)

    real_fake = compute_pairwise_distance(fake, real)                 # (250, 300)
    fake_nearest = real_fake.argmin(axis=1)
    fake_nearest_distance = real_fake.min(axis=1)
    held_out_distance = compute_pairwise_distance(held_out, real).min(axis=1)
    threshold = np.percentile(held_out_distance, 1.0)
    memorised_fraction = (fake_nearest_distance < threshold).mean()

    manifest = {
        "about": "Random float64 features and the reference k-NN metrics (clovaai/generative-evaluation-prdc compute_prdc), "
                 f"by numpy {np.__version__}, scikit-learn {sklearn.__version__}. Written by python/make_prdc_fixture.py.",
        "real": write("real.f64", real, "<f8"),
        "fake": write("fake.f64", fake, "<f8"),
        "held_out": write("held_out.f64", held_out, "<f8"),
        "real_radii_k3": write("real_radii_k3.f64", compute_nearest_neighbour_distances(real, 3), "<f8"),
        "real_radii_k5": write("real_radii_k5.f64", compute_nearest_neighbour_distances(real, 5), "<f8"),
        "fake_nearest": write("fake_nearest.i64", fake_nearest, "<i8"),
        "fake_nearest_distance": write("fake_nearest_distance.f64", fake_nearest_distance, "<f8"),
        "precision": float(pr["precision"]),
        "recall": float(pr["recall"]),
        "density": float(dc["density"]),
        "coverage": float(dc["coverage"]),
        "precision_recall_k": 3,
        "density_coverage_k": 5,
        "memorisation_percentile": 1.0,
        "memorisation_threshold": float(threshold),
        "memorised_fraction": float(memorised_fraction),
    }
    with open(os.path.join(FIXTURE, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    print(json.dumps({k: v for k, v in manifest.items() if isinstance(v, float)}))


if __name__ == "__main__":
    main()
