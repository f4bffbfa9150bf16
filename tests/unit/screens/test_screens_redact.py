"""What is saved for a screen is redacted like reports: ids, numbers and e-mails masked, nothing
typed into a field survives in the dump or the screenshot."""

from __future__ import annotations

from PIL import Image

from miui_automator.screens.redact import redact_hierarchy, redact_screenshot, redact_text
from screens_helpers import APPIUM_RENAME_PHONE, consent_xml


def test_texts_mask_account_ids_phone_numbers_and_email_but_keep_times_and_dates() -> None:
    assert redact_text("Plan number: +44 7700 900123") == "Plan number: +4***********23"
    assert redact_text("Xiaomi ID 1234567890") == "Xiaomi ID 12******90"
    assert redact_text("mail owner@example.com") == "mail ow*er@example.com"  # as mask_account does in reports
    assert redact_text("Requested at 10:24 on 2024-05-01, 5 GB") == "Requested at 10:24 on 2024-05-01, 5 GB"
    assert redact_text("my s3cret here", secrets=["s3cret"]) == "***"


def test_hierarchy_drops_what_was_typed_and_boxes_it() -> None:
    xml = APPIUM_RENAME_PHONE.read_text(encoding="utf-8")
    xml = xml.replace('text="小风的MI 8 SE"', 'text="hunter2-typed" password="true"', 1).replace(
        'password="true" resource-id="com.android.settings:id/device_name" checkable="false" checked="false" '
        'clickable="true" enabled="true" focusable="true" focused="true" long-clickable="true" password="false"',
        'resource-id="com.android.settings:id/device_name" checkable="false" checked="false" '
        'clickable="true" enabled="true" focusable="true" focused="true" long-clickable="true" password="true"')
    out, boxes = redact_hierarchy("java.io.FileNotFoundException: junk\n" + xml)
    assert "hunter2-typed" not in out and "FileNotFoundException" not in out
    assert 'hint="Enter name"' in out
    assert (30, 440, 1050, 602) in boxes


def test_consent_page_dump_and_screenshot_are_masked() -> None:
    out, boxes = redact_hierarchy(consent_xml())
    assert "7700 900123" not in out and "Your carrier needs your consent" in out
    assert boxes
    image = Image.new("RGB", (1080, 2400), (255, 255, 255))
    masked = redact_screenshot(image, boxes)
    left, top, right, bottom = boxes[0]
    assert masked.getpixel(((left + right) // 2, (top + bottom) // 2)) == (0, 0, 0)
    assert masked.getpixel((5, 5)) == (255, 255, 255)
