"""Forms of the case board: the list's filter, bulk actions, the case page's actions, export."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from cityhall.core.forms import AccessibleFormMixin
from cityhall.people.models import User
from cityhall.procedures import permissions
from cityhall.procedures.models import Application, Status
from cityhall.procedures.services import cases

TEXTAREA = {"rows": 4}
MAX_SELECTED = cases.MAX_PER_PAGE
# The statuses staff move applications to (the board's rules decide which apply to which).
STAFF_TARGETS = (
    Status.RECEIVED,
    Status.IN_REVIEW,
    Status.NEEDS_INFO,
    Status.APPROVED,
    Status.REJECTED,
)


class StaffChoiceField(forms.ModelChoiceField[User]):
    def label_from_instance(self, obj: Any) -> str:
        return cases.staff_label(obj)


class BoardFilterForm(AccessibleFormMixin, forms.Form):
    """GET filter of the board; every field is optional (nothing ticked: open applications)."""

    department = forms.TypedChoiceField(label=_("Department"), required=False, coerce=int)
    status = forms.MultipleChoiceField(
        label=_("Status"),
        required=False,
        choices=[(s.value, s.label) for s in Status if s != Status.DRAFT],
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Nothing ticked: the open ones."),
    )
    procedure = forms.TypedChoiceField(label=_("Procedure"), required=False, coerce=int)
    assignee = forms.ChoiceField(
        label=_("Assigned to"),
        required=False,
        choices=[("", _("Anyone")), ("me", _("Me")), ("none", _("Nobody yet"))],
    )
    overdue = forms.BooleanField(label=_("Only overdue"), required=False)
    submitted_from = forms.DateField(
        label=_("Submitted from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    submitted_to = forms.DateField(
        label=_("Submitted until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    reference = forms.CharField(
        label=_("Reference number"),
        required=False,
        max_length=40,
        help_text=_("The whole number (2026-0001234-5) or its middle part (0001234)."),
        widget=forms.TextInput(attrs={"spellcheck": "false", "inputmode": "numeric"}),
    )
    via = forms.ChoiceField(
        label=_("Channel"),
        required=False,
        choices=[("", _("Online and counter")), *Application.Via.choices],
    )
    sort = forms.ChoiceField(
        label=_("Order"), required=False, choices=list(cases.SORT_LABELS.items())
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.departments = permissions.case_departments(user)
        field = self.fields["department"]
        field.choices = [("", _("All my departments"))] + [  # type: ignore[attr-defined]
            (d.pk, d.localized_name()) for d in self.departments
        ]
        self.fields["procedure"].choices = [("", _("All procedures"))] + [  # type: ignore[attr-defined]
            (p.pk, p.title) for p in cases.visible_procedures(user)
        ]

    @property
    def several_departments(self) -> bool:
        return len(self.departments) > 1

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("submitted_from"), data.get("submitted_to")
        if start and end and end < start:
            self.add_error("submitted_to", _("The end date cannot be before the start date."))
        return data

    def filters(self) -> dict[str, Any]:
        """Keyword arguments for :func:`cases.board` (call after ``is_valid``)."""
        if not self.is_bound:
            return {}
        d = self.cleaned_data
        return {
            "department": d.get("department") or None,
            "status": tuple(d.get("status") or ()),
            "procedure": d.get("procedure") or None,
            "assignee": d.get("assignee") or None,
            "overdue": bool(d.get("overdue")),
            "submitted_from": d.get("submitted_from"),
            "submitted_to": d.get("submitted_to"),
            "reference": (d.get("reference") or "").strip(),
            "via": d.get("via") or "",
            "sort": d.get("sort") or "newest",
        }


class BulkForm(AccessibleFormMixin, forms.Form):
    """Applications ticked in the list (``ids``), and what to do with all of them."""

    action = forms.ChoiceField(
        label=_("What to do with the ticked applications"),
        choices=[
            ("", _("Choose")),
            ("assign_me", _("Assign to me")),
            ("assign", _("Assign to the person chosen below")),
            ("unassign", _("Take away the assignment")),
            ("transition", _("Change the status to the one chosen below")),
        ],
    )
    assignee = StaffChoiceField(
        label=_("Person"), queryset=User.objects.none(), required=False, empty_label=_("Choose")
    )
    to_status = forms.ChoiceField(
        label=_("New status"),
        required=False,
        choices=[("", _("Choose")), *((s.value, s.label) for s in STAFF_TARGETS)],
    )
    message = forms.CharField(
        label=_("Message to the residents"),
        required=False,
        max_length=cases.TEXT_MAX,
        help_text=_("Needed for “More information needed” and “Not accepted”."),
        widget=forms.Textarea(attrs=TEXTAREA),
    )
    filters = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = cases.department_staff(  # type: ignore[attr-defined]
            permissions.case_department_ids(user)
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        raw = self.data.getlist("ids") if hasattr(self.data, "getlist") else []
        if not raw:
            raise forms.ValidationError(_("Tick at least one application in the list."))
        if not all(str(v).isdigit() for v in raw) or len(raw) > MAX_SELECTED:
            raise forms.ValidationError(_("The ticked applications could not be read."))
        data["ids"] = [int(v) for v in raw]
        action = data.get("action")
        if action == "assign" and not data.get("assignee"):
            self.add_error("assignee", _("Choose the person."))
        if action == "transition" and not data.get("to_status"):
            self.add_error("to_status", _("Choose the new status."))
        return data


class TransitionForm(AccessibleFormMixin, forms.Form):
    to_status = forms.ChoiceField(label=_("New status"), widget=forms.RadioSelect)
    message = forms.CharField(
        label=_("Message to the resident"),
        required=False,
        max_length=cases.TEXT_MAX,
        help_text=_(
            "The resident reads it on their application page. Needed for “More information "
            "needed” and “Not accepted”."
        ),
        widget=forms.Textarea(attrs=TEXTAREA),
    )

    def __init__(self, *args: Any, application: Application, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "status")
        super().__init__(*args, **kwargs)
        self.fields["to_status"].choices = [  # type: ignore[attr-defined]
            (s, Status(s).label) for s in cases.staff_next_statuses(application)
        ]


class AssignForm(AccessibleFormMixin, forms.Form):
    assignee = StaffChoiceField(
        label=_("Assigned to"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("Nobody"),
    )

    def __init__(self, *args: Any, application: Application, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "assign")
        kwargs.setdefault("initial", {"assignee": application.assignee_id})
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = cases.department_staff(  # type: ignore[attr-defined]
            [application.department_id]
        )


class NoteForm(AccessibleFormMixin, forms.Form):
    text = forms.CharField(
        label=_("Internal note"),
        max_length=cases.TEXT_MAX,
        help_text=_("Only staff read it; the resident never sees it."),
        widget=forms.Textarea(attrs=TEXTAREA),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "note")
        super().__init__(*args, **kwargs)


class MessageForm(AccessibleFormMixin, forms.Form):
    text = forms.CharField(
        label=_("Message to the resident"),
        max_length=cases.TEXT_MAX,
        help_text=_(
            "The resident gets an e-mail that a message is waiting, and reads it on their "
            "application page (the e-mail does not contain it)."
        ),
        widget=forms.Textarea(attrs=TEXTAREA),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "message")
        super().__init__(*args, **kwargs)


class ExportForm(AccessibleFormMixin, forms.Form):
    """Which columns, in which order, and which encoding.

    Each column has a check box (``c<i>``) and a position number (``o<i>``): the
    ticked columns are written in the order of their numbers (ties: list order).
    """

    encoding = forms.ChoiceField(
        label=_("Character encoding"),
        choices=list(cases.ENCODINGS.items()),
        initial="utf-8-sig",
        widget=forms.RadioSelect,
        help_text=_(
            "UTF-8 keeps every character. Shift_JIS (CP932) is for older systems; characters "
            "it does not have are written as “?”."
        ),
    )
    choice_labels = forms.BooleanField(
        label=_("Write choices as their Japanese labels instead of their codes"), required=False
    )
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, columns: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.columns = columns
        defaults = {key: n for n, key in enumerate(cases.DEFAULT_COLUMNS, start=1)}
        for i, (key, label) in enumerate(columns):
            self.fields[f"c{i}"] = forms.BooleanField(
                label=label, required=False, initial=key in defaults
            )
            self.fields[f"o{i}"] = forms.IntegerField(
                label=label,
                required=False,
                min_value=1,
                max_value=999,
                initial=defaults.get(key, len(defaults) + i + 1),
                widget=forms.NumberInput(attrs={"class": "input--short", "inputmode": "numeric"}),
            )

    def rows(self) -> list[dict[str, Any]]:
        return [
            {"key": key, "label": label, "include": self[f"c{i}"], "order": self[f"o{i}"]}
            for i, (key, label) in enumerate(self.columns)
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        chosen = []
        for i, (key, _label) in enumerate(self.columns):
            if data.get(f"c{i}"):
                order = data.get(f"o{i}")
                chosen.append((order if order is not None else 1000 + i, i, key))
        if not chosen:
            raise forms.ValidationError(_("Tick at least one column."))
        data["chosen"] = [key for _order, _i, key in sorted(chosen)]
        return data
