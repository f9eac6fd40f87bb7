from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from helpdesk.devtools import outbox


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
