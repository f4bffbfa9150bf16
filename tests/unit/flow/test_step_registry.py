"""Every step kind is declared once, by its model class, and has a parser builder and an engine handler."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import pytest

from miui_automator.flow import model
from miui_automator.flow.engine import HANDLERS
from miui_automator.flow.step_grammar import BUILDERS
from miui_automator.flow.step_registry import KindTable


def test_every_step_kind_has_a_builder_and_a_handler() -> None:
    assert BUILDERS.missing() == ()
    assert HANDLERS.missing() == ()
    assert set(BUILDERS) == set(HANDLERS) == set(model.STEP_CLASSES)


@pytest.mark.parametrize("kind, cls", model.STEP_CLASSES.items())
def test_every_step_class_declares_its_kind_timeout_and_whether_it_acts(kind: str, cls: type) -> None:
    assert cls.kind == kind
    assert 0 < cls.default_timeout <= model.MAX_TIMEOUT
    assert isinstance(cls.acts, bool)
    assert model.DEFAULT_TIMEOUTS[kind] == cls.default_timeout
    assert (kind in model.ACTION_KINDS) == cls.acts


def test_the_tables_derived_from_the_classes() -> None:
    assert model.ACTION_KINDS == {"open", "tap", "type", "press", "scroll-to"}
    assert model.STEP_KINDS[0] == "open" and len(model.STEP_KINDS) == len(set(model.STEP_KINDS)) == 15
    assert model.WhenStep.extra_keys == ("then", "else")


@dataclass(frozen=True, slots=True, kw_only=True)
class BeepStep(model.StepBase):
    kind: ClassVar[str] = "beep"
    default_timeout: ClassVar[float] = 1.0

    def _what(self) -> str:
        return "beep"


def test_a_kind_without_a_function_is_refused() -> None:
    table: KindTable = KindTable("handler", {**model.STEP_CLASSES, "beep": BeepStep})
    for kind in model.STEP_CLASSES:
        table.register(kind)(lambda *a: None)
    assert table.missing() == ("beep",)
    with pytest.raises(TypeError, match="step kinds without a handler: beep"):
        table.require_complete()
    table.register("beep")(lambda *a: None)
    table.require_complete()


def test_a_function_for_an_unknown_or_taken_kind_is_refused() -> None:
    table: KindTable = KindTable("builder")
    with pytest.raises(TypeError, match="builder for unknown step kind 'bep'"):
        table.register("bep")
    table.register("tap")(lambda *a: None)
    with pytest.raises(TypeError, match="two builders for step kind 'tap'"):
        table.register("tap")(lambda *a: None)


def test_a_step_class_needs_a_kind_and_a_timeout() -> None:
    @dataclass(frozen=True, slots=True, kw_only=True)
    class Untimed(model.StepBase):
        kind: ClassVar[str] = "untimed"

    with pytest.raises(TypeError, match="Untimed"):
        model._by_kind(model.TapStep, Untimed)
    with pytest.raises(TypeError, match="TapStep"):
        model._by_kind(model.TapStep, model.TapStep)
