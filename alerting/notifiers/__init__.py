"""Notification channels: one module per channel, all implementing :class:`Notifier`."""

from alerting.notifiers.base import Notifier
from alerting.notifiers.console import ConsoleNotifier
from alerting.notifiers.webhook import WebhookNotifier, sign_body

__all__ = ["ConsoleNotifier", "Notifier", "WebhookNotifier", "sign_body"]
