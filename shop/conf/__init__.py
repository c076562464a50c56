"""Self-contained groups of settings, built by plain functions that shop/settings.py calls.

The settings module reads every environment variable itself (so that one file lists every knob,
and shop/tests/kube.py can check the containers' variables against it) and passes the values in;
these functions only shape them into what Django and the libraries expect.
"""
