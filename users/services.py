"""Every write on accounts goes through one of these functions."""

import logging
from importlib import import_module

from django.conf import settings
from django.contrib.sessions.models import Session
from django.utils import timezone

logger = logging.getLogger(__name__)


def session_cleanup() -> int:
    """Delete expired sessions; return how many were removed."""
    engine = import_module(settings.SESSION_ENGINE)
    before = Session.objects.filter(expire_date__lt=timezone.now()).count()
    engine.SessionStore.clear_expired()
    logger.info("session cleanup removed %d expired sessions", before)
    return before
