"""The secuconnect dialect: the server side of secuconnect's Smart Transactions and Payment Transactions
(OAuth ``client_credentials``, Sofort, the seed's custom checkout ``prepare/sofort``, refunds through
``cancel``, push notifications) at ``/secuconnect``, so pretix-secuconnect's API client and a custom
checkout run against Kasse with only the API host changed."""
