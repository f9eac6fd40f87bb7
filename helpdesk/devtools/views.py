import re

from django.conf import settings
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from helpdesk.devtools import outbox
from tenants.hosts import host_url


def _require_outbox():
    if not outbox.outbox_enabled():
        raise Http404("The development outbox is off.")


def outbox_index(request):
    _require_outbox()
    messages = outbox.outbox_list()
    selected = None
    key = request.GET.get("m")
    if key:
        selected = outbox.outbox_get(key=key)
        if selected is None:
            raise Http404("No such message.")
    elif messages:
        selected = messages[0]
    return render(
        request, "devtools/outbox.html", {"outbox_messages": messages, "selected": selected}
    )


@require_POST
def outbox_clear(request):
    _require_outbox()
    outbox.outbox_clear()
    return redirect("outbox")


_SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


def demo_store(request):
    """A plain store page on the public host with a workspace's chat widget pasted in.

    The public host is another origin than the workspace's, as a merchant's store would be, so
    this is the quickest way to try the widget after `python3 run.py`. Development only.
    """
    if not settings.DEBUG:
        raise Http404("The demo store is only there in development.")
    slug = request.GET.get("workspace", "demo")
    if not _SLUG_RE.match(slug):
        raise Http404("No such workspace.")
    widget_src = host_url(request, f"{slug}.{settings.BASE_DOMAIN}", "/widget.js")
    return render(request, "devtools/store.html", {"widget_src": widget_src, "slug": slug})
