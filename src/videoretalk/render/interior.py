"""A plausible mouth interior for openings the person never shows in the source video,
and closed lips for a source that never shows them closed.

Stretching a barely-open exemplar over a wide target opening smears the lip line into a
pink band; leaving it empty is a black hole. Instead the opening is painted in mouth
coordinates (u across, corner to corner; v down, upper to lower inner lip): upper teeth
under the upper lip, each tooth rounded and a little shorter toward the corners, shaded
darker toward the corners, a dark cavity, the tongue low in the middle and lower teeth
only for wide openings. A thin gap is mostly shadow: its teeth are dimmed toward the
cavity. Colours come from the person: teeth from the brightest interior pixels of their
most open exemplar when it shows teeth (else lit by the skin around the lips), cavity and
tongue from their lip colour; all of it as soft as the picture.

Squeezing an open exemplar shut (a still of an open mouth driven silent) folds its teeth
into a jagged white line; `paint_seam` lays the person's lip colour over that band
instead, meeting along one soft dark line.
"""

from __future__ import annotations

import cv2
import numpy as np

from .composite import ramp
from .topology import INNER_CORNERS, INNER_LOWER, INNER_UPPER, LIPS_INNER, LIPS_OUTER

# Teeth colour when the source never shows teeth: off-white, slightly warm (RGB 0..1),
# at the exposure of the person's skin (see `fallback_teeth`).
DEFAULT_TEETH_RGB = np.array([0.90, 0.87, 0.80], np.float32)
# Teeth luma / the luma of the skin around the lips (`lips.skin_colour`), and / lip luma
# (used only when no skin was measured): geometric means over the 21 shared clips that
# show teeth (the lip ratio was 1.4 from the 5 dev clips alone). Predicting a clip's teeth
# from the other clips' ratio missed by 0.153 (rms of the log) from the skin, 0.240 from
# the lips: red lips are dark in luma however bright the light.
TEETH_OVER_SKIN_LUMA = 1.0
TEETH_OVER_LIP_LUMA = 1.45
# Share of the skin's colour (per unit luma) in painted teeth, the rest the default
# off-white's. On those clips the teeth's colour per unit luma was predicted with an rms
# error of 0.130 by the off-white alone, 0.072 at this share, 0.066 at 0.6-0.8.
TEETH_SKIN_TINT = 0.5
LUMA = np.array([0.299, 0.587, 0.114], np.float32)
# Upper incisors are ~10 mm tall, a wide speech opening ~25 mm: teeth fill ~40 % of v.
UPPER_TEETH_V = 0.42
LOWER_TEETH_V = 0.82
# Visible teeth from the middle outward (incisors, lateral incisors, canines, premolars),
# each as a share of the mouth's inner width and of the incisors' length.
TOOTH_WIDTHS = np.array([0.12, 0.09, 0.085, 0.075, 0.13])
TOOTH_LENGTHS = np.array([1.0, 0.95, 0.97, 0.9, 0.85])
# Lips parted by a thin gap (gap / mouth width) show their teeth in the upper lip's shadow:
# dimmed to this share at the thin end, full from the wide end. At full strength a 2-4 px
# gap painted as a bright grey-white band (talk4 + speech2 frame 149); the dev clips' real
# thin gaps are dark with a glint of teeth.
THIN_GAP = (0.05, 0.15)
THIN_GAP_TEETH = 0.1
# Local gap (px) below which no interior is painted / above which it is painted in full.
HAIRLINE_GAP_PX = (1.0, 3.0)
# Target/exemplar opening ratio where painted interior starts / fully replaces stretching.
SYNTH_RATIO = (1.6, 3.0)
# Target openings (inter-ocular units) over which the painted interior fades in: a lip gap
# below them is the exemplar's own, stretched.
SYNTH_MIN_OPENING = (0.04, 0.08)
# ...unless the exemplar is shut (opening below the first, fully below the second): its
# stretched lip line shows as a dark vertical crease and reads as shut, so a thin painted
# gap, mostly shadow, takes over from these target openings. (talk1 driven from its shut
# frames only: FaceMesh on the output measured a central lip gap of 0.006 where 0.045 was
# driven, 0.025 painted; mouth PSNR against the real frames fell 1.1 dB, as smooth shut
# lips differ less from a real thin gap than a gap drawn 1-2 px off.)
SHUT_EXEMPLAR = (0.005, 0.015)
SHUT_SYNTH_MIN_OPENING = (0.015, 0.04)
# Exemplar opening minus target opening (inter-ocular units) where a painted closed seam
# starts / fully covers the squeezed exemplar, and target openings over which it fades
# out again (lips that part show the exemplar's own gap). A source that never shows the
# mouth closed gets it on every closed frame; others only on a quick closure while the
# chosen exemplar is still an open one (talk4 + speech2: 17 of 151 frames).
SEAM_CLOSING = (0.03, 0.06)
SEAM_MAX_OPENING = (0.015, 0.03)


def interior_weight(exemplar_opening: float, target_opening: float) -> float:
    """How much painted interior a target gets from an exemplar this open."""
    ratio = target_opening / max(exemplar_opening, 1e-3)
    shut = 1 - ramp(exemplar_opening, *SHUT_EXEMPLAR)
    big_enough = max(
        ramp(target_opening, *SYNTH_MIN_OPENING),
        shut * ramp(target_opening, *SHUT_SYNTH_MIN_OPENING),
    )
    return ramp(ratio, *SYNTH_RATIO) * big_enough


def seam_weight(exemplar_opening: float, target_opening: float) -> float:
    """How much of a painted closed seam a target gets from an exemplar this open."""
    return ramp(exemplar_opening - target_opening, *SEAM_CLOSING) * (
        1 - ramp(target_opening, *SEAM_MAX_OPENING)
    )


def _curve(u_pts: np.ndarray, v_pts: np.ndarray, u: np.ndarray) -> np.ndarray:
    order = np.argsort(u_pts)
    return np.interp(u, u_pts[order], v_pts[order])


def _mouth_coordinates(
    points: np.ndarray, shape: tuple[int, int], origin: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    """Per pixel of a box: u across the mouth (0..1, corner to corner), s down (px), and
    the upper / lower inner-lip curves' s at that u; plus the mouth's width (px)."""
    h, w = shape
    pts: np.ndarray = points[:, :2] - np.array(origin, np.float32)
    left, right = pts[INNER_CORNERS[0]], pts[INNER_CORNERS[1]]
    axis = right - left
    width = max(float(np.linalg.norm(axis)), 1e-3)
    ex = axis / width
    ey = np.array([-ex[1], ex[0]], np.float32)  # perpendicular, pointing down in the image
    if ey[1] < 0:
        ey = -ey

    def uv(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        d = p - left
        return d @ ex / width, d @ ey

    xx, yy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    u, s = uv(np.stack([xx, yy], -1))
    cu, cs = uv(np.concatenate([[left, right], pts[INNER_UPPER]]))
    lu, ls = uv(np.concatenate([[left, right], pts[INNER_LOWER]]))
    return u, s, _curve(cu, cs, u), _curve(lu, ls, u), width


def _teeth_across(u: np.ndarray, width: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per pixel, from its place across the mouth: the teeth's shading (each tooth rounder
    in the middle, a fine dark line where two meet), the place across its own tooth (-1 to
    1) and that tooth's relative length."""
    from_middle = np.abs(u - 0.5)
    ends = np.cumsum(TOOTH_WIDTHS)
    k = np.minimum(np.searchsorted(ends, from_middle), len(ends) - 1)
    start = ends[k] - TOOTH_WIDTHS[k]
    x = np.clip((from_middle - start) / TOOTH_WIDTHS[k], 0, 1)
    across_tooth = 2 * x - 1
    to_neighbour_px = np.minimum(x, 1 - x) * TOOTH_WIDTHS[k] * width
    line_px = max(0.6, 0.005 * width)
    shading = (1 - 0.1 * across_tooth**2) * (1 - 0.15 * np.exp(-((to_neighbour_px / line_px) ** 2)))
    return shading, across_tooth, TOOTH_LENGTHS[k]


def paint_interior(
    points: np.ndarray,
    shape: tuple[int, int],
    teeth_rgb: np.ndarray,
    lip_rgb: np.ndarray,
    origin: tuple[int, int],
    blur_px: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """(RGB float32 image, alpha float32) of a synthetic interior inside the inner-lip contour.

    `points` are target mesh points in frame coordinates; the result covers a box of
    `shape` whose top-left corner is `origin`, as soft as the picture (`edge_blur_px`).
    """
    h, w = shape
    u, s, top, bottom, width = _mouth_coordinates(points, shape, origin)
    gap = np.maximum(bottom - top, 1e-3)
    v = (s - top) / gap
    inside = (u > 0) & (u < 1) & (v > 0) & (v < 1)

    # Darker toward the corners and the back of the mouth.
    side = np.clip(np.abs(u - 0.5) * 2, 0, 1)
    shade = (1 - 0.65 * side**2)[..., None]
    cavity = np.clip(lip_rgb * 0.3, 0, 1)
    out = np.broadcast_to(cavity, (h, w, 3)).copy() * (0.7 + 0.3 * shade)

    tongue = np.exp(-(((u - 0.5) / 0.28) ** 2) - ((v - 0.95) / 0.3) ** 2)[..., None]
    out = out * (1 - 0.8 * tongue) + np.clip(lip_rgb * 0.75, 0, 1) * 0.8 * tongue * shade

    tooth, across_tooth, length = _teeth_across(u, width)
    max_gap = float(np.max(np.where(inside, gap, 0)))
    wide = np.clip((max_gap / width - THIN_GAP[0]) / (THIN_GAP[1] - THIN_GAP[0]), 0, 1)
    shown = THIN_GAP_TEETH + (1 - THIN_GAP_TEETH) * wide
    # Each tooth's biting edge, rounded at its corners, sharp over about a pixel.
    edge_v = UPPER_TEETH_V * length * (1 - 0.08 * across_tooth**6)
    ramp = max(1.0, 0.01 * width) / gap
    upper = np.clip((edge_v - v) / ramp + 0.5, 0, 1)[..., None] * shown
    out = out * (1 - upper) + teeth_rgb * (shade * tooth[..., None]) * upper
    if max_gap > 0.45 * width:  # lower teeth show only on wide openings
        lower_edge = 1 - (1 - LOWER_TEETH_V) * length * (1 - 0.08 * across_tooth**6)
        lower = np.clip((v - lower_edge) / ramp + 0.5, 0, 1)[..., None] * 0.8
        out = out * (1 - lower) + teeth_rgb * 0.8 * (shade * tooth[..., None]) * lower

    sigma = max(0.6, 0.006 * width, blur_px)
    out = cv2.GaussianBlur(out.astype(np.float32), (0, 0), sigma)
    # Anti-aliased coverage: distance (px) to the nearest lip contour, ramped over ~1.5 px.
    edge_px = np.minimum(np.minimum(v, 1 - v) * gap, np.minimum(u, 1 - u) * width)
    alpha = np.clip(edge_px / 1.5 + 0.5, 0, 1).astype(np.float32) * ((u > -0.05) & (u < 1.05))
    # Where the lips are barely apart (toward the corners of a thin gap) they meet in a fine
    # shadow line, the exemplar's own, not a dark band drawn corner to corner.
    alpha *= np.clip((gap - HAIRLINE_GAP_PX[0]) / (HAIRLINE_GAP_PX[1] - HAIRLINE_GAP_PX[0]), 0, 1)
    return out * 255.0, alpha


# Half-height of the painted seam band beyond the lips' own gap, as a share of the mouth's
# width (about 4 px on a 700 px talking head: a squeezed exemplar's teeth reach 3 px past
# its inner lip line), and the dark line's half-width (px, and as a share of the width).
SEAM_HALF_HEIGHT = 0.045
SEAM_LINE = (0.8, 0.008)
# Pixels this much brighter / darker than the lips (luma ratio, starting / full) within
# this many band half-heights of the seam, inside the lips, are teeth or cavity left over.
SPECK_OVER_LIP = (1.15, 1.3)
SPECK_UNDER_LIP = (0.7, 0.55)
SPECK_REACH = 2.0


def paint_seam(
    points: np.ndarray,
    shape: tuple[int, int],
    lip_rgb: np.ndarray,
    origin: tuple[int, int],
    underneath: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(RGB float32 image, alpha float32) of closed lips meeting along the inner-lip line.

    Squeezing an open exemplar shut folds its teeth and cavity into a thin band of
    jagged white and black; closed lips show instead lip colour on either side of one
    soft dark line, fading out toward the corners as the lips part there. Given the
    pixels `underneath` (float RGB 0..255), specks of teeth or cavity a little beyond the
    band are covered too.
    """
    u, s, top, bottom, width = _mouth_coordinates(points, shape, origin)
    middle = (top + bottom) / 2
    half = np.maximum(bottom - top, 0) / 2 + max(2.0, SEAM_HALF_HEIGHT * width)
    d = np.abs(s - middle)
    line_px = max(SEAM_LINE[0], SEAM_LINE[1] * width)
    line = np.exp(-((d / line_px) ** 2))[..., None]
    lips = np.asarray(lip_rgb, np.float32)
    # Lips roll inward where they meet: darker toward the line.
    out = lips * (1 - 0.3 * np.exp(-((d / half) ** 2))[..., None]) * (1 - 0.45 * line)
    across = np.clip(np.minimum(u, 1 - u) / 0.06, 0, 1)  # ends meet the corners softly
    # Solid over the squeezed band, fading into the lips' own texture over its outer third.
    alpha = np.clip((half - d) / (0.35 * half), 0, 1) * across
    if underneath is not None:
        specks = _specks(
            points, origin, underneath, lips, np.clip((SPECK_REACH * half - d) / half, 0, 1)
        )
        alpha = np.maximum(alpha, specks * across)
    return out.astype(np.float32) * 255.0, alpha.astype(np.float32)


def _specks(
    points: np.ndarray,
    origin: tuple[int, int],
    underneath: np.ndarray,
    lip_rgb: np.ndarray,
    near: np.ndarray,
) -> np.ndarray:
    """Coverage of teeth and cavity left within the lips just past a seam's band (`near`).

    The exemplar's teeth and the dark gap around them reach 2-6 px past its inner lip line
    (the mesh's line sits a little inside the real edge), where the band has faded. Only
    inside the outer lip line, so skin brighter than the lips is never painted over.
    """
    ratio = (underneath @ LUMA) / max(float(lip_rgb @ LUMA) * 255.0, 1.0)
    bright = (ratio - SPECK_OVER_LIP[0]) / (SPECK_OVER_LIP[1] - SPECK_OVER_LIP[0])
    dark = (SPECK_UNDER_LIP[0] - ratio) / (SPECK_UNDER_LIP[0] - SPECK_UNDER_LIP[1])
    off = np.clip(np.maximum(bright, dark), 0, 1).astype(np.float32)
    off = cv2.dilate(off, np.ones((3, 3), np.uint8))  # the specks' soft rims too
    lips = np.zeros(underneath.shape[:2], np.uint8)
    outline: np.ndarray = points[LIPS_OUTER, :2] - np.array(origin, np.float32)
    cv2.fillPoly(lips, [np.round(outline).astype(np.int32)], 1)
    return off * near * cv2.erode(lips, np.ones((3, 3), np.uint8))


def fallback_teeth(lip_rgb: np.ndarray, skin_rgb: np.ndarray | None = None) -> np.ndarray:
    """Teeth for a person never seen with teeth: off-white in the light that falls on them.

    A fixed near-white painted into a dim video is a glowing band, and a neutral one in
    warm light reads as grey-blue. The skin around the lips tells the exposure best
    (`TEETH_OVER_SKIN_LUMA`) and carries the light's colour (`TEETH_SKIN_TINT`); without
    it, the lips tell the exposure.
    """
    white = DEFAULT_TEETH_RGB / float(DEFAULT_TEETH_RGB @ LUMA)  # luma 1
    if skin_rgb is None:
        luma = TEETH_OVER_LIP_LUMA * float(np.asarray(lip_rgb, np.float32) @ LUMA)
    else:
        skin = np.asarray(skin_rgb, np.float32)
        skin_luma = max(float(skin @ LUMA), 1e-3)
        luma = TEETH_OVER_SKIN_LUMA * skin_luma
        white = (1 - TEETH_SKIN_TINT) * white + TEETH_SKIN_TINT * skin / skin_luma
    teeth = white * min(luma, float(DEFAULT_TEETH_RGB @ LUMA))
    return np.clip(teeth, 0, 1).astype(np.float32)


# Blur (px) applied to an ideal step edge to measure how soft a picture's own edges are.
PROBE_BLUR_PX = 1.5


def _gradient_energy(grey: np.ndarray) -> float:
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)
    return float((gx * gx + gy * gy).mean())


def edge_blur_px(image: np.ndarray) -> float:
    """How soft the edges of `image` (RGB) are, as the Gaussian sigma (px) that would
    make ideal steps as soft: blurring once more by `PROBE_BLUR_PX` keeps q of a blurred
    step's gradient energy, q = sigma / sqrt(sigma^2 + probe^2).

    Painted teeth take the picture's softness: crisp teeth in a soft or upscaled video
    read as a row of pasted tiles. The dev clips measure 0.8-1.2 px around the lips, an
    upscaled 480p clip 1.8 px.
    """
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    before = _gradient_energy(grey)
    if before <= 0:
        return 0.0
    q = min(_gradient_energy(cv2.GaussianBlur(grey, (0, 0), PROBE_BLUR_PX)) / before, 0.99)
    return PROBE_BLUR_PX * q / float(np.sqrt(1 - q * q))


def teeth_colour(image: np.ndarray, points: np.ndarray) -> np.ndarray | None:
    """Mean colour (0..1) of the brightest interior pixels, or None if no teeth show."""
    poly = np.round(points[LIPS_INNER, :2]).astype(np.int32)
    mask = np.zeros(image.shape[:2], np.uint8)
    cv2.fillPoly(mask, [poly], 1)
    pix = image[mask > 0].astype(np.float32) / 255.0
    if len(pix) < 30:
        return None
    luma = pix @ LUMA
    bright = pix[luma >= np.percentile(luma, 85)]
    colour = bright.mean(0)
    sat = float(colour.max() - colour.min())
    # Teeth are bright and nearly grey; a bright red interior is tongue or lips.
    if float(colour.mean()) < 0.35 or sat > 0.25:
        return None
    return colour
