"""`GET /api/crisis-resources`: the crisis lines a help page shows, for anyone, no sign-in.

`?country=XX` puts that country's lines first and the international fallback last; a country
that is not two letters, or not covered, is as if absent (`country` null, the default list).
The answer lists the covered countries for a picker. Nothing about the request is kept: no
log line names the country (the server writes no access log), and the answer is not cached.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from moderation.crisis import CrisisConfig
from moderation.crisis_lines import COUNTRIES, country_code

__all__ = ["crisis_routes"]


def crisis_routes(crisis: CrisisConfig) -> list[Route]:
    """The public crisis-resources route, answering from `crisis`."""

    async def crisis_resources(request: Request) -> Response:
        country = country_code(request.query_params.get("country"))
        body = {
            "country": country,
            "resources": [r.as_wire() for r in crisis.resources_for(country)],
            "countries": [{"code": code, "name": name} for code, name in COUNTRIES],
        }
        return JSONResponse(body, headers={"cache-control": "no-store"})

    return [Route("/api/crisis-resources", crisis_resources)]
