"""Files given with an application: photos of documents, PDFs, signatures drawn at the counter.

A file is accepted by what it *is*, never by its name or the Content-Type the browser
sent: the first bytes must be those of a JPEG, PNG, PDF or HEIC file, and JPEG and PNG
images must open and verify in Pillow. The size is checked against the field's
``max_mb`` and ``settings.UPLOAD_MAX_MB``. Files are kept in the default storage under
``MEDIA_ROOT``, which no URL serves: they are read only through :func:`open_for`,
which checks who asks (the applicant, or staff of the application's department) and
writes the audit log when staff read one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import logging
import unicodedata
import warnings
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile, File
from django.db import transaction
from django.utils.translation import gettext as _

from cityhall.core import audit
from cityhall.procedures import permissions
from cityhall.procedures.models import Application, Attachment

log = logging.getLogger(__name__)

JPEG = "image/jpeg"
PNG = "image/png"
PDF = "application/pdf"
HEIC = "image/heic"
KNOWN_TYPES = (JPEG, PNG, PDF, HEIC)
TYPE_NAMES = {JPEG: "JPEG", PNG: "PNG", PDF: "PDF", HEIC: "HEIC"}
HEIC_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
# A drawn signature is a small picture; anything bigger is not one.
SIGNATURE_MAX_BYTES = 1024 * 1024
MB = 1024 * 1024


class AttachmentProblem(ValueError):
    """Why a file was refused: a stable ``code`` (``too_large``, ``wrong_type``, ``empty``,
    ``invalid_signature``) and its ``params``; :attr:`message` is translated."""

    def __init__(self, code: str, **params: Any) -> None:
        self.code = code
        self.params = params
        super().__init__(code)

    @property
    def message(self) -> str:
        return problem_message(self.code, self.params)


def type_list(types: Iterable[str]) -> str:
    """``"JPEG, PNG or PDF"`` for a list of content types, in the current language."""
    names = [TYPE_NAMES.get(t, t) for t in types if t in TYPE_NAMES]
    if not names:
        return ""
    if len(names) == 1:
        return names[0]
    return _("%(first)s or %(last)s") % {"first": ", ".join(names[:-1]), "last": names[-1]}


def problem_message(code: str, params: dict[str, Any]) -> str:
    if code == "too_large":
        return _("The file is too large (max %(max)s MB).") % {"max": params.get("max", "")}
    if code == "wrong_type":
        return _("This type of file cannot be used. Use %(types)s.") % {
            "types": params.get("types") or type_list((JPEG, PNG, PDF))
        }
    if code == "empty":
        return _("The file is empty.")
    if code == "invalid_signature":
        return _("The signature could not be read. Please sign again.")
    return _("The file could not be read. Please try another file.")


def limit_mb(max_mb: int | None) -> int:
    """The largest size allowed for a field, in MB: its own limit, never above the site's."""
    site = int(settings.UPLOAD_MAX_MB)
    return min(max_mb, site) if max_mb else site


def sniff(head: bytes) -> str | None:
    """The content type the first bytes of a file show, among :data:`KNOWN_TYPES`."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"%PDF-"):
        return PDF
    if len(head) >= 12 and head[4:8] == b"ftyp" and head[8:12] in HEIC_BRANDS:
        return HEIC
    return None


def _image_ok(data: bytes, expected: str) -> bool:
    """Whether Pillow reads ``data`` as a whole, sane image of the expected format."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                fmt = image.format
                image.verify()
    except Exception:  # Pillow raises many kinds of errors for broken files
        return False
    return {"JPEG": JPEG, "PNG": PNG, "MPO": JPEG}.get(fmt or "") == expected


def check_content(data: bytes, accept: Iterable[str]) -> str:
    """The content type of ``data`` if it is one of ``accept``; else :class:`AttachmentProblem`."""
    allowed = [t for t in accept if t in KNOWN_TYPES] or list(KNOWN_TYPES)
    if not data:
        raise AttachmentProblem("empty")
    found = sniff(data[:32])
    if found is None or found not in allowed:
        raise AttachmentProblem("wrong_type", types=type_list(allowed))
    if found in (JPEG, PNG) and not _image_ok(data, found):
        raise AttachmentProblem("wrong_type", types=type_list(allowed))
    if found == PDF and b"%%EOF" not in data[-2048:]:
        raise AttachmentProblem("wrong_type", types=type_list(allowed))
    return found


def _read(uploaded: Any, limit_bytes: int) -> bytes:
    """The whole upload, refusing it as soon as it is larger than ``limit_bytes``."""
    size = getattr(uploaded, "size", None)
    if size is not None and size > limit_bytes:
        raise AttachmentProblem("too_large", max=limit_bytes // MB)
    chunks: list[bytes] = []
    total = 0
    if hasattr(uploaded, "seek"):
        uploaded.seek(0)
    for chunk in uploaded.chunks() if hasattr(uploaded, "chunks") else [uploaded.read()]:
        total += len(chunk)
        if total > limit_bytes:
            raise AttachmentProblem("too_large", max=limit_bytes // MB)
        chunks.append(chunk)
    return b"".join(chunks)


def clean_name(name: str) -> str:
    """The name the file had on the resident's device, for display only (never a path)."""
    name = unicodedata.normalize("NFC", str(name or "")).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c.isprintable())
    return name.strip()[:200]


def store_bytes(
    application: Application,
    field_key: str,
    data: bytes,
    *,
    actor: Any,
    accept: Iterable[str] = KNOWN_TYPES,
    original_name: str = "",
) -> Attachment:
    """Check ``data`` by its content and keep it with ``application``.

    The same file given twice for the same field is kept once.
    """
    content_type = check_content(data, accept)
    digest = hashlib.sha256(data).hexdigest()
    existing = Attachment.objects.filter(
        application=application, field_key=field_key, sha256=digest
    ).first()
    if existing is not None:
        return existing
    attachment = Attachment(
        application=application,
        field_key=field_key[:80],
        content_type=content_type,
        size=len(data),
        sha256=digest,
        original_name=clean_name(original_name),
        uploaded_by=actor if getattr(actor, "pk", None) else None,
    )
    with transaction.atomic():
        attachment.file.save(digest[:16], ContentFile(data), save=False)
        attachment.save()
    return attachment


def store(
    application: Application,
    field_key: str,
    uploaded_file: Any,
    *,
    actor: Any,
    max_mb: int | None = None,
    accept: Iterable[str] = KNOWN_TYPES,
) -> Attachment:
    """Keep an uploaded file (a Django ``UploadedFile``) for ``field_key`` of ``application``.

    Raises :class:`AttachmentProblem` when the file is too large, empty, or not really a
    JPEG, PNG, PDF or HEIC file of the types the field accepts.
    """
    data = _read(uploaded_file, limit_mb(max_mb) * MB)
    return store_bytes(
        application,
        field_key,
        data,
        actor=actor,
        accept=accept,
        original_name=getattr(uploaded_file, "name", "") or "",
    )


def store_signature(
    application: Application, field_key: str, data_url: str, *, actor: Any
) -> Attachment:
    """Keep a signature drawn on screen, sent as a ``data:image/png;base64,…`` URL."""
    prefix = "data:image/png;base64,"
    if not isinstance(data_url, str) or not data_url.startswith(prefix):
        raise AttachmentProblem("invalid_signature")
    encoded = data_url[len(prefix) :].strip()
    if len(encoded) > SIGNATURE_MAX_BYTES * 4 // 3 + 4:
        raise AttachmentProblem("too_large", max=1)
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise AttachmentProblem("invalid_signature") from None
    try:
        return store_bytes(
            application, field_key, data, actor=actor, accept=(PNG,), original_name="signature.png"
        )
    except AttachmentProblem:
        raise AttachmentProblem("invalid_signature") from None


def owned(application: Application, ids: Iterable[Any], field_key: str | None = None) -> list[int]:
    """The ids among ``ids`` that are attachments of ``application`` (for ``field_key``),
    in the order given: ids typed into a form are never trusted."""
    wanted: list[int] = []
    for value in ids:
        try:
            number = int(str(value).strip())
        except (TypeError, ValueError):
            continue
        if number > 0 and number not in wanted:
            wanted.append(number)
    if not wanted or application is None or application.pk is None:
        return []
    qs = Attachment.objects.filter(application=application, pk__in=wanted)
    if field_key is not None:
        qs = qs.filter(field_key=field_key)
    found = set(qs.values_list("pk", flat=True))
    return [n for n in wanted if n in found]


def for_application(application: Application) -> list[Attachment]:
    return list(Attachment.objects.filter(application=application).order_by("created_at", "id"))


def referenced_ids(value: Any) -> set[int]:
    """Every whole number in an answer: attachment ids of file lists, signatures and groups
    (and, harmlessly, numbers that are answers themselves: they only keep more)."""
    found: set[int] = set()

    def walk(v: Any) -> None:
        if isinstance(v, dict):
            for sub in v.values():
                walk(sub)
        elif isinstance(v, list | tuple):
            for sub in v:
                walk(sub)
        elif isinstance(v, int) and not isinstance(v, bool):
            found.add(v)

    walk(value)
    return found


def _delete(attachment: Attachment) -> None:
    name = attachment.file.name
    storage = attachment.file.storage
    attachment.delete()
    if name and not Attachment.objects.filter(file=name).exists():
        transaction.on_commit(lambda: storage.delete(name))


def purge_unreferenced(application: Application) -> int:
    """Delete the files of ``application`` that its answers no longer mention (a photo the
    resident replaced or removed); returns how many went."""
    keep = referenced_ids(
        {k: v for k, v in (application.data or {}).items() if not str(k).startswith("_")}
    )
    if application.status == "draft":
        keep |= referenced_ids((application.data or {}).get("_unchecked") or {})
    removed = 0
    for attachment in Attachment.objects.filter(application=application).exclude(pk__in=keep):
        _delete(attachment)
        removed += 1
    return removed


def delete_all(application: Application) -> None:
    """Delete every file of ``application`` (before a draft is thrown away)."""
    for attachment in Attachment.objects.filter(application=application):
        _delete(attachment)


def can_open(user: Any, attachment: Attachment) -> bool:
    return permissions.can_view_application(user, attachment.application)


def open_for(user: Any, attachment: Attachment, *, request: Any = None) -> File[Any]:
    """The stored file, opened for reading, if ``user`` may see it; else ``PermissionDenied``.

    Staff reads are written to the audit log (every staff view of a resident's data is).
    """
    if not can_open(user, attachment):
        raise PermissionDenied("not your application")
    if getattr(user, "is_staff", False):
        audit.record(
            "application.file_view",
            request=request,
            actor=user,
            target=attachment.application,
            subject=attachment.application.applicant_id,
            details={"attachment": attachment.pk, "field": attachment.field_key},
        )
    name = attachment.file.name or ""
    handle = attachment.file.storage.open(name, "rb")
    return File(handle, name=name)
