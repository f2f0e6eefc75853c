"""A small HTTP(S) client for the attack checks: http.client, cookies, CSRF tokens.

Deliberately not a browser and not the Django test client: the checks see exactly what a
hostile client on the network sees, headers and all, through gunicorn.
"""

from __future__ import annotations

import http.client
import json
import re
import ssl
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self):
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def header(self, name: str) -> str:
        return self.headers.get(name, "") or ""


@dataclass
class Client:
    """One caller: a base URL, optional API token, and a cookie jar for a session."""

    base: str
    cafile: str | None = None
    token: str | None = None
    cookies: dict[str, str] = field(default_factory=dict)
    timeout: float = 30.0

    def _connection(self) -> http.client.HTTPConnection:
        parts = urlsplit(self.base)
        if parts.scheme == "https":
            context = ssl.create_default_context(cafile=self.cafile)
            context.check_hostname = False  # a self-signed certificate for 127.0.0.1
            return http.client.HTTPSConnection(
                parts.hostname, parts.port, timeout=self.timeout, context=context
            )
        return http.client.HTTPConnection(parts.hostname, parts.port, timeout=self.timeout)

    def request(
        self,
        method: str,
        path: str,
        body: bytes | str | dict | None = None,
        *,
        content_type: str | None = None,
        headers: dict[str, str] | None = None,
        token: bool = True,
        form: bool = False,
    ) -> Answer:
        sent = {"Host": urlsplit(self.base).netloc, "Accept": "*/*"}
        if isinstance(body, dict):
            if form:
                body, content_type = (
                    urlencode(body, doseq=True),
                    ("application/x-www-form-urlencoded"),
                )
            else:
                body, content_type = json.dumps(body), content_type or "application/json"
        if isinstance(body, str):
            body = body.encode()
        if content_type:
            sent["Content-Type"] = content_type
        if token and self.token:
            sent["Authorization"] = f"Token {self.token}"
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if method == "POST" and self.cookies and "Referer" not in (headers or {}):
            # Django's CSRF check under HTTPS also wants a same-origin Referer, as a browser
            # sends it; the CSRF checks remove it on purpose.
            sent["Referer"] = self.base + "/"
        sent.update(headers or {})
        connection = self._connection()
        try:
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            answer = Answer(response.status, response.headers, response.read())
        finally:
            connection.close()
        for value in answer.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(value)
            for name, morsel in cookie.items():
                self.cookies[name] = morsel.value
        return answer

    def declare(self, path: str, length: int, content_type: str = "application/json") -> Answer:
        """POST a body that declares ``length`` bytes and send only its first 64 KB: the
        server must answer from the declared length, before reading the body."""
        connection = self._connection()
        try:
            connection.putrequest("POST", path, skip_host=True, skip_accept_encoding=True)
            connection.putheader("Host", urlsplit(self.base).netloc)
            connection.putheader("Content-Type", content_type)
            connection.putheader("Content-Length", str(length))
            if self.token:
                connection.putheader("Authorization", f"Token {self.token}")
            connection.endheaders(b"[" + b" " * 65_535)
            response = connection.getresponse()
            return Answer(response.status, response.headers, response.read())
        finally:
            connection.close()

    def get(self, path: str, **kwargs) -> Answer:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, body=None, **kwargs) -> Answer:
        return self.request("POST", path, body, **kwargs)

    @property
    def csrf(self) -> str:
        return self.cookies.get("csrftoken", "")

    def sign_in(self, username: str, password: str) -> Answer:
        """Sign in through the login form, as a browser does (CSRF cookie first)."""
        page = self.get("/login/", token=False)
        token = _form_token(page.text) or self.csrf
        return self.post(
            "/login/",
            {"username": username, "password": password, "csrfmiddlewaretoken": token},
            form=True,
            token=False,
        )

    def form_post(self, path: str, fields: dict, *, with_token: bool = True, **kwargs) -> Answer:
        body = dict(fields)
        if with_token:
            body["csrfmiddlewaretoken"] = self.csrf
        return self.post(path, body, form=True, token=False, **kwargs)


def _form_token(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    return match.group(1) if match else ""
