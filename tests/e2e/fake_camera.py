"""A fake camera for chromium: a Y4M video of a printed badge held in front of the lens.

Chromium plays the file in a loop as the camera (--use-file-for-fake-video-capture).
Y4M is a text header, then per frame "FRAME\\n" and the raw Y, Cb and Cr planes
(4:2:0: chroma at half width and height), simple enough to write by hand.
"""

from __future__ import annotations

from pathlib import Path

import qrcode
from PIL import Image

WIDTH, HEIGHT = 640, 480
FRAMES = 4


def badge_frame(code: str) -> Image.Image:
    """A grey desk with a white badge on it, the QR large enough for jsQR at 640 px."""
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=6, border=4)
    qr.add_data(code)
    qr.make(fit=True)
    badge = qr.make_image(fill_color="black", back_color="white").get_image().convert("RGB")
    side = min(HEIGHT - 40, badge.width)
    badge = badge.resize((side, side), Image.NEAREST)
    frame = Image.new("RGB", (WIDTH, HEIGHT), (120, 124, 128))
    frame.paste(badge, ((WIDTH - side) // 2, (HEIGHT - side) // 2))
    return frame


def write_y4m(path: Path, code: str) -> Path:
    y, cb, cr = badge_frame(code).convert("YCbCr").split()
    half = (WIDTH // 2, HEIGHT // 2)
    planes = y.tobytes() + cb.resize(half).tobytes() + cr.resize(half).tobytes()
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F10:1 Ip A1:1 C420jpeg\n".encode())
        out.writelines(b"FRAME\n" + planes for _ in range(FRAMES))
    return path
