#!/usr/bin/env python3
"""Fetch a one-time SCEP challenge password the way NDES admin tools and MDM connectors do.

    ndes-scraper.py [--thumbprint-out FILE] BASE_URL USER PASSWORD

GETs BASE_URL/certsrv/mscep_admin/ with HTTP Basic authentication, decodes the page as UTF-16 (real NDES
sends UTF-16LE with a BOM; UTF-8 is accepted too, as some scrapers do), and looks for the two sentences the
scrapers rely on:
    The thumbprint (hash value) for the CA certificate is: <B> HEX </B>
    The enrollment challenge password is: <B> PASSWORD </B>
Prints the password on stdout and exits 0. When the page has no password (password cache full, no
permission, ...) or the request fails, exits 1 with the page text (tags stripped) on stderr.
Python standard library only.
"""
import argparse
import base64
import html
import re
import sys
import urllib.error
import urllib.request

PASSWORD_RE = re.compile(r"enrollment challenge password is:\s*<B>\s*([^<\s]+)\s*</B>", re.IGNORECASE)
THUMBPRINT_RE = re.compile(r"thumbprint \(hash value\) for the CA certificate is:\s*<B>\s*([0-9A-Fa-f ]+?)\s*</B>",
                           re.IGNORECASE)


def decode_page(body: bytes) -> str:
    # The BOM says which UTF-16; without one, NDES pages are still little-endian. Fall back to UTF-8 for
    # servers that do not imitate NDES that closely.
    if body.startswith(b"\xff\xfe") or body.startswith(b"\xfe\xff"):
        return body.decode("utf-16")
    if len(body) >= 2 and body[1:2] == b"\x00":
        return body.decode("utf-16-le")
    return body.decode("utf-8", errors="replace")


def page_text(page: str) -> str:
    text = re.sub(r"<[^>]*>", " ", page)
    return re.sub(r"\s+", " ", html.unescape(text)).strip()


def fetch(url: str, user: str, password: str, timeout: float) -> tuple[int, str]:
    request = urllib.request.Request(url)
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, decode_page(response.read())
    except urllib.error.HTTPError as error:  # 401/403 pages still say why
        return error.code, decode_page(error.read())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base_url", help="http://host:port (the admin path is appended)")
    parser.add_argument("user")
    parser.add_argument("password")
    parser.add_argument("--thumbprint-out", help="write the CA thumbprint (upper-case hex) to this file")
    parser.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args()

    url = args.base_url.rstrip("/") + "/certsrv/mscep_admin/"
    try:
        status, page = fetch(url, args.user, args.password, args.timeout)
    except (urllib.error.URLError, OSError) as error:
        print(f"GET {url}: {error}", file=sys.stderr)
        return 1

    found = PASSWORD_RE.search(page)
    if status != 200 or not found:
        print(f"HTTP {status}, no challenge password on the page: {page_text(page)}", file=sys.stderr)
        return 1
    thumbprint = THUMBPRINT_RE.search(page)
    if args.thumbprint_out:
        if not thumbprint:
            print(f"no CA thumbprint on the page: {page_text(page)}", file=sys.stderr)
            return 1
        with open(args.thumbprint_out, "w", encoding="ascii") as out:
            out.write(thumbprint.group(1).replace(" ", "").upper() + "\n")
    print(found.group(1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
