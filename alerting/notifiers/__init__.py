"""Notification channels: one module per channel, all implementing :class:`Notifier`."""

from alerting.notifiers.alertmanager import AlertmanagerNotifier
from alerting.notifiers.base import Notifier
from alerting.notifiers.cap import CapFeedNotifier
from alerting.notifiers.console import ConsoleNotifier
from alerting.notifiers.email import EmailNotifier
from alerting.notifiers.sms import SmsNotifier
from alerting.notifiers.webhook import WebhookNotifier, sign_body

__all__ = [
    "AlertmanagerNotifier",
    "CapFeedNotifier",
    "ConsoleNotifier",
    "EmailNotifier",
    "Notifier",
    "SmsNotifier",
    "WebhookNotifier",
    "sign_body",
]
