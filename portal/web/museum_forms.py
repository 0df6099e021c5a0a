"""Forms of the museum pages and the API token page (Flask-WTF: CSRF-protected)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from portal.web.forms import _strip


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


ROLE_CHOICES = [SelectChoice("viewer", "Viewer: reads the dashboards"),
                SelectChoice("manager", "Manager: also records and edits exhibits")]


class InviteForm(FlaskForm):
    role = SelectField("Role of the colleague", choices=ROLE_CHOICES, default="viewer")


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=ROLE_CHOICES)


class TokenForm(FlaskForm):
    name = StringField("Name (e.g. the camera it is for)", filters=[_strip], validators=[
        DataRequired("Name the token, e.g. 'Camera room 3'."), Length(max=100, message="At most 100 characters.")])
    scope = SelectField("Scope", default="read", choices=[
        SelectChoice("read", "read: only reads (dashboards, summaries, your analyses)"),
        SelectChoice("full", "full: everything you may do"),
        SelectChoice("kiosk", "kiosk: records at one exhibit, nothing else (a camera or a kiosk tablet)")])
    exhibit_id = SelectField("Exhibit (kiosk tokens only)", coerce=int, choices=[], validate_choice=False)
    password = PasswordField("Your password (to confirm it is you)", validators=[
        DataRequired("Enter your current password to create a token.")])
