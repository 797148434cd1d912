"""Fakes and stand-ins of outside services, never of our own code: the database server, FCM and its
OAuth endpoint, the push worker process, this machine's sockets. Test data: tests/factories/."""
