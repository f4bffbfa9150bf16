"""The device side as the tool sees it: UI hierarchy dumps parsed into node trees, device
properties and dumpsys output parsed into a :class:`~miui_automator.device.info.DeviceInfo`,
and the driver that talks to a phone over adbutils and uiautomator2.

The parsing modules are pure (text in, frozen objects out) so they are tested without a phone
and reused unchanged by the real driver and by tests against the simulator.
"""
