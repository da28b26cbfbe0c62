"""alerting stage (DESIGN §2, §5): findings → alert book → groups → routing → journal → channels.

Other stages and the runtimes import only the names below. The policy is
:func:`alerting.pipeline.build_pipeline`; the journal-first shell around it is
:class:`alerting.service.AlertingService`.
"""

from alerting.acklinks import AckLinks
from alerting.book import AlertBook, BookPolicy
from alerting.dispatch import Dispatcher, Outcome, backoff_s
from alerting.drill import DrillPolicy
from alerting.flapping import FlapPolicy
from alerting.grader import PolicyGrader
from alerting.grouping import GroupPolicy
from alerting.inhibition import InhibitRule
from alerting.journal import Journal
from alerting.model import Delivery, Step, SuppressedReason
from alerting.notifiers import (
    AlertmanagerNotifier,
    CapFeedNotifier,
    ConsoleNotifier,
    EmailNotifier,
    Notifier,
    SmsNotifier,
    WebhookNotifier,
    sign_body,
)
from alerting.pipeline import AckResult, AlertPipeline, PipelineConfig, build_pipeline
from alerting.routing import Audience, ChannelSpec, Officer, Roster, Route, Shift
from alerting.service import AlertingService, DispatchOptions
from alerting.silences import Silence

__all__ = [
    "AckLinks",
    "AckResult",
    "AlertBook",
    "AlertPipeline",
    "AlertingService",
    "AlertmanagerNotifier",
    "Audience",
    "BookPolicy",
    "CapFeedNotifier",
    "ChannelSpec",
    "ConsoleNotifier",
    "Delivery",
    "DispatchOptions",
    "Dispatcher",
    "DrillPolicy",
    "EmailNotifier",
    "FlapPolicy",
    "GroupPolicy",
    "InhibitRule",
    "Journal",
    "Notifier",
    "Officer",
    "Outcome",
    "PipelineConfig",
    "PolicyGrader",
    "Roster",
    "Route",
    "Shift",
    "Silence",
    "SmsNotifier",
    "Step",
    "SuppressedReason",
    "WebhookNotifier",
    "backoff_s",
    "build_pipeline",
    "sign_body",
]
