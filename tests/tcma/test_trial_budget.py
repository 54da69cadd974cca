"""The template trial's time budget: an alarm lost where Python can only report it is raised again."""

from __future__ import annotations

import gc
import sys
import time
import types

import pytest

from tcma.services.catalogue.templates import TrialTimeout, _time_budget


def test_a_trial_past_its_budget_is_stopped():
    began = time.monotonic()
    with pytest.raises(TrialTimeout), _time_budget(0.2):
        while True:
            pass
    assert time.monotonic() - began < 2


def test_an_alarm_lost_in_a_callback_is_raised_again_and_not_reported():
    reported = []
    outer, sys.unraisablehook = sys.unraisablehook, reported.append
    try:
        began = time.monotonic()
        with pytest.raises(TrialTimeout), _time_budget(30):
            # What Python does when the alarm lands in a weakref callback: it reports it and goes on.
            sys.unraisablehook(types.SimpleNamespace(exc_value=TrialTimeout(), exc_type=TrialTimeout))
            while time.monotonic() - began < 5:
                pass
        assert time.monotonic() - began < 1  # raised again within a moment, not at the 30 s budget
        assert reported == []
        # Anything else lost meanwhile is still reported; the hook and the collector are restored.
        with _time_budget(30):
            assert not gc.isenabled()
            sys.unraisablehook(types.SimpleNamespace(exc_value=ValueError("x"), exc_type=ValueError))
        assert [type(r.exc_value) for r in reported] == [ValueError]
        assert sys.unraisablehook == reported.append and gc.isenabled()
    finally:
        sys.unraisablehook = outer


def test_nothing_is_raised_after_the_budget_ends():
    with _time_budget(0.05):
        pass
    time.sleep(0.2)  # no tick is left to land here
