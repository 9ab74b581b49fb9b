"""Form helpers shared by every app: accessible error wiring."""

from __future__ import annotations


class AccessibleFormMixin:
    """Links each field's error message to its control (``aria-describedby``).

    Django already sets ``aria-invalid`` and links the help text; the error
    paragraph rendered by ``includes/field.html`` has the id ``<auto_id>-error``.
    """

    def full_clean(self) -> None:
        super().full_clean()  # type: ignore[misc]
        for name in self.errors:  # type: ignore[attr-defined]
            if name not in self.fields:  # type: ignore[attr-defined]
                continue
            bound = self[name]  # type: ignore[index]
            widget = self.fields[name].widget  # type: ignore[attr-defined]
            ids = [f"{bound.auto_id}-error"]
            if self.fields[name].help_text:  # type: ignore[attr-defined]
                ids.append(f"{bound.auto_id}_helptext")
            widget.attrs["aria-describedby"] = " ".join(ids)
