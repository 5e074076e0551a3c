"""The one normalisation of email addresses, used by sign-up, login, PATCH, the list
filter and `createsuperuser` alike (Django's `UserManager.normalize_email`, stricter)."""

import unicodedata

from pydantic.networks import validate_email


def normalize_email(value: str) -> str:
    """The stored form of an address: what pydantic's `EmailStr` makes of it (`Name <addr>`
    forms unwrapped, Unicode in NFC, IDNA `xn--` domains decoded), lower-cased.
    Raises ValueError when it is not an email address."""
    return validate_email(value)[1].lower()


def email_search_text(value: str) -> str:
    """A filter's substring in the stored form: a whole address is normalised as above,
    a fragment is put in NFC and lower-cased."""
    try:
        return normalize_email(value)
    except ValueError:
        return unicodedata.normalize("NFC", value).lower()
