"""Who holds an Open311 `api_key`, and who may read service requests.

GeoReport v2 sends the key as `api_key`, in the query string or the form body; hotline also takes
it in a header, `X-Api-Key: <key>` or `Authorization: Bearer <key>`, and prefers that: query
strings end up in proxies' and servers' logs. A key given in several places must be the same
everywhere (400 otherwise). Any token is a key: a partner's, a dispatcher's or higher, or a unit's
(which reads only its unit's service requests: `central_api.open311.routes`). Keys are checked
against the store on every call, so a revoked one is refused at once.
"""

from __future__ import annotations

from fastapi import Request as HttpRequest
from starlette.datastructures import FormData

from central_api.deps import bearer_token
from central_api.open311.errors import Open311Error
from central_api.store import Store, TokenHolder


def presented_key(request: HttpRequest, form: FormData | None = None) -> str | None:
    """The key the call presents (headers, query string, form body), or None."""
    given = [
        *request.headers.getlist("x-api-key"),
        bearer_token(request),
        *request.query_params.getlist("api_key"),
        *(form.getlist("api_key") if form is not None else ()),
    ]
    keys = {value.strip() for value in given if isinstance(value, str) and value.strip()}
    if len(keys) > 1:
        raise Open311Error(400, "api_key was given more than once, with different values")
    return next(iter(keys), None)


def key_holder(store: Store, request: HttpRequest, form: FormData | None = None) -> TokenHolder | None:
    """Who holds the key presented, None when there is none; Open311Error 403 for an unknown or
    revoked key."""
    key = presented_key(request, form)
    if key is None:
        return None
    holder = store.identify(key)
    if holder is None:
        raise Open311Error(403, "api_key is not valid")
    return holder


def require_key(store: Store, request: HttpRequest, form: FormData | None = None) -> TokenHolder:
    """Who holds the key presented; Open311Error 403 when there is none or it is not valid."""
    holder = key_holder(store, request, form)
    if holder is None:
        raise Open311Error(403, "api_key was not provided")
    return holder


def reader(store: Store, request: HttpRequest) -> TokenHolder | None:
    """Who reads service requests: the key's holder, or None for anyone when reads are public
    (`hotline serve --open311-public`); Open311Error 403 when a key is needed and missing."""
    holder = key_holder(store, request)
    if holder is None and not request.app.state.open311_public:
        raise Open311Error(403, "api_key was not provided")
    return holder
