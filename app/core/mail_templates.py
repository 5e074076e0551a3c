"""The mails' texts: a subject, a plain-text part and an HTML part per kind, as
`string.Template`s. The plain-text part always has the token alone on a `Token: ` line,
for clients (and tests) that read it from there."""

from string import Template

RESET = "password_reset"
VERIFY = "verify_email"

SUBJECTS = {
    RESET: "Reset your password",
    VERIFY: "Confirm your email address",
}

TEXTS = {
    RESET: Template(
        "Someone asked to reset the password of the account with this email address.\n"
        "If it was you, send this token with your new password to\n"
        "POST /auth/password-reset/confirm within $minutes minutes:\n"
        "\n"
        "Token: $token\n"
        "\n"
        "If it was not you, ignore this mail: your password stays as it is.\n"
    ),
    VERIFY: Template(
        "Confirm that this email address is yours: send this token to POST /auth/verify\n"
        "within $minutes minutes:\n"
        "\n"
        "Token: $token\n"
        "\n"
        "If you did not sign up, ignore this mail.\n"
    ),
}

HTMLS = {
    RESET: Template(
        "<p>Someone asked to reset the password of the account with this email address.</p>"
        "<p>If it was you, send this token with your new password to "
        "<code>POST /auth/password-reset/confirm</code> within $minutes minutes:</p>"
        "<p><code>$token</code></p>"
        "<p>If it was not you, ignore this mail: your password stays as it is.</p>"
    ),
    VERIFY: Template(
        "<p>Confirm that this email address is yours: send this token to "
        "<code>POST /auth/verify</code> within $minutes minutes:</p>"
        "<p><code>$token</code></p>"
        "<p>If you did not sign up, ignore this mail.</p>"
    ),
}
