"""Deactivation hands a person's apps over, whether provisioning, single sign-on, the
Django admin or a shell switched the account off: the receivers watch ``is_active`` on
every save of a user instead of trusting each path to remember."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver
from django.utils import timezone

from identity.models import DeactivatedVia, Person


@receiver(pre_save, sender=get_user_model())
def remember_active(sender, instance, raw=False, update_fields=None, **kwargs) -> None:
    # A save that cannot change is_active (the sign-in's last_login, say) costs no query.
    unchanged = update_fields is not None and "is_active" not in update_fields
    if raw or instance.pk is None or unchanged:
        instance._appkeeper_was_active = instance.is_active
        return
    was = sender.objects.filter(pk=instance.pk).values_list("is_active", flat=True).first()
    instance._appkeeper_was_active = instance.is_active if was is None else was


@receiver(post_save, sender=get_user_model())
def hand_over_on_deactivation(sender, instance, created=False, raw=False, **kwargs) -> None:
    if raw or created:
        return
    was_active = getattr(instance, "_appkeeper_was_active", instance.is_active)
    if was_active == instance.is_active:
        return
    # Imported here: catalog's models import nothing of identity, and signals load early.
    from catalog.ownership import hand_over

    person, _ = Person.objects.get_or_create(user=instance)
    if instance.is_active:
        person.deactivated_at = None
        person.deactivated_via = ""
        person.save(update_fields=["deactivated_at", "deactivated_via", "updated_at"])
        return
    # Popped: a later save of the same object (reactivated, then switched off in the
    # admin) must not be credited to this deactivation's actor and channel.
    actor, via = instance.__dict__.pop("_appkeeper_deactivation", (None, DeactivatedVia.ADMIN))
    person.deactivated_at = timezone.now()
    person.deactivated_via = via
    person.save(update_fields=["deactivated_at", "deactivated_via", "updated_at"])
    hand_over(instance, actor=actor, via=via)
    instance._appkeeper_was_active = instance.is_active
