"""Secrets are withdrawn from the environment so no child process can inherit them."""

from __future__ import annotations

import subprocess
import sys

import pytest

from miui_automator import secret_env


@pytest.fixture(autouse=True)
def _clean():
    secret_env.forget()
    yield
    secret_env.forget()


def test_withdraw_moves_secret_looking_and_named_variables_out():
    env = {"MIUI_ACCOUNT_PASSWORD": "canary-1", "LAB_PW": "canary-2", "PATH": "/bin", "HOME": "/root"}
    secret_env.withdraw(["LAB_PW"], environ=env)
    assert env == {"PATH": "/bin", "HOME": "/root"}


def test_read_returns_a_withdrawn_value_and_withdraws_on_first_read(monkeypatch):
    monkeypatch.setenv("PHONE_PW", "canary-3")
    assert secret_env.read("PHONE_PW") == "canary-3"
    import os
    assert "PHONE_PW" not in os.environ
    assert secret_env.read("PHONE_PW") == "canary-3"
    assert secret_env.read("NOT_SET_ANYWHERE") is None


def test_a_child_spawned_after_withdrawal_does_not_inherit_the_secret(monkeypatch):
    monkeypatch.setenv("MIUI_ACCOUNT_PASSWORD", "canary-4")
    secret_env.withdraw()
    out = subprocess.run([sys.executable, "-c", "import os; print(sorted(os.environ.items()))"],
                         capture_output=True, text=True, check=True).stdout
    assert "canary-4" not in out
    assert secret_env.read("MIUI_ACCOUNT_PASSWORD") == "canary-4"


def test_scrubbed_environ_drops_withdrawn_and_secret_looking_names():
    secret_env.withdraw(["X_PW"], environ={"X_PW": "canary-5"})
    env = secret_env.scrubbed_environ({"X_PW": "again", "API_TOKEN": "t", "PATH": "/bin"}, ADB_LIBUSB="0")
    assert env == {"PATH": "/bin", "ADB_LIBUSB": "0"}
