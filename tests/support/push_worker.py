"""`phananh worker` in a subprocess, with firebase-admin's FCM URL pointed at a fake (FAKE_FCM_URL).

Only the endpoint is changed; everything else is the real worker and the real firebase-admin code.
"""

from __future__ import annotations

import os
import sys

from firebase_admin import messaging

messaging._MessagingService.FCM_URL = os.environ["FAKE_FCM_URL"]

from api.run.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["worker"]))
