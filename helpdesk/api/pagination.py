"""List endpoints page with ?limit= and ?offset=; the total comes back as "count"."""

from rest_framework.pagination import LimitOffsetPagination


class ApiPagination(LimitOffsetPagination):
    default_limit = 50
    # One request can't make the server materialise a whole workspace.
    max_limit = 200
