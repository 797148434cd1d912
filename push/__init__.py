"""Push notifications: devices, the in-app inbox, and a transactional outbox delivered through FCM.

The public face:

- `register_device` / `remove_device` / `remove_all_devices` / `list_devices`: FCM registration tokens per user.
- `notify(session, user_ids=…, kind=…, texts={"vi": Text(…), "en": Text(…)}, report_code=…, data=…)`:
  inbox rows plus one outbox row per device, in the caller's transaction (the caller commits).
- `inbox` / `mark_read` / `unread_count`: the inbox, texts in the reader's language.
- `forget_reports(session, report_codes)`: inbox entries (and their pushes) about erased reports go.
- `deliver_due(sessions, sender, …)`: one worker round (claim with SKIP LOCKED, send, record).
- `sender_for(credentials_path)`: the process's `FcmSender` (firebase-admin, async batch API), or
  None when no credentials are configured (then `deliver_due` retires rows: inbox only).
"""

from push.delivery import DeliveryStats, backoff_s, close_senders, deliver_due, sender_for, skip_all_due
from push.fcm import BATCH_LIMIT, FcmSender, Outcome, OutMessage, classify
from push.models import Device, Notification, OutboxRow
from push.store import (
    InboxItem,
    InboxPage,
    Text,
    forget_reports,
    inbox,
    list_devices,
    mark_read,
    norm_locale,
    notify,
    register_device,
    remove_all_devices,
    remove_device,
    unread_count,
)

__all__ = [
    "BATCH_LIMIT",
    "DeliveryStats",
    "Device",
    "FcmSender",
    "InboxItem",
    "InboxPage",
    "Notification",
    "OutMessage",
    "OutboxRow",
    "Outcome",
    "Text",
    "backoff_s",
    "classify",
    "close_senders",
    "deliver_due",
    "forget_reports",
    "inbox",
    "list_devices",
    "mark_read",
    "norm_locale",
    "notify",
    "register_device",
    "remove_all_devices",
    "remove_device",
    "sender_for",
    "skip_all_due",
    "unread_count",
]
