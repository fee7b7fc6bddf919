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
