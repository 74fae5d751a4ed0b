"""The console's knobs, in one validated, frozen object that `create_app` takes.

Tests and the benchmark vary them through it (a short idle timeout, cheap password hashes), never
by patching module globals.
"""

from __future__ import annotations

import secrets
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Language = Literal["it", "en"]
LANGUAGES: tuple[Language, ...] = ("it", "en")


class ConsoleSettings(BaseModel):
    """How the console signs sessions, times them out, throttles sign-ins and speaks.

    ``secret_key`` signs the session cookies; left empty, a random one is drawn when the app is
    created, so sessions end when the server restarts. ``https`` marks cookies Secure (and
    ``__Host-``) and sends HSTS: set it when the console is served behind an HTTPS proxy.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    secret_key: str = Field("", repr=False, description="signs the session cookie")
    https: bool = Field(False, description="served behind HTTPS: Secure cookies and HSTS")
    idle_minutes: float = Field(30.0, gt=0, le=24 * 60, description="sign-out after idling")
    session_hours: float = Field(12.0, gt=0, le=7 * 24, description="longest session")
    account_attempts: int = Field(5, ge=1, le=1000, description="failed sign-ins per account")
    client_attempts: int = Field(20, ge=1, le=10_000, description="failed sign-ins per client")
    throttle_minutes: float = Field(15.0, gt=0, le=24 * 60, description="throttling window")
    default_language: Language = Field("it", description="when the browser asks for neither")
    timezone: str = Field("Europe/Rome", description="the zone audit times are shown in")
    hash_time_cost: int = Field(3, ge=1, le=20, description="argon2 passes for new hashes")
    hash_memory_kib: int = Field(65536, ge=32, le=4 * 1024 * 1024, description="argon2 memory")
    page_rows: int = Field(100, ge=5, le=10_000, description="rows a long list shows at once")
    upload_megabytes: float = Field(20.0, gt=0, le=500, description="largest uploaded file")

    def signing_key(self) -> str:
        """The key that signs cookies: the one given, or a fresh random one."""
        return self.secret_key or secrets.token_urlsafe(48)
