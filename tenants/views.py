from django.shortcuts import render


def unknown_host(request):
    host = request.get_host().split(":")[0]
    return render(request, "tenants/unknown_host.html", {"host": host}, status=404)
