"""The typed account confirmation a deletion request needs: the full id must be typed (or given with
--confirm-account) and must be the account the run acts on; the prompt shows it masked only."""

from __future__ import annotations

import pytest

from miui_automator.account.confirmation import confirm_account, matches, phone_account
from miui_automator.errors import UsageError

ACCOUNT = "1234567890"
DUMPSYS = """Accounts: 3
    Account {name=owner1@gmail.com, type=com.google}
    Account {name=1234567890, type=com.xiaomi}
    Account {name=+8613800000000, type=com.whatsapp}
"""


def asking(answer: str, prompts: list[str]):
    def ask(prompt: str) -> str:
        prompts.append(prompt)
        return answer
    return ask


def test_phone_account_is_the_xiaomi_one() -> None:
    assert phone_account(DUMPSYS) == ACCOUNT
    assert phone_account("Accounts: 1\n    Account {name=owner1@gmail.com, type=com.google}\n") is None


@pytest.mark.parametrize("typed, ok", [
    ("1234567890", True), ("  1234567890\n", True), ("12******90", False), ("1234567891", False), ("", False),
    ("123456789", False),
])
def test_the_full_id_must_be_typed(typed: str, ok: bool) -> None:
    assert matches(typed, ACCOUNT) is ok


def test_typed_id_confirms_and_the_prompt_shows_it_masked() -> None:
    prompts: list[str] = []
    assert confirm_account(ACCOUNT, given=None, ask=asking(ACCOUNT + " ", prompts)) == ACCOUNT
    assert len(prompts) == 1 and "12******90" in prompts[0] and ACCOUNT not in prompts[0]


def test_typing_the_masked_form_or_another_id_refuses() -> None:
    for answer in ("12******90", "1234567891"):
        with pytest.raises(UsageError, match=r"the account id typed is not 12\*\*\*\*\*\*90; nothing was done"):
            confirm_account(ACCOUNT, given=None, ask=asking(answer, []))


def test_confirm_account_option_must_name_the_same_account() -> None:
    prompts: list[str] = []
    assert confirm_account(ACCOUNT, given=ACCOUNT, ask=asking("unused", prompts)) == ACCOUNT
    assert prompts == []  # --confirm-account answers the question: nothing is asked
    with pytest.raises(UsageError, match=r"--confirm-account 98\*\*\*\*\*\*10 is not the account .*12\*\*\*\*\*\*90"):
        confirm_account(ACCOUNT, given="9876543210", ask=None)


def test_unattended_run_without_confirmation_is_refused() -> None:
    with pytest.raises(UsageError, match="--confirm-account ID"):
        confirm_account(ACCOUNT, given=None, ask=None)
    with pytest.raises(UsageError, match="--confirm-account ID"):
        confirm_account(ACCOUNT, given="  ", ask=None)


def test_without_a_known_account_only_an_explicit_one_is_taken() -> None:
    assert confirm_account(None, given=" 5555555555 ", ask=None) == "5555555555"
    with pytest.raises(UsageError, match="--param account=ID"):
        confirm_account(None, given=None, ask=asking(ACCOUNT, []))
