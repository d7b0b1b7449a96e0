"""The catalog back office's forms: an item (new and changed), a package with its bill of
materials, a bundle's contents. The rules are the API's (pos.web.api.schemas.catalog)."""
from __future__ import annotations

import re
from collections.abc import Sequence

from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField, SubmitField
from wtforms.fields import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from pos.domain.limits import MAX_QUANTITY
from pos.models.catalog import AREAS, ITEM_KINDS
from pos.web.api.schemas.catalog import SKU_PATTERN
from pos.web.form_rules import SafeText, strip
from pos.web.stock.forms import MoneyField


def _code(form: FlaskForm, field: StringField) -> None:
    if field.data and not re.match(SKU_PATTERN, field.data):
        raise ValidationError("Use letters, digits, dot, dash or underscore, no spaces.")


def _count(label: str) -> IntegerField:
    return IntegerField(label, validators=[InputRequired(), NumberRange(min=0, max=MAX_QUANTITY)])


class ItemEditForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), SafeText(120)], filters=[strip])
    barcode = StringField("Barcode (scan it here; empty: none)",
                          validators=[Optional(), SafeText(64)], filters=[strip])
    price = MoneyField("Price ($)", validators=[DataRequired(), Length(max=20)])
    cost = MoneyField("Cost ($)", validators=[DataRequired(), Length(max=20)])
    taxable = BooleanField("Taxable (retail)")
    reorder_point = _count("Reorder point")
    reorder_quantity = _count("Reorder quantity")
    active = BooleanField("Active (for sale and in use)", default=True)
    # Choices are the suppliers (0: none), set by the view.
    supplier = SelectField("Supplier (ordered from)", coerce=int, choices=[], default=0)
    submit = SubmitField("Save item")


class NewItemForm(ItemEditForm):
    sku = StringField("SKU", validators=[DataRequired(), Length(max=40), _code],
                      filters=[strip])
    kind = SelectField("Kind", choices=[SelectChoice(k, k.capitalize()) for k in ITEM_KINDS])
    unit = StringField("Unit (bottle, ml, cartridge...)",
                       validators=[DataRequired(), SafeText(20)], filters=[strip])
    supplier = None  # chosen on the item's edit page, once the item exists
    submit = SubmitField("Create item")


class PackageForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), SafeText(120)], filters=[strip])
    area = SelectField("Area", choices=[SelectChoice(a, a.capitalize()) for a in AREAS])
    sessions = IntegerField("Sessions", validators=[InputRequired(),
                                                    NumberRange(min=1, max=100)])
    price = MoneyField("Price ($)", validators=[DataRequired(), Length(max=20)])
    min_days_between = IntegerField("At least days between sessions", validators=[
        InputRequired(), NumberRange(min=0, max=3650)])
    max_days_between = IntegerField("At most days between sessions (empty: no limit)",
                                    validators=[Optional(), NumberRange(min=0, max=3650)])
    active = BooleanField("Active (for sale)", default=True)
    submit = SubmitField("Save package")


class NewPackageForm(PackageForm):
    code = StringField("Code", validators=[DataRequired(), Length(max=40), _code],
                       filters=[strip])
    submit = SubmitField("Create package")


def add_quantities(form_class: type[FlaskForm], items: Sequence[tuple[int, str]],
                   current: dict[int, int]) -> type[FlaskForm]:
    """The form class with one quantity per (item id, label) (0: not used)."""

    class WithQuantities(form_class):  # type: ignore[valid-type,misc]
        pass

    for item_id, label in items:
        setattr(WithQuantities, f"qty_{item_id}", IntegerField(
            label, default=current.get(item_id, 0),
            validators=[InputRequired(message="Enter a quantity (0 if not used)."),
                        NumberRange(min=0, max=MAX_QUANTITY)]))
    return WithQuantities


class ContentsForm(FlaskForm):
    submit = SubmitField("Save contents")
