"""Keyed, consistent pseudonyms for health identities in captures and reports.

The same value always gets the same pseudonym under one key (so a report stays coherent and checks keep their
meaning), different values get different ones (so a mismatch the checks must see survives), and nothing can be
reversed without the key, which stays with the user. Matricules stay well formed: sex and birth year-month are kept,
the birth department is replaced within its kind (metropolitan, Corsican, overseas, abroad), the rest is keyed, and
the key is recomputed; names keep their shape (lengths, spaces, hyphens, apostrophes, case); dates move by a keyed
offset of a few months.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from simulators.insi.ins import ins_key

_METROPOLE = [f"{n:02d}" for n in range(1, 96) if n != 20]
_OVERSEAS = ["97", "98"]
_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_LOWER = _UPPER.lower()
MATRICULE = re.compile(r"(?<![0-9A-Za-z])[12378][0-9]{4}(?:[0-9]{2}|2A|2B)[0-9]{6}(?:[0-9]{2})?(?![0-9A-Za-z])")


@dataclass
class Pseudonymiser:
    """Pseudonyms under ``key`` (keep it secret: with it, pseudonyms can be recomputed from real values)."""

    key: bytes
    _produced: set[str] = field(default_factory=set)  # pseudonyms already given out: never pseudonymised again

    def _digest(self, kind: str, value: str) -> bytes:
        return hmac.new(self.key, f"{kind}\x00{value}".encode(), hashlib.sha256).digest()

    def _digits(self, kind: str, value: str, count: int) -> str:
        number = int.from_bytes(self._digest(kind, value), "big")
        return str(number % (10**count)).zfill(count)

    def nir(self, nir13: str) -> str:
        """A well-formed 13-character NIR/NIA standing for ``nir13``."""
        value = nir13.upper()
        return value[:5] + self._department(value[5:7], value) + self._digits("nir", value, 6)

    def _department(self, department: str, value: str) -> str:
        """A keyed department of the same kind (metropolitan, Corsican, overseas; born abroad stays abroad: the INS
        rules differ), chosen from ``value``."""
        choice = self._digest("department", value)[0]
        if department in ("2A", "2B"):
            return ("2A", "2B")[choice % 2]
        if department == "99":
            return department
        if department in _OVERSEAS:
            return _OVERSEAS[choice % 2]
        return _METROPOLE[choice % len(_METROPOLE)]

    def place(self, code: str) -> str:
        """A birth place code (INSOC / COG: department + commune, or 99 + country) standing for ``code``: the same
        kind of place, keyed department and commune, so that it no longer narrows down the real NIR."""
        value = code.upper()
        pseudo = self._department(value[:2], value) + self._digits("place", value, 3)
        self._produced.add(pseudo)
        return pseudo

    def matricule(self, matricule: str) -> str:
        """The matricule INS standing for ``matricule``: well formed if the original is, and otherwise wrong by the
        same key offset, so that a check judges the pseudonym exactly as it judged the original."""
        nir = self.nir(matricule[:13])
        if len(matricule) == 15:
            key = matricule[13:]
            if key.isdigit():
                offset = int(key) - int(ins_key(matricule[:13]))
                key = f"{(int(ins_key(nir)) + offset) % 100:02d}"
            pseudo = nir + key
        else:
            pseudo = nir
        self._produced.add(pseudo)
        return pseudo

    def file_name(self, name: str) -> str:
        """A captured file's name (field captures name files after patients: ``DUPONT_Jean_19800101.eml``) as a keyed
        token, keeping the extension and a ``#entry`` suffix; the same name always gives the same token."""
        base, sep, entry = name.partition("#")
        suffix = PurePosixPath(base).suffix if len(PurePosixPath(base).suffix) <= 6 else ""
        return f"fichier-{self._digest('file', base).hex()[:12]}{suffix}{sep}{entry}"

    def word(self, text: str) -> str:
        """``text`` with every letter replaced, keeping length, case, spaces, hyphens and apostrophes."""
        digest = self._digest("word", text)
        out = []
        for index, char in enumerate(text):
            byte = digest[index % len(digest)] ^ index
            if char.isalpha():
                letters = _UPPER if char.isupper() else _LOWER
                out.append(letters[byte % 26])
            else:
                out.append(char)
        return "".join(out)

    def date(self, iso_date: str) -> str:
        """``iso_date`` (YYYY-MM-DD or YYYYMMDD) moved by a keyed offset of 30 to 180 days, same format."""
        compact = "-" not in iso_date
        day = dt.date.fromisoformat(iso_date if not compact else f"{iso_date[:4]}-{iso_date[4:6]}-{iso_date[6:8]}")
        offset = 30 + int(self._digits("date", iso_date, 3)) % 151
        moved = day + dt.timedelta(days=offset)
        return moved.strftime("%Y%m%d" if compact else "%Y-%m-%d")

    def text(self, text: str, known: dict[str, str] | None = None) -> str:
        """Free text with known values (original -> pseudonym) and any matricule-like number replaced."""
        result = text
        for original in sorted(known or {}, key=len, reverse=True):
            if original:
                result = result.replace(original, (known or {})[original])
        return MATRICULE.sub(
            lambda m: m.group(0) if m.group(0) in self._produced else self.matricule(m.group(0)), result
        )
