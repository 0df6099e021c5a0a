"""Forms of the museum pages and the API token page (Flask-WTF: CSRF-protected)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from .forms import _strip


class OrganisationForm(FlaskForm):
    name = StringField("Name of the organisation (museum)", filters=[_strip], validators=[
        DataRequired("Give the organisation a name."), Length(max=200, message="At most 200 characters.")])


class ExhibitForm(FlaskForm):
    name = StringField("Exhibit", filters=[_strip], validators=[
        DataRequired("Give the exhibit a name."), Length(max=200, message="At most 200 characters.")])
    location = StringField("Location (room)", filters=[_strip], validators=[
        Optional(), Length(max=200, message="At most 200 characters.")])
    description = TextAreaField("Description", filters=[_strip], validators=[
        Optional(), Length(max=4000, message="At most 4000 characters.")])


class TokenForm(FlaskForm):
    name = StringField("Name (e.g. the camera it is for)", filters=[_strip], validators=[
        DataRequired("Name the token, e.g. 'Camera room 3'."), Length(max=100, message="At most 100 characters.")])
