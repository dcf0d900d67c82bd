"""Shared test settings: hypothesis profiles and the `slow` marker.

HYPOTHESIS_PROFILE=ci (set by .ci/run) bounds every property to a fixed number of
examples and removes the deadline, so CI time is predictable on a 2-core machine;
the default `dev` profile is the same with fewer examples for quick local runs.
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=100, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "dev", max_examples=50, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
