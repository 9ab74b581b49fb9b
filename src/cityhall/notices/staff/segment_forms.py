"""The segment form of the staff console: profile facets, then a name to save them under.

The form only shapes the input; :meth:`cityhall.notices.services.segments.Filters.from_dict`
decides what is valid, and its errors are put back on the fields here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from cityhall.core.models import Area, District
from cityhall.notices.services.segments import MAX_AGE, MAX_CHILD_AGE, Filters, SegmentError
from cityhall.people.models import Channel, Interest

TRISTATE = [("", _("Either")), ("yes", _("Yes")), ("no", _("No"))]
FACETS = [
    "districts",
    "areas",
    "age_min",
    "age_max",
    "child_age_min",
    "child_age_max",
    "care",
    "languages",
    "interests",
    "channels",
    "foreign",
]


@dataclass
class AreaGroup:
    """An area (旧市町村) with its "whole area" box and its districts' boxes."""

    area: Area
    whole: Any  # the BoundWidget of the area's box
    districts: list[Any]


def _tristate(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


def _age(label: Any, top: int, help_text: Any = "") -> forms.IntegerField:
    field = forms.IntegerField(
        label=label, required=False, min_value=0, max_value=top, help_text=help_text
    )
    field.widget.attrs.update({"inputmode": "numeric", "class": "input--short"})
    return field


class SegmentForm(forms.Form):
    districts = forms.MultipleChoiceField(
        label=_("Districts"), required=False, widget=forms.CheckboxSelectMultiple
    )
    areas = forms.MultipleChoiceField(
        label=_("Whole areas"), required=False, widget=forms.CheckboxSelectMultiple
    )
    age_min = _age(_("Age from"), MAX_AGE)
    age_max = _age(_("Age to"), MAX_AGE)
    child_age_min = _age(_("Child's age from"), MAX_CHILD_AGE)
    child_age_max = _age(_("Child's age to"), MAX_CHILD_AGE)
    care = forms.ChoiceField(
        label=_("Care in the household"),
        choices=TRISTATE,
        required=False,
        widget=forms.RadioSelect,
    )
    languages = forms.MultipleChoiceField(
        label=_("Language"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=settings.LANGUAGES,
    )
    interests = forms.MultipleChoiceField(
        label=_("Interests (any of)"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=Interest.choices,
    )
    channels = forms.MultipleChoiceField(
        label=_("Channels the resident chose (any of)"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=Channel.choices,
    )
    foreign = forms.ChoiceField(
        label=_("Foreign residents"),
        choices=TRISTATE,
        required=False,
        widget=forms.RadioSelect,
    )
    name = forms.CharField(label=_("Name of the segment"), max_length=120, required=False)
    description = forms.CharField(
        label=_("Description"),
        max_length=400,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What the segment is for, for colleagues."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.area_list = list(Area.objects.order_by("order", "code"))
        self.district_list = list(District.objects.select_related("area"))
        districts = self.fields["districts"]
        areas = self.fields["areas"]
        assert isinstance(districts, forms.MultipleChoiceField)
        assert isinstance(areas, forms.MultipleChoiceField)
        districts.choices = [(d.code, d.localized_name()) for d in self.district_list]
        areas.choices = [
            (a.code, _("All of %(area)s") % {"area": a.localized_name()}) for a in self.area_list
        ]
        self.fields["description"].widget.attrs["aria-describedby"] = "id_description_helptext"
        self.filters: Filters | None = None

    @classmethod
    def initial_for(cls, filters: dict[str, Any], name: str = "", description: str = "") -> Any:
        """Initial values of the form for stored filters."""
        try:
            chosen = Filters.from_dict(filters)
        except SegmentError:
            chosen = Filters()
        initial: dict[str, Any] = chosen.to_dict()
        initial["care"] = _tristate(chosen.care)
        initial["foreign"] = _tristate(chosen.foreign)
        initial["name"] = name
        initial["description"] = description
        return initial

    def groups(self) -> list[AreaGroup]:
        """District boxes grouped by area, for one fieldset per area."""
        district_boxes = {w.data["value"]: w for w in self["districts"]}
        area_boxes = {w.data["value"]: w for w in self["areas"]}
        return [
            AreaGroup(
                area=area,
                whole=area_boxes[area.code],
                districts=[
                    district_boxes[d.code] for d in self.district_list if d.area_id == area.pk
                ],
            )
            for area in self.area_list
        ]

    def facets(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {name: data.get(name) for name in FACETS}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        broken = [name for name in FACETS if name in self.errors]
        try:
            filters = Filters.from_dict({k: v for k, v in self.facets().items() if k not in broken})
        except SegmentError as exc:
            for name, messages in exc.errors.items():
                for message in messages:
                    self.add_error(name if name in self.fields else None, message)
        else:
            self.filters = None if broken else filters
        return data
