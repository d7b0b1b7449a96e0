"""Consent: the form's text is clinic data in versions; a client signs the version in force
(a PNG of the signature drawn on the tablet) before a treatment, and again when it changes.

Pure: the errors, the default text, and what a signature must be.
"""
from __future__ import annotations

import base64
import binascii

from pos.domain.errors import PosError, ValidationFailed

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_SIGNATURE_BYTES = 512 * 1024
MAX_FORM_TEXT = 20_000

DEFAULT_CONSENT_TEXT = """\
Consent to medical microneedling (collagen induction therapy)

I ask the clinic's provider to perform microneedling on the area we agreed, with an MDPen \
and a single-use sterile needle cartridge, after a topical anaesthetic (lidocaine).

I understand that:
- the skin will be red and may feel tight or sensitive for 24 to 48 hours; swelling, \
pinpoint bleeding, bruising, dryness and flaking can occur; infection, cold sores, \
changes in skin colour and scarring are rare;
- results vary and usually need a series of treatments 4 to 6 weeks apart;
- I must tell the provider about pregnancy or nursing, medicines (blood thinners, \
isotretinoin, retinoids), allergies (including to lidocaine), recent Botox, peels, \
laser or sunburn, and skin or health conditions, at every visit;
- I will follow the aftercare instructions and may withdraw this consent at any time \
before a treatment.

I have read this form, my questions were answered, and I consent to the treatment.
"""


class ConsentRequired(PosError):
    """No signed consent to the form in force for this client."""

    code = "consent_required"
    status = 422


class ConsentFormOutdated(PosError):
    """The consent signed names a form version that is not the one in force."""

    code = "consent_form_outdated"
    status = 422


def decode_signature(value: str) -> bytes:
    """The PNG bytes of a signature sent as base64 (a `data:image/png;base64,` prefix, as a
    canvas gives it, is accepted), or ValidationFailed."""
    text = value.strip()
    if text.startswith("data:image/png;base64,"):
        text = text[len("data:image/png;base64,"):]
    problem = "must be a PNG image, base64-encoded"
    if len(text) > MAX_SIGNATURE_BYTES * 4 // 3 + 4:
        raise ValidationFailed("The signature image is too large.",
                               {"fields": {"signature_png_base64": "is too large"}})
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationFailed("The signature is not a base64 PNG.",
                               {"fields": {"signature_png_base64": problem}}) from None
    if not data.startswith(PNG_MAGIC) or len(data) < 60:
        raise ValidationFailed("The signature is not a PNG image.",
                               {"fields": {"signature_png_base64": problem}})
    return data


def check_form_text(text: str) -> str:
    text = text.strip()
    if not text or len(text) > MAX_FORM_TEXT or "\x00" in text:
        raise ValidationFailed(f"The consent form needs a text of 1 to {MAX_FORM_TEXT} "
                               "characters.", {"fields": {"text": "is empty or too long"}})
    return text
