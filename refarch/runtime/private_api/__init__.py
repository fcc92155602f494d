"""The default service of PrivateApi's instances: a small HTTP service, standard library only.

``service.py`` is copied verbatim into the instances' user data; it must run on the stock
Python 3 of Amazon Linux 2023 with no packages installed.
"""
