"""Use cases of the people app. Every state change goes through these functions.

- :mod:`.accounts` — residents: sign-up, e-mail verification, profile, consents.
- :mod:`.staff` — staff, departments and roles; audited reads of residents' data.
- :mod:`.identity` — OpenID Connect (デジタル認証アプリ) login and verified identity.
"""
