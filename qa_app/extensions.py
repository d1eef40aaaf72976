"""Flask extensions created once, initialised in create_app()."""

from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
