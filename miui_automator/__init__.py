"""miui-automator: scripted, screenshot-verified UI flows for Xiaomi phones over ADB."""

__version__ = "0.1.0"
