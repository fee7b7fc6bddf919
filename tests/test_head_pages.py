"""Head pages state only the family-wise corrected verdict of the heads file, never an uncorrected one."""
from reportgen.render.head_pages import _beats


def coref(ranking, judged=True):
    return {"ranking": ranking, "judged": judged, "baselines": {"nearest": 0.5, "first": 0.4, "random": 0.3},
            "correction": {"text": "Holm over 2 heads."}}


def test_the_verdict_is_the_corrected_one():
    c = coref([{"layer": 0, "head": 0, "accuracy_ci": [0.9, 0.95], "p_adjusted": 0.01, "beats": True},
               {"layer": 0, "head": 1, "accuracy_ci": [0.9, 0.95], "p_adjusted": 0.2, "beats": False}])
    assert _beats(c, 0, 0) == (True, "beats the strongest baseline (adjusted p = 0.01, corrected over all 2 heads)"
                                     ". Holm over 2 heads")
    ok, text = _beats(c, 0, 1)
    assert ok is False and text.startswith("does not beat the strongest baseline (adjusted p = 0.2")


def test_no_p_value_means_no_verdict_even_when_the_interval_clears_every_baseline():
    # before, an interval above the strongest baseline was read as "beats": an uncorrected claim
    entry = {"layer": 0, "head": 0, "accuracy_ci": [0.9, 0.95]}
    assert _beats(coref([entry]), 0, 0) == (None, "has no verdict")
    assert _beats(coref([entry], judged=False), 0, 0) == (None, "has no verdict: too few pairs to judge")
