"""seekwise.core.strenum.StrEnum: a member stands wherever its word stood."""

from __future__ import annotations

import json

from seekwise.core.service import ServiceState, ServiceStatus
from seekwise.core.store import FileStatus


def test_a_member_prints_compares_and_hashes_as_its_word():
    member = FileStatus.SKIPPED
    assert member == "skipped" and str(member) == "skipped" and f"[{member}]" == "[skipped]"
    assert f"{member:>8}" == " skipped" and json.dumps({"status": member}) == '{"status": "skipped"}'
    assert {"skipped": 3}.get(member) == 3


def test_a_service_state_given_a_word_holds_its_member():
    assert ServiceState(state="paused").state is ServiceStatus.PAUSED
    assert ServiceState().state is ServiceStatus.STARTING
