"""Finding a buyer's client at FACTURAgem, or creating it.

FACTURAgem's API has no search: a client is found by reading the account's clients page by
page until an empty page ([DOC]). A buyer is the same client when:

- the buyer has a tax id (NIF/CIF, VAT number): a client with that tax id (compared without
  spaces, dots, dashes and case);
- otherwise: a client without a tax id and with the buyer's e-mail (case-insensitive) -- a
  person who once bought for a company is not that company.

If list entries do not carry a client's tax id and e-mail (the docs call them summaries and
do not say what they hold), each is read in full. Existing clients are never changed.

Two workers may create one new buyer's client at the same time; within a process a lock per
buyer prevents it, across processes it can happen -- which is why ``find_all`` returns every
matching client and ``find_invoice`` looks through the invoices of each.
"""

from __future__ import annotations

import re
import threading
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from bridge.errors import UpstreamBadResponse
from bridge.upstreams.facturagem import assumptions
from bridge.upstreams.facturagem.answers import failure, json_body, resource_id
from bridge.upstreams.facturagem.api import FacturagemApi

_NIF_NOISE = re.compile(r"[\s.\-/]")
#: one lock per buyer would grow without bound; 64 striped locks keep a buyer's find-or-create
#: to one thread at a time at a fixed cost
_LOCKS = [threading.Lock() for _ in range(64)]


def normalise_nif(value: object) -> str:
    return _NIF_NOISE.sub("", value).upper() if isinstance(value, str) else ""


@dataclass(frozen=True)
class ClientIdentity:
    nif: str
    email: str

    @classmethod
    def of(cls, client: Mapping[str, Any]) -> ClientIdentity:
        email = client.get(assumptions.CLIENT_EMAIL)
        return cls(normalise_nif(client.get(assumptions.CLIENT_NIF)),
                   email.strip().lower() if isinstance(email, str) else "")

    def matches(self, client: Mapping[str, Any]) -> bool:
        other = ClientIdentity.of(client)
        if self.nif:
            return other.nif == self.nif
        return not other.nif and bool(self.email) and other.email == self.email

    def lock(self) -> threading.Lock:
        return _LOCKS[zlib.crc32(f"{self.nif}|{self.email}".encode()) % len(_LOCKS)]


class Clients:
    def __init__(self, api: FacturagemApi) -> None:
        self.api = api

    def find_or_create(self, fields: Mapping[str, Any]) -> str:
        """The id of the buyer's client: the first that matches, or a new one."""
        identity = ClientIdentity.of(fields)
        with identity.lock():
            for client_id in self._matching(identity):
                return client_id
            return self._create(fields)

    def find_all(self, fields: Mapping[str, Any]) -> list[str]:
        """The ids of every client that is this buyer (all pages read)."""
        return list(self._matching(ClientIdentity.of(fields)))

    def _matching(self, identity: ClientIdentity) -> Iterator[str]:
        if not (identity.nif or identity.email):
            return  # nothing to know the buyer by (mapping requires an e-mail)
        for summary in self.api.pages(self.api.path(assumptions.CLIENTS_PATH)):
            client_id = resource_id(summary)
            if client_id is None:
                raise UpstreamBadResponse("a client in the list has no usable id")
            client = summary if _identifies(summary) else self._client(client_id)
            if identity.matches(client):
                yield client_id

    def _client(self, client_id: str) -> Mapping[str, Any]:
        client = assumptions.unwrap(
            self.api.get(self.api.path(assumptions.CLIENT_PATH, client=client_id)),
            assumptions.CLIENT_ROOT)
        if not isinstance(client, Mapping):
            raise UpstreamBadResponse(f"client {client_id} is not a JSON object")
        return client

    def _create(self, fields: Mapping[str, Any]) -> str:
        response = self.api.request("POST", self.api.path(assumptions.CLIENTS_PATH),
                                    body={assumptions.CLIENT_ROOT: dict(fields)}, changes=True)
        created = resource_id(assumptions.unwrap(json_body(response), assumptions.CLIENT_ROOT))
        if response.status_code == assumptions.SUCCESS_STATUS and created is not None:
            return created
        raise failure(response, changes=True, doing="creating the client")


def _identifies(summary: Mapping[str, Any]) -> bool:
    """The list entry says who the client is (its tax id and e-mail members are there)."""
    return assumptions.CLIENT_NIF in summary and assumptions.CLIENT_EMAIL in summary
