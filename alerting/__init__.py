"""alerting stage (DESIGN §2): findings → alert book → notices → channels.

Other stages and the runtimes import only the names below.
"""

from alerting.book import AlertBook
from alerting.dispatch import Dispatcher, Outcome, backoff_s
from alerting.notifiers import ConsoleNotifier, Notifier, WebhookNotifier, sign_body

__all__ = [
    "AlertBook",
    "ConsoleNotifier",
    "Dispatcher",
    "Notifier",
    "Outcome",
    "WebhookNotifier",
    "backoff_s",
    "sign_body",
]
