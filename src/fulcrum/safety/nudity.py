"""Rule 8: on-device nudity blur for minors — a client-side hook.

Runs on the minor's device, on the decrypted image, after receipt and before display. **No result
leaves the device**: nothing here is sent, logged or stored, ``BlurDecision`` has no serialisation,
and the server never learns that a detector ran, what it scored, or whether the minor revealed the
image. The platform only ships the interface and a deliberately simple reference detector; a real
deployment plugs in an on-device classifier behind the same ``NudityDetector`` protocol.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

RgbImage = npt.NDArray[np.uint8]  # H x W x 3, RGB


class NudityDetector(Protocol):
    def score(self, image: RgbImage) -> float | None:
        """Likelihood in [0, 1] that ``image`` shows nudity, or None when it cannot tell."""
        ...


class NoDetector:
    """Reference "none" detector: never has an opinion, so nothing is blurred."""

    def score(self, image: RgbImage) -> float | None:
        return None


class SkinToneDetector:
    """Reference heuristic: the share of pixels in a classic YCbCr skin-tone range
    (Cb 77..127, Cr 133..173). Crude — beaches and faces score high — it only exercises the hook."""

    def score(self, image: RgbImage) -> float | None:
        if image.ndim != 3 or image.shape[2] != 3 or image.size == 0:
            return None
        rgb = image.astype(np.float32)
        r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
        cb = 128.0 - 0.168736 * r - 0.331264 * g + 0.5 * b
        cr = 128.0 + 0.5 * r - 0.418688 * g - 0.081312 * b
        skin = (cb >= 77) & (cb <= 127) & (cr >= 133) & (cr <= 173)
        return float(skin.mean())


@dataclass(frozen=True, slots=True)
class BlurDecision:
    """Local-only outcome: blur the image until the minor chooses to reveal it."""

    blur: bool
    score: float | None
    threshold: float

    def __repr__(self) -> str:
        return f"BlurDecision(blur={self.blur})"


def blur_for_minor(
    detector: NudityDetector, image: RgbImage, *, viewer_is_minor: bool, threshold: float = 0.4
) -> BlurDecision:
    """Decide on the device whether to blur ``image`` for its viewer. Adults are never blurred by
    this hook; an undecided detector (None) means no blur."""
    if not 0.0 <= threshold <= 1.0:
        raise ValueError("blur threshold must be in [0, 1]")
    if not viewer_is_minor:
        return BlurDecision(False, None, threshold)
    score = detector.score(image)
    return BlurDecision(score is not None and score >= threshold, score, threshold)
