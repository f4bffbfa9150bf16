"""Two screens, home and about, as a catalogue and the hierarchies showing them: the world of the
engine tests that fake a phone without sockets."""

from __future__ import annotations

CATALOGUE = """
version: 1
screens:
  home:
    package: com.example.home
    signatures:
      - package: com.example.home
  about:
    package: com.example.about
    signatures:
      - package: com.example.about
"""


def page(package: str, button: str) -> str:
    """A full-screen page of ``package`` holding one button labelled ``button``."""
    return ("<?xml version='1.0' encoding='UTF-8' standalone='yes' ?><hierarchy rotation=\"0\">"
            f'<node index="0" text="" resource-id="" class="android.widget.FrameLayout" package="{package}"'
            ' content-desc="" clickable="false" bounds="[0,0][1080,2400]">'
            f'<node index="0" text="{button}" resource-id="" class="android.widget.Button" package="{package}"'
            ' content-desc="" clickable="true" bounds="[64,800][1016,900]" /></node></hierarchy>')
