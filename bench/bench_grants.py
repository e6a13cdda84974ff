"""Section (e) of ``make bench``: the money road (issue 16, acceptance 6).

- ``receipt_photo_s``: checking a 12-megapixel phone photo of a receipt through the upload
  pipeline (decoded in draft mode at half size, turned upright, re-encoded without EXIF), the
  median of five runs on one core. Target: < 1 s. (The vote's throughput while receipts are
  uploaded is section (a)'s ``vote_ratio_under_upload``: the same pipeline and the same slots.)
"""

from __future__ import annotations

import io
import statistics
import time
from typing import Any

from harness import table
from PIL import Image

from deltager import uploads

TARGET_RECEIPT_S = 1.0


def phone_receipt_photo() -> bytes:
    """4,000 × 3,000 px with sensor-like noise (so the JPEG weighs what a phone's does, ~7 MB)."""
    noise = Image.effect_noise((4000, 3000), 40)
    gradient = Image.linear_gradient("L").resize((4000, 3000))
    out = io.BytesIO()
    Image.merge("RGB", [noise, gradient, noise]).save(out, format="JPEG", quality=92)
    return out.getvalue()


def receipt_photo() -> dict[str, Any]:
    data = phone_receipt_photo()
    times = []
    for _ in range(5):
        started = time.perf_counter()
        checked = uploads.check_file(uploads.RECEIPT, "IMG_2041.JPG", data)
        times.append(time.perf_counter() - started)
    stored = Image.open(io.BytesIO(checked.content))
    return {"receipt_photo_s": statistics.median(times), "bytes_in": len(data), "bytes_out": len(checked.content),
            "stored_size": stored.size}


def grants_section() -> tuple[str, dict[str, Any]]:
    """The section's table and its BENCH figures."""
    print("-- money road: a phone's receipt photo …", flush=True)
    photo = receipt_photo()
    seconds = photo["receipt_photo_s"]
    rows: list[tuple[str, object]] = [
        ("receipt photo, 12 MP JPEG", f"{seconds:.3f} s  (median of 5; target < {TARGET_RECEIPT_S:.0f} s: "
                                      f"{'ok' if seconds < TARGET_RECEIPT_S else 'MISSED'})"),
        ("  in / stored", f"{photo['bytes_in'] / 1e6:.1f} MB → {photo['bytes_out'] / 1e6:.2f} MB, "
                          f"{photo['stored_size'][0]} × {photo['stored_size'][1]} px"),
    ]
    return table("(e) the money road", rows), {"receipt_photo_s": seconds}
