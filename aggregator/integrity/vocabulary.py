"""The judi-online vocabulary as versioned data (our own list, docs/design.md): Tier A phrases,
Tier B words, benign collocations, the anti-judol context lexicon, and host lists.
"""

from __future__ import annotations

import re

VERSION = "2025.1"

# Tier A, "topic" phrases: what a news item ABOUT gambling also says (the guard may
# clear these when anti-judol context is near).
TIER_A_TOPIC = (
    "judi online", "situs judi", "agen judi", "bandar judi", "judi bola", "casino online",
    "poker online", "togel online", "bandar togel", "slot online", "sabung ayam online",
    "taruhan bola",
)  # fmt: skip

# Tier A, promotion phrases: spam advertises, news almost never says these.
TIER_A_PROMO = (
    # slot (P1, P3, P4, P5, P12)
    "slot gacor", "situs slot", "link slot", "daftar slot", "login slot", "bocoran slot",
    "pola slot", "pola rtp", "rtp slot", "rtp live", "rtp hari ini", "info rtp", "jam gacor",
    "slot maxwin", "gacor maxwin",
    "slot thailand", "server thailand", "server kamboja", "slot server luar",
    "slot deposit pulsa", "slot dana", "slot qris", "slot receh", "slot demo", "anti rungkad",
    "scatter hitam", "mahjong ways", "gates of olympus", "starlight princess", "sweet bonanza",
    "pragmatic play", "pg soft", "spaceman slot", "slot88", "slot777", "gacor hari ini",
    # togel / toto
    "agen togel", "prediksi togel", "bocoran togel", "togel hari ini", "toto macau", "toto 4d",
    "situs toto", "hk pools", "keluaran sgp", "keluaran hk", "keluaran sdy", "pengeluaran sgp",
    "pengeluaran hk", "live draw sgp", "live draw hk", "angka jitu", "colok bebas", "2d 3d 4d",
    # casino / bola
    "live casino", "domino qq", "dominoqq", "bandarqq", "pkv games", "sbobet", "mix parlay",
    # promo / call to action
    "bonus new member", "new member 100", "deposit pulsa tanpa potongan", "min depo",
    "depo 10rb", "depo 10k", "depo 5k", "depo 5rb", "wd cepat", "withdraw cepat",
    "link alternatif", "garansi kekalahan", "freebet", "freechip", "rollingan", "cashback slot",
    "akun pro slot", "akun vip slot",
)  # fmt: skip

TIER_A = TIER_A_TOPIC + TIER_A_PROMO

# Tier B: ambiguous single words, counted only in combination (hidden, head, link, cluster).
TIER_B = (
    "slot", "gacor", "maxwin", "togel", "toto", "judi", "judol", "casino", "kasino", "poker",
    "jackpot", "jp", "scatter", "rtp", "bandar", "agen", "depo", "wd", "bocoran", "pola",
    "sultan", "cuan", "zeus", "olympus", "mahjong", "spin", "4d", "88", "303", "777",
)  # fmt: skip

# Tier B words distinctive enough to be found inside a host label or slug word ("slotpulsa").
TIER_B_IN_WORDS = (
    "slot", "gacor", "maxwin", "togel", "judi", "judol", "casino", "kasino", "poker",
    "jackpot", "scatter", "zeus", "olympus", "mahjong", "sbobet",
)  # fmt: skip

# legitimate village uses: a Tier B word inside one of these never counts (P16).
BENIGN = (
    "slot pendaftaran", "slot waktu", "slot kuota", "slot vaksin", "slot antrian", "slot peserta",
    "slot parkir", "slot jadwal", "kuota slot",
    "bandar udara", "bandar lampung", "kecamatan bandar", "desa bandar", "kabupaten bandar",
    "murai gacor", "burung gacor", "kicau gacor", "kenari gacor", "lovebird gacor",
    "cucak gacor", "kacer gacor",
    "depo sampah", "depo air", "depo pasir", "depo bangunan", "depo kereta", "depo bbm",
    "depo pertamina", "depo lpg",
    "pola tanam", "pola asuh", "pola hidup", "pola makan", "pola pikir", "pola ruang",
    "pola tata", "pola hujan", "pola kemitraan",
    "pasal 303", "bioskop 4d", "film 4d", "usg 4d",
    "agen brilink", "agen lpg", "agen elpiji", "agen bank", "agen laku pandai", "agen pos",
    "agen asuransi", "agen perubahan", "agen gas", "agen pupuk", "agen beras",
    "pak toto", "bapak toto", "bu toto", "ibu toto", "mas toto", "mbak toto", "kang toto",
    "sdr toto", "saudara toto", "kades toto", "kaur toto", "kasi toto", "sekdes toto",
    "sultan agung", "sri sultan",
)  # fmt: skip

# brand-shaped token ("brandx88", "toto4d"), meaningful only near another term.
BRAND_TOKEN = re.compile(r"[a-z]{3,14}(?:88|77|777|99|138|168|188|303|4d|365|123|69|78|89|55)")
# domain-like anchor text on a link (judolhunter's trick): "brandx88z.xyz".
DOMAIN_LIKE_TEXT = re.compile(
    r"\b[\w-]*\d+[\w-]*\.(?:com|net|org|xyz|top|site|online|space|fun|art|link|cc|vip|bet|live"
    r"|pro|shop|store)\b"
)

# anti-judol context lexicon. Stems of five letters or more also match inside a word
# ("menghimbau", "diberantas", "kecanduan"); shorter ones and phrases match whole tokens.
CONTEXT = (
    "bahaya", "dampak", "berantas", "sosialisasi", "imbau", "larang", "jauhi", "hindar",
    "stop judi", "lawan judol", "tolak", "menolak", "candu", "korban", "razia", "gerebek",
    "tangkap", "amankan", "tersangka", "pelaku", "polsek", "polres", "polda", "polri", "polisi",
    "kepolisian", "kapolsek", "kapolres", "babinsa", "bhabinkamtibmas", "satgas", "pidana",
    "pasal 303", "kuhp", "uu ite", "kominfo", "komdigi", "ojk", "ppatk", "suluh", "cegah",
    "waspada", "edukasi", "jerat", "hukum", "lapor", "aduan", "blokir",
)  # fmt: skip

# Sales words that turn a Tier A topic phrase into promotion ("Agen Judi Bola Terpercaya").
SPAM_MARKERS = (
    "daftar", "login", "terpercaya", "terbaik", "gampang", "menang", "bonus", "deposit", "resmi",
    "alternatif", "gacor", "maxwin", "jackpot", "terbaru", "terlengkap", "akurat", "jitu",
)  # fmt: skip

# CTA density tie-breaker words and P5 landing-page buttons.
CTA = ("daftar sekarang", "klik link", "login", "daftar", "deposit", "withdraw", "main sekarang")

# free / abused hosting (P10, Padang Pariaman clone): each subdomain is a separate site.
FREE_HOSTS = (
    "pages.dev", "workers.dev", "github.io", "netlify.app", "vercel.app", "onrender.com",
    "web.app", "firebaseapp.com", "r2.dev", "blogspot.com", "glitch.me", "herokuapp.com",
    "surge.sh", "gitlab.io", "000webhostapp.com", "raw.githubusercontent.com",
)  # fmt: skip

ABUSED_TLDS = (
    "xyz", "top", "site", "online", "store", "shop", "fun", "art", "lol", "cfd", "sbs", "click",
    "link", "vip", "bet", "casino", "win", "space", "live", "pro", "cc",
)  # fmt: skip

# G9 outbound allowlist: suffix zones and registrable domains villages link to.
ALLOWED_SUFFIXES = ("go.id", "desa.id", "ac.id", "sch.id", "mil.id")
ALLOWED_DOMAINS = (
    "opendesa.id", "wordpress.org", "wordpress.com", "wp.com", "w.org", "gravatar.com",
    "google.com", "google.co.id", "googleapis.com", "gstatic.com", "googletagmanager.com",
    "youtube.com", "youtu.be", "facebook.com", "fb.com", "instagram.com", "x.com",
    "twitter.com", "tiktok.com", "whatsapp.com", "wa.me", "jsdelivr.net", "cloudflare.com",
    "bootstrapcdn.com", "jquery.com", "fontawesome.com", "unpkg.com", "openstreetmap.org",
)  # fmt: skip

# Registrable-domain suffixes with more than one label (a PSL subset; no tldextract here).
MULTI_LABEL_SUFFIXES = (
    *ALLOWED_SUFFIXES, "co.id", "or.id", "web.id", "my.id", "biz.id", "net.id", "ponpes.id",
    "co.uk", "org.uk", "com.au", "com.my", "com.sg", *FREE_HOSTS,
)  # fmt: skip

# G5 hidden-UI exemptions (class or id fragments, roles).
HIDDEN_UI = (
    "sr-only", "screen-reader", "visually-hidden", "skip-link", "sub-menu", "submenu",
    "dropdown", "modal", "cookie", "offcanvas", "mobile-menu", "menu-mobile", "tab-pane",
)  # fmt: skip

# G3 user-generated content containers.
UGC_MARKERS = ("comment", "comments-area", "disqus", "guestbook", "buku-tamu")

# Site chrome (P3): where sponsor strips live.
CHROME_MARKERS = (
    "footer", "header", "sidebar", "widget", "copyright", "credit", "partner", "sponsor",
    "bottom", "top-bar", "topbar",
)  # fmt: skip

# G6 WAF / challenge pages: a blocked fake Googlebot is normal, never cloaking.
CHALLENGE = (
    "cf-chl", "just a moment...", "attention required!", "captcha", "access denied",
    "request rejected", "ddos protection",
)  # fmt: skip
