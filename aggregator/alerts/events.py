"""An alert event and its texts (subject and body, in Bahasa Indonesia)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AlertEvent:
    event: str  # finding_opened, finding_resolved, expiry_*, village_*, kecamatan_*, digest
    village_code: str  # a kecamatan code for kecamatan events, "" for the whole kabupaten
    village_name: str
    kind: str
    level: str
    url: str
    evidence: str
    at: str  # ISO 8601

    @property
    def kecamatan_code(self) -> str:
        """Codes nest (33.03.01.2001 is in 33.03.01): the kecamatan whose targets get it."""
        return self.village_code[:8] if len(self.village_code) >= 8 else ""


_WHAT = {
    "finding_opened": "TERDETEKSI",
    "finding_resolved": "PULIH",
    "expiry_warning": "SEGERA KEDALUWARSA",
    "expiry_renewed": "DIPERPANJANG",
    "village_unreachable": "TIDAK TERJANGKAU",
    "village_reachable": "KEMBALI TERJANGKAU",
    "village_inactive": "TIDAK AKTIF",
    "kecamatan_ready": "SIAP SIPANDE",
    "kecamatan_not_ready": "TIDAK LAGI SIAP SIPANDE",
    "test": "UJI COBA",
}
_LEAD = {
    "finding_opened": "Temuan integritas baru.",
    "finding_resolved": "Temuan telah pulih.",
    "expiry_warning": "Sertifikat atau domain situs desa segera kedaluwarsa.",
    "expiry_renewed": "Sertifikat atau domain situs desa telah diperpanjang.",
    "village_unreachable": "Situs desa tidak dapat dijangkau beberapa kali berturut-turut.",
    "village_reachable": "Situs desa kembali dapat dijangkau.",
    "village_inactive": "Situs desa tidak lagi memuat berita baru.",
    "kecamatan_ready": "Semua desa bersitus di kecamatan ini kini aktif: siap Sipande.",
    "kecamatan_not_ready": "Kecamatan ini tidak lagi siap Sipande: ada desa yang tidak aktif.",
    "test": "Pesan uji coba dari Sipande: target peringatan ini berfungsi.",
}
_PLACE = {"kecamatan_ready": "Kecamatan", "kecamatan_not_ready": "Kecamatan"}


def subject(e: AlertEvent) -> str:
    if e.event in ("digest", "test"):
        return f"[Sipande] {e.village_name}"
    what = _WHAT.get(e.event, e.event)
    return f"[Sipande] {what}: {e.kind} di {e.village_name} ({e.village_code})"


def body(e: AlertEvent, dashboard_url: str) -> str:
    if e.event == "digest":
        return e.evidence
    if e.event == "test":
        return f"{_LEAD['test']}\nWaktu: {e.at}\n"
    place = _PLACE.get(e.event, "Desa")
    lines = [
        _LEAD.get(e.event, e.event),
        f"{place}: {e.village_name} ({e.village_code})",
        f"Jenis: {e.kind} ({e.level})",
        f"Alamat: {e.url}",
        f"Bukti: {e.evidence}",
        f"Waktu: {e.at}",
    ]
    if dashboard_url:
        path = "kecamatan" if place == "Kecamatan" else "desa"
        lines.append(f"Dasbor: {dashboard_url.rstrip('/')}/{path}/{e.village_code}")
    return "\n".join(lines) + "\n"
