"""The Celery application. Settings come from Django's settings under the CELERY_ prefix.

Worker-side wiring (issue 8): django-structlog's boot step (task logs carry the request id of the
request that sent them) and the recovery of pending work each time a worker's consumer connects to
the broker (shop.recovery.RecoveryStep). Task-outcome metrics are connected by ShopConfig.ready.
"""
import os

from celery import Celery, signals
from django_structlog.celery.steps import DjangoStructLogInitStep

from shop.recovery import RecoveryStep

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")

app = Celery("shop")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.steps["worker"].add(DjangoStructLogInitStep)
app.steps["consumer"].add(RecoveryStep)


@signals.worker_init.connect
def _worker_init(**kwargs) -> None:
    from django.apps import apps

    # DjangoStructLogInitStep connects the publish receivers again (the django_structlog app did
    # already): keep one pair, or every task a task sends is logged twice.
    receiver = getattr(apps.get_app_config("django_structlog"), "_celery_receiver", None)
    if receiver is not None:
        signals.before_task_publish.disconnect(receiver.receiver_before_task_publish)
        signals.after_task_publish.disconnect(receiver.receiver_after_task_publish)


@signals.setup_logging.connect
def _use_django_logging(**kwargs) -> None:
    """Keep Django's LOGGING (JSON lines in production) instead of Celery's own log format."""
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)
