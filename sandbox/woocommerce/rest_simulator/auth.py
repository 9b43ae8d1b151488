"""Authentication as ``WC_REST_Authentication::authenticate`` does it
(class-wc-rest-authentication.php): Basic auth or ``consumer_key``/``consumer_secret`` query
parameters over HTTPS, then one-legged OAuth 1.0a; and, for the request log, the credentials
a client claimed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, unquote_plus

from flask import request

from sandbox.woocommerce.rest_simulator.php import rawurlencode
from sandbox.woocommerce.rest_simulator.responses import WpError, auth_error
from sandbox.woocommerce.rest_simulator.state import ApiKey, RestSimulatorState

_OAUTH_PARAMS = ("oauth_consumer_key", "oauth_timestamp", "oauth_nonce", "oauth_signature",
                 "oauth_signature_method")
_OAUTH_HASHES = {"HMAC-SHA1": hashlib.sha1, "HMAC-SHA256": hashlib.sha256}
_OAUTH_WINDOW = 15 * 60
_OAUTH_HEADER = re.compile(r'(oauth_[a-z_-]*)=(:?"([^"]*)"|([^,]*))')


@dataclass
class AuthResult:
    """Who the request runs as (None: a visitor) and the error authentication set."""

    user: ApiKey | None = None
    error: WpError | None = None


class Authenticator:
    """One request's pass through ``WC_REST_Authentication::authenticate``."""

    def __init__(self, state: RestSimulatorState, query: dict[str, Any]) -> None:
        self.state = state
        self.query = query
        self.result = AuthResult()

    def run(self) -> AuthResult:
        if self.state.ssl:
            user = self._basic()
            if user is not None:
                self.result.user = user
                return self.result
        self._oauth()
        return self.result

    def _set_error(self, error: WpError) -> None:
        # set_error() also forgets the user
        self.result.user = None
        self.result.error = error

    def _basic(self) -> ApiKey | None:
        key, secret = self.query.get("consumer_key"), self.query.get("consumer_secret")
        if not (isinstance(key, str) and key and isinstance(secret, str) and secret):
            key, secret = _basic_credentials()
        if not key or not secret:
            return None
        found = self.state.keys.get(key.strip())
        if found is None:
            return None  # no error: the request goes on as a visitor
        if not hmac.compare_digest(found.consumer_secret.encode(), secret.encode()):
            self._set_error(auth_error("Consumer secret is invalid."))
            return None
        return found

    def _oauth(self) -> None:
        params = self._oauth_parameters()
        if not params:
            return
        found = self.state.keys.get(str(params["oauth_consumer_key"]).strip())
        if found is None:
            self._set_error(auth_error("Consumer key is invalid."))
            return
        error = self._check_signature(found, params) or self._check_nonce(found, params)
        if error is not None:
            self._set_error(error)
            return
        self.result.user = found

    def _oauth_parameters(self) -> dict[str, Any]:
        params = dict(self.query)
        header = (request.headers.get("Authorization") or "").strip()
        if header.startswith("OAuth "):
            for name, _, quoted, bare in _OAUTH_HEADER.findall(header):
                params[name] = unquote_plus(quoted or bare)
        missing = [name for name in _OAUTH_PARAMS if params.get(name) in (None, "", "0")]
        if len(missing) == len(_OAUTH_PARAMS):
            return {}  # not even trying OAuth
        if missing:
            noun = "parameter" if len(missing) == 1 else "parameters"
            self._set_error(WpError("woocommerce_rest_authentication_missing_parameter",
                                    f"Missing OAuth {noun} {', '.join(missing)}", 401))
            return {}
        return params

    def _check_signature(self, key: ApiKey, params: dict[str, Any]) -> WpError | None:
        provided = unquote(str(params.pop("oauth_signature")).replace(" ", "+"))
        ordered = dict(sorted(params.items(), key=lambda item: str(item[0]).encode()))
        normalized = {rawurlencode(str(k)): _encode_value(v) for k, v in ordered.items()}
        query = "%26".join(_join_with_equals_sign(normalized))
        base = f"{request.method.upper()}&{rawurlencode(self._signed_url())}&{query}"
        method = normalized.get("oauth_signature_method")
        if method not in _OAUTH_HASHES:
            return auth_error("Invalid signature - signature method is invalid.")
        digest = hmac.new(f"{key.consumer_secret}&".encode(), base.encode(),
                          _OAUTH_HASHES[method]).digest()
        expected = base64.b64encode(digest).decode("ascii")
        if not hmac.compare_digest(expected.encode(), provided.encode()):
            return auth_error("Invalid signature - provided signature does not match.")
        return None

    def _signed_url(self) -> str:
        """``get_home_url( null, $request_path, is_ssl() ? 'https' : 'http' )``: the raw
        request path minus the home path, appended to the home URL."""
        raw_uri = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or "/"
        path = raw_uri.split("?", 1)[0]
        path = path[1:] if path.startswith("/") else path
        home = self.state.home_url or request.host_url.rstrip("/")
        home = re.sub(r"^https?://", "https://" if self.state.ssl else "http://", home)
        return f"{home}/{path}" if path else home

    def _check_nonce(self, key: ApiKey, params: dict[str, Any]) -> WpError | None:
        now = self.state.clock()
        try:
            timestamp = int(float(str(params["oauth_timestamp"])))
        except ValueError:
            return auth_error("Invalid timestamp.")
        if timestamp < now - _OAUTH_WINDOW or timestamp > now + _OAUTH_WINDOW:
            return auth_error("Invalid timestamp.")
        nonce = str(params["oauth_nonce"])
        with self.state.lock:
            if nonce in key.nonces.values():
                return auth_error("Invalid nonce - nonce has already been used.")
            key.nonces[timestamp] = nonce  # keyed by timestamp: the real store does that too
            for old in [ts for ts in key.nonces if ts < now - _OAUTH_WINDOW]:
                del key.nonces[old]
        return None


def _basic_credentials() -> tuple[str, str]:
    credentials = request.authorization
    if credentials is None or credentials.type != "basic":
        return "", ""
    return credentials.username or "", credentials.password or ""


def claimed_credentials(query: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(how the client tried to authenticate, the consumer key it named), for the log --
    whether or not the shop looked at it."""
    header = request.headers.get("Authorization") or ""
    if "oauth_signature" in query or header.strip().startswith("OAuth "):
        match = re.search(r'oauth_consumer_key="?([^",]*)', header)
        key = query.get("oauth_consumer_key") or (unquote_plus(match.group(1)) if match else None)
        return "oauth", str(key) if key is not None else None
    if "consumer_key" in query:
        return "query", str(query["consumer_key"])
    key, _ = _basic_credentials()
    return ("basic", key) if key else (None, None)


def _encode_value(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _encode_value(v) for k, v in value.items()}
    return rawurlencode(str(value))


def _join_with_equals_sign(params: Mapping[Any, Any], prefix: str = "") -> list[str]:
    """WC_REST_Authentication::join_with_equals_sign: arrays become ``key%5Bsub%5D``."""
    joined: list[str] = []
    for key, value in params.items():
        name = f"{prefix}%5B{key}%5D" if prefix else str(key)
        if isinstance(value, dict):
            joined.extend(_join_with_equals_sign(value, name))
        else:
            joined.append(rawurlencode(f"{name}={value}"))
    return joined
