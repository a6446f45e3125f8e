"""Security headers on every answer: what a page may load and run, who may frame it, what
a browser may guess, and (over https) that it should come back over https.

Pages run only the scripts and styles in /static: no inline script, handler or style
attribute. A page that must carry its own inline block (the badge sheet, which the CLI
also writes as a standalone file) takes csp_nonce() and that answer allows the nonce.
"""

from __future__ import annotations

import secrets

from flask import Flask, Response, g, request

POLICY = ("default-src 'self'; script-src 'self'{nonce}; style-src 'self'{nonce}; img-src 'self'; "
          "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
WITHOUT_NONCE = POLICY.format(nonce="")   # every answer but the badge sheet: made once
FIXED = {
    "X-Frame-Options": "DENY",                # frame-ancestors for browsers without CSP 2
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",         # the join page sets no-referrer for its token
}
HSTS = "max-age=31536000"                     # a year; no subdomains: a laptop has none


def init_app(app: Flask) -> None:
    app.after_request(add_headers)


def csp_nonce() -> str:
    """This answer's nonce, made only when a page asks for one."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def add_headers(response: Response) -> Response:
    policy = POLICY.format(nonce=f" 'nonce-{g.csp_nonce}'") if "csp_nonce" in g else WITHOUT_NONCE
    response.headers.setdefault("Content-Security-Policy", policy)
    for name, value in FIXED.items():
        response.headers.setdefault(name, value)
    if request.is_secure:   # serve --tls: waitress behind the front says https
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response
