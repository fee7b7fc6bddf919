"""reportgen.models.threads: the thread budget honours affinity and container CPU quotas, and --threads."""
import pytest
import torch

from reportgen.models import threads
from reportgen.models.threads import parse_quota, set_threads, thread_budget


def test_budget_is_the_smallest_of_torch_affinity_and_quota():
    assert thread_budget(32, 64, None) == 32  # torch's own count when nothing is smaller
    assert thread_budget(32, 4, None) == 4  # pinned to 4 CPUs
    assert thread_budget(32, 64, 2.0) == 2  # a 2-CPU container quota on a 64-core host
    assert thread_budget(32, 64, 1.5) == 2  # a part CPU counts whole
    assert thread_budget(32, 64, 0.25) == 1
    assert thread_budget(2, None, 8.0) == 2
    assert thread_budget(0, None, None) == 1


@pytest.mark.parametrize("kwargs, cpus", [
    ({"cpu_max": "200000 100000"}, 2.0),
    ({"cpu_max": "150000 100000"}, 1.5),
    ({"cpu_max": "max 100000"}, None),
    ({"cfs_quota": "400000", "cfs_period": "100000"}, 4.0),
    ({"cfs_quota": "-1", "cfs_period": "100000"}, None),
    ({"cpu_max": "garbage"}, None),
    ({"cpu_max": "100 0"}, None),
    ({}, None),
])
def test_quota_files_of_cgroup_v2_and_v1(kwargs, cpus):
    assert parse_quota(**kwargs) == cpus


@pytest.fixture
def saved_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_set_threads_applies_the_quota_and_keeps_an_environment_setting(monkeypatch, saved_threads):
    torch.set_num_threads(2)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.delenv("MKL_NUM_THREADS", raising=False)
    monkeypatch.setattr(threads, "cgroup_quota", lambda: 1.0)
    assert set_threads() == 1 == torch.get_num_threads()
    torch.set_num_threads(2)
    monkeypatch.setenv("OMP_NUM_THREADS", "2")  # the user chose: left alone
    assert set_threads() == 2
    assert set_threads(1) == 1  # --threads wins over everything


def test_threads_option_rejects_nonsense(tmp_path, capsys, saved_threads):
    from reportgen import cli

    with pytest.raises(SystemExit) as stopped:
        cli.main(["build", "--threads", "0", "--out", str(tmp_path / "site_src")])
    assert stopped.value.code == 2
    assert "argument --threads: '0': write a whole number of at least 1" in capsys.readouterr().err
    assert not (tmp_path / "site_src").exists()
