"""The flight report form, validated by WTForms before anything is sent to the API."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any
from zoneinfo import available_timezones

from flask_wtf import FlaskForm
from wtforms import (
    DateTimeLocalField,
    DecimalField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, ValidationError

COMMON_TIMEZONES = ["Europe/London", "Europe/Dublin", "Europe/Paris", "America/New_York", "UTC"]

# The API's field names, for showing its own validation errors beside the right input.
API_FIELDS = {
    "name": "name",
    "description": "description",
    "flight_type": "flight_type",
    "timezone": "timezone",
    "start": "start",
    "end": "end",
    "radius_meters": "radius_meters",
    "loc": "lat",
    "loc.lat": "lat",
    "loc.lng": "lng",
}


@cache
def _timezones() -> frozenset[str]:
    return frozenset(available_timezones())


def _known_timezone(form: FlaskForm, field: StringField) -> None:
    if field.data not in _timezones():
        raise ValidationError("Choose a time zone such as Europe/London.")


class FlightReportForm(FlaskForm):
    """A new flight report: where, when and what kind of flight."""

    name = StringField("Name", validators=[DataRequired(), Length(max=100)])
    description = TextAreaField("Public description (optional)", validators=[Length(max=500)])
    flight_type = SelectField(
        "Type of flight",
        choices=[SelectChoice("rec", "Recreational"), SelectChoice("com", "Commercial")],
    )
    timezone = StringField(
        "Time zone", default="Europe/London", validators=[DataRequired(), _known_timezone]
    )
    start = DateTimeLocalField("Start (local time)", validators=[InputRequired()])
    end = DateTimeLocalField("End (local time)", validators=[InputRequired()])
    radius_meters = IntegerField(
        "Radius (metres)", default=250, validators=[InputRequired(), NumberRange(1, 10000)]
    )
    lat = DecimalField("Latitude", places=6, validators=[InputRequired(), NumberRange(-90, 90)])
    lng = DecimalField("Longitude", places=6, validators=[InputRequired(), NumberRange(-180, 180)])

    def validate_end(self, field: DateTimeLocalField) -> None:
        start: datetime | None = self.start.data
        if start is not None and field.data is not None and field.data <= start:
            raise ValidationError("The end must be after the start.")

    def to_api(self) -> dict[str, Any]:
        """Return the report as the API's PUT /flightReport body."""
        return {
            "name": self.name.data.strip(),
            "description": (self.description.data or "").strip(),
            "flight_type": self.flight_type.data,
            "timezone": self.timezone.data,
            "start": self.start.data.isoformat(timespec="seconds"),
            "end": self.end.data.isoformat(timespec="seconds"),
            "radius_meters": self.radius_meters.data,
            "loc": {"lat": float(self.lat.data), "lng": float(self.lng.data)},
        }

    def add_api_errors(self, fields: dict[str, str]) -> None:
        """Show the API's field errors beside the matching inputs."""
        for api_name, reason in fields.items():
            form_field = getattr(self, API_FIELDS.get(api_name, ""), None) or self.name
            form_field.errors = [*form_field.errors, reason]
