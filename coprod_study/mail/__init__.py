"""Reply by e-mail: signed reply addresses, reading inbound mail, the mail-in server."""
