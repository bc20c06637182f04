"""The channels a message can leave on: e-mail (django-anymail), SMS (pluggable backend), letter (PDF).

`base` holds the result and error types every channel uses; `choice` decides the channel for a debtor;
`render` builds a message's text from the template and the allowlisted context.
"""
