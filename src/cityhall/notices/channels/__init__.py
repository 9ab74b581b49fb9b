"""The channels residents are reached on, behind one interface (:mod:`.base`).

``sender(channel)`` returns the configured :class:`~.base.ChannelSender` for
``"email"``, ``"line"``, ``"push"`` or ``"inbox"``; ``available()`` lists the channels
this installation can use (LINE needs its token, web push its VAPID key).
"""
