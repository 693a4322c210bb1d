"""The MultiSafepay dialect: the server side of MultiSafepay's Orders API for Sofort (``DIRECTBANK``) at
``/multisafepay/v1/``, so the official ``multisafepay`` SDK works with only its base URL changed."""
