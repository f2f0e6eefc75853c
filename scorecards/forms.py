"""Forms of the scorecards pages: the finance page's period picker and grouping."""

from __future__ import annotations

from django import forms
from django.utils import timezone

from scorecards import chargeback as cb
from scorecards import periods
from scorecards.choices import GroupKey

RECENT_QUARTERS = 8
RECENT_MONTHS = 12


def period_choices(today=None) -> list[tuple[str, list[tuple[str, str]]]]:
    """Recent quarters and months, newest first, for the period picker."""
    today = today or timezone.localdate()
    quarter = periods.current_quarter(today)
    month = periods.month(today.year, today.month)
    quarters = [periods.shift(quarter, -i) for i in range(RECENT_QUARTERS)]
    months = [periods.shift(month, -i) for i in range(RECENT_MONTHS)]

    def to_date(i: int) -> str:
        return " (to date)" if i == 0 else ""

    quarter_choices = [(q.label, q.label + to_date(i)) for i, q in enumerate(quarters)]
    month_choices = [(m.label, f"{m.start:%B %Y}{to_date(i)}") for i, m in enumerate(months)]
    return [
        ("Quarters", quarter_choices),
        ("Months", month_choices),
        ("Custom", [("", "Date range (from / to)")]),
    ]


class ChargebackForm(forms.Form):
    period = forms.ChoiceField(required=False, label="Period")
    date_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )
    group_by = forms.ChoiceField(
        choices=GroupKey.choices, initial=GroupKey.TEAM, required=False, label="Group by"
    )
    then_by = forms.ChoiceField(
        choices=[("", "—")] + list(GroupKey.choices), required=False, label="Then by"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = period_choices()
        self.fields["period"].choices = choices
        # A period typed into the URL (e.g. an older quarter) is accepted as well.
        wanted = (self.data.get("period") or "").strip()
        known = {value for _, group in choices for value, _ in group}
        if wanted and wanted not in known:
            self.fields["period"].choices = [*choices, ("Other", [(wanted, wanted)])]

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        try:
            # A date range, when given, wins over the picker; neither: the current quarter.
            if start or end:
                data["report_period"] = periods.parse_period(
                    start=start.isoformat() if start else None,
                    end=end.isoformat() if end else None,
                )
            else:
                data["report_period"] = periods.parse_period(data.get("period") or None)
        except periods.PeriodError as exc:
            raise forms.ValidationError(str(exc)) from None
        keys = [data.get("group_by") or GroupKey.TEAM]
        if data.get("then_by"):
            keys.append(data["then_by"])
        try:
            data["keys"] = cb.parse_group_by(keys)
        except cb.GroupByError as exc:
            self.add_error("then_by", str(exc))
        return data
