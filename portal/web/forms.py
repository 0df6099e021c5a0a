"""WTForms (Flask-WTF: every form carries a CSRF token)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, InputRequired, Length, Optional, Regexp

from portal.accounts.passwords import MAX_PASSWORD, MIN_PASSWORD

USERNAME_RE = r"^[A-Za-z0-9_.-]+$"


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class RegisterForm(FlaskForm):
    username = StringField("Username", filters=[_strip], validators=[
        DataRequired("Choose a username."),
        Length(3, 40, "The username must be 3 to 40 characters long."),
        Regexp(USERNAME_RE, message="Use only letters, digits, dots, dashes and underscores.")])
    email = EmailField("E-mail", filters=[_strip], validators=[
        DataRequired("Enter your e-mail address."),
        Email("Enter a valid e-mail address, like name@example.org.", check_deliverability=False),
        Length(max=254)])
    full_name = StringField("Full name (optional)", filters=[_strip],
                            validators=[Optional(), Length(max=100, message="At most 100 characters.")])
    organisation = StringField("Organisation (optional)", filters=[_strip],
                               validators=[Optional(), Length(max=100, message="At most 100 characters.")])
    password = PasswordField("Password", validators=[
        InputRequired("Choose a password."),
        Length(max=MAX_PASSWORD, message=f"Use at most {MAX_PASSWORD} characters.")],
        description=f"At least {MIN_PASSWORD} characters; not a common password.")
    confirm = PasswordField("Repeat password", validators=[
        InputRequired("Repeat the password."),
        EqualTo("password", "The two passwords do not match.")])


class LoginForm(FlaskForm):
    login = StringField("Username or e-mail", filters=[_strip], validators=[
        DataRequired("Enter your username or e-mail."), Length(max=254)])
    password = PasswordField("Password", validators=[
        InputRequired("Enter your password."), Length(max=MAX_PASSWORD)])
    remember = BooleanField("Remember me on this device")


class AccountForm(FlaskForm):
    full_name = StringField("Full name", filters=[_strip],
                            validators=[Optional(), Length(max=100, message="At most 100 characters.")])
    email = EmailField("E-mail", filters=[_strip], validators=[
        DataRequired("Enter your e-mail address."),
        Email("Enter a valid e-mail address, like name@example.org.", check_deliverability=False),
        Length(max=254)])
    organisation = StringField("Organisation", filters=[_strip],
                               validators=[Optional(), Length(max=100, message="At most 100 characters.")])


class PasswordForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[
        InputRequired("Enter your current password.")])
    new_password = PasswordField("New password", validators=[
        InputRequired("Choose a new password."),
        Length(max=MAX_PASSWORD, message=f"Use at most {MAX_PASSWORD} characters.")],
        description=f"At least {MIN_PASSWORD} characters; not a common password.")
    confirm = PasswordField("Repeat new password", validators=[
        InputRequired("Repeat the new password."),
        EqualTo("new_password", "The two passwords do not match.")])


class DeleteAccountForm(FlaskForm):
    password = PasswordField("Your password", validators=[InputRequired("Enter your password.")])
    confirm = BooleanField("I understand that my account, my history and all my images "
                           "will be deleted for good.",
                           validators=[DataRequired("Tick the box to confirm.")])


class PostForm(FlaskForm):
    """A button-only form (log out, delete a computation): just the CSRF token."""
