"""Shared fixtures: every test that takes ``kernel`` runs on every kernel that can run."""

import importlib

import pytest
from hypothesis import HealthCheck, settings

# The `kernel` fixture only selects the active kernel: sharing it across examples is right.
settings.register_profile("ci", max_examples=60, deadline=None,
                          suppress_health_check=[HealthCheck.function_scoped_fixture])
settings.load_profile("ci")


def _kernels():
    names = ["native", "numba", "scipy"]
    try:
        importlib.import_module("csr.kernels.mkl")
        names.append("mkl")
    except ImportError as e:
        print(f"SKIPPING the mkl kernel: {e}")
    return names


KERNELS = _kernels()


@pytest.fixture(params=KERNELS)
def kernel(request):
    """The kernel module, made the active kernel for the test."""
    from csr.kernels import use_kernel

    with use_kernel(request.param) as k:
        yield k
