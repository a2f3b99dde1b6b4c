"""Crisis lines by country: who a member can reach right now, wherever they are.

The table is data. Each line names its country (ISO 3166-1 alpha-2), the line's own name, the
number to dial (`contact`: digits and spaces only, so a client can make it a `tel:` link), the
organisation's page for the member (`url`), and `source`: the organisation's own page the entry
was checked against. An entry without a source is refused by the tests; docs/operations.md says
how to add a country. Names are the organisations' own (in the country's language), so a member
reads them as they will hear them on the phone.

Order within a country matters: the crisis line first, then the emergency number. Every list a
member is shown ends with `INTERNATIONAL`, the same for every country (the contract's
"international fallback is the last entry").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "COUNTRIES",
    "COUNTRY_LINES",
    "DEFAULT_RESOURCES",
    "INTERNATIONAL",
    "Resource",
    "country_code",
    "lines_for",
]


@dataclass(frozen=True, slots=True)
class Resource:
    """A place to get help: shown to the author, never to the room. `country` None: for anyone,
    anywhere. `source` is where a built-in entry was checked (never sent to clients)."""

    name: str
    contact: str
    url: str | None = None
    country: str | None = None
    source: str | None = None

    def as_wire(self) -> dict[str, str | None]:
        """The resource as `support` frames and `/api/crisis-resources` carry it."""
        return {"name": self.name, "contact": self.contact, "url": self.url,
                "country": self.country}  # fmt: skip


_EU_112 = "https://digital-strategy.ec.europa.eu/en/policies/112"

# Checked against each `source` page; re-check a country's lines when you touch them.
COUNTRY_LINES: tuple[Resource, ...] = (
    Resource("988 Suicide & Crisis Lifeline", "988", "https://988lifeline.org", "US",
             "https://988lifeline.org/"),
    Resource("Emergency services", "911", "https://www.911.gov", "US", "https://www.911.gov/"),
    Resource("9-8-8: Suicide Crisis Helpline", "988", "https://988.ca", "CA", "https://988.ca/"),
    Resource("Emergency services", "911", "https://crtc.gc.ca/eng/phone/911/can.htm", "CA",
             "https://crtc.gc.ca/eng/phone/911/can.htm"),
    Resource("Samaritans", "116 123", "https://www.samaritans.org", "GB",
             "https://www.samaritans.org/how-we-can-help/contact-samaritan/"),
    Resource("Emergency services", "999",
             "https://www.nhs.uk/nhs-services/urgent-and-emergency-care-services/when-to-call-999/",
             "GB",
             "https://www.nhs.uk/nhs-services/urgent-and-emergency-care-services/when-to-call-999/"),
    Resource("Samaritans Ireland", "116 123", "https://www.samaritans.org/ireland/", "IE",
             "https://www.samaritans.org/ireland/how-we-can-help/contact-samaritan/"),
    Resource("Emergency services", "112", _EU_112, "IE", _EU_112),
    Resource("Lifeline Australia", "13 11 14", "https://www.lifeline.org.au", "AU",
             "https://www.lifeline.org.au/"),
    Resource("Triple Zero", "000", "https://www.triplezero.gov.au", "AU",
             "https://www.triplezero.gov.au/"),
    Resource("1737, Need to talk?", "1737", "https://1737.org.nz", "NZ", "https://1737.org.nz/"),
    Resource("Emergency services", "111",
             "https://www.govt.nz/browse/crime-and-justice/crimes-and-emergencies/111-emergency-service/",
             "NZ",
             "https://www.govt.nz/browse/crime-and-justice/crimes-and-emergencies/111-emergency-service/"),
    Resource("Tele-MANAS", "14416", "https://telemanas.mohfw.gov.in", "IN",
             "https://telemanas.mohfw.gov.in/"),
    Resource("Emergency Response Support System", "112", "https://112.gov.in", "IN",
             "https://112.gov.in/"),
    Resource("TelefonSeelsorge", "0800 111 0 111", "https://www.telefonseelsorge.de", "DE",
             "https://www.telefonseelsorge.de/"),
    Resource("TelefonSeelsorge", "0800 111 0 222", "https://www.telefonseelsorge.de", "DE",
             "https://www.telefonseelsorge.de/"),
    Resource("Notruf", "112", _EU_112, "DE", _EU_112),
    Resource("3114, numéro national de prévention du suicide", "3114", "https://3114.fr", "FR",
             "https://3114.fr/"),
    Resource("Urgences", "112", _EU_112, "FR", _EU_112),
    Resource("Línea 024 de atención a la conducta suicida", "024",
             "https://www.sanidad.gob.es/linea024/", "ES", "https://www.sanidad.gob.es/linea024/"),
    Resource("Emergencias", "112", _EU_112, "ES", _EU_112),
    Resource("Línea de la Vida", "800 911 2000", "https://www.gob.mx/conasama", "MX",
             "https://www.gob.mx/conasama"),
    Resource("Emergencias", "911", "https://www.gob.mx/sesnsp", "MX",
             "https://www.gob.mx/sesnsp"),
)  # fmt: skip

# The last entry of every list: the same for every country.
INTERNATIONAL = Resource(
    "Find A Helpline", "https://findahelpline.com", "https://findahelpline.com", None,
    "https://findahelpline.com/",
)  # fmt: skip

# Without a country (none given, or one the table does not hold): the emergency number first,
# since nothing else here is sure to work where the member is.
DEFAULT_RESOURCES: tuple[Resource, ...] = (
    Resource("If you are in danger now",
             "Call your local emergency number (911 US & Canada, 999 UK, 112 EU, 000 Australia)"),
    COUNTRY_LINES[0],
    INTERNATIONAL,
)  # fmt: skip

# The countries the table covers, in English (a client names them in its own language).
COUNTRIES: tuple[tuple[str, str], ...] = (
    ("AU", "Australia"), ("CA", "Canada"), ("FR", "France"), ("DE", "Germany"),
    ("IN", "India"), ("IE", "Ireland"), ("MX", "Mexico"), ("NZ", "New Zealand"),
    ("ES", "Spain"), ("GB", "United Kingdom"), ("US", "United States"),
)  # fmt: skip

_BY_COUNTRY: dict[str, tuple[Resource, ...]] = {
    code: tuple(r for r in COUNTRY_LINES if r.country == code) for code, _ in COUNTRIES
}
_TWO_LETTERS = re.compile(r"[A-Za-z]{2}")
# ISO 3166-1 reserves UK for the United Kingdom, and people write it more often than GB.
_ALIASES = {"UK": "GB"}


def country_code(raw: object) -> str | None:
    """The country a client named, upper case, when it is two letters and the table holds it;
    None for anything else. Never raises: a member in crisis is never refused help."""
    if not isinstance(raw, str) or not _TWO_LETTERS.fullmatch(raw):
        return None
    code = raw.upper()
    code = _ALIASES.get(code, code)
    return code if code in _BY_COUNTRY else None


def lines_for(country: str) -> tuple[Resource, ...]:
    """A covered country's lines, then the international fallback."""
    return (*_BY_COUNTRY[country], INTERNATIONAL)
