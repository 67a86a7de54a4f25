"""The CLI's side of the REST API: one small httpx client and the two ways a call fails.

`ApiError` is an answer from Lucid Mesh (it carries the LUCID code and details from the
JSON error body); `Unreachable` means no Lucid Mesh answered at all, which deserves a
different message ("is `lucid serve` running?") and a different exit code. The token is
sent only with writes, and only in the Authorization header.
"""

from __future__ import annotations

from typing import Any

import httpx

DEFAULT_SERVER = "http://127.0.0.1:18080"
TIMEOUT = httpx.Timeout(30.0, connect=5.0)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, details: dict[str, Any]) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details

    @classmethod
    def from_response(cls, response: httpx.Response) -> ApiError:
        try:
            error = response.json()["error"]
            return cls(
                response.status_code,
                str(error["code"]),
                str(error["message"]),
                dict(error.get("details") or {}),
            )
        except (ValueError, KeyError, TypeError):
            text = response.text.strip().splitlines()[0][:200] if response.text.strip() else ""
            return cls(
                response.status_code,
                f"HTTP {response.status_code}",
                text or response.reason_phrase,
                {},
            )


class Unreachable(Exception):
    def __init__(self, server: str, reason: str) -> None:
        super().__init__(f"cannot reach {server}: {reason}")
        self.server = server
        self.reason = reason


class ApiClient:
    def __init__(
        self, server: str, *, token: str | None = None, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.server = server.rstrip("/")
        self._token = token
        self._http = httpx.Client(base_url=self.server, timeout=TIMEOUT, transport=transport)

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._http.close()

    def get(self, path: str, *, params: dict[str, str] | None = None) -> Any:
        return self._call("GET", path, params=params)

    def write(self, method: str, path: str, body: Any) -> Any:
        headers = {"Authorization": f"Bearer {self._token}"} if self._token else {}
        return self._call(method, path, json=body, headers=headers)

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.ConnectError as exc:
            raise Unreachable(self.server, "connection refused") from exc
        except httpx.TimeoutException as exc:
            raise Unreachable(self.server, "timed out") from exc
        except httpx.HTTPError as exc:
            raise Unreachable(self.server, type(exc).__name__) from exc
        if response.is_success:
            try:
                return response.json()
            except ValueError as exc:
                raise Unreachable(self.server, "the answer is not JSON (not Lucid Mesh?)") from exc
        raise ApiError.from_response(response)
