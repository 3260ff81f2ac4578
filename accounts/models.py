"""People, their connected devices (one Device row per open socket), and the
applications (company backends) that bring their own users."""

import hashlib
import hmac
import secrets

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import MinLengthValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class User(AbstractUser):
    display_name = models.CharField(_("display name"), max_length=100, blank=True)
    # Missed calls newer than this are counted in the header's badge.
    calls_seen_at = models.DateTimeField(_("calls seen at"), null=True, blank=True)
    # A user an application brought (server API or an app-signed token): known to
    # others by `external_id`, seen only by the same application's users.
    application = models.ForeignKey(
        "accounts.Application",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="users",
        verbose_name=_("application"),
    )
    external_id = models.CharField(_("external id"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.UniqueConstraint(
                fields=["application", "external_id"],
                condition=Q(application__isnull=False),
                name="one_user_per_external_id",
            )
        ]

    @property
    def shown_name(self) -> str:
        return self.display_name or self.handle

    @property
    def handle(self) -> str:
        """The name others address this user by: the username, or an application's
        own user id."""
        return self.external_id if self.application_id else self.username


class Device(models.Model):
    """One open socket of a user: a browser tab or a bot. Its presence makes them online."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="devices", verbose_name=_("user")
    )
    device_id = models.CharField(_("device id"), max_length=64, unique=True)
    channel_name = models.CharField(_("channel name"), max_length=255)
    connected_at = models.DateTimeField(_("connected at"))
    last_seen = models.DateTimeField(_("last seen"), db_index=True)

    class Meta:
        verbose_name = _("device")
        verbose_name_plural = _("devices")
        ordering = ["-connected_at"]

    def __str__(self) -> str:
        return f"{self.user.username}/{self.device_id}"


def new_app_id() -> str:
    return "app_" + secrets.token_hex(8)


def new_webhook_secret() -> str:
    return secrets.token_urlsafe(32)


# External user ids (as the app knows its users): also the `handle` others see.
EXTERNAL_ID_PATTERN = r"^[A-Za-z0-9_.@+-]{1,100}$"
# Algorithms an app may sign user tokens with, by the kind of key it registered.
TOKEN_ALGORITHMS = {"ed25519": "EdDSA", "p256": "ES256", "hmac": "HS256"}


def public_key_kind(pem: str) -> str:
    """`ed25519` or `p256` for a PEM public key; ValidationError for anything else."""
    try:
        key = serialization.load_pem_public_key(pem.strip().encode())
    except (ValueError, TypeError):
        raise ValidationError(
            _("Paste a PEM public key (-----BEGIN PUBLIC KEY-----)."),
            code="bad_public_key",
        ) from None
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "ed25519"
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(
        key.curve, ec.SECP256R1
    ):
        return "p256"
    raise ValidationError(
        _("The public key must be Ed25519 or ECDSA P-256."), code="bad_public_key"
    )


def validate_public_key(value: str) -> None:
    if value.strip():
        public_key_kind(value)


class Application(models.Model):
    """A company's backend that drives Parley through the server API (seed 000's
    X-APP-ID / X-APP-Key). Its users are its own: the same user id in two
    applications is two people."""

    app_id = models.CharField(
        _("app id"), max_length=40, unique=True, default=new_app_id
    )
    name = models.CharField(_("name"), max_length=100)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="applications_owned",
        verbose_name=pgettext_lazy("application", "owner"),
    )
    # Only a digest of the API key is kept; the key itself is shown once.
    key_digest = models.CharField(_("API key digest"), max_length=64, editable=False)
    key_hint = models.CharField(_("API key starts with"), max_length=16, editable=False)
    public_key = models.TextField(
        _("public key (PEM)"),
        blank=True,
        validators=[validate_public_key],
        help_text=_(
            "Ed25519 or ECDSA P-256. User tokens the app signs with its private key "
            "(EdDSA or ES256) are accepted."
        ),
    )
    hmac_secret = models.CharField(
        _("HMAC secret"),
        max_length=256,
        blank=True,
        validators=[MinLengthValidator(32)],
        help_text=_(
            "At least 32 characters. User tokens signed HS256 with it are accepted."
        ),
    )
    webhook_url = models.URLField(_("webhook URL"), blank=True)
    webhook_secret = models.CharField(
        _("webhook secret"), max_length=128, default=new_webhook_secret
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.app_id})"

    @staticmethod
    def _digest(key: str) -> str:
        # The key is 256 random bits, so a plain digest is enough (no slow hash needed,
        # and every server API request checks it).
        return hashlib.sha256(key.encode()).hexdigest()

    def set_new_key(self) -> str:
        """Give the application a new API key (the old one stops working); return it."""
        key = "pk_" + secrets.token_urlsafe(32)
        self.key_digest = self._digest(key)
        self.key_hint = key[:8]
        return key

    def key_matches(self, key: str) -> bool:
        return bool(self.key_digest) and hmac.compare_digest(
            self.key_digest, self._digest(key)
        )

    def token_keys(self) -> dict[str, object]:
        """Verification key for each JWT algorithm this app may sign user tokens with."""
        keys: dict[str, object] = {}
        if self.public_key.strip():
            kind = public_key_kind(self.public_key)
            keys[TOKEN_ALGORITHMS[kind]] = serialization.load_pem_public_key(
                self.public_key.strip().encode()
            )
        if self.hmac_secret:
            keys[TOKEN_ALGORITHMS["hmac"]] = self.hmac_secret.encode()
        return keys
