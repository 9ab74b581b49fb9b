"""A real OpenID provider for tests, built on django-oauth-toolkit (test-only).

It plays the デジタル認証アプリ on loopback: authorization code flow with PKCE
required (``S256`` only), RS256 ID tokens, the custom scopes ``name``,
``address``, ``birthdate`` and ``gender`` answered from UserInfo for synthetic
test people, an ``acr`` claim, RFC 9207 ``iss`` in the authorization response,
and client authentication by ``private_key_jwt`` only (RFC 7523), which
django-oauth-toolkit does not offer, so :mod:`.validator` adds it.

:mod:`.serve` is the process: it binds a free 127.0.0.1 port, creates its own
SQLite database from the JSON configuration named by ``OIDC_TEST_PROVIDER_CONFIG``,
prints ``READY <port>`` and serves. :mod:`.harness` starts and stops it for pytest.
"""
