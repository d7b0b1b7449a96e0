"""The reorder page's form: each active package's treatments expected in the next 14 days.
The rule is the API's (pos.web.api.schemas.catalog.ExpectedTreatmentsIn)."""
from __future__ import annotations

from collections.abc import Sequence

from flask_wtf import FlaskForm
from wtforms import IntegerField, SubmitField
from wtforms.validators import InputRequired, NumberRange

from pos.domain.reorder import MAX_EXPECTED_TREATMENTS
from pos.models import Package


class ExpectedTreatmentsForm(FlaskForm):
    submit = SubmitField("Save expected treatments")


def expected_treatments_form(packages: Sequence[Package]) -> type[FlaskForm]:
    """One count per package, named by its id (a package added meanwhile is no mix-up)."""

    class WithPackages(ExpectedTreatmentsForm):
        pass

    for package in packages:
        current = package.expected_treatments
        setattr(WithPackages, f"expected_{package.id}", IntegerField(
            f"{package.name} ({package.code}): expected treatments, next 14 days",
            default=current.count if current is not None else 0,
            validators=[InputRequired(message="Enter a number (0 if none)."),
                        NumberRange(min=0, max=MAX_EXPECTED_TREATMENTS,
                                    message=f"From 0 to {MAX_EXPECTED_TREATMENTS}.")]))
    return WithPackages
