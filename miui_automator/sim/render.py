"""Screenshots of the simulated phone, drawn with Pillow from the same view tree the hierarchy
dump serialises.

Because pixels come from the nodes themselves, a text is always drawn inside its node's
bounds, a button where its bounds are and a switch in the colour of its ``checked`` flag — so a
test that checks the picture against the hierarchy checks something true. The look is
MIUI/HyperOS-like (light grey page, white rows, blue accents, bottom-sheet dialogs over a dim
layer) so a person reading a failure report recognises the screen.

Rendering is deterministic (no clocks, no randomness, no hash()): the same windows always give the
same pixels, which lets the vision code's "identical screenshot" check mean something.
"""

from __future__ import annotations

import io
import zlib
from dataclasses import dataclass, replace
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

from .fonts import Font, FontStack, ellipsize, line_height, stack, wrap
from .ui import Node

Box = tuple[int, int, int, int]
Color = tuple[int, int, int]

BG: Color = (247, 247, 247)
CARD: Color = (255, 255, 255)
INK: Color = (26, 26, 26)
INK_SOFT: Color = (77, 77, 77)
GREY: Color = (140, 140, 140)
DISABLED: Color = (190, 190, 190)
WHITE: Color = (255, 255, 255)
BLUE: Color = (52, 130, 255)
BLUE_DISABLED: Color = (170, 203, 255)
RED: Color = (232, 59, 48)
FIELD: Color = (240, 240, 240)
TRACK: Color = (226, 226, 226)
CHEVRON: Color = (191, 191, 191)

# Full-screen backgrounds by the style of the app window underneath everything.
_GRADIENTS: dict[str, tuple[Color, Color]] = {
    "keyguard": ((18, 24, 38), (44, 62, 88)),
    "launcher": ((44, 84, 140), (128, 92, 150)),
}
_DIM_LUT = [int(v * 0.6) for v in range(256)] * 3  # a 40 % black scrim, applied as one table lookup
_APP_COLORS: list[Color] = [(52, 130, 255), (255, 149, 0), (52, 199, 89), (175, 82, 222), (255, 69, 58), (0, 184, 212)]
_SUPERSAMPLE = 4


@dataclass(frozen=True)
class _Text:
    """How a style draws its text: px size, weight, colour, alignment; ``wrap`` styles break into
    lines and shrink down to ``min_size`` before ellipsising."""

    size: int
    weight: str = "Regular"
    color: Color = INK
    align: str = "left"
    wrap: bool = False
    min_size: int = 0


_TEXT = {
    "title": _Text(84, "Medium"),
    "big_title": _Text(96, "Medium", wrap=True, min_size=56),
    "row_title": _Text(46),
    "row_summary": _Text(36, color=GREY, wrap=True, min_size=30),
    "row_value": _Text(40, color=GREY, align="right"),
    "header": _Text(36, color=GREY),
    "dialog_title": _Text(54, "Medium", align="center"),
    "dialog_message": _Text(40, color=INK_SOFT, wrap=True, min_size=28),
    "error": _Text(38, color=RED, wrap=True, min_size=28),
    "text": _Text(42),
    "search": _Text(42, color=GREY),
    "edit": _Text(44),
    "button": _Text(46, "Medium", align="center"),
    "app_icon": _Text(34, color=WHITE, align="center"),
}


@dataclass(frozen=True)
class _Ctx:
    """What a node's look depends on besides the node: the window it is in, whether ink is light
    on a dark background, and the viewport of the enclosing scrolling list (rows cut by its edges
    keep only their visible part in the tree, so their text is drawn cut, not shrunk)."""

    window: str
    dark: bool
    clip: Box | None = None


def render(windows: list[Node], width: int, height: int, *, black: bool = False) -> Image.Image:
    """The RGB frame showing ``windows`` (status bar first, topmost last); all black when ``black``
    (the black-frame fault, or the screen is off) or when nothing is on screen."""
    if black or not windows:
        return Image.new("RGB", (width, height))
    base = next((w.style for w in windows if w.style not in ("statusbar", "dialog")), "window")
    painter = _Painter(_background(base, width, height), dark=base in _GRADIENTS)
    for win in windows:
        painter.window(win)
    return painter.image


def encode(image: Image.Image, fmt: str = "png", *, quality: int = 80, scale: float = 1.0) -> bytes:
    """PNG or JPEG bytes of ``image``, resized first when ``scale`` < 1 (as ``screencap``-based
    tools and uiautomator2's ``takeScreenshot(scale, quality)`` shrink frames)."""
    kind = fmt.lower()
    if kind not in ("png", "jpeg", "jpg"):
        raise ValueError(f"unsupported screenshot format: {fmt!r}")
    if 0 < scale < 1:
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        factor = int(1 / scale + 1e-9)
        if factor >= 2:  # integer box-average first: 5x cheaper than resampling the full frame
            image = image.reduce(factor)
        if image.size != size:
            image = image.resize(size, Image.Resampling.BILINEAR)
    buf = io.BytesIO()
    if kind == "png":
        image.save(buf, "PNG", compress_level=1)  # flat UI: level 1 is ~20 % larger than 6 but ~30 % faster
    else:
        rgb = image if image.mode == "RGB" else image.convert("RGB")
        rgb.save(buf, "JPEG", quality=max(1, min(100, quality)))
    return buf.getvalue()


def _background(style: str, width: int, height: int) -> Image.Image:
    """A fresh canvas painted with the page colour, or the wallpaper gradient of the launcher/keyguard."""
    colors = _GRADIENTS.get(style)
    if colors is None:
        return Image.new("RGB", (width, height), BG)
    return _gradient(colors, width, height).copy()


@lru_cache(maxsize=4)
def _gradient(colors: tuple[Color, Color], width: int, height: int) -> Image.Image:
    mask = Image.linear_gradient("L").resize((width, height), Image.Resampling.BILINEAR)
    return Image.composite(Image.new("RGB", (width, height), colors[1]), Image.new("RGB", (width, height), colors[0]), mask)


@lru_cache(maxsize=64)
def _corner(radius: int) -> Image.Image:
    """An anti-aliased top-left quarter disc (L mode), drawn supersampled and reduced."""
    big = Image.new("L", (radius * 2 * _SUPERSAMPLE, radius * 2 * _SUPERSAMPLE), 0)
    ImageDraw.Draw(big).ellipse((0, 0, big.width - 1, big.height - 1), fill=255)
    disc = big.resize((radius * 2, radius * 2), Image.Resampling.BOX)
    return disc.crop((0, 0, radius, radius))


@lru_cache(maxsize=256)
def _round_mask(width: int, height: int, radius: int) -> Image.Image:
    """Mask of a rounded rectangle: a solid block with anti-aliased corners pasted in."""
    mask = Image.new("L", (width, height), 255)
    radius = max(0, min(radius, width // 2, height // 2))
    if radius:
        corner = _corner(radius)
        mask.paste(corner, (0, 0))
        mask.paste(corner.transpose(Image.Transpose.FLIP_LEFT_RIGHT), (width - radius, 0))
        mask.paste(corner.transpose(Image.Transpose.FLIP_TOP_BOTTOM), (0, height - radius))
        mask.paste(corner.transpose(Image.Transpose.ROTATE_180), (width - radius, height - radius))
    return mask


@lru_cache(maxsize=4)
def _avatar(side: int) -> Image.Image:
    """The default avatar: a head-and-shoulders silhouette, drawn supersampled; the caller clips it round."""
    big = side * _SUPERSAMPLE
    image = Image.new("RGB", (big, big), (214, 230, 255))
    draw = ImageDraw.Draw(image)
    cx, head, neck = big // 2, big // 5, big * 62 // 100
    draw.ellipse((cx - head, big * 20 // 100, cx + head, big * 20 // 100 + 2 * head), fill=BLUE)
    draw.ellipse((cx - big * 36 // 100, neck, cx + big * 36 // 100, neck + big * 7 // 10), fill=BLUE)
    return image.resize((side, side), Image.Resampling.BOX)


def _color_for(label: str) -> Color:
    return _APP_COLORS[zlib.crc32(label.encode()) % len(_APP_COLORS)]


class _Painter:
    """Draws window roots onto one image, topmost last."""

    def __init__(self, image: Image.Image, dark: bool) -> None:
        self.image = image
        self.draw = ImageDraw.Draw(image)
        self.dark = dark

    # ------------------------------------------------------------------ windows
    def window(self, win: Node) -> None:
        if win.style == "dialog":
            self.image = self.image.point(_DIM_LUT)
            self.draw = ImageDraw.Draw(self.image)
            self.rounded(win.bounds, 60, CARD)
            ctx = _Ctx("dialog", dark=False)
        else:
            ctx = _Ctx(win.style, dark=self.dark)
        for child in win.children:
            self.node(child, ctx)

    def node(self, node: Node, ctx: _Ctx) -> None:
        left, top, right, bottom = node.bounds
        if right <= left or bottom <= top:
            return
        draw = getattr(self, "draw_" + node.style, None)
        if draw is not None:
            draw(node, ctx)
        elif node.text:  # text-only styles (title, row_title, header, ...) and unknown ones
            self.text(node.bounds, node.text, _TEXT.get(node.style, _TEXT["text"]), ctx, enabled=node.enabled)
        if node.style == "list":
            ctx = replace(ctx, clip=node.bounds)
        for child in node.children:
            self.node(child, ctx)

    # ------------------------------------------------------------------ primitives
    def rounded(self, box: Box, radius: int, fill: Color) -> None:
        left, top, right, bottom = box
        if right > left and bottom > top:
            self.image.paste(fill, box, _round_mask(right - left, bottom - top, radius))

    def chevron(self, cx: int, cy: int, half: int, color: Color, width: int, pointing: str = "right") -> None:
        dx = half // 2 if pointing == "right" else -(half // 2)
        self.draw.line([(cx - dx, cy - half), (cx + dx, cy), (cx - dx, cy + half)], fill=color, width=width, joint="curve")

    def text(self, box: Box, value: str, spec: _Text, ctx: _Ctx, *, color: Color | None = None, align: str | None = None,
             pad: int = 0, enabled: bool = True) -> int:
        """Draw ``value`` clipped to ``box``; returns the x just after the last line's ink (for carets)."""
        left, top, right, bottom = box
        width, height = right - left - 2 * pad, bottom - top
        if not value or width <= 0 or height <= 0:
            return left + pad
        face, lines = self._layout(value, spec, width, height)
        step = line_height(face)
        total = step * len(lines)
        if total <= height:
            y0 = (height - total) // 2
        elif ctx.clip is not None and top <= ctx.clip[1]:
            y0 = height - total  # cut by the list's top edge: the visible part is the bottom
        else:
            y0 = 0
        align = align or spec.align
        widths = [int(face.getlength(line)) + 1 for line in lines]
        widest = max(widths)
        anchor_x = {"left": pad, "center": (right - left) // 2, "right": right - left - pad}[align]
        start = {"left": anchor_x, "center": anchor_x - widest // 2, "right": anchor_x - widest}[align]
        # Only the strip the lines cover is masked and blended: most of a row's box is empty.
        x0, x1 = max(0, start - 6), min(right - left, start + widest + 6)
        y0_mask, y1_mask = max(0, y0 - 6), min(height, y0 + total + 6)
        if x1 <= x0 or y1_mask <= y0_mask:
            return left + pad
        mask = Image.new("L", (x1 - x0, y1_mask - y0_mask))
        draw = ImageDraw.Draw(mask)
        for i, line in enumerate(lines):
            _draw_line(draw, face, anchor_x - x0, y0 - y0_mask + i * step + step // 2, line, align)
        ink = color or (spec.color if enabled else DISABLED)
        if ctx.dark and ink == INK:
            ink = WHITE
        self.image.paste(ink, (left + x0, top + y0_mask, left + x1, top + y1_mask), mask)
        last_start = {"left": anchor_x, "center": anchor_x - widths[-1] // 2, "right": anchor_x - widths[-1]}[align]
        return left + last_start + widths[-1]

    @staticmethod
    def _layout(value: str, spec: _Text, width: int, height: int) -> tuple[FontStack, list[str]]:
        if not spec.wrap:
            face = stack(spec.size, spec.weight)
            return face, [ellipsize(value.replace("\n", " "), face, width)]
        size = spec.size
        while True:
            face = stack(size, spec.weight)
            lines, fitted = wrap(value, face, width, max(1, height // line_height(face)))
            if fitted or size - 2 < spec.min_size:
                return face, lines
            size -= 2

    # ------------------------------------------------------------------ styles with a look of their own
    def draw_row(self, node: Node, ctx: _Ctx) -> None:
        self.image.paste(CARD, node.bounds)
        has_switch = any(c.style == "switch" for c in node.children)
        if node.clickable and not has_switch:
            left, top, right, bottom = node.bounds
            self.chevron(right - 78, (top + bottom) // 2, 14, CHEVRON if node.enabled else TRACK, 5)

    def draw_profile(self, node: Node, ctx: _Ctx) -> None:
        self.image.paste(CARD, node.bounds)

    def draw_back(self, node: Node, ctx: _Ctx) -> None:
        cx, cy = node.center
        self.chevron(cx, cy, 26, WHITE if ctx.dark else INK, 7, pointing="left")

    def draw_search(self, node: Node, ctx: _Ctx) -> None:
        left, top, right, bottom = node.bounds
        height = bottom - top
        self.rounded(node.bounds, height // 2, (233, 233, 233))
        cx, cy, r = left + 62, (top + bottom) // 2 - 4, 16
        self.draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=GREY, width=5)
        self.draw.line([(cx + 11, cy + 11), (cx + 24, cy + 24)], fill=GREY, width=6)
        self.text((left + 100, top, right, bottom), node.text, _TEXT["search"], replace(ctx, dark=False), pad=8)

    def draw_switch(self, node: Node, ctx: _Ctx) -> None:
        left, top, right, bottom = node.bounds
        ph = min(bottom - top, 80)
        pw = min(right - left, int(ph * 1.8))
        x0, y0 = right - pw, (top + bottom - ph) // 2
        on = BLUE if node.enabled else BLUE_DISABLED
        self.rounded((x0, y0, x0 + pw, y0 + ph), ph // 2, on if node.checked else TRACK)
        d = ph - 14
        tx = x0 + pw - 7 - d if node.checked else x0 + 7
        self.rounded((tx, y0 + 7, tx + d, y0 + 7 + d), d // 2, WHITE)

    def _button(self, node: Node, ctx: _Ctx, fill: Color, ink: Color) -> None:
        left, top, right, bottom = node.bounds
        self.rounded(node.bounds, min((bottom - top) // 2, 44), fill)
        self.text(node.bounds, node.text, _TEXT["button"], replace(ctx, dark=False), color=ink, pad=24)

    def draw_button(self, node: Node, ctx: _Ctx) -> None:
        ink = BLUE if node.selected else (INK if node.enabled else DISABLED)
        self._button(node, ctx, FIELD, ink)

    def draw_button_primary(self, node: Node, ctx: _Ctx) -> None:
        self._button(node, ctx, BLUE if node.enabled else BLUE_DISABLED, WHITE)

    def draw_button_danger(self, node: Node, ctx: _Ctx) -> None:
        self._button(node, ctx, FIELD, RED if node.enabled else DISABLED)

    def draw_edit(self, node: Node, ctx: _Ctx) -> None:
        self.rounded(node.bounds, 28, FIELD)
        showing_hint = not node.text or (node.text == node.hint and not node.password)
        if showing_hint:
            self.text(node.bounds, node.hint or node.text, _TEXT["edit"], ctx, color=GREY, pad=44)
            end = node.bounds[0] + 30  # the caret sits before the hint
        else:
            value = "\u2022" * len(node.text) if node.password else node.text
            end = self.text(node.bounds, value, _TEXT["edit"], replace(ctx, dark=False), pad=44)
        if node.focused:
            left, top, right, bottom = node.bounds
            cy = (top + bottom) // 2
            x = min(end + 4, right - 40)
            self.draw.rectangle((x, cy - 30, x + 3, cy + 30), fill=BLUE)

    def draw_webview(self, node: Node, ctx: _Ctx) -> None:
        self.image.paste(CARD, node.bounds)  # a web page is white edge to edge; its nodes draw on it

    def draw_urlbar(self, node: Node, ctx: _Ctx) -> None:
        """The browser's address pill: a padlock before the address, or the grey hint when empty."""
        left, top, right, bottom = node.bounds
        self.rounded(node.bounds, (bottom - top) // 2, FIELD)
        if not node.text:
            self.text((left + 40, top, right - 30, bottom), node.hint, _TEXT["search"], replace(ctx, dark=False))
            return
        cx, cy = left + 60, (top + bottom) // 2
        self.draw.arc((cx - 13, cy - 30, cx + 13, cy - 4), 180, 360, fill=INK_SOFT, width=5)
        self.draw.line([(cx - 13, cy - 17), (cx - 13, cy - 6)], fill=INK_SOFT, width=5)
        self.draw.line([(cx + 13, cy - 17), (cx + 13, cy - 6)], fill=INK_SOFT, width=5)
        self.rounded((cx - 20, cy - 8, cx + 21, cy + 24), 6, INK_SOFT)
        self.text((left + 100, top, right - 30, bottom), node.text, _Text(40, color=INK_SOFT), replace(ctx, dark=False))

    def draw_checkbox(self, node: Node, ctx: _Ctx) -> None:
        """A square box (blue with a tick when checked) and its label to the right, as web forms draw one."""
        left, top, right, bottom = node.bounds
        side = 64
        y0 = (top + bottom - side) // 2
        if node.checked:
            self.rounded((left, y0, left + side, y0 + side), 14, BLUE if node.enabled else BLUE_DISABLED)
            self.draw.line([(left + 14, y0 + 33), (left + 28, y0 + 47), (left + 51, y0 + 19)], fill=WHITE, width=8,
                           joint="curve")
        else:
            self.rounded((left, y0, left + side, y0 + side), 14, CHEVRON)
            self.rounded((left + 5, y0 + 5, left + side - 5, y0 + side - 5), 10, WHITE)
        self.text((left + side + 30, top, right, bottom), node.text, _Text(40, wrap=True, min_size=28), ctx,
                  enabled=node.enabled)

    def draw_progress(self, node: Node, ctx: _Ctx) -> None:
        left, top, right, bottom = node.bounds
        width, height = right - left, bottom - top
        if width > 2 * height:  # a determinate bar
            self.rounded(node.bounds, height // 2, TRACK)
            self.rounded((left, top, left + max(height, int(width * 0.4)), bottom), height // 2, BLUE)
            return
        inset = 10
        box = (left + inset, top + inset, right - inset, bottom - inset)
        stroke = max(4, min(width, height) // 10)
        self.draw.ellipse(box, outline=TRACK, width=stroke)
        self.draw.arc(box, -90, 150, fill=BLUE, width=stroke)

    def draw_icon(self, node: Node, ctx: _Ctx) -> None:
        left, top, right, bottom = node.bounds
        ink = WHITE if ctx.dark else INK
        if ctx.window != "statusbar" or not node.desc.lower().startswith("battery"):
            r = min(right - left, bottom - top) // 2
            cx, cy = node.center
            self.rounded((cx - r, cy - r, cx + r, cy + r), r, GREY)
            return
        level = next((int(tok) for tok in node.desc.split() if tok.isdigit()), 100)
        cy = (top + bottom) // 2
        bx1 = right - 8
        bx0 = bx1 - 64
        self.draw.rounded_rectangle((bx0, cy - 17, bx1, cy + 17), radius=9, outline=ink, width=3)
        self.draw.rectangle((bx1 + 2, cy - 7, bx1 + 7, cy + 7), fill=ink)
        fill_w = max(2, (bx1 - bx0 - 12) * max(0, min(level, 100)) // 100)
        self.draw.rectangle((bx0 + 6, cy - 11, bx0 + 6 + fill_w, cy + 11), fill=RED if level <= 15 else ink)
        self.text((left, top, bx0 - 10, bottom), str(level), _Text(32, "Medium"), ctx, align="right")

    def draw_app_icon(self, node: Node, ctx: _Ctx) -> None:
        left, top, right, bottom = node.bounds
        label = node.text or node.desc
        side = min(right - left, bottom - top - 70) - 30
        x0, y0 = (left + right - side) // 2, top + 10
        self.rounded((x0, y0, x0 + side, y0 + side), int(side * 0.28), _color_for(label))
        glyph = _Text(int(side * 0.5), "Bold", color=WHITE, align="center")
        self.text((x0, y0, x0 + side, y0 + side), label[:1].upper(), glyph, ctx, color=WHITE)
        self.text((left - 20, y0 + side + 8, right + 20, bottom), label, _TEXT["app_icon"], ctx)

    def draw_avatar(self, node: Node, ctx: _Ctx) -> None:
        left, top, right, bottom = node.bounds
        side = min(right - left, bottom - top)
        self.image.paste(_avatar(side), (left, top), _round_mask(side, side, side // 2))

    def draw_big_title(self, node: Node, ctx: _Ctx) -> None:
        if ctx.window == "keyguard":
            height = node.bounds[3] - node.bounds[1]
            self.text(node.bounds, node.text, _Text(int(height * 0.75), "Light", align="center"), ctx)
        else:
            self.text(node.bounds, node.text, _TEXT["big_title"], ctx, enabled=node.enabled)

    def draw_text(self, node: Node, ctx: _Ctx) -> None:
        spec = _TEXT["text"]
        if ctx.window == "statusbar":
            spec = _Text(40, "Medium")
        elif ctx.window == "keyguard":
            spec = _Text(42, align="center")
        self.text(node.bounds, node.text, spec, ctx, enabled=node.enabled)

    def draw_dialog_message(self, node: Node, ctx: _Ctx) -> None:
        align = "center" if ctx.window == "dialog" else "left"  # a dialog centres its message; a page reads left
        self.text(node.bounds, node.text, _TEXT["dialog_message"], ctx, align=align)


def _draw_line(draw: ImageDraw.ImageDraw, face: "Font | FontStack", x: int, middle: int, line: str, align: str) -> None:
    """One line of white-on-black mask text centred on ``middle``: the baseline sits 0.36 em below it,
    which centres both CJK ideographs and Latin capitals (the font's own ascent/descent would not).
    A font stack draws run after run, each with its own face, from the line's left edge."""
    if isinstance(face, FontStack):
        runs = face.runs(line)
        if len(runs) == 1:
            face = runs[0][0]
        else:
            width = face.getlength(line)
            left = {"left": x, "center": x - width / 2, "right": x - width}[align]
            for run_face, run in runs:
                _draw_line(draw, run_face, int(left), middle, run, "left")
                left += run_face.getlength(run)
            return
    if isinstance(face, ImageFont.FreeTypeFont):
        anchor = {"left": "ls", "center": "ms", "right": "rs"}[align]
        draw.text((x, middle + int(face.size * 0.36)), line, font=face, fill=255, anchor=anchor)
        return
    width = int(face.getlength(line))  # bitmap fonts only know top-left anchoring
    x = {"left": x, "center": x - width // 2, "right": x - width}[align]
    draw.text((x, middle - line_height(face) // 2), line, font=face, fill=255)
