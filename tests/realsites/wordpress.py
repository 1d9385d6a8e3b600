"""A real WordPress on loopback: Debian's `wordpress` package (6.1.x, /usr/share/wordpress)
with a fresh MariaDB database, served by PHP's built-in server.

Nothing under /usr or /etc is written. The docroot is a temporary directory: WordPress's
top-level PHP files are copied (so that `ABSPATH` is the temporary directory and our own
wp-config.php is read, not Debian's, which looks in /etc/wordpress), its wp-admin and
wp-includes are symlinked, and wp-content holds the package's themes and an empty uploads.
`wp_fill.php` installs the site with WordPress's own `wp_install` and adds the posts.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

WP_ROOT = Path("/usr/share/wordpress")
HERE = Path(__file__).resolve().parent
DB_HOST, DB_PORT, DB_USER, DB_PASSWORD = "127.0.0.1", 3306, "root", ""
THEMES = ("twentytwentythree", "twentytwentyone", "twentytwentytwo")
INSTALL = (
    "apt-get install -y --no-install-recommends wordpress wordpress-theme-twentytwentythree "
    "php8.2-cli php8.2-mysql php8.2-xml php8.2-mbstring mariadb-server"
)


@dataclass(frozen=True)
class Post:
    title: str
    content: str
    category: str
    age_days: float  # published this long before now


@dataclass(frozen=True)
class RunningWordPress:
    url: str  # home url, with a trailing slash
    version: str
    posts: dict[str, str]  # title -> permalink
    theme: str


def _php() -> str | None:
    return shutil.which("php")


def _theme() -> str | None:
    themes = WP_ROOT / "wp-content" / "themes"
    return next((t for t in THEMES if (themes / t / "style.css").exists()), None)


def unavailable() -> str | None:
    """Why a real WordPress cannot run here, or None when it can."""
    php = _php()
    if php is None:
        return f"php is not installed ({INSTALL})"
    if not (WP_ROOT / "wp-includes" / "version.php").exists():
        return f"Debian's wordpress package is not installed ({INSTALL})"
    if _theme() is None:
        return f"no WordPress theme under {WP_ROOT}/wp-content/themes ({INSTALL})"
    probe = (
        "if (!extension_loaded('mysqli')) { echo 'no mysqli'; exit(1); }"
        "mysqli_report(MYSQLI_REPORT_OFF);"
        f"$db = @new mysqli('{DB_HOST}', '{DB_USER}', '{DB_PASSWORD}', '', {DB_PORT});"
        "if ($db->connect_errno) { echo $db->connect_error; exit(1); }"
    )
    try:
        done = subprocess.run(
            [php, "-r", probe], capture_output=True, text=True, timeout=20, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"php could not run: {e}"
    if done.returncode != 0:
        why = (done.stdout + done.stderr).strip()[:200]
        return f"MariaDB at {DB_HOST}:{DB_PORT} (user {DB_USER}) not usable from PHP: {why}"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _docroot(tmp: Path, db_name: str, url: str) -> Path:
    root = tmp / "docroot"
    root.mkdir()
    for entry in WP_ROOT.iterdir():
        if entry.name in ("wp-config.php", "wp-content", ".htaccess"):
            continue
        if entry.is_dir():
            (root / entry.name).symlink_to(entry)
        else:
            shutil.copy(entry, root / entry.name)
    content = root / "wp-content"
    (content / "uploads").mkdir(parents=True)
    (content / "plugins").mkdir()
    (content / "themes").symlink_to(WP_ROOT / "wp-content" / "themes")
    keys = "\n".join(
        f"define('{k}', '{secrets.token_hex(24)}');"
        for k in (
            "AUTH_KEY",
            "SECURE_AUTH_KEY",
            "LOGGED_IN_KEY",
            "NONCE_KEY",
            "AUTH_SALT",
            "SECURE_AUTH_SALT",
            "LOGGED_IN_SALT",
            "NONCE_SALT",
        )
    )
    (root / "wp-config.php").write_text(
        f"""<?php
define('DB_NAME', '{db_name}');
define('DB_USER', '{DB_USER}');
define('DB_PASSWORD', '{DB_PASSWORD}');
define('DB_HOST', '{DB_HOST}:{DB_PORT}');
define('DB_CHARSET', 'utf8mb4');
define('DB_COLLATE', '');
{keys}
$table_prefix = 'wp_';
define('WP_HOME', '{url.rstrip("/")}');
define('WP_SITEURL', '{url.rstrip("/")}');
define('WP_CONTENT_DIR', __DIR__ . '/wp-content');
define('WP_DEBUG', false);
define('DISABLE_WP_CRON', true);
define('WP_HTTP_BLOCK_EXTERNAL', true);
define('AUTOMATIC_UPDATER_DISABLED', true);
define('WP_AUTO_UPDATE_CORE', false);
if (!defined('ABSPATH')) {{
    define('ABSPATH', __DIR__ . '/');
}}
require_once ABSPATH . 'wp-settings.php';
""",
        encoding="utf-8",
    )
    return root


def _drop_database(php: str, db_name: str) -> None:
    code = (
        f"$db = new mysqli('{DB_HOST}', '{DB_USER}', '{DB_PASSWORD}', '', {DB_PORT});"
        f"$db->query('DROP DATABASE IF EXISTS `{db_name}`');"
    )
    subprocess.run([php, "-r", code], capture_output=True, timeout=30, check=False)


class WordPressSite:
    """Context manager: install, fill and serve a WordPress; stop it and drop its database."""

    def __init__(
        self,
        tmp: Path,
        posts: Sequence[Post],
        *,
        title: str = "Desa Karangsari",
        tagline: str = "Website Resmi Pemerintah Desa Karangsari",
        posts_per_page: int = 2,
    ) -> None:
        self.tmp, self.posts = tmp, posts
        self.title, self.tagline, self.posts_per_page = title, tagline, posts_per_page
        self.db_name = f"sipande_wp_{os.getpid()}_{secrets.token_hex(4)}"
        self._server: subprocess.Popen[bytes] | None = None
        self._host = ""
        self._php = _php() or "php"

    def __enter__(self) -> RunningWordPress:
        try:
            return self._start()
        except BaseException:
            self.__exit__()
            raise

    def _start(self) -> RunningWordPress:
        port = _free_port()
        url = f"http://127.0.0.1:{port}/"
        self._host = f"127.0.0.1:{port}"
        theme = _theme() or ""
        root = _docroot(self.tmp, self.db_name, url)
        now = time.time()

        def stamp(age_days: float, offset_hours: float) -> str:
            moment = now - age_days * 86400 + offset_hours * 3600
            return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(moment))

        spec = {
            "db_host": DB_HOST,
            "db_port": DB_PORT,
            "db_user": DB_USER,
            "db_password": DB_PASSWORD,
            "db_name": self.db_name,
            "url": url.rstrip("/"),
            "title": self.title,
            "tagline": self.tagline,
            "theme": theme,
            "posts_per_page": self.posts_per_page,
            "posts": [
                {
                    "title": p.title,
                    "content": p.content,
                    "category": p.category,
                    "date": stamp(p.age_days, 7),  # Asia/Jakarta, UTC+7
                    "date_gmt": stamp(p.age_days, 0),
                }
                for p in self.posts
            ],
        }
        spec_file = self.tmp / "spec.json"
        spec_file.write_text(json.dumps(spec), encoding="utf-8")
        done = subprocess.run(
            [self._php, str(HERE / "wp_fill.php"), str(root), str(spec_file)],
            capture_output=True,
            timeout=120,
            check=False,
        )
        out = done.stdout.decode("utf-8", "replace")
        if done.returncode != 0 or not out.strip().endswith("}"):
            err = done.stderr.decode("utf-8", "replace")
            raise RuntimeError(f"WordPress install failed ({done.returncode}): {out[-800:]} {err}")
        filled = json.loads(out[out.index("{") :])
        env = {**os.environ, "PHP_CLI_SERVER_WORKERS": "4"}
        with (self.tmp / "php-server.log").open("wb") as log:  # the server keeps its own copy
            self._server = subprocess.Popen(
                [
                    self._php,
                    "-S",
                    f"127.0.0.1:{port}",
                    "-t",
                    str(root),
                    str(HERE / "wp_router.php"),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,  # its own group: the workers it forks stop with it
            )
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(url, timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if self._server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"php -S did not serve {url}; see {self.tmp}/php-server.log")
            time.sleep(0.1)
        return RunningWordPress(url, filled["version"], filled["posts"], theme)

    def run_php(self, code: str) -> str:
        """Run PHP code inside the installed WordPress (after wp-load.php); its output."""
        if self._server is None:
            raise RuntimeError("the site is not running")
        script = self.tmp / f"run-{secrets.token_hex(4)}.php"
        script.write_text(
            f"<?php\n$_SERVER['HTTP_HOST'] = '{self._host}';\n$_SERVER['REQUEST_URI'] = '/';\n"
            f"require '{self.tmp / 'docroot' / 'wp-load.php'}';\n{code}\n",
            encoding="utf-8",
        )
        done = subprocess.run(
            [self._php, str(script)], capture_output=True, text=True, timeout=60, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"php failed ({done.returncode}): {done.stdout} {done.stderr}")
        return done.stdout

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            # Signal the whole group: with PHP_CLI_SERVER_WORKERS the server's workers would
            # outlive a signal to the parent alone.
            group = self._server.pid  # the group's leader (start_new_session)
            try:
                os.killpg(group, signal.SIGTERM)
                self._server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(group, signal.SIGKILL)
                self._server.wait()
            except ProcessLookupError:  # the server and its workers are gone already
                self._server.wait()
            self._server = None
        _drop_database(self._php, self.db_name)
