"""The portal's web application: routes, sessions, forms and the headers every answer carries.

Thin on purpose: who may sign in is :mod:`.signin`'s business, what a contact sees :mod:`.pages`', what
they change :mod:`.changes`'. Here every request reads the desk afresh (a pulled rules.yaml or ticket
counts at once), finds who holds the session cookie, and every form that changes something must come
from this portal (its Origin, or Referer, is the portal's own address) and carry the session's token.
Pages run no script at all; every value on them is escaped.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2
from flask import Flask, g, redirect, request, send_file
from msgspec import Struct
from werkzeug.exceptions import HTTPException, NotFound, RequestEntityTooLarge
from werkzeug.wrappers import Response

from sdesk.calendar import clock
from sdesk.errors import Refused, SdeskError
from sdesk.policy.portalsettings import PortalSettings
from sdesk.policy.rules import LANGUAGES
from sdesk.portal import changes, forms, pages, uploads
from sdesk.portal.phrases import words
from sdesk.portal.signin import Connection, Limited, SignIn
from sdesk.storage import attachments, sync
from sdesk.storage.store import Desk
from sdesk.website.portal import PortalHeading, public_ticket
from sdesk.words import SCORES

TEMPLATES = (Path(__file__).parent / "templates", Path(__file__).parent.parent / "website" / "templates")
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
DAY = 86400
POSTS_PER_HOUR = 120  # a contact's changes on tickets (new tickets count under rules.yaml's own limit)
FORM_BYTES = 200_000  # the most any text field may hold (a description is cut at forms.MAX_CHARS)


class Config(Struct, frozen=True):
    root: Path  # the runner's clone
    url: str  # where customers reach the portal: links in mail, and the only origin forms may come from
    connection: Connection  # the mail server sign-in links go through


def create_app(config: Config) -> Flask:
    app = Flask(__name__, template_folder=None, static_folder=None)
    app.config.update(MAX_FORM_MEMORY_SIZE=FORM_BYTES, MAX_FORM_PARTS=200)
    public = urlsplit(config.url)
    origin = _origin(config.url)
    secure = public.scheme == "https"
    cookie = "__Host-sdesk" if secure else "sdesk"
    folder = sync.runner_dir(config.root, Desk(config.root).state_dir) / "portal"
    gate = SignIn(folder / "portal.sqlite3", folder / "audit.log", config.root, config.url, config.connection)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(path) for path in TEMPLATES]),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )

    def page(name: str, status: int = 200, **values: Any) -> Response:
        desk: Desk | None = g.get("desk")
        shown = {
            "t": g.words,
            "desk_name": desk.rules.desk_name if desk is not None else "sdesk",
            "desk_email": None,
            "updated": None,
            "viewer": g.get("viewer"),
            "customer_name": _customer_name(desk, g.get("viewer")),
            "csrf": g.get("csrf", ""),
            **values,
        }
        return Response(env.get_template(name).render(shown), status, content_type="text/html; charset=utf-8")

    def message(title: str, text: str, status: int = 200, link: tuple[str, str] | None = None) -> Response:
        return page("live-message.html", status, title=title, text=text, link=link)

    def forbidden() -> Response:
        """A form without the session, its token or the portal's origin: expired, or sent from elsewhere."""
        return message(g.words["forbidden_title"], g.words["forbidden"], 403)

    def signed_in(view: Callable[..., Response]) -> Callable[..., Response]:
        def checked(**kwargs: Any) -> Response:
            if g.viewer is None:
                if request.method == "POST":
                    return forbidden()
                return redirect("/sign-in", 303)
            if request.method == "POST" and not hmac.compare_digest(request.form.get("csrf", ""), g.csrf):
                return forbidden()
            return view(**kwargs)

        checked.__name__ = view.__name__
        return checked

    @app.before_request
    def read_desk() -> Response | None:
        g.words = words("en")
        desk = Desk(config.root)
        try:
            rules = desk.rules
        except SdeskError as error:
            print(f"sdesk serve: {error}", file=sys.stderr)
            return message(g.words["error_title"], g.words["error"], 503)
        g.desk, g.now, g.client = desk, clock.now(rules.timezone), request.remote_addr or "unknown"
        g.words = words(request.accept_languages.best_match(LANGUAGES) or rules.language)
        g.session = request.cookies.get(cookie, "")
        g.viewer = gate.viewer(rules, g.session, g.now)
        # A body without files is read whole into memory; only a signed-in contact's form may bring files.
        uploading = g.viewer is not None and request.mimetype == "multipart/form-data"
        request.max_content_length = body_limit(rules.portal) if uploading else FORM_BYTES * 4
        g.csrf = _token(g.session) if g.viewer is not None else ""
        if g.viewer is not None:
            g.words = words(g.viewer.language)
        if request.method == "POST" and not _same_origin(origin):
            return forbidden()
        return None

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"  # forms keep their Origin; nothing leaves
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
        response.headers["Cache-Control"] = "no-store"
        if secure:
            response.headers["Strict-Transport-Security"] = "max-age=31536000"
        return response

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        if isinstance(error, RequestEntityTooLarge):
            settings = g.desk.rules.portal if g.get("desk") is not None else None
            text = g.words["too_large"].format(
                files=settings.max_files if settings else "?",
                mb=settings.max_upload_bytes // 2**20 if settings else "?",
            )
            return message(g.words["forbidden_title"], text, 413)
        if error.code == 404 or isinstance(error, NotFound):
            return message(g.words["not_found_title"], g.words["not_found"], 404)
        return message(g.words["error_title"], g.words["error"], error.code or 400)

    @app.errorhandler(Exception)
    def failure(error: Exception) -> Response:
        traceback.print_exception(error, file=sys.stderr)  # for whoever runs the portal; the customer sees none
        return message(g.get("words", words("en"))["error_title"], g.get("words", words("en"))["error"], 500)

    # --- signing in and out ---------------------------------------------------------------------------------

    @app.get("/sign-in")
    def sign_in_form() -> Response:
        if g.viewer is not None:
            return redirect("/", 303)
        return page("live-signin.html")

    @app.post("/sign-in")
    def ask_link() -> Response:
        address = request.form.get("email", "")
        try:
            gate.ask(g.desk.rules, address, g.client, g.now)
        except Limited:
            return message(g.words["too_many_title"], g.words["too_many"], 429)
        shown = " ".join(address.split())[:254]
        text = g.words["link_sent"].format(address=shown, minutes=g.desk.rules.portal.link_minutes)
        return message(g.words["link_sent_title"], text)

    def refused_link() -> Response:
        """A link that is unknown, used or expired: all read alike, with the way to a new one."""
        return message(g.words["link_refused_title"], g.words["link_refused"], 410, ("/sign-in", g.words["ask_again"]))

    @app.get("/sign-in/<token>")
    def confirm_form(token: str) -> Response:
        holder = gate.link_for(g.desk.rules, token, g.now)
        if holder is None:
            return refused_link()
        g.words = words(holder.language)
        return page("live-confirm.html", token=token, address=holder.address)

    @app.post("/sign-in/<token>")
    def use_link(token: str) -> Response:
        try:
            viewer = gate.link_holder(g.desk.rules, token, g.client, g.now)
        except Limited:
            return message(g.words["too_many_title"], g.words["too_many"], 429)
        if viewer is None:
            return refused_link()
        session = gate.open_session(viewer, g.client, g.now)
        response = redirect("/", 303)
        hours = g.desk.rules.portal.session_hours
        response.set_cookie(
            cookie, session, max_age=hours * 3600, path="/", secure=secure, httponly=True, samesite="Lax"
        )
        return response

    @app.post("/sign-out")
    @signed_in
    def sign_out() -> Response:
        gate.sign_out(g.viewer, g.session, g.client, g.now)
        g.viewer = None
        response = message(g.words["signed_out"], g.words["signed_out"], 200, ("/sign-in", g.words["signin_title"]))
        response.delete_cookie(cookie, path="/", secure=secure, httponly=True, samesite="Lax")
        return response

    # --- reading ----------------------------------------------------------------------------------------------

    @app.get("/")
    @app.get("/index.html")
    @signed_in
    def home() -> Response:
        shown = pages.home(g.desk, g.viewer, g.now)
        return page("live-home.html", portal=shown, updated=None)

    @app.get("/<ticket_id>.html")
    @signed_in
    def ticket_page(ticket_id: str) -> Response:
        ticket = _visible(ticket_id)
        rules = g.desk.rules
        view = public_ticket(ticket, rules, g.viewer.language, g.now)
        actions = pages.actions(g.desk, ticket, g.now)
        done = request.args.get("done", "")
        notice = g.words[done] if done in _DONE else None
        if done == "created":
            notice = g.words["created"].format(id=ticket.id)
        return page(
            "live-ticket.html",
            ticket=view,
            portal=_heading(),
            actions=actions,
            notice=notice,
            problem=request.args.get("problem") in _PROBLEMS and g.words[request.args["problem"]] or None,
            scores=range(SCORES[0], SCORES[1] + 1),
            **_file_picker(rules.portal, g.words),
        )

    @app.get("/files/<ticket_id>/<name>")
    @signed_in
    def file(ticket_id: str, name: str) -> Response:
        ticket = _visible(ticket_id)
        view = public_ticket(ticket, g.desk.rules, g.viewer.language, g.now)
        if not any(name in event.attachments for event in view.history):
            raise NotFound()
        data = attachments.read(g.desk.root, ticket.id, name)
        if data is None:
            raise NotFound()
        media_type, inline = uploads.served_as(data)
        shown = name[attachments.DIGEST_CHARS + 1 :]  # a name beyond Latin-1 goes as RFC 6266's filename*
        response = send_file(
            io.BytesIO(data), media_type, not inline, shown, conditional=False, etag=False, max_age=None
        )
        # A sandbox that runs nothing; the browser's own image viewer styles itself inline.
        response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
        return response

    # --- changing -----------------------------------------------------------------------------------------------

    @app.get("/new")
    @signed_in
    def new_form() -> Response:
        return _new_page(forms.Answers(forms.prefilled(g.desk.rules, g.viewer), {}, [], []))

    @app.post("/new")
    @signed_in
    def open_ticket() -> Response:
        rules = g.desk.rules
        answers = forms.read(rules, g.viewer, request.form, g.now, g.words)
        given = _uploads()
        refused = uploads.refusals(given, rules.portal, g.words)
        costs_accepted = request.form.get("accept_costs") == "yes"
        if answers.errors or answers.problems or refused or answers.plan is None:
            return _new_page(answers, refused, 422, reattach=bool(given))
        if answers.costs and not costs_accepted:
            return _new_page(
                answers, [g.words["costs_needed"]] if "accept_costs" in request.form else [], 200, reattach=bool(given)
            )
        if not gate.allow(f"new:{g.viewer.address.lower()}", g.now, rules.portal.new_tickets_per_hour):
            text = g.words["per_hour"].format(count=rules.portal.new_tickets_per_hour)
            return message(g.words["too_many_title"], text, 429)
        if not _within_the_days_uploads(given):
            return _new_page(answers, [_uploads_refusal()], 429, reattach=True)
        try:
            opened = changes.open_ticket(g.desk, g.viewer, answers.plan, costs_accepted, given, g.now)
        except Refused as refusal:
            if refusal.message == changes.BUSY:
                return _new_page(answers, [g.words["busy"]], 503, reattach=bool(given))
            return _new_page(answers, [g.words["bad_value"].format(why=refusal.message)], 422, reattach=bool(given))
        return redirect(f"/{opened.id}.html?done=created", 303)

    @app.post("/<ticket_id>/answer")
    @signed_in
    def answer(ticket_id: str) -> Response:
        _visible(ticket_id)
        given = _uploads()
        text = request.form.get("text", "")[: forms.MAX_CHARS["long"]]
        if not text.strip() and not given:
            return _back(ticket_id, problem="need_text")
        refused = uploads.refusals(given, g.desk.rules.portal, g.words)
        if not refused and not _within_the_days_uploads(given):
            refused = [_uploads_refusal()]
        if refused:
            return message(
                g.words["forbidden_title"], " ".join(refused), 422, (f"/{ticket_id}.html", g.words["all_tickets"])
            )
        return _changing(ticket_id, lambda: changes.answer(g.desk, g.viewer, ticket_id, text, given, g.now), "answered")

    @app.post("/<ticket_id>/accept")
    @signed_in
    def accept(ticket_id: str) -> Response:
        _visible(ticket_id)
        remark = request.form.get("remark", "")[:2000]
        return _changing(ticket_id, lambda: changes.accept(g.desk, g.viewer, ticket_id, remark, g.now), "accepted")

    @app.post("/<ticket_id>/reopen")
    @signed_in
    def reopen(ticket_id: str) -> Response:
        _visible(ticket_id)
        reason = request.form.get("reason", "")[:2000]
        if not reason.strip():
            return _back(ticket_id, problem="need_text")
        return _changing(ticket_id, lambda: changes.reopen(g.desk, g.viewer, ticket_id, reason, g.now), "reopened")

    @app.post("/<ticket_id>/rate")
    @signed_in
    def rate(ticket_id: str) -> Response:
        _visible(ticket_id)
        score = request.form.get("score", "")
        if score not in {str(value) for value in range(SCORES[0], SCORES[1] + 1)}:
            return _back(ticket_id)
        remark = request.form.get("remark", "")[:2000]
        return _changing(
            ticket_id, lambda: changes.rate(g.desk, g.viewer, ticket_id, int(score), remark, g.now), "rated"
        )

    # --- helpers ------------------------------------------------------------------------------------------------

    def _visible(ticket_id: str) -> Any:
        """The ticket, when the viewer may see it; 404 otherwise. A form asks first: no other number goes on."""
        try:
            return pages.visible(g.desk, g.viewer, ticket_id)
        except changes.Unseen:
            raise NotFound() from None

    def _heading() -> Any:
        rules = g.desk.rules
        customer = rules.customers[g.viewer.customer]
        return PortalHeading(customer.key, customer.name, g.viewer.language, rules.desk_name, rules.desk_email)

    def _new_page(
        answers: forms.Answers, problems: list[str] | None = None, status: int = 200, reattach: bool = False
    ) -> Response:
        rules = g.desk.rules
        return page(
            "live-new.html",
            status,
            fields=forms.form_fields(rules, g.viewer, g.words),
            answers=answers,
            problems=[*answers.problems, *(problems or [])],
            reattach=reattach,
            **_file_picker(rules.portal, g.words),
        )

    def _back(ticket_id: str, done: str | None = None, problem: str | None = None) -> Response:
        query = f"?done={done}" if done else f"?problem={problem}" if problem else ""
        return redirect(f"/{ticket_id}.html{query}", 303)

    def _changing(ticket_id: str, change: Callable[[], Any], done: str) -> Response:
        if not gate.allow(f"post:{g.viewer.address.lower()}", g.now, POSTS_PER_HOUR):
            return message(g.words["too_many_title"], g.words["too_many"], 429)
        try:
            change()
        except changes.Unseen:
            raise NotFound() from None
        except Refused as refusal:
            text = (
                g.words["busy"]
                if refusal.message == changes.BUSY
                else g.words["not_possible"].format(why=refusal.message)
            )
            return message(g.words["error_title"], text, 409, (f"/{ticket_id}.html", g.words["all_tickets"]))
        return _back(ticket_id, done=done)

    def _within_the_days_uploads(given: list[tuple[str, bytes]]) -> bool:
        """Whether these files keep the contact within a day's upload volume (counted if so): whatever they
        send stays in every clone of the desk for good."""
        total = sum(len(data) for _, data in given)
        most = g.desk.rules.portal.upload_bytes_per_day
        return not total or gate.allow(f"bytes:{g.viewer.address.lower()}", g.now, most, total, window=DAY)

    def _uploads_refusal() -> str:
        return str(g.words["per_day"].format(mb=g.desk.rules.portal.upload_bytes_per_day // 2**20))

    def _uploads() -> list[tuple[str, bytes]]:
        limit = g.desk.rules.portal.max_upload_bytes
        return [(item.filename or "", item.read(limit + 1)) for item in request.files.getlist("files") if item.filename]

    return app


_DONE = ("answered", "accepted", "reopened", "rated", "created")
_PROBLEMS = ("need_text",)


def body_limit(settings: PortalSettings) -> int:
    """The most a request may send: a form with as many files as it takes, each as large as it may be."""
    return settings.max_files * settings.max_upload_bytes + FORM_BYTES * 4


def _file_picker(settings: PortalSettings, said: dict[str, str]) -> dict[str, Any]:
    """What a form's file input says of the limits, and the types it offers the browser's file picker (the
    server checks for itself)."""
    hint = said["files_hint"].format(
        files=settings.max_files, mb=settings.max_upload_bytes // 2**20, types=", ".join(settings.upload_types)
    )
    return {"files_hint": hint, "accept_types": ",".join(f".{kind}" for kind in settings.upload_types)}


def _customer_name(desk: Desk | None, viewer: Any) -> str:
    if desk is None or viewer is None:
        return ""
    customer = desk.rules.customers.get(viewer.customer)
    return customer.name if customer is not None else viewer.customer


def _token(session: str) -> str:
    """The session's form token: only who holds the session cookie can know it."""
    return hmac.new(session.encode("utf-8", "surrogatepass"), b"sdesk-portal-form", hashlib.sha256).hexdigest()


def _origin(url: str) -> str:
    """The Origin a browser sends from pages at ``url``: scheme and host in lower case, no default port."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    port = "" if parts.port in (None, {"http": 80, "https": 443}.get(parts.scheme)) else f":{parts.port}"
    return f"{parts.scheme}://{host}{port}"


def _same_origin(origin: str) -> bool:
    """Whether a form came from the portal's own pages: its Origin, else its Referer, is the portal's."""
    given = request.headers.get("Origin")
    if given is not None and given != "null":
        return given == origin
    referer = request.headers.get("Referer", "")
    return referer == origin or referer.startswith(origin + "/")
