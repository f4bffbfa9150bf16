"""mask_text: the one masking function for every text the tool writes (account ids, e-mails, phone numbers)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from miui_automator.device.info import mask_account as info_mask_account
from miui_automator.privacy import mask_account, mask_text


@pytest.mark.parametrize("raw, masked", [
    ("Account {name=1234567890, type=com.xiaomi}", "Account {name=12******90, type=com.xiaomi}"),
    ("Account {name=John Smith, type=com.whatsapp}", "Account {name=Jo******th, type=com.whatsapp}"),
    ("texts: Xiaomi account, 1234567890, Sign out", "texts: Xiaomi account, 12******90, Sign out"),
    ("signed in as owner0@gmail.com.", "signed in as ow**r0@gmail.com."),
    ("Mi account 1234567890@xiaomi.com", "Mi account 12******90@xiaomi.com"),
    ("call +86 138 0013 8000 now", "call +86 *** **** **00 now"),
    ("+8613800138000", "+86*********00"),
    ("phone 138-0013-8000", "phone 13*-****-**00"),
])
def test_ids_emails_and_phone_numbers_are_masked(raw: str, masked: str) -> None:
    assert mask_text(raw) == masked


@pytest.mark.parametrize("text", [
    "MIUI V14.0.23.0.TMCMIXM", "bounds [0,0][1080,2400]", "127.0.0.1:43817", "emulator-5554", "tap at 540,1200 failed",
    "uid 10093", "123456", "build 1234567.89", "Binder.java:1187", "", "OS1.0.5.0.UMCMIXM", "Proxy@5deffd5already",
])
def test_versions_coordinates_ports_and_short_numbers_are_left_alone(text: str) -> None:
    assert mask_text(text) == text


@given(st.text(alphabet=st.sampled_from("0123456789 +-.@abc*{}=,Account name type"), max_size=60))
def test_masking_is_idempotent_and_keeps_the_length(text: str) -> None:
    once = mask_text(text)
    assert mask_text(once) == once
    assert len(once) == len(text)


def test_one_function_behind_both_names() -> None:
    assert info_mask_account is mask_account
    assert mask_account("1234567890") == "12******90"
    assert mask_account("12******90") == "12******90"


def test_time_stamped_folder_names_stay_readable() -> None:
    note = "20 files, 5.0 MB to back up into /backups/2265b1f5/20261202-040955 for account 1234567890"
    assert mask_text(note) == "20 files, 5.0 MB to back up into /backups/2265b1f5/20261202-040955 for account 12******90"
