"""A django-oscar 4.2 shop holding the Luma catalogue, for benchmarks/peer_oscar.py (see settings.py)."""
